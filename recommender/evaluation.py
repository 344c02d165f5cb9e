"""Offline evaluation on MovieLens-layout data, replaying real ratings through the service's scoring.

The protocol (issue 4, item 7), deterministic for a given seed:
1. A seeded 20% of users are test users; everyone else's ratings are the service's stored
   ratings (like ≥ 4, dislike ≤ 2.5, else don't know) and the source of the items' rating,
   vote count and popularity — the fields a partner feed would fill.
2. Each test user gives 10 random ratings as onboarding answers; their genres are the genres
   of the liked answers. The rest is held out; an item is relevant when rated ≥ 4.
3. ROC AUC over each user's held-out items (averaged over users); NDCG@10 and MAP@10 over the
   whole catalogue minus the user's 10 answered items.

The learned model is trained exactly as `train_recommender` trains it (`learning.learn_preference_model`)
— on the stored users, each replayed the same way with its own ratings left out of the priors
and the collaborative signals; the mix of its "will like" and "will watch" parts is chosen on
held-out stored users — so nothing is tuned to the test users or to one dataset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .collab import KindCollab, kind_collab_from_triples
from .index import KindIndex, padded_columns, quality_priors
from .learning import (ANSWERS_PER_USER, MetricSummary, ReplayUser, TrainingGroup, evaluate_strategy,
                       learn_preference_model)
from .scoring import BASELINE, HEURISTIC, MODEL, POPULARITY, Strategy
from .signals import KindTaste, Priors

TEST_SHARE = 0.2
LIKE_AT, DISLIKE_AT = 4.0, 2.5
_YEAR = re.compile(r"\((\d{4})\)\s*$")


class DatasetError(ValueError):
    """The folder is not MovieLens-layout data; the message says what is missing."""


@dataclass
class EvaluationReport:
    rows: dict[str, MetricSummary]
    items: int
    ratings: int
    test_users: int
    training_users: int
    training_pairs: int
    model_weights: dict[str, float]
    watch_weight: float = 0.0  # λ of the "will watch" model, learned on the training users


def _read_csv(path: Path, columns: list[str]) -> pd.DataFrame:
    if not path.is_file():
        raise DatasetError(f"{path} is missing: a MovieLens folder has movies.csv and ratings.csv.")
    frame = pd.read_csv(path)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DatasetError(f"{path.name} lacks the column(s) {', '.join(missing)}; expected {', '.join(columns)}.")
    return frame


def opinion(ratings: np.ndarray) -> np.ndarray:
    """MovieLens stars → the service's answers: 1 like, -1 dislike, 0 don't know."""
    return np.where(ratings >= LIKE_AT, 1, np.where(ratings <= DISLIKE_AT, -1, 0)).astype(np.int8)


def movielens_evaluate(directory: str | Path, *, seed: int = 0) -> EvaluationReport:
    directory = Path(directory)
    movies = _read_csv(directory / "movies.csv", ["movieId", "title", "genres"]).sort_values("movieId", kind="stable")
    ratings = _read_csv(directory / "ratings.csv", ["userId", "movieId", "rating"])
    item_ids = movies["movieId"].to_numpy(np.int64)
    ratings = ratings[ratings["movieId"].isin(item_ids)].reset_index(drop=True)
    if ratings.empty:
        raise DatasetError("ratings.csv has no ratings of the movies in movies.csv.")
    positions = np.searchsorted(item_ids, ratings["movieId"].to_numpy(np.int64))
    stars = ratings["rating"].to_numpy(np.float64)
    user_of = ratings["userId"].to_numpy(np.int64)

    rng = np.random.default_rng(seed)
    users = np.unique(user_of)
    test_users = np.sort(rng.choice(users, size=int(round(TEST_SHARE * len(users))), replace=False))
    is_test = np.isin(user_of, test_users)
    stored = ~is_test

    n = len(item_ids)
    votes = np.bincount(positions[stored], minlength=n).astype(np.float64)
    star_sums = np.bincount(positions[stored], weights=stars[stored] * 2, minlength=n)  # 0..10 scale
    max_votes = max(votes.max(), 1.0)
    ix = _film_index(movies, item_ids, votes, star_sums, max_votes)
    collab = kind_collab_from_triples(user_of[stored], positions[stored], opinion(stars[stored]), n)

    rows_by_user = pd.Series(np.arange(len(ratings))).groupby(user_of).apply(np.asarray).to_dict()
    test = [_replay(ix, None, rows_by_user[u], positions, stars, rng, user_id=int(u)) for u in test_users]

    train_rng = np.random.default_rng([seed, 1])
    training = []
    for user in np.setdiff1d(users, test_users):
        rows = rows_by_user[user]
        if len(rows) <= ANSWERS_PER_USER:
            continue
        own = _leave_one_out(votes, star_sums, max_votes, positions[rows], stars[rows])
        training.append(_replay(ix, collab, rows, positions, stars, train_rng, user_id=int(user), priors=own))
    learned = learn_preference_model([TrainingGroup(ix, collab, training)], seed)
    model = learned.model

    strategies = {
        BASELINE: Strategy(BASELINE), POPULARITY: Strategy(POPULARITY), HEURISTIC: Strategy(HEURISTIC),
        MODEL: Strategy(MODEL, model=model),
    }
    report_rows = {name: evaluate_strategy(ix, collab, test, strategy) for name, strategy in strategies.items()}
    return EvaluationReport(rows=report_rows, items=n, ratings=len(ratings), test_users=len(test),
                            training_users=len(training), training_pairs=learned.pairs,
                            model_weights={f: round(float(w), 4) for f, w in zip(model.features, model.weights)},
                            watch_weight=learned.watch_weight)


def _film_index(movies: pd.DataFrame, item_ids, votes, star_sums, max_votes) -> KindIndex:
    genre_lists = [[g for g in str(gs).split("|") if g and g != "(no genres listed)"] for gs in movies["genres"]]
    names = sorted({g for gs in genre_lists for g in gs})
    column = {g: c for c, g in enumerate(names)}
    pairs = [(row, column[g]) for row, gs in enumerate(genre_lists) for g in gs]
    genre_cols = padded_columns(len(item_ids), np.array([p[0] for p in pairs], dtype=np.int64),
                                np.array([p[1] for p in pairs], dtype=np.int64), len(names))
    years = [(_YEAR.search(str(t)) or None) for t in movies["title"]]
    n = len(item_ids)
    nan = np.full(n, np.nan, dtype=np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        rating = np.where(votes > 0, star_sums / np.maximum(votes, 1), np.nan).astype(np.float32)
    return KindIndex(
        kind="film", item_ids=item_ids, genre_ids=np.arange(len(names), dtype=np.int64), genre_cols=genre_cols,
        mood_ids=np.empty(0, dtype=np.int64), mood_cols=np.zeros((0, n), dtype=np.int16), length=nan.copy(),
        duration_seconds=nan.copy(), tempo=nan.copy(), energy=nan.copy(), valence=nan.copy(),
        mode=np.zeros(n, dtype=np.int8), rating=rating, votes=votes.astype(np.float32),
        popularity_raw=(100 * np.log1p(votes) / np.log1p(max_votes)).astype(np.float32),
        series=np.full(n, -1, dtype=np.int32), creator=np.full(n, -1, dtype=np.int32),
        year=np.array([float(m.group(1)) if m else np.nan for m in years], dtype=np.float32),
    )


def _leave_one_out(votes, star_sums, max_votes, own_positions, own_stars) -> Priors:
    """The priors as they would be without this user's ratings (no user trains on their own answers)."""
    votes = votes.copy()
    star_sums = star_sums.copy()
    np.subtract.at(votes, own_positions, 1)
    np.subtract.at(star_sums, own_positions, own_stars * 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        rating = np.where(votes > 0, star_sums / np.maximum(votes, 1), np.nan).astype(np.float32)
    quality, rating_mean = quality_priors(rating, votes.astype(np.float32))
    popularity = (np.log1p(votes) / np.log1p(max_votes)).astype(np.float32)
    return Priors(quality=quality, rating_mean=rating_mean, popularity=popularity)


def _replay(ix: KindIndex, collab: KindCollab | None, rows: np.ndarray, positions, stars, rng,
            *, user_id: int, priors: Priors | None = None) -> ReplayUser:
    chosen = np.zeros(len(rows), dtype=bool)
    # A user with at most 10 ratings answers them all and has nothing held out (not scored).
    chosen[rng.choice(len(rows), size=min(ANSWERS_PER_USER, len(rows)), replace=False)] = True
    answer_pos, answer_val = positions[rows[chosen]], opinion(stars[rows[chosen]])
    liked = answer_pos[answer_val > 0]
    genre_columns = (np.flatnonzero(ix.one_hot_genres(liked).sum(axis=0) > 0) if liked.size
                     else np.empty(0, dtype=np.int64))
    has_opinion = answer_val != 0
    taste = KindTaste(genre_columns=genre_columns, answer_positions=answer_pos[has_opinion],
                      answer_values=answer_val[has_opinion],
                      own_row=collab.row_of(user_id) if collab is not None else None)
    held = rows[~chosen]
    return ReplayUser(user_id=user_id, taste=taste, heldout_positions=positions[held],
                      heldout_liked=stars[held] >= LIKE_AT, answered_positions=answer_pos, priors=priors)
