"""Write another MovieLens-format folder from one: the ratings of a date range, or noisy copies of every user.

    .venv/bin/python scripts/movielens_slice.py ../shared/data/movielens_ml_latest_small /tmp/ml_early --before 2005-01-01
    .venv/bin/python scripts/movielens_slice.py ../shared/data/movielens_ml_latest_small /tmp/ml_late --since 2010-01-01
    .venv/bin/python scripts/movielens_slice.py ../shared/data/movielens_ml_latest_small /tmp/ml_copies --copies 10

`evaluate_recommender --movielens <folder>` then measures the recommender on data it was never
designed on (docs/recommender.md, "Beyond latest-small"). A date range keeps real people rating in
another era; `--copies N` makes N copies of every user (ids offset by 1,000,000 × copy, a seeded 20%
of each copy's ratings dropped, a fifth of the rest moved half a star), a larger catalogue of
ratings whose people each have near-twins — a stress test, not a real population.
"""

import argparse
import csv
import random
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="a MovieLens folder (movies.csv, ratings.csv with timestamp)")
    parser.add_argument("destination", type=Path)
    parser.add_argument("--since", help="keep ratings on or after this date (YYYY-MM-DD, UTC)")
    parser.add_argument("--before", help="keep ratings before this date (YYYY-MM-DD, UTC)")
    parser.add_argument("--copies", type=int, default=1, help="noisy copies of every user (default 1: the users as they are)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not (args.source / "ratings.csv").is_file() or not (args.source / "movies.csv").is_file():
        sys.exit(f"{args.source} is not a MovieLens folder: it needs movies.csv and ratings.csv.")
    since, before = _timestamp(args.since, 0), _timestamp(args.before, float("inf"))
    args.destination.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.source / "movies.csv", args.destination / "movies.csv")
    rng = random.Random(args.seed)
    kept, users = 0, set()
    with open(args.source / "ratings.csv", newline="") as source, \
            open(args.destination / "ratings.csv", "w", newline="") as destination:
        rows = csv.DictReader(source)
        writer = csv.writer(destination)
        writer.writerow(["userId", "movieId", "rating", "timestamp"])
        ratings = [row for row in rows if since <= int(row["timestamp"]) < before]
        for copy in range(args.copies):
            for row in ratings:
                stars = float(row["rating"])
                if args.copies > 1:
                    if rng.random() < 0.2:
                        continue
                    stars = min(5.0, max(0.5, stars + rng.choice([-0.5, 0.0, 0.0, 0.0, 0.5])))
                user = int(row["userId"]) + 1_000_000 * copy
                writer.writerow([user, row["movieId"], stars, row["timestamp"]])
                kept += 1
                users.add(user)
    print(f"{args.destination}: {kept:,} ratings by {len(users):,} users")


def _timestamp(date: str | None, default: float) -> float:
    if not date:
        return default
    return datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp()


if __name__ == "__main__":
    main()
