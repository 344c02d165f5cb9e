"""The warm-up picker measured on held-out *stored* users — where its settings are chosen, never on test users.

    DEBUG=1 .venv/bin/python scripts/warmup_stored.py ../shared/data/movielens_ml_latest_small --seeds 0 1 2

For each seed, the split of `evaluate_recommender` (the same 20% test users, left untouched); every stored
(training) user with more than 10 ratings is replayed the realistic way by `MovieLensSplit.stored_replay`
— their genre taps, 10 cards from the bot's picker answered from their ratings, their own row left out
of the collaborative matrices and the priors — and by the reference picker (the 10 most popular items).
Prints the mean opinions (likes + dislikes) gathered, the ratio, the standard error of the paired
per-user difference and the picker's time per card. `--half 0|1` replays only one half of the stored
users (by a hash of their id), for a choice made on one half and checked on the other.
"""

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

import django
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "moodstream.settings")
django.setup()

from recommender.evaluation import DatasetError, movielens_split  # noqa: E402


def half_of(user: int) -> int:
    return hashlib.sha256(f"warmup-half:{user}".encode()).digest()[0] % 2


def measure(directory: str, seed: int, half: int | None) -> dict:
    split = movielens_split(directory, seed=seed)
    users = [u for u in split.stored_users if half is None or half_of(int(u)) == half]
    started = time.process_time()
    picker = np.array([split.stored_replay(u).taste.answer_positions.size for u in users], dtype=np.float64)
    cpu = time.process_time() - started
    popular = np.array([split.stored_replay(u, popular=True).taste.answer_positions.size for u in users],
                       dtype=np.float64)
    diff = picker - popular
    return {"seed": seed, "users": len(users), "picker": picker.mean(), "popular": popular.mean(),
            "ratio": picker.mean() / popular.mean(), "se": diff.std(ddof=1) / np.sqrt(len(users)) / popular.mean(),
            "ms_per_card": 1000 * cpu / max(len(users) * 10, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("movielens", help="a MovieLens folder (movies.csv, ratings.csv)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--half", type=int, choices=(0, 1), default=None)
    args = parser.parse_args()
    for seed in args.seeds:
        try:
            r = measure(args.movielens, seed, args.half)
        except DatasetError as exc:
            sys.exit(str(exc))
        print(f"seed {r['seed']}: {r['users']} stored users, opinions picker {r['picker']:.3f} / popular "
              f"{r['popular']:.3f} = {r['ratio']:.3f}× (± {r['se']:.3f}), {r['ms_per_card']:.1f} ms CPU per card "
              "(replay included)", flush=True)


if __name__ == "__main__":
    main()
