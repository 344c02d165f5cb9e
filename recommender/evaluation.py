"""Offline evaluation on MovieLens-layout data, replaying real ratings through the service's scoring.

Deterministic for a given seed. A seeded 20% of users are test users; everyone else's ratings are
the service's stored ratings (like ≥ 4, dislike ≤ 2.5, else don't know) and the source of the
items' rating, vote count and popularity — the fields a partner feed would fill. Three replays
(DESIGN §6):
- realistic: the test user taps genres (`GenreTaps`), the bot's warm-up picker (`warmup.next_card`)
  shows 10 cards one at a time, and the user answers from their real ratings (`answer`: every
  unrated card is "don't know"); all other ratings are held out;
- cold: genres only, no answers;
- oracle: 10 answers drawn from the user's own ratings (the old replay, for comparison).
ROC AUC over each user's held-out items (averaged over users); NDCG@10 and MAP@10 over the
catalogue minus the asked cards; an item is relevant when rated ≥ 4.

The learned model is trained exactly as `train_recommender` trains it — on the stored users,
each replayed the realistic way with its own ratings left out of the priors and the collaborative
signals; its mix and the references' settings are chosen on held-out stored users — so nothing
is tuned to the test users or to one dataset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .collab import KindCollab, kind_collab_from_triples
from .index import KindIndex, padded_columns, quality_priors
from .learning import (ANSWERS_PER_USER, MetricSummary, ReplayUser, TrainingGroup, evaluate_strategy,
                       inner_validation, learn_preference_model)
from .movielens import DatasetError, read_movielens
from .references import EASE_FOLDS, attach_ease, choose_references
from .warmup import next_card, popular_cards
from .scoring import BASELINE, HEURISTIC, MODEL, POPULARITY, Strategy, named_weights
from .signals import KindTaste, Priors

TEST_SHARE = 0.2
# A folder with more users than this is evaluated on a seeded sample of this many (every rating of each): the
# replay's cost grows with users × ratings: 6,100 people (806,200 ratings, about ml-1m's size) took about five
# minutes here, and ml-10m's 70,000 or ml-25m's 162,000 would take hours. `--users 0` takes everyone.
MAX_USERS = 7_000
LIKE_AT, DISLIKE_AT = 4.0, 2.5
REALISTIC, COLD, ORACLE = "realistic", "cold", "oracle"
PROTOCOLS = (REALISTIC, COLD, ORACLE)
PICKER, POPULAR_PICKER = "picker", "popular"
# The genre-tapping rule (GenreTaps): at most TAPS genres, each with at least TAP_MIN_LIKES of the person's likes.
TAPS = 3
TAP_MIN_LIKES = 2
_YEAR = re.compile(r"\((\d{4})\)\s*$")


@dataclass
class ProtocolResult:
    rows: dict[str, MetricSummary]
    opinions: float  # mean likes + dislikes gathered per test user
    popular_opinions: float | None = None  # the same with the reference picker (the 10 most popular items)


@dataclass
class EvaluationReport:
    protocols: dict[str, ProtocolResult]
    items: int
    ratings: int
    test_users: int
    training_users: int
    training_pairs: int
    model_weights: dict[str, float]
    watch_weight: float = 0.0  # λ of the "will watch" model, learned on the training users
    head_size: int = 0  # N of the will-pick head (0: the linear mix), learned with λ
    pick_weights: dict[str, float] = field(default_factory=dict)  # λ × will-watch, when the model has a head
    cold_watch_weight: float | None = None  # the cold model's λ, when it serves a person with no opinion yet
    cold_weights: dict[str, float] = field(default_factory=dict)  # the cold model's weights (PreferenceModel.cold_weights)
    references: dict = field(default_factory=dict)  # the references' settings, chosen on held-out stored users
    warmup: str = "picker"
    users: int = 0  # the users evaluated
    sampled_from: int = 0  # the folder's users when `users` is a seeded sample of them (MAX_USERS), else 0

    @property
    def rows(self) -> dict[str, MetricSummary]:
        """The first protocol's table."""
        return next(iter(self.protocols.values())).rows


def opinion(ratings: np.ndarray) -> np.ndarray:
    """MovieLens stars → the service's answers: 1 like, -1 dislike, 0 don't know."""
    return np.where(ratings >= LIKE_AT, 1, np.where(ratings <= DISLIKE_AT, -1, 0)).astype(np.int8)


@dataclass
class MovieLensSplit:
    """One seed's split of a MovieLens folder: the stored users' matrices and the test users (see the module doc)."""

    ix: KindIndex
    collab: KindCollab
    taps: GenreTaps
    rows_by_user: dict
    positions: np.ndarray
    stars: np.ndarray
    votes: np.ndarray
    star_sums: np.ndarray
    max_votes: float
    users: np.ndarray
    test_users: np.ndarray
    ratings: int
    sampled_from: int = 0  # the folder's users when these are a seeded sample of them (MAX_USERS), else 0

    def stored_replay(self, user, *, popular: bool = False, cards: int = ANSWERS_PER_USER) -> ReplayUser:
        """A stored user replayed the realistic way, their own ratings left out of the priors and the signals."""
        rows = self.rows_by_user[user]
        own = _leave_one_out(self.votes, self.star_sums, self.max_votes, self.positions[rows], self.stars[rows])
        return realistic_replay(self.ix, self.collab, self.taps, self.positions[rows], self.stars[rows],
                                user_id=int(user), own_row=self.collab.row_of(int(user)), priors=own,
                                popular=popular, cards=cards)

    @property
    def stored_users(self) -> np.ndarray:
        """The stored users the model trains on (more ratings than warm-up cards)."""
        return np.array([u for u in np.setdiff1d(self.users, self.test_users)
                         if len(self.rows_by_user[u]) > ANSWERS_PER_USER], dtype=np.int64)


def movielens_split(directory: str | Path, *, seed: int = 0, max_users: int = MAX_USERS) -> MovieLensSplit:
    """Read a MovieLens folder and split it as every evaluation does: a seeded 20% of users are test users.

    With more than `max_users` users (0: no limit), a seeded sample of that many is taken first, each with
    every rating; the rest of the folder is left out as if it were not there."""
    directory = Path(directory)
    movies, ratings = read_movielens(directory)
    folder_users = np.unique(ratings["userId"].to_numpy(np.int64))
    sampled_from = 0
    if 0 < max_users < folder_users.size:
        sample = np.random.default_rng([seed, 2]).choice(folder_users, max_users, replace=False)
        ratings, sampled_from = ratings[ratings["userId"].isin(sample)], folder_users.size
    movies = movies.sort_values("movieId", kind="stable")
    item_ids = movies["movieId"].to_numpy(np.int64)
    ratings = ratings[ratings["movieId"].isin(item_ids)].reset_index(drop=True)
    if ratings.empty:
        raise DatasetError(f"{directory}: no rating is of a movie in its movie list.")
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
    taps = GenreTaps.from_ratings(ix, positions[stored])

    rows_by_user = pd.Series(np.arange(len(ratings))).groupby(user_of).apply(np.asarray).to_dict()
    # The stored users' chosen genres, by the same tapping rule (in the service: their profile's genres).
    collab.user_genres = stored_user_genres(ix, collab, taps, rows_by_user, positions, stars)
    return MovieLensSplit(ix=ix, collab=collab, taps=taps, rows_by_user=rows_by_user, positions=positions,
                          stars=stars, votes=votes, star_sums=star_sums, max_votes=max_votes, users=users,
                          test_users=test_users, ratings=len(ratings), sampled_from=sampled_from)


def movielens_evaluate(directory: str | Path, *, seed: int = 0, protocols: tuple[str, ...] = PROTOCOLS,
                       warmup: str = PICKER, max_users: int = MAX_USERS) -> EvaluationReport:
    split = movielens_split(directory, seed=seed, max_users=max_users)
    ix, collab, taps, rows_by_user = split.ix, split.collab, split.taps, split.rows_by_user
    positions, stars, test_users = split.positions, split.stars, split.test_users
    n = ix.size

    # Training: every stored user replayed as the bot meets them (their own ratings left out of the
    # priors and the collaborative signals), exactly as the served model is trained.
    training = [split.stored_replay(user) for user in split.stored_users]
    references = choose_references(ix, collab, [u for u in training if inner_validation(seed, u.user_id)])
    if references.ease is not None:
        attach_ease(collab, lam=references.ease.lam, folds=EASE_FOLDS)
    learned = learn_preference_model([TrainingGroup(ix, collab, training)], seed)
    model = learned.model

    strategies = {
        BASELINE: Strategy(BASELINE), POPULARITY: Strategy(POPULARITY), HEURISTIC: Strategy(HEURISTIC),
        MODEL: Strategy(MODEL, model=model),
    }
    report = EvaluationReport(protocols={}, items=n, ratings=split.ratings, test_users=len(test_users),
                              users=len(split.users), sampled_from=split.sampled_from,
                              training_users=len(training), training_pairs=learned.pairs,
                              model_weights=named_weights(model.features, model.weights, 4),
                              watch_weight=learned.watch_weight, head_size=learned.head_size,
                              pick_weights=named_weights(model.features, model.pick_weights, 4),
                              cold_watch_weight=learned.cold_watch_weight,
                              cold_weights=named_weights(model.features, model.cold_weights, 4),
                              references=references.settings, warmup=warmup)
    for protocol in protocols:
        test = []
        replay_rng = np.random.default_rng([seed, 2])
        for u in test_users:
            rows = rows_by_user[u]
            if protocol == ORACLE:
                test.append(_replay(ix, None, rows, positions, stars, replay_rng, user_id=int(u)))
            else:
                test.append(realistic_replay(ix, collab, taps, positions[rows], stars[rows], user_id=int(u),
                                             cards=0 if protocol == COLD else ANSWERS_PER_USER,
                                             popular=warmup == POPULAR_PICKER))
        table = {name: evaluate_strategy(ix, collab, test, strategy) for name, strategy in strategies.items()}
        table.update(references.evaluate(ix, collab, test))
        result = ProtocolResult(rows=table, opinions=float(np.mean([u.taste.answer_positions.size for u in test])))
        if protocol == REALISTIC:
            popular = [realistic_replay(ix, collab, taps, positions[rows_by_user[u]], stars[rows_by_user[u]],
                                        user_id=int(u), popular=True) for u in test_users]
            result.popular_opinions = float(np.mean([u.taste.answer_positions.size for u in popular]))
        report.protocols[protocol] = result
    return report


@dataclass
class GenreTaps:
    """The genre-tapping rule of the replay: which genres a person with these ratings taps at registration.

    A person taps the genres they like more than people in general do: among the genres of their
    liked items (≥ 4 stars), those with at least TAP_MIN_LIKES likes whose share of the person's
    likes is at least the genre's share of all stored ratings (lift ≥ 1), the TAPS with the most
    likes (ties: the higher lift). So a drama lover taps Drama, and nobody taps Drama just because
    most films are dramas.
    """

    share: np.ndarray  # per genre column: share of the stored ratings whose item carries the genre

    @classmethod
    def from_ratings(cls, ix: KindIndex, rated_positions: np.ndarray) -> GenreTaps:
        counts = ix.one_hot_genres(np.unique(rated_positions)).T @ np.bincount(
            rated_positions, minlength=ix.size)[np.unique(rated_positions)]
        return cls(share=(counts / max(len(rated_positions), 1)).astype(np.float64))

    def tapped(self, ix: KindIndex, liked: np.ndarray) -> np.ndarray:
        if liked.size == 0:
            return np.empty(0, dtype=np.int64)
        counts = ix.one_hot_genres(liked).sum(axis=0)
        lift = np.where(self.share > 0, counts / liked.size / np.maximum(self.share, 1e-12), 0.0)
        eligible = np.flatnonzero((counts >= TAP_MIN_LIKES) & (lift >= 1.0))
        order = np.lexsort((eligible, -lift[eligible], -counts[eligible]))
        return np.sort(eligible[order][:TAPS]).astype(np.int64)


def stored_user_genres(ix: KindIndex, collab: KindCollab, taps: GenreTaps, rows_by_user: dict, positions,
                       stars) -> sp.csr_matrix:
    """users × genre columns of the collaborative matrix's users: the genres each would tap."""
    pairs = []
    for row, user in enumerate(collab.user_ids.tolist()):
        rows = rows_by_user[user]
        pairs.extend((row, int(g)) for g in taps.tapped(ix, positions[rows][stars[rows] >= LIKE_AT]))
    data = np.ones(len(pairs), dtype=np.float32)
    return sp.csr_matrix((data, ([p[0] for p in pairs], [p[1] for p in pairs])),
                         shape=(len(collab.user_ids), len(ix.genre_ids)))


def realistic_replay(ix: KindIndex, collab: KindCollab, taps: GenreTaps, rated: np.ndarray, stars: np.ndarray, *,
                     user_id: int, cards: int = ANSWERS_PER_USER, own_row: int | None = None,
                     priors: Priors | None = None, popular: bool = False) -> ReplayUser:
    """One user as the bot meets them: they tap their genres, the warm-up picker shows `cards` cards one at a
    time (seeing the answers so far), and they answer from their real ratings — like ≥ 4, dislike ≤ 2.5,
    otherwise "don't know", which is also the answer to every item they never rated. The rest is held out."""
    star_of = dict(zip(rated.tolist(), stars.tolist()))
    genres = taps.tapped(ix, rated[stars >= LIKE_AT])
    popularity = priors.popularity if priors is not None else None
    asked: list[int] = []
    values: list[int] = []
    # The reference picker shows everyone the same list: the training data's most popular items. Not the list
    # re-ranked without a stored user's own votes: at a tie for tenth place that list always drops the tied item
    # the person rated and shows one they did not (latest-small seed 0: its tenth card 8% answered, against the
    # 27% of the list's own tenth item), which understated the reference on the stored users.
    fixed = popular_cards(ix, None, cards) if popular else None
    for step in range(cards):
        if fixed is not None:
            card = int(fixed[step]) if step < len(fixed) else None
        else:
            known = np.array([v != 0 for v in values], dtype=bool)
            card = next_card(ix, collab, genre_columns=genres, asked=np.array(asked, dtype=np.int64),
                             opinion_positions=np.array(asked, dtype=np.int64)[known],
                             opinion_values=np.array(values, dtype=np.int8)[known], own_row=own_row,
                             popularity=popularity)
        if card is None:
            break
        asked.append(card)
        values.append(answer(star_of.get(card)))
    asked_arr = np.array(asked, dtype=np.int64)
    values_arr = np.array(values, dtype=np.int8)
    has_opinion = values_arr != 0
    taste = KindTaste(genre_columns=genres, answer_positions=asked_arr[has_opinion],
                      answer_values=values_arr[has_opinion], own_row=own_row)
    held = ~np.isin(rated, asked_arr)
    return ReplayUser(user_id=user_id, taste=taste, heldout_positions=rated[held],
                      heldout_liked=stars[held] >= LIKE_AT, answered_positions=asked_arr, priors=priors)


def answer(stars: float | None) -> int:
    """The realistic answering rule: like ≥ 4 stars, dislike ≤ 2.5, otherwise (or never rated) don't know."""
    if stars is None:
        return 0
    return 1 if stars >= LIKE_AT else -1 if stars <= DISLIKE_AT else 0


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
    quality = quality_priors(rating, votes.astype(np.float32))
    popularity = (np.log1p(votes) / np.log1p(max_votes)).astype(np.float32)
    return Priors(quality=quality, popularity=popularity)


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
