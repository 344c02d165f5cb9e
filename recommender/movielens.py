"""Reading a MovieLens folder in any of the layouts GroupLens has published it in.

- `movies.csv` + `ratings.csv` (ml-latest, ml-latest-small, ml-20m, ml-25m, ml-32m): comma-separated
  with a header, UTF-8;
- `movies.dat` + `ratings.dat` (ml-1m, ml-10m): `MovieID::Title::Genres` and
  `UserID::MovieID::Rating::Timestamp`, no header (ml-1m is Latin-1, ml-10m UTF-8);
- `u.item` + `u.data` (ml-100k): `u.data` is tab-separated `user item rating timestamp`; `u.item` is
  `|`-separated, Latin-1, with nineteen 0/1 genre columns named by `u.genre` (`name|column`).

Whatever the layout, the result is the same two frames: movies (`movieId`, `title`, `genres` as
`A|B|C`) and ratings (`userId`, `movieId`, `rating`). A folder that is none of these, a file without
the columns it needs, or a rating that is not a number raises `DatasetError` with the reason.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

MOVIE_COLUMNS = ["movieId", "title", "genres"]
RATING_COLUMNS = ["userId", "movieId", "rating"]
# ml-100k's genre columns, in order, when its u.genre is absent ("unknown" is no genre).
ML100K_GENRES = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
                 "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
                 "War", "Western")
LAYOUTS = (("movies.csv", "ratings.csv"), ("movies.dat", "ratings.dat"), ("u.item", "u.data"))


class DatasetError(ValueError):
    """The folder is not MovieLens-layout data; the message says what is missing."""


def read_movielens(directory: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(movies, ratings) of a MovieLens folder, in whichever layout it is (see the module docstring)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DatasetError(f"{directory} is not a folder: give a MovieLens folder (movies.csv and ratings.csv).")
    for movies_name, ratings_name in LAYOUTS:
        if (directory / movies_name).is_file() or (directory / ratings_name).is_file():
            for name in (movies_name, ratings_name):
                if not (directory / name).is_file():
                    raise DatasetError(f"{directory / name} is missing: a MovieLens folder has "
                                       f"{movies_name} and {ratings_name}.")
            read = {"movies.csv": _read_csv_layout, "movies.dat": _read_dat_layout, "u.item": _read_100k_layout}
            try:
                movies, ratings = read[movies_name](directory)
            except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
                raise DatasetError(f"{directory}: {movies_name} and {ratings_name} cannot be read as MovieLens "
                                   f"files ({exc}).") from None
            return movies, _numeric_ratings(ratings, ratings_name)
    raise DatasetError(f"{directory / 'movies.csv'} is missing: a MovieLens folder has movies.csv and ratings.csv "
                       "(or the older movies.dat and ratings.dat, or u.item and u.data).")


def _read_csv_layout(directory: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (_with_columns(pd.read_csv(directory / "movies.csv"), "movies.csv", MOVIE_COLUMNS),
            _with_columns(pd.read_csv(directory / "ratings.csv"), "ratings.csv", RATING_COLUMNS))


def _read_dat_layout(directory: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    for number, line in enumerate(_text(directory / "movies.dat").splitlines(), 1):
        if not line.strip():
            continue
        movie_id, _, rest = line.partition("::")
        title, separator, genres = rest.rpartition("::")
        if not separator:
            raise DatasetError(f"movies.dat, line {number}: expected MovieID::Title::Genres, got {line[:80]!r}.")
        rows.append((movie_id, title, genres))
    movies = pd.DataFrame(rows, columns=MOVIE_COLUMNS)
    movies["movieId"] = _integers(movies["movieId"], "movies.dat", "MovieID")
    # "1::1193::5::978300760": split on single colons, the fields are every other column.
    ratings = pd.read_csv(directory / "ratings.dat", sep=":", header=None, usecols=[0, 2, 4], names=range(7),
                          encoding="latin-1")
    ratings.columns = RATING_COLUMNS
    return movies, ratings


def _read_100k_layout(directory: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    genres = list(ML100K_GENRES)
    if (directory / "u.genre").is_file():
        pairs = [line.rsplit("|", 1) for line in _text(directory / "u.genre").splitlines() if "|" in line]
        genres = [name for name, _column in sorted(pairs, key=lambda pair: int(pair[1]))]
    items = pd.read_csv(io.StringIO(_text(directory / "u.item")), sep="|", header=None, dtype=str,
                        quoting=csv.QUOTE_NONE, keep_default_na=False)
    if items.shape[1] < 5 + len(genres):
        raise DatasetError(f"u.item has {items.shape[1]} columns; expected id|title|release date|video release "
                           f"date|IMDb URL and {len(genres)} genre columns.")
    flags = items.iloc[:, 5:5 + len(genres)].to_numpy() == "1"
    named = ["|".join(g for g, on in zip(genres, row) if on and g != "unknown") for row in flags]
    movies = pd.DataFrame({"movieId": _integers(items[0], "u.item", "movie id"), "title": items[1], "genres": named})
    ratings = pd.read_csv(directory / "u.data", sep="\t", header=None, usecols=[0, 1, 2], names=RATING_COLUMNS,
                          encoding="latin-1")
    return movies, ratings


def _text(path: Path) -> str:
    """The file's text: UTF-8, or Latin-1 (ml-1m, ml-100k) when it is not UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _with_columns(frame: pd.DataFrame, name: str, columns: list[str]) -> pd.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DatasetError(f"{name} lacks the column(s) {', '.join(missing)}; expected {', '.join(columns)}.")
    return frame


def _integers(values: pd.Series, name: str, column: str) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    _refuse_first(numbers.isna() | (numbers != numbers.round()), values, name, column, "a whole number")
    return numbers.astype(np.int64)


def _numeric_ratings(ratings: pd.DataFrame, name: str) -> pd.DataFrame:
    ratings = ratings[RATING_COLUMNS].copy()
    for column in ("userId", "movieId"):
        ratings[column] = _integers(ratings[column], name, column)
    stars = pd.to_numeric(ratings["rating"], errors="coerce")
    _refuse_first(stars.isna() | (stars < 0) | (stars > 5), ratings["rating"], name, "rating", "a number from 0 to 5")
    ratings["rating"] = stars.astype(np.float64)
    return ratings


def _refuse_first(bad: pd.Series, values: pd.Series, name: str, column: str, should_be: str) -> None:
    """DatasetError naming the first row where `bad` holds, with the value as written."""
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DatasetError(f"{name}, row {row + 1}: {column} {values.iloc[row]!r} is not {should_be}.")
