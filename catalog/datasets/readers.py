"""Readers of the public datasets in ../shared/data: each turns its file(s) into ItemData.

One function per dataset format, registered in DATASETS with the genre source its genre
names belong to. Values that are missing or out of range become empty rather than failing
the row; a row without a title is skipped with a reason.
"""

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from catalog.feeds.validation import ItemData, RowRejected, isbn13_from
from catalog.models import Kind, MusicMode

_SERIES = re.compile(r"^(?P<title>.+?)\s*\((?P<series>[^()]*?),?\s*#\s*[\d.]+(?:-[\d.]+)?\)\s*$")
_TT = re.compile(r"(tt\d{7,10})")


class SkipRow(ValueError):
    """The row cannot become an item (the reason says why)."""


@dataclass(frozen=True)
class Dataset:
    name: str
    kind: str
    genre_source: str
    read: "callable"
    description: str


def _csv_rows(path: Path, encoding: str = "utf-8") -> Iterator[tuple[int, dict]]:
    with path.open(newline="", encoding=encoding) as stream:
        reader = csv.DictReader(stream)
        reader.fieldnames = [name.strip() for name in reader.fieldnames or []]
        for row in reader:
            yield reader.line_num, {key: (value or "").strip() for key, value in row.items() if key}


def _each(rows, build) -> Iterator[tuple[int, "ItemData | SkipRow"]]:
    """Build an item from each row; a row that cannot be one is yielded as its SkipRow."""
    for line, row in rows:
        try:
            yield line, build(row)
        except SkipRow as skip:
            yield line, skip


def _number(value: str, *, low: float | None = None, high: float | None = None, scale: float = 1.0) -> float | None:
    try:
        number = float(value.replace(",", "")) * scale
    except (ValueError, AttributeError):
        return None
    if number != number or (low is not None and number < low) or (high is not None and number > high):
        return None
    return number


def _int(value: str, *, low: int = 0, high: int | None = None) -> int | None:
    number = _number(value, low=low, high=high)
    return int(number) if number is not None else None


def _year(value: str) -> int | None:
    match = re.search(r"(1[0-9]{3}|20[0-9]{2})", value or "")
    return int(match.group(1)) if match else None


def _names(value: str, separator: str = ",") -> list[str]:
    return [name.strip() for name in (value or "").split(separator) if name.strip()][:20]


def _title_and_series(title: str) -> tuple[str, str]:
    match = _SERIES.match(title)
    if match:
        return match.group("title").strip(), match.group("series").strip()
    return title, ""


def _isbn(*candidates: str) -> str:
    for candidate in candidates:
        text = (candidate or "").strip()
        if not text or "e+" in text.lower():  # a number mangled by a spreadsheet: digits are lost
            continue
        if text.isdigit() and len(text) < 10:
            text = text.zfill(10)  # leading zeros dropped by the export
        try:
            return isbn13_from(text)
        except RowRejected:
            continue
    return ""


def _require_title(title: str) -> str:
    title = (title or "").replace("\u00a0", " ").strip()
    if not title:
        raise SkipRow("no title")
    return title[:500]


def _http(url: str) -> str:
    url = (url or "").strip()
    return url if url.startswith(("http://", "https://")) and len(url) <= 1000 else ""


# --- films -------------------------------------------------------------------------------------

def read_wikidata_films(path: Path, **_options) -> Iterator[tuple[int, ItemData]]:
    """movies_wikidata.csv (Wikidata via bokeh-sampledata, CC0): IMDb id, runtime, genres, director,
    Rotten Tomatoes rating (0-10) and review count."""
    return _each(_csv_rows(_file(path, "movies_wikidata.csv")), lambda row: ItemData(
        kind=Kind.FILM, title=_require_title(row.get("title")), year=_year(row.get("year")),
        creators=_names(row.get("director")), genres=tuple(_names(row.get("genres"))),
        runtime_minutes=_int(row.get("runtime_min"), low=1, high=10_000),
        imdb_id=row.get("imdb_id", "") if _TT.fullmatch(row.get("imdb_id", "")) else "",
        rating=_number(row.get("rt_rating_10"), low=0, high=10), votes=_int(row.get("rt_reviews")),
    ))


def read_imdb_top_1000(path: Path, **_options) -> Iterator[tuple[int, ItemData]]:
    """imdb_top_1000.csv: poster, year, runtime ("142 min"), genres, IMDb rating and votes, overview."""
    return _each(_csv_rows(_file(path, "imdb_top_1000.csv")), lambda row: ItemData(
        kind=Kind.FILM, title=_require_title(row.get("Series_Title")), year=_year(row.get("Released_Year")),
        creators=_names(row.get("Director")), genres=tuple(_names(row.get("Genre"))),
        runtime_minutes=_int(row.get("Runtime", "").replace("min", ""), low=1, high=10_000),
        rating=_number(row.get("IMDB_Rating"), low=0, high=10), votes=_int(row.get("No_of_Votes")),
        description=row.get("Overview", ""), cover_url=_http(row.get("Poster_Link")),
    ))


def read_imdb_5000(path: Path, **_options) -> Iterator[tuple[int, ItemData]]:
    """movie_metadata.csv (IMDB 5000): IMDb link → id, duration, genres "A|B", score, votes."""
    seen: set[str] = set()

    def build(row: dict) -> ItemData:
        match = _TT.search(row.get("movie_imdb_link", ""))
        imdb_id = match.group(1) if match else ""
        if imdb_id and imdb_id in seen:  # the file lists ~190 films twice
            raise SkipRow(f"a second row for {imdb_id}")
        seen.add(imdb_id)
        return ItemData(
            kind=Kind.FILM, title=_require_title(row.get("movie_title")), year=_year(row.get("title_year")),
            creators=_names(row.get("director_name")), genres=tuple(_names(row.get("genres"), "|")),
            runtime_minutes=_int(row.get("duration"), low=1, high=10_000), imdb_id=imdb_id,
            rating=_number(row.get("imdb_score"), low=0, high=10), votes=_int(row.get("num_voted_users")),
        )

    return _each(_csv_rows(_file(path, "movie_metadata.csv")), build)


# --- books -------------------------------------------------------------------------------------

def _extended(path: Path | None) -> dict[str, dict]:
    """goodbooks_extended_top3k joined on ISBN-10 (leading zeros dropped): pages, description, genres."""
    if path is None:
        return {}
    details: dict[str, dict] = {}
    for _line, row in _csv_rows(path / "book_details.csv"):
        details[row["isbn_10"].lstrip("0")] = {"pages": _int(row.get("num_pages"), low=1, high=100_000),
                                              "description": row.get("description", ""), "genres": []}
    for _line, row in _csv_rows(path / "genres.csv"):
        details.setdefault(row["isbn_10"].lstrip("0"), {"pages": None, "description": "", "genres": []})[
            "genres"].append(row["genre"])
    return details


def read_goodbooks_10k(path: Path, extended: Path | None = None, **_options) -> Iterator[tuple[int, ItemData]]:
    """goodbooks-10k books.csv (ISBN, authors, year, rating 1-5, ratings, cover), plus pages, description
    and genres from goodbooks_extended_top3k when given (or found next to it)."""
    books = _file(path, "books.csv")
    if extended is None:
        sibling = books.parent.parent / "goodbooks_extended_top3k"
        extended = sibling if (sibling / "book_details.csv").exists() else None
    extra = _extended(extended)

    def build(row: dict) -> ItemData:
        title, series = _title_and_series(_require_title(row.get("title")))
        more = extra.get(row.get("isbn", "").lstrip("0"), {})
        image = _http(row.get("image_url"))
        return ItemData(
            kind=Kind.BOOK, title=title, series=series, original_title=row.get("original_title", "")[:500],
            creators=_names(row.get("authors")), year=_year(row.get("original_publication_year")),
            # isbn13 in this file is a float with its last digit lost: the ISBN-10 is converted instead.
            isbn13=_isbn(row.get("isbn")), rating=_number(row.get("average_rating"), low=0, high=10, scale=2),
            votes=_int(row.get("ratings_count")), language=row.get("language_code", "")[:8],
            cover_url="" if "nophoto" in image else image, pages=more.get("pages"),
            description=more.get("description", ""), genres=tuple(more.get("genres", ())),
        )

    return _each(_csv_rows(books), build)


def read_goodreads_11k(path: Path, **_options) -> Iterator[tuple[int, ItemData]]:
    """Goodreads books.csv (11k): ISBN / ISBN-13, authors "A/B", pages, rating 1-5, publication date."""
    def build(row: dict) -> ItemData:
        title, series = _title_and_series(_require_title(row.get("title")))
        return ItemData(
            kind=Kind.BOOK, title=title, series=series, creators=_names(row.get("authors"), "/"),
            year=_year(row.get("publication_date")), isbn13=_isbn(row.get("isbn13"), row.get("isbn")),
            pages=_int(row.get("num_pages"), low=1, high=100_000), language=row.get("language_code", "")[:8],
            rating=_number(row.get("average_rating"), low=0, high=10, scale=2), votes=_int(row.get("ratings_count")),
        )

    return _each(_csv_rows(_file(path, "books.csv")), build)


# --- tracks ------------------------------------------------------------------------------------

def _unit(value: str, scale: float = 1.0) -> float | None:
    return _number(value, low=0, high=1, scale=scale)


def read_spotify_2024(path: Path, **_options) -> Iterator[tuple[int, ItemData]]:
    """Spotify Music Dataset 2024: high_ and low_popularity_spotify_data.csv (a directory takes both).
    A track listed in several playlists is one item with the playlists' genres together."""
    files = sorted(path.glob("*popularity_spotify_data.csv")) if path.is_dir() else [path]
    if not files:
        raise FileNotFoundError(f"no *popularity_spotify_data.csv in {path}")
    tracks: dict[str, tuple[int, ItemData]] = {}
    for file in files:
        for line, row in _csv_rows(file):
            track_id = row.get("track_id") or row.get("id") or f"{file.name}:{line}"
            genres = tuple(g for g in (row.get("playlist_genre", ""), row.get("playlist_subgenre", "")) if g)
            if track_id in tracks:
                known = tracks[track_id][1]
                if isinstance(known, SkipRow):
                    continue
                known.genres = tuple(dict.fromkeys((*known.genres, *genres)))
                continue
            duration_ms = _number(row.get("duration_ms"), low=1000)
            tempo = _number(row.get("tempo"), low=1, high=399)
            if not row.get("track_name", "").strip():
                tracks[track_id] = (line, SkipRow("no title"))
                continue
            tracks[track_id] = (line, ItemData(
                kind=Kind.TRACK, title=_require_title(row.get("track_name")), creators=_names(row.get("track_artist")),
                album=row.get("track_album_name", "")[:300], year=_year(row.get("track_album_release_date")),
                duration_seconds=round(duration_ms / 1000) if duration_ms else None, tempo=tempo,
                energy=_unit(row.get("energy")), valence=_unit(row.get("valence")),
                danceability=_unit(row.get("danceability")), acousticness=_unit(row.get("acousticness")),
                mode={"1": MusicMode.MAJOR, "0": MusicMode.MINOR}.get(row.get("mode", "").split(".")[0], ""),
                popularity=_number(row.get("track_popularity"), low=0, high=100), genres=genres,
            ))
    yield from tracks.values()


def read_spotify_top_2000(path: Path, **_options) -> Iterator[tuple[int, ItemData]]:
    """Spotify-2000.csv (Top 2000): artist, title, top genre, year, BPM, 0-100 audio scores, seconds."""
    return _each(_csv_rows(_file(path, "Spotify-2000.csv"), encoding="utf-8-sig"), lambda row: ItemData(
        kind=Kind.TRACK, title=_require_title(row.get("Title")), creators=_names(row.get("Artist")),
        year=_year(row.get("Year")), genres=tuple(g for g in [row.get("Top Genre", "")] if g),
        duration_seconds=_int(row.get("Length (Duration)"), low=1),
        tempo=_number(row.get("Beats Per Minute (BPM)"), low=1, high=399),
        energy=_unit(row.get("Energy"), 0.01), valence=_unit(row.get("Valence"), 0.01),
        danceability=_unit(row.get("Danceability"), 0.01), acousticness=_unit(row.get("Acousticness"), 0.01),
        popularity=_number(row.get("Popularity"), low=0, high=100),
    ))


def _file(path: Path, default_name: str) -> Path:
    file = path / default_name if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(f"no such file: {file}")
    return file


DATASETS: dict[str, Dataset] = {
    dataset.name: dataset for dataset in [
        Dataset("wikidata-films", Kind.FILM, "imdb", read_wikidata_films,
                "movies_wikidata_bokeh_sampledata/movies_wikidata.csv"),
        Dataset("imdb-top-1000", Kind.FILM, "imdb", read_imdb_top_1000, "imdb_top_1000/imdb_top_1000.csv"),
        Dataset("imdb-5000", Kind.FILM, "imdb", read_imdb_5000, "imdb_5000_movie_metadata/movie_metadata.csv"),
        Dataset("goodbooks-10k", Kind.BOOK, "goodreads", read_goodbooks_10k,
                "goodbooks_10k/books.csv (+ goodbooks_extended_top3k/ with --extended, or found next to it)"),
        Dataset("goodreads-11k", Kind.BOOK, "goodreads", read_goodreads_11k, "goodreads_books_11k/books.csv"),
        Dataset("spotify-2024", Kind.TRACK, "spotify", read_spotify_2024,
                "spotify_music_dataset_2024/ (both *_popularity_spotify_data.csv files) or one of them"),
        Dataset("spotify-2000", Kind.TRACK, "spotify", read_spotify_top_2000, "spotify_top_2000/Spotify-2000.csv"),
    ]
}
