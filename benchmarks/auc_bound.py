"""How high can ROC AUC go on the evaluation's split? A check of the issue's 0.72 target.

    .venv/bin/python benchmarks/auc_bound.py [--movielens ../shared/data/movielens_ml_latest_small] [--seed 0]

It rebuilds exactly the split of `evaluate_recommender` (the same seeded test users, the same 10
onboarding answers per test user, the same held-out items) and fits a biased matrix
factorisation (ALS, the classic rating-prediction model) on every stored rating plus, for each
test user, *more* than the service is given:

- `answers as stars` — the 10 onboarding answers with their star ratings (the service only sees
  like / don't know / dislike);
- `+ half the held-out` — also half of the user's held-out ratings, with stars; scored on the
  other half (so it is a different, easier set of items: shown for scale).

It prints the per-user ROC AUC (averaged over users, as the evaluation does) of the item bias
alone and of the full factorisation, for a few sizes and regularisations. None of this is used
by the service: it measures what the data can support, not what MoodStream serves.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = 10
TEST_SHARE = 0.2
LIKE_AT = 4.0


def split(ratings: pd.DataFrame, movie_ids: np.ndarray, seed: int):
    """The evaluation's split (recommender/evaluation.py): test users, their answers and held-out rows."""
    ratings = ratings[ratings["movieId"].isin(movie_ids)].reset_index(drop=True)
    user_of = ratings["userId"].to_numpy(np.int64)
    rng = np.random.default_rng(seed)
    users = np.unique(user_of)
    test_users = np.sort(rng.choice(users, size=int(round(TEST_SHARE * len(users))), replace=False))
    rows_by_user = pd.Series(np.arange(len(ratings))).groupby(user_of).apply(np.asarray).to_dict()
    answers, heldout = {}, {}
    for user in test_users:
        rows = rows_by_user[user]
        chosen = np.zeros(len(rows), dtype=bool)
        chosen[rng.choice(len(rows), size=min(ANSWERS, len(rows)), replace=False)] = True
        answers[int(user)], heldout[int(user)] = rows[chosen], rows[~chosen]
    return ratings, test_users, answers, heldout


def als(users, items, stars, n_users, n_items, *, k, lam, iterations=15, seed=0):
    """Biased matrix factorisation by alternating least squares: r ≈ μ + b_u + b_i + p_u·q_i."""
    rng = np.random.default_rng(seed)
    mu = stars.mean()
    b_u, b_i = np.zeros(n_users), np.zeros(n_items)
    p, q = rng.normal(0, 0.1, (n_users, k)), rng.normal(0, 0.1, (n_items, k))
    by_user = pd.Series(np.arange(len(users))).groupby(users).apply(np.asarray).to_dict()
    by_item = pd.Series(np.arange(len(items))).groupby(items).apply(np.asarray).to_dict()
    ridge = lam * np.eye(k + 1)
    for _ in range(iterations):
        for u, rows in by_user.items():
            x = np.c_[q[items[rows]], np.ones(len(rows))]
            w = np.linalg.solve(x.T @ x + ridge, x.T @ (stars[rows] - mu - b_i[items[rows]]))
            p[u], b_u[u] = w[:k], w[k]
        for i, rows in by_item.items():
            x = np.c_[p[users[rows]], np.ones(len(rows))]
            w = np.linalg.solve(x.T @ x + ridge, x.T @ (stars[rows] - mu - b_u[users[rows]]))
            q[i], b_i[i] = w[:k], w[k]
    return b_i, p, q


def mean_auc(scored: dict[int, tuple[np.ndarray, np.ndarray]]) -> tuple[float, int]:
    aucs = [roc_auc_score(liked, score) for liked, score in scored.values() if 0 < liked.sum() < len(liked)]
    return float(np.mean(aucs)), len(aucs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--movielens", default=str(ROOT.parent / "shared" / "data" / "movielens_ml_latest_small"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    folder = Path(args.movielens)
    movie_ids = np.sort(pd.read_csv(folder / "movies.csv")["movieId"].to_numpy(np.int64))
    ratings, test_users, answers, heldout = split(pd.read_csv(folder / "ratings.csv"), movie_ids, args.seed)
    user_ids = np.unique(ratings["userId"].to_numpy(np.int64))
    u = np.searchsorted(user_ids, ratings["userId"].to_numpy(np.int64))
    i = np.searchsorted(movie_ids, ratings["movieId"].to_numpy(np.int64))
    stars = ratings["rating"].to_numpy(np.float64)
    is_test = np.isin(ratings["userId"].to_numpy(np.int64), test_users)
    print(f"{folder} seed {args.seed}: {len(test_users)} test users, {int((~is_test).sum())} stored ratings")
    print(f"{'what the model knows of a test user':38s} {'k':>3s} {'λ':>5s}  {'item bias':>9s}  {'MF':>7s}  users")

    rng = np.random.default_rng([args.seed, 7])
    half_known, half_scored = {}, {}
    for user, rows in heldout.items():
        shuffled = rng.permutation(rows)
        half_known[user], half_scored[user] = shuffled[: len(rows) // 2], shuffled[len(rows) // 2:]

    for label, extra, scored_rows in (("answers as stars", answers, heldout),
                                      ("answers as stars + half the held-out", None, half_scored)):
        known = ~is_test
        for user in test_users:
            known[answers[int(user)]] = True
            if extra is None:
                known[half_known[int(user)]] = True
        for k, lam in ((10, 5.0), (20, 8.0), (40, 15.0)):
            b_i, p, q = als(u[known], i[known], stars[known], len(user_ids), len(movie_ids), k=k, lam=lam,
                            seed=args.seed)
            bias_only = {user: (stars[rows] >= LIKE_AT, b_i[i[rows]]) for user, rows in scored_rows.items()}
            full = {user: (stars[rows] >= LIKE_AT, b_i[i[rows]] + q[i[rows]] @ p[u[rows[0]]])
                    for user, rows in scored_rows.items() if len(rows)}
            (bias_auc, _), (mf_auc, n) = mean_auc(bias_only), mean_auc(full)
            print(f"{label:38s} {k:3d} {lam:5.1f}  {bias_auc:9.4f}  {mf_auc:7.4f}  {n}")
    print(f"command: .venv/bin/python benchmarks/auc_bound.py --movielens {folder} --seed {args.seed}")


if __name__ == "__main__":
    main()
