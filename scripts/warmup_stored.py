"""The warm-up picker measured on held-out *stored* users — where its settings are chosen, never on test users.

    DEBUG=1 .venv/bin/python scripts/warmup_stored.py ../shared/data/movielens_ml_latest_small --seeds 0 1 2

For each seed, the split of `evaluate_recommender` (the same 20% test users, left untouched); every stored
(training) user with more than 10 ratings is replayed the realistic way by `MovieLensSplit.stored_replay`
— their genre taps, 10 cards from the bot's picker answered from their ratings, their own row left out
of the collaborative matrices and the priors — and by the reference picker (the 10 most popular items).
Prints the mean opinions (likes + dislikes) gathered, the ratio, the standard error of the paired
per-user difference and the picker's time per card. `--half 0|1` replays only one half of the stored
users (by a hash of their id), for a choice made on one half and checked on the other. `--per-card` adds
each card's share of people with an opinion on it (card 1, card 2, …): where a picker gains or runs dry.
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

from recommender.evaluation import ANSWERS_PER_USER, DatasetError, movielens_split  # noqa: E402


def half_of(user: int) -> int:
    return hashlib.sha256(f"warmup-half:{user}".encode()).digest()[0] % 2


def opinions_by_card(replay) -> np.ndarray:
    """Per card of the replay, in order: 1 when the person had an opinion on it, 0 for a "don't know" (or no card)."""
    hits = np.zeros(ANSWERS_PER_USER)
    shown = replay.answered_positions[:ANSWERS_PER_USER]
    hits[:shown.size] = np.isin(shown, replay.taste.answer_positions)
    return hits


def measure(directory: str, seed: int, half: int | None) -> dict:
    split = movielens_split(directory, seed=seed)
    users = [u for u in split.stored_users if half is None or half_of(int(u)) == half]
    started = time.process_time()
    picker = np.array([opinions_by_card(split.stored_replay(u)) for u in users])
    cpu = time.process_time() - started
    popular = np.array([opinions_by_card(split.stored_replay(u, popular=True)) for u in users])
    diff = picker.sum(axis=1) - popular.sum(axis=1)
    mean_picker, mean_popular = picker.sum(axis=1).mean(), popular.sum(axis=1).mean()
    return {"seed": seed, "users": len(users), "picker": mean_picker, "popular": mean_popular,
            "ratio": mean_picker / mean_popular, "se": diff.std(ddof=1) / np.sqrt(len(users)) / mean_popular,
            "ms_per_card": 1000 * cpu / max(len(users) * ANSWERS_PER_USER, 1),
            "picker_by_card": picker.mean(axis=0), "popular_by_card": popular.mean(axis=0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("movielens", help="a MovieLens folder (movies.csv, ratings.csv)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--half", type=int, choices=(0, 1), default=None)
    parser.add_argument("--per-card", action="store_true", help="each card's share of people with an opinion on it")
    args = parser.parse_args()
    for seed in args.seeds:
        try:
            r = measure(args.movielens, seed, args.half)
        except DatasetError as exc:
            sys.exit(str(exc))
        print(f"seed {r['seed']}: {r['users']} stored users, opinions picker {r['picker']:.3f} / popular "
              f"{r['popular']:.3f} = {r['ratio']:.3f}× (± {r['se']:.3f}), {r['ms_per_card']:.1f} ms CPU per card "
              "(replay included)", flush=True)
        if args.per_card:
            for name in ("picker", "popular"):
                shares = " ".join(f"{share:.2f}" for share in r[f"{name}_by_card"])
                print(f"  {name:<8} by card: {shares}", flush=True)


if __name__ == "__main__":
    main()
