"""Learning the preference combination from ratings, and the offline ranking metrics.

Both `train_recommender` (stored ratings) and `evaluate_recommender` (MovieLens) replay users
the same way: part of a user's ratings play the onboarding answers, the rest are held out;
features come from `signals.preference_features` exactly as when serving.

The model is a pairwise logistic regression (scikit-learn) on feature differences:
- (liked, not liked) pairs among a user's held-out ratings teach what this user will *like*;
- (liked, random unrated item) pairs teach what they will *pick* from the whole catalogue,
  weighted by UNRATED_PAIR_SHARE.
Pairs are within one user, so nothing a user-level bias explains can be learned by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from .collab import KindCollab
from .index import KindIndex
from .scoring import PreferenceModel, Strategy, score_kind
from .signals import FEATURES, KindTaste, Priors, preference_features

ANSWERS_PER_USER = 10
PAIRS_PER_USER = 200
UNRATED_PAIR_SHARE = 0.25
K = 10


@dataclass
class ReplayUser:
    """One user split into onboarding answers and held-out ratings (rows of one kind's index)."""

    user_id: int
    taste: KindTaste
    heldout_positions: np.ndarray
    heldout_liked: np.ndarray  # bool: relevant
    answered_positions: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # incl. "don't know"
    priors: Priors | None = None  # leave-one-user-out priors when the priors come from the same ratings


def training_pairs(ix: KindIndex, collab: KindCollab | None, users: list[ReplayUser], seed: int) -> np.ndarray:
    """Feature differences (preferred − other), one row per pair."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in users:
        liked = user.heldout_positions[user.heldout_liked]
        other = user.heldout_positions[~user.heldout_liked]
        if liked.size == 0:
            continue
        features = features_for(ix, collab, user)
        if other.size:
            a, b = rng.choice(liked, PAIRS_PER_USER), rng.choice(other, PAIRS_PER_USER)
            rows.append((features[:, a] - features[:, b]).T)
        taken = np.zeros(ix.size, dtype=bool)
        taken[user.heldout_positions] = True
        taken[user.answered_positions] = True
        unrated = np.flatnonzero(~taken)
        count = int(PAIRS_PER_USER * UNRATED_PAIR_SHARE)
        if unrated.size and count:
            a, b = rng.choice(liked, count), rng.choice(unrated, count)
            rows.append((features[:, a] - features[:, b]).T)
    return np.concatenate(rows) if rows else np.empty((0, len(FEATURES)), dtype=np.float32)


def features_for(ix: KindIndex, collab: KindCollab | None, user: ReplayUser) -> np.ndarray:
    return preference_features(ix, collab, user.taste, user.priors)


def fit_preference_model(pairs: np.ndarray) -> PreferenceModel:
    """Logistic regression without intercept on standardised pair differences (both orientations)."""
    scale = pairs.std(axis=0)
    scale[scale < 1e-9] = 1.0
    x = pairs / scale
    x = np.vstack([x, -x])
    y = np.r_[np.ones(len(pairs)), np.zeros(len(pairs))]
    estimator = LogisticRegression(fit_intercept=False, max_iter=2000).fit(x, y)
    return PreferenceModel(features=FEATURES, weights=estimator.coef_[0] / scale)


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
    aucs, ndcgs, maps = [], [], []
    for user in users:
        scores = score_kind(ix, collab, strategy=strategy, mood=None, minutes=None, taste=user.taste,
                            priors=user.priors).score
        metrics = user_metrics(scores, user)
        if "roc_auc" in metrics:
            aucs.append(metrics["roc_auc"])
        if "ndcg" in metrics:
            ndcgs.append(metrics["ndcg"])
            maps.append(metrics["map"])
    mean = lambda values: float(np.mean(values)) if values else 0.0  # noqa: E731
    return MetricSummary(roc_auc=mean(aucs), ndcg=mean(ndcgs), map=mean(maps), users=len(ndcgs), auc_users=len(aucs))
