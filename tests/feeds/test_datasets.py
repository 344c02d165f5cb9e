"""import_dataset on small slices of the real public datasets (copied to tmp_path at test time)."""

import csv
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from catalog.models import ContentItem, GenreAlias

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

pytestmark = [
    pytest.mark.dataset,
    pytest.mark.django_db,
    pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not here"),
]


def head(source: Path, target: Path, rows: int = 200, encoding: str = "utf-8") -> Path:
    """The header and the first `rows` records of a CSV file (records, not lines: fields may span lines)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open(newline="", encoding=encoding) as src, target.open("w", newline="", encoding=encoding) as dst:
        reader, writer = csv.reader(src), csv.writer(dst)
        for index, record in enumerate(reader):
            if index > rows:
                break
            writer.writerow(record)
    return target


def load(capsys, *args) -> str:
    call_command("import_dataset", *map(str, args), verbosity=0)
    return capsys.readouterr().out


def genre_codes(item) -> set[str]:
    return set(item.genres.values_list("code", flat=True))


def test_wikidata_films(tmp_path, capsys):
    path = head(DATA / "movies_wikidata_bokeh_sampledata" / "movies_wikidata.csv", tmp_path / "movies_wikidata.csv")

    out = load(capsys, "wikidata-films", path)

    assert "wikidata-films: 200 rows read; items: 200 created" in out
    film = ContentItem.objects.get(imdb_id="tt1675434")
    assert (film.title, film.year, film.length_minutes, film.kind) == ("The Intouchables", 2011, 112, "film")
    assert film.creators == ["Olivier Nakache", "Éric Toledano"] and film.primary_creator == "Olivier Nakache"
    assert film.rating == 6.8
    assert genre_codes(film) == {"biography", "comedy", "drama"}
    assert GenreAlias.objects.filter(source="imdb", name="sci fi", genre__code="sci_fi").exists()


def test_imdb_top_1000_then_imdb_5000_fill_the_same_films(tmp_path, capsys):
    top = head(DATA / "imdb_top_1000" / "imdb_top_1000.csv", tmp_path / "top.csv")
    meta = head(DATA / "imdb_5000_movie_metadata" / "movie_metadata.csv", tmp_path / "meta.csv", rows=200)

    load(capsys, "imdb-top-1000", top)
    load(capsys, "imdb-5000", meta)

    shawshank = ContentItem.objects.get(title="The Shawshank Redemption")
    assert (shawshank.year, shawshank.length_minutes, shawshank.rating, shawshank.votes) == (1994, 142, 9.3, 2343110)
    assert shawshank.cover_url.startswith("https://m.media-amazon.com/")
    assert genre_codes(shawshank) == {"drama"}
    avatar = ContentItem.objects.get(imdb_id="tt0499549")
    assert (avatar.title, avatar.year, avatar.length_minutes, avatar.primary_creator) == (
        "Avatar", 2009, 178, "James Cameron")  # the title's trailing no-break space is gone
    assert genre_codes(avatar) == {"action", "adventure", "fantasy", "sci_fi"}
    # The Dark Knight is in both slices: one item, given its IMDb id by the second file.
    dark_knight = ContentItem.objects.get(title="The Dark Knight")
    assert dark_knight.imdb_id == "tt0468569"


def test_goodbooks_with_the_extended_pages_and_genres(tmp_path, capsys):
    books = head(DATA / "goodbooks_10k" / "books.csv", tmp_path / "goodbooks_10k" / "books.csv")
    extended = tmp_path / "goodbooks_extended_top3k"
    for name in ("book_details.csv", "genres.csv"):
        head(DATA / "goodbooks_extended_top3k" / name, extended / name, rows=2000)

    out = load(capsys, "goodbooks-10k", books)  # the extended folder is found next to it

    assert "200 rows read; items: 200 created" in out
    hunger = ContentItem.objects.get(isbn13="9780439023481")
    assert (hunger.title, hunger.series, hunger.year, hunger.primary_creator) == (
        "The Hunger Games", "The Hunger Games", 2008, "Suzanne Collins")
    assert (hunger.pages, hunger.length_minutes, hunger.rating) == (374, 449, 8.68)  # ceil(374 × 1.2); 4.34 × 2
    assert hunger.description.startswith("WINNING MEANS FAME AND FORTUNE")
    assert {"young_adult", "fantasy", "science_fiction"} <= genre_codes(hunger)


def test_goodreads_11k_books(tmp_path, capsys):
    path = head(DATA / "goodreads_books_11k" / "books.csv", tmp_path / "books.csv")

    out = load(capsys, "goodreads-11k", path)

    assert "200 rows read" in out
    prince = ContentItem.objects.get(isbn13="9780439785969")
    assert (prince.title, prince.series, prince.pages, prince.year) == (
        "Harry Potter and the Half-Blood Prince", "Harry Potter", 652, 2006)
    assert prince.creators == ["J.K. Rowling", "Mary GrandPré"]


def test_spotify_2024_both_files_and_top_2000(tmp_path, capsys):
    folder = tmp_path / "spotify_music_dataset_2024"
    for name in ("high_popularity_spotify_data.csv", "low_popularity_spotify_data.csv"):
        head(DATA / "spotify_music_dataset_2024" / name, folder / name, rows=100)
    top = head(DATA / "spotify_top_2000" / "Spotify-2000.csv", tmp_path / "Spotify-2000.csv", encoding="utf-8-sig")

    load(capsys, "spotify-2024", folder)
    load(capsys, "spotify-2000", top)

    smile = ContentItem.objects.get(title="Die With A Smile")
    assert (smile.kind, smile.creators, smile.year, smile.duration_seconds, smile.length_minutes) == (
        "track", ["Lady Gaga", "Bruno Mars"], 2024, 252, 5)
    assert (smile.tempo, smile.energy, smile.valence, smile.mode) == (157.969, 0.592, 0.535, "minor")
    assert "pop" in genre_codes(smile)
    assert ContentItem.objects.filter(title="Fortunate Son", primary_creator="Creedence Clearwater Revival").exists()
    sunrise = ContentItem.objects.get(title="Sunrise", primary_creator="Norah Jones")
    assert (sunrise.tempo, sunrise.energy, sunrise.duration_seconds, sunrise.year) == (157.0, 0.3, 201, 2004)
    black_night = ContentItem.objects.get(title="Black Night")
    assert genre_codes(black_night) == {"rock"}  # "album rock" → rock


def test_importing_again_changes_nothing(tmp_path, capsys):
    path = head(DATA / "imdb_top_1000" / "imdb_top_1000.csv", tmp_path / "top.csv", rows=100)
    load(capsys, "imdb-top-1000", path)
    before = {item.pk: (item.updated_at, item.rating) for item in ContentItem.objects.all()}

    out = load(capsys, "imdb-top-1000", path)

    assert "items: 0 created, 0 updated, 100 unchanged" in out
    assert {item.pk: (item.updated_at, item.rating) for item in ContentItem.objects.all()} == before


def test_a_staff_edit_survives_a_reimport(tmp_path, capsys):
    path = head(DATA / "imdb_top_1000" / "imdb_top_1000.csv", tmp_path / "top.csv", rows=5)
    load(capsys, "imdb-top-1000", path)
    ContentItem.objects.filter(title="The Godfather").update(description="Edited by staff")

    load(capsys, "imdb-top-1000", path)

    assert ContentItem.objects.get(title="The Godfather").description == "Edited by staff"


def test_wrong_file_for_the_kind_is_a_clear_error(tmp_path, capsys):
    path = head(DATA / "spotify_top_2000" / "Spotify-2000.csv", tmp_path / "x.csv", rows=5, encoding="utf-8-sig")

    out = load(capsys, "imdb-top-1000", path)  # no Series_Title column: every row is skipped with its reason
    assert "5 rows skipped" in out and "no title" in out
    with pytest.raises(CommandError, match="No such file or folder"):
        call_command("import_dataset", "imdb-5000", str(tmp_path / "missing.csv"))
