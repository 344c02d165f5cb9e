"""evaluate_recommender reads a MovieLens folder in each layout GroupLens published: the same ratings give the
same evaluation whether they come as movies.csv/ratings.csv, movies.dat/ratings.dat (ml-1m, ml-10m) or
u.item/u.data (ml-100k)."""

from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from recommender.evaluation import movielens_evaluate
from recommender.movielens import DatasetError, read_movielens

GENRES = ["Comedy", "Drama", "Horror", "Children's"]


def _movies(count=40):
    titles = {1: "Amélie (2001)", 2: "Star Wars: Episode IV - A New Hope (1977)"}
    return [(m, titles.get(m, f"Movie {m} ({1990 + m % 20})"), [GENRES[m % 4], GENRES[(m + 1) % 4]] if m != 3 else [])
            for m in range(1, count + 1)]


def _ratings(users=30, movies=40, seed=3):
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(1, users + 1):
        for m in rng.choice(np.arange(1, movies + 1), 20, replace=False):
            stars = 5 if m % 4 == u % 4 else int(rng.choice([1, 2, 3, 4]))
            rows.append((u, int(m), stars, 978300760 + u))
    return rows


def write_csv_layout(folder: Path):
    lines = ["movieId,title,genres"] + [f'{m},"{t}",{"|".join(g) or "(no genres listed)"}' for m, t, g in _movies()]
    (folder / "movies.csv").write_text("\n".join(lines), encoding="utf-8")
    (folder / "ratings.csv").write_text("\n".join(["userId,movieId,rating,timestamp"]
                                                  + [f"{u},{m},{s}.0,{t}" for u, m, s, t in _ratings()]))


def write_dat_layout(folder: Path):  # ml-1m: "::"-separated, Latin-1, no header
    movies = "\n".join(f"{m}::{t}::{'|'.join(g)}" for m, t, g in _movies())
    (folder / "movies.dat").write_bytes(movies.encode("latin-1"))
    (folder / "ratings.dat").write_text("\n".join(f"{u}::{m}::{s}::{t}" for u, m, s, t in _ratings()) + "\n")


def write_100k_layout(folder: Path):  # ml-100k: u.item "|"-separated with genre flags named by u.genre, Latin-1
    names = ["unknown", *sorted(GENRES)]
    (folder / "u.genre").write_text("".join(f"{name}|{column}\n" for column, name in enumerate(names)))
    lines = [f"{m}|{t}|01-Jan-1995||http://us.imdb.com/M/title-exact?x|"
             + "|".join("1" if name in g or (name == "unknown" and not g) else "0" for name in names)
             for m, t, g in _movies()]
    (folder / "u.item").write_bytes("\n".join(lines).encode("latin-1"))
    (folder / "u.data").write_text("".join(f"{u}\t{m}\t{s}\t{t}\n" for u, m, s, t in _ratings()))


LAYOUTS = {"csv": write_csv_layout, "dat": write_dat_layout, "100k": write_100k_layout}


def _folder(tmp_path, layout):
    folder = tmp_path / layout
    folder.mkdir()
    LAYOUTS[layout](folder)
    return folder


@pytest.mark.parametrize("layout", ["dat", "100k"])
def test_every_layout_reads_the_same_movies_and_ratings(tmp_path, layout):
    movies, ratings = read_movielens(_folder(tmp_path, layout))
    expected_movies, expected_ratings = read_movielens(_folder(tmp_path, "csv"))
    assert list(movies["title"]) == list(expected_movies["title"])  # Latin-1 decoded: "Amélie (2001)"
    assert movies["title"].iloc[0] == "Amélie (2001)"
    assert [set(g.split("|")) - {"", "(no genres listed)"} for g in movies["genres"]] == \
           [set(g.split("|")) - {"", "(no genres listed)"} for g in expected_movies["genres"]]
    assert ratings.to_dict("list") == expected_ratings[["userId", "movieId", "rating"]].to_dict("list")


@pytest.mark.parametrize("layout", ["dat", "100k"])
def test_every_layout_gives_the_same_evaluation(tmp_path, layout):
    report = movielens_evaluate(_folder(tmp_path, layout), seed=0, protocols=("realistic",))
    expected = movielens_evaluate(_folder(tmp_path, "csv"), seed=0, protocols=("realistic",))
    assert report.test_users == expected.test_users == 6
    assert ({k: v.as_dict() for k, v in report.rows.items()}
            == {k: v.as_dict() for k, v in expected.rows.items()})


def test_a_layout_missing_its_ratings_is_named(tmp_path):
    folder = _folder(tmp_path, "dat")
    (folder / "ratings.dat").unlink()
    missing = r"ratings\.dat is missing: a MovieLens folder has movies\.dat and ratings\.dat"
    with pytest.raises(CommandError, match=missing):
        call_command("evaluate_recommender", "--movielens", str(folder))


def test_a_rating_that_is_not_a_number_is_named_with_its_row(tmp_path):
    folder = _folder(tmp_path, "csv")
    with (folder / "ratings.csv").open("a") as ratings:
        ratings.write("\n7,3,four,0")
    with pytest.raises(DatasetError, match=r"ratings\.csv, row 601: rating 'four' is not a number from 0 to 5"):
        read_movielens(folder)


def test_an_empty_ratings_file_is_named_not_a_traceback(tmp_path):
    folder = _folder(tmp_path, "csv")
    (folder / "ratings.csv").write_text("")
    with pytest.raises(CommandError, match=r"movies\.csv and ratings\.csv cannot be read as MovieLens files"):
        call_command("evaluate_recommender", "--movielens", str(folder))


def test_a_movies_dat_line_without_its_fields_is_named(tmp_path):
    folder = _folder(tmp_path, "dat")
    with (folder / "movies.dat").open("ab") as movies:
        movies.write(b"\n41::Only a title")
    with pytest.raises(DatasetError, match=r"movies\.dat, line 41: expected MovieID::Title::Genres"):
        read_movielens(folder)


def test_a_folder_that_is_no_movielens_layout_says_what_it_needs(tmp_path):
    with pytest.raises(DatasetError, match="movies.csv is missing.*movies.dat and ratings.dat, or u.item and u.data"):
        read_movielens(tmp_path)
    with pytest.raises(DatasetError, match="is not a folder"):
        read_movielens(tmp_path / "nowhere")


def test_a_folder_with_more_users_than_the_cap_is_evaluated_on_a_seeded_sample(tmp_path, capsys):
    folder = _folder(tmp_path, "csv")  # 30 users
    report = movielens_evaluate(folder, seed=0, protocols=("realistic",), max_users=20)
    again = movielens_evaluate(folder, seed=0, protocols=("realistic",), max_users=20)
    assert (report.users, report.sampled_from, report.test_users) == (20, 30, 4)
    assert report.ratings == 20 * 20  # every rating of each sampled user
    assert {k: v.as_dict() for k, v in report.rows.items()} == {k: v.as_dict() for k, v in again.rows.items()}

    call_command("evaluate_recommender", "--movielens", str(folder), "--users", "20", "--protocol", "cold")
    assert "users: a seeded sample of 20 of the folder's 30 (every rating of each; --users 0 for everyone)" \
        in capsys.readouterr().out
    call_command("evaluate_recommender", "--movielens", str(folder), "--users", "0", "--protocol", "cold")
    out = capsys.readouterr().out
    assert "6 test users" in out and "seeded sample" not in out
    assert movielens_evaluate(folder, seed=0, protocols=("cold",), max_users=30).sampled_from == 0  # all of them
