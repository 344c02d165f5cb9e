"""CPU time of the warm-up picker's next card (`recommender.warmup.next_card`) on synthetic stored users.

    .venv/bin/python benchmarks/warmup_card.py [--items 100000] [--users 20000] [--opinions 2000000]

Builds, in memory (no database), one kind's collaborative matrices as the service does
(`kind_collab_from_triples`): `--opinions` likes and dislikes of `--users` stored users over `--items`
items whose popularity falls as rank^-0.8, each item in two of 25 genres, each stored user choosing
about 15% of the genres. Then times the next card for a person who chose three genres, after 0, 1, 5
and 9 cards (half of them known), as the least CPU time (`time.process_time`) of 5 rounds of 10 calls:
what the code costs, little disturbed by other processes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "moodstream.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from recommender.collab import kind_collab_from_triples  # noqa: E402
from recommender.index import KindIndex, padded_columns  # noqa: E402
from recommender.warmup import next_card  # noqa: E402

GENRES = 25


def synthetic(items: int, users: int, opinions: int, rng: np.random.Generator):
    popularity = 1.0 / np.arange(1, items + 1) ** 0.8
    popularity /= popularity.sum()
    positions = rng.choice(items, size=opinions, p=popularity)
    collab = kind_collab_from_triples(rng.integers(0, users, size=opinions), positions,
                                      rng.choice(np.array([1, -1], dtype=np.int8), size=opinions), items)
    chosen = sp.random(len(collab.user_ids), GENRES, density=0.15, random_state=rng, format="csr")
    chosen.data[:] = 1.0
    collab.user_genres = chosen.astype(np.float32)
    genres = rng.integers(0, GENRES, size=(items, 2))
    nan = np.full(items, np.nan, dtype=np.float32)
    votes = (popularity * opinions).astype(np.float32)
    ix = KindIndex(kind="film", item_ids=np.arange(1, items + 1), genre_ids=np.arange(GENRES),
                   genre_cols=padded_columns(items, np.repeat(np.arange(items), 2), genres.ravel(), GENRES),
                   mood_ids=np.empty(0, dtype=np.int64), mood_cols=np.zeros((0, items), dtype=np.int16),
                   length=nan, duration_seconds=nan, tempo=nan, energy=nan, valence=nan,
                   mode=np.zeros(items, dtype=np.int8), rating=np.full(items, 7.0, dtype=np.float32), votes=votes,
                   popularity_raw=votes, series=np.full(items, -1, dtype=np.int32),
                   creator=np.full(items, -1, dtype=np.int32), year=nan)
    return ix, collab


def least_cpu_ms(call, rounds: int = 5, calls: int = 10) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(calls):
            call()
        best = min(best, (time.process_time() - started) / calls)
    return 1000 * best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--opinions", type=int, default=2_000_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    ix, collab = synthetic(args.items, args.users, args.opinions, rng)
    genres = np.array([1, 4, 7])
    print(f"{args.items:,} items, {len(collab.user_ids):,} stored users, {collab.opinions:,} opinions")
    for asked_count in (0, 1, 5, 9):
        asked = rng.choice(1000, size=asked_count, replace=False).astype(np.int64)
        known = asked[::2]

        def call():
            next_card(ix, collab, genre_columns=genres, asked=asked, opinion_positions=known,
                      opinion_values=np.ones(known.size, dtype=np.int8))

        print(f"next card after {asked_count} cards ({known.size} known): {least_cpu_ms(call):.1f} ms CPU")
    print(f"(least of 5 rounds of 10 calls; .venv/bin/python benchmarks/warmup_card.py --items {args.items} "
          f"--users {args.users} --opinions {args.opinions})")


if __name__ == "__main__":
    main()
