"""Learning the preference combination from ratings, and the offline ranking metrics.

Both `train_recommender` (stored ratings) and `evaluate_recommender` (MovieLens) replay users
the same way: part of a user's ratings play the onboarding answers, the rest are held out;
features come from `signals.preference_features` exactly as when serving.

Two questions decide a good pick, and two pairwise logistic regressions (scikit-learn, no
intercept, pairs within one user so nothing a user-level bias explains is learned by mistake)
answer them on the same features:
- *will like*: (liked, not liked) pairs among a user's held-out ratings — what ROC AUC over the
  held-out items measures;
- *will pick*: (held-out liked, unrated item drawn in proportion to its votes) pairs — which of
  the well-known catalogue the user picks and likes, what NDCG@10 over the catalogue rewards.
The served model is one linear combination: w_like + λ·w_watch (both in log-odds units). λ is
learned on the training users: one in five (by a hash of their id) is held out, both models are
fitted on the rest, and λ is the grid value with the best mean of ROC AUC and NDCG@10 on the
held-out users (the criterion promotion uses) among those that keep every metric at least as
good as both references (top-rated and popularity) on those users.
Both models are then refitted on all training users. Nothing is fitted to test users, and no
number depends on one dataset.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from .collab import KindCollab
from .index import KindIndex
from .scoring import BASELINE, POPULARITY, PreferenceModel, Strategy, score_kind
from .signals import FEATURES, KindTaste, Priors, preference_features

ANSWERS_PER_USER = 10
PAIRS_PER_USER = 200
K = 10
# Candidate weights of the "will watch" model next to the "will like" one (log-spaced).
WATCH_WEIGHTS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
# With fewer held-out users than this the choice would be noise: DEFAULT_WATCH_WEIGHT serves.
MIN_VALIDATION_USERS = 5
DEFAULT_WATCH_WEIGHT = 0.05
INNER_VALIDATION_SHARE = 5  # one training user in five chooses λ


@dataclass
class ReplayUser:
    """One user split into onboarding answers and held-out ratings (rows of one kind's index)."""

    user_id: int
    taste: KindTaste
    heldout_positions: np.ndarray
    heldout_liked: np.ndarray  # bool: relevant
    answered_positions: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # incl. "don't know"
    priors: Priors | None = None  # leave-one-user-out priors when the priors come from the same ratings


@dataclass
class TrainingGroup:
    """The replayed users of one kind, with that kind's index and collaborative matrices."""

    ix: KindIndex
    collab: KindCollab | None
    users: list[ReplayUser]


@dataclass
class LearnedCombination:
    model: PreferenceModel
    watch_weight: float
    like_weights: np.ndarray
    watch_weights: np.ndarray
    like_pairs: int
    watch_pairs: int
    validation: dict = field(default_factory=dict)  # λ → metrics on the held-out training users, and the references

    @property
    def pairs(self) -> int:
        return self.like_pairs + self.watch_pairs


def features_for(ix: KindIndex, collab: KindCollab | None, user: ReplayUser) -> np.ndarray:
    return preference_features(ix, collab, user.taste, user.priors)


def _user_pairs(features: np.ndarray, ix: KindIndex, user: ReplayUser, rng) -> tuple[np.ndarray, np.ndarray]:
    """(like pairs, watch pairs) of one user as feature differences, preferred − other."""
    empty = np.empty((0, features.shape[0]), dtype=np.float32)
    liked = user.heldout_positions[user.heldout_liked]
    other = user.heldout_positions[~user.heldout_liked]
    like = empty
    if liked.size and other.size:
        a, b = rng.choice(liked, PAIRS_PER_USER), rng.choice(other, PAIRS_PER_USER)
        like = (features[:, a] - features[:, b]).T
    taken = np.zeros(ix.size, dtype=bool)
    taken[user.heldout_positions] = True
    taken[user.answered_positions] = True
    unrated = np.flatnonzero(~taken)
    watch = empty
    if liked.size and unrated.size:
        # Negatives drawn in proportion to votes (+1): the well-known items a ranking puts at the top,
        # which a top-10 must tell apart from this person's picks — uniform negatives are mostly
        # obscure items that popularity alone already ranks below.
        weight = ix.votes[unrated].astype(np.float64) + 1.0
        a = rng.choice(liked, PAIRS_PER_USER)
        b = rng.choice(unrated, PAIRS_PER_USER, p=weight / weight.sum())
        watch = (features[:, a] - features[:, b]).T
    return like, watch


def fit_pairwise(pairs: np.ndarray) -> np.ndarray:
    """Logistic regression without intercept on standardised pair differences (both orientations): raw-unit weights."""
    if len(pairs) == 0:
        return np.zeros(len(FEATURES))
    scale = pairs.std(axis=0)
    scale[scale < 1e-9] = 1.0
    x = pairs / scale
    x = np.vstack([x, -x])
    y = np.r_[np.ones(len(pairs)), np.zeros(len(pairs))]
    estimator = LogisticRegression(fit_intercept=False, max_iter=2000).fit(x, y)
    return estimator.coef_[0] / scale


def inner_validation(seed: int, user_id: int) -> bool:
    digest = hashlib.sha256(f"{seed}:watch-weight:{user_id}".encode()).hexdigest()
    return int(digest, 16) % INNER_VALIDATION_SHARE == 0


def learn_preference_model(groups: list[TrainingGroup], seed: int = 0) -> LearnedCombination:
    """Fit the "will like" and "will watch" models and learn their mix λ on held-out training users."""
    rng = np.random.default_rng(seed)
    like_rows: list[tuple[bool, np.ndarray]] = []
    watch_rows: list[tuple[bool, np.ndarray]] = []
    validation: list[tuple[TrainingGroup, ReplayUser]] = []
    for group in groups:
        for user in group.users:
            held_out = inner_validation(seed, user.user_id)
            like, watch = _user_pairs(features_for(group.ix, group.collab, user), group.ix, user, rng)
            like_rows.append((held_out, like))
            watch_rows.append((held_out, watch))
            if held_out and user.heldout_liked.any():
                validation.append((group, user))

    def stack(rows, include_held_out):
        chosen = [r for held_out, r in rows if include_held_out or not held_out]
        return np.concatenate(chosen) if chosen else np.empty((0, len(FEATURES)), dtype=np.float32)

    table: dict = {}
    watch_weight = DEFAULT_WATCH_WEIGHT
    if len(validation) >= MIN_VALIDATION_USERS:
        like_w, watch_w = fit_pairwise(stack(like_rows, False)), fit_pairwise(stack(watch_rows, False))
        table = _watch_weight_table(validation, like_w, watch_w)
        watch_weight = choose_watch_weight(table)
    like_w, watch_w = fit_pairwise(stack(like_rows, True)), fit_pairwise(stack(watch_rows, True))
    model = PreferenceModel(features=FEATURES, weights=like_w + watch_weight * watch_w)
    return LearnedCombination(model=model, watch_weight=watch_weight, like_weights=like_w, watch_weights=watch_w,
                              like_pairs=len(stack(like_rows, True)), watch_pairs=len(stack(watch_rows, True)),
                              validation=table)


def _watch_weight_table(validation, like_w: np.ndarray, watch_w: np.ndarray) -> dict:
    """Mean metrics on the held-out training users for every candidate λ and for both references."""
    per: dict = {name: [] for name in (*WATCH_WEIGHTS, BASELINE, POPULARITY)}
    for group, user in validation:
        features = features_for(group.ix, group.collab, user)
        like, watch = like_w @ features, watch_w @ features
        for weight in WATCH_WEIGHTS:
            per[weight].append(user_metrics((like + weight * watch).astype(np.float32), user))
        for name in (BASELINE, POPULARITY):
            scores = score_kind(group.ix, group.collab, strategy=Strategy(name), mood=None, minutes=None,
                                taste=user.taste, priors=user.priors).score
            per[name].append(user_metrics(scores, user))
    return {name: _mean_metrics(rows) for name, rows in per.items()}


def choose_watch_weight(table: dict) -> float:
    """The best NDCG@10 among the λ whose ROC AUC is at least top-rated's and whose NDCG@10 is at least
    popularity's (the product's targets: the best list for this person, never worse than the references
    at telling liked from not liked); when none qualifies, the best mean of ROC AUC and NDCG@10."""
    baseline, popularity = table[BASELINE], table[POPULARITY]
    feasible = [w for w in WATCH_WEIGHTS
                if table[w]["roc_auc"] >= baseline["roc_auc"] and table[w]["ndcg"] >= popularity["ndcg"]]
    if feasible:
        return max(feasible, key=lambda w: (table[w]["ndcg"], -w))
    return max(WATCH_WEIGHTS, key=lambda w: (table[w]["roc_auc"] + table[w]["ndcg"], -w))


def _mean_metrics(rows: list[dict]) -> dict:
    out = {}
    for metric in ("roc_auc", "ndcg", "map"):
        values = [r[metric] for r in rows if metric in r]
        out[metric] = float(np.mean(values)) if values else 0.0
    return out


def user_metrics(score: np.ndarray, user: ReplayUser, k: int = K) -> dict[str, float]:
    """ROC AUC over the held-out items; NDCG@k and MAP@k over the catalogue minus the answered items."""
    out: dict[str, float] = {}
    relevant = user.heldout_liked
    held_scores = np.nan_to_num(score[user.heldout_positions], neginf=-1e9)
    if 0 < relevant.sum() < relevant.size:
        out["roc_auc"] = float(roc_auc_score(relevant, held_scores))
    wanted = set(user.heldout_positions[relevant].tolist())
    if not wanted:
        return out
    ranked = np.nan_to_num(score.astype(np.float64), neginf=-1e9).copy()
    ranked[user.answered_positions] = -np.inf
    top = np.lexsort((np.arange(ranked.size), -ranked))[:k]
    hits = np.array([int(p) in wanted for p in top], dtype=float)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = discounts[: min(k, len(wanted))].sum()
    out["ndcg"] = float((hits * discounts).sum() / ideal)
    precision = np.cumsum(hits) / np.arange(1, k + 1)
    out["map"] = float((precision * hits).sum() / min(k, len(wanted)))
    return out


@dataclass
class MetricSummary:
    roc_auc: float
    ndcg: float
    map: float
    users: int
    auc_users: int

    def as_dict(self) -> dict:
        return {"roc_auc": round(self.roc_auc, 4), f"ndcg@{K}": round(self.ndcg, 4), f"map@{K}": round(self.map, 4),
                "users": self.users, "auc_users": self.auc_users}

    @property
    def combined(self) -> float:
        """What promotion compares: the mean of ROC AUC and NDCG@10."""
        return (self.roc_auc + self.ndcg) / 2


def evaluate_strategy(ix: KindIndex, collab: KindCollab | None, users: list[ReplayUser],
                      strategy: Strategy) -> MetricSummary:
    """Average the per-user metrics of one strategy (mood and time play no part in a replay)."""
    return evaluate_scores(users, lambda user: score_kind(ix, collab, strategy=strategy, mood=None, minutes=None,
                                                         taste=user.taste, priors=user.priors).score)


def evaluate_scores(users: list[ReplayUser], scorer) -> MetricSummary:
    """Average the per-user metrics of any scorer (user -> one score per item)."""
    aucs, ndcgs, maps = [], [], []
    for user in users:
        metrics = user_metrics(scorer(user), user)
        if "roc_auc" in metrics:
            aucs.append(metrics["roc_auc"])
        if "ndcg" in metrics:
            ndcgs.append(metrics["ndcg"])
            maps.append(metrics["map"])
    mean = lambda values: float(np.mean(values)) if values else 0.0  # noqa: E731
    return MetricSummary(roc_auc=mean(aucs), ndcg=mean(ndcgs), map=mean(maps), users=len(ndcgs), auc_users=len(aucs))
