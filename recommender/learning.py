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
The two are served together in one of two forms (`scoring.PreferenceModel`):
- a linear mix w_like + λ·w_watch (both in log-odds units), or
- a *head* (issue 11c): the whole catalogue ordered by will-like, and the N items with the best
  will-pick score raised by k/(k+1) · λ × how far that score is above the N-th's (k: the person's
  likes and dislikes; no head before the first) — the head of the list, what a person is shown,
  ordered by both, everything beyond it by will-like alone. A linear mix trades one question
  against the other (a larger λ: better NDCG@10, worse ROC AUC among the person's rated items, most
  of which lie beyond the first tens); the head keeps both.
The form, λ and N are learned on the training users by five-fold cross-validation (folds by a hash
of their id: each user is scored by both models fitted without their fold): the candidate with the
best NDCG@10 among those whose ROC AUC beats top-rated's by at least one standard error of the
paired per-user lead, whose NDCG@10 is at least popularity's and whose NDCG@10 for the same users
before any answer (genres only) beats top-rated's by a standard error too (`choose_watch_weight`).
Both models are then refitted on all training users. A third pair of the same regressions, fitted on
the training users replayed before any answer, may serve a person with no opinion yet (the cold model,
`choose_cold_model`, `scoring.PreferenceModel.cold_weights`): kept only when it serves held-out
training users better there. Nothing is fitted to test users, and no number depends on one dataset.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import rankdata
from sklearn.linear_model import LogisticRegression

from .collab import KindCollab
from .index import KindIndex
from .scoring import BASELINE, POPULARITY, PreferenceModel, Strategy, evidence, head_lift, score_kind
from .signals import FEATURES, KindTaste, Priors, preference_features

COLD = "cold"  # the table's rows before any warm-up answer
COLD_MODEL = "cold model"  # the cold model's rows (PreferenceModel.cold_weights)

ANSWERS_PER_USER = 10
PAIRS_PER_USER = 200
K = 10
# Candidate weights of the "will watch" model next to the "will like" one (log-spaced).
WATCH_WEIGHTS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
# Candidate head sizes N (0: the linear mix, no head): a few times the shown list (K), never tuned per dataset.
HEAD_SIZES = (0, 20, 50, 100)
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
    head_size: int  # 0: the linear mix like + λ·watch; N: like + λ·(watch above the N-th best), see PreferenceModel
    like_weights: np.ndarray
    watch_weights: np.ndarray
    like_pairs: int
    watch_pairs: int
    validation: dict = field(default_factory=dict)  # (λ, N) → metrics on held-out training users, and the references
    # The cold model (see PreferenceModel.cold_weights): λ of its will-pick part when it serves a person with no
    # opinion yet, None when the weights learned after answers serve them better (or there were too few users).
    cold_watch_weight: float | None = None
    cold_validation: dict = field(default_factory=dict)  # λ → metrics before any answer, on held-out training users

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


def inner_fold(seed: int, user_id: int) -> int:
    """The training user's fold (0..INNER_VALIDATION_SHARE − 1), by a hash of their id."""
    digest = hashlib.sha256(f"{seed}:watch-weight:{user_id}".encode()).hexdigest()
    return int(digest, 16) % INNER_VALIDATION_SHARE


def inner_validation(seed: int, user_id: int) -> bool:
    return inner_fold(seed, user_id) == 0


def learn_preference_model(groups: list[TrainingGroup], seed: int = 0) -> LearnedCombination:
    """Fit the "will like" and "will watch" models and learn their mix λ by cross-validation on the training users.

    λ is chosen from the metrics of every training user scored by the models fitted without their fold
    (five folds by a hash of the id): five times the users a single held-out fifth gives, so the
    choice, and the AUC lead it must keep, rest on ~500 users rather than ~100."""
    rng = np.random.default_rng(seed)
    cold_rng = np.random.default_rng([seed, 1])  # its own draws: the warm pairs are those drawn before it existed
    like_rows: list[tuple[int, np.ndarray]] = []
    watch_rows: list[tuple[int, np.ndarray]] = []
    cold_like_rows: list[tuple[int, np.ndarray]] = []
    cold_watch_rows: list[tuple[int, np.ndarray]] = []
    validation: list[tuple[int, TrainingGroup, ReplayUser]] = []
    for group in groups:
        for user in group.users:
            fold = inner_fold(seed, user.user_id)
            like, watch = _user_pairs(features_for(group.ix, group.collab, user), group.ix, user, rng)
            like_rows.append((fold, like))
            watch_rows.append((fold, watch))
            cold = cold_user(user)
            like, watch = _user_pairs(features_for(group.ix, group.collab, cold), group.ix, cold, cold_rng)
            cold_like_rows.append((fold, like))
            cold_watch_rows.append((fold, watch))
            if user.heldout_liked.any():
                validation.append((fold, group, user))

    def stack(rows, left_out=None):
        chosen = [r for fold, r in rows if fold != left_out]
        return np.concatenate(chosen) if chosen else np.empty((0, len(FEATURES)), dtype=np.float32)

    table: dict = {}
    cold_table: dict = {}
    watch_weight, head_size, cold_weight = DEFAULT_WATCH_WEIGHT, 0, None
    if sum(fold == 0 for fold, _g, _u in validation) >= MIN_VALIDATION_USERS:
        per: dict = {}
        for fold in range(INNER_VALIDATION_SHARE):
            users = [(g, u) for f, g, u in validation if f == fold]
            if users:
                like_w, watch_w = fit_pairwise(stack(like_rows, fold)), fit_pairwise(stack(watch_rows, fold))
                cold_w = fit_pairwise(stack(cold_like_rows, fold)), fit_pairwise(stack(cold_watch_rows, fold))
                _watch_weight_rows(users, like_w, watch_w, per, cold_w)
        table = _watch_weight_table(per)
        cold_table = _cold_model_table(per)
        watch_weight, head_size = choose_watch_weight(table)
        cold_weight = choose_cold_model(cold_table, per, per.get((COLD, watch_weight, head_size), []))
        if cold_weight is not None:
            # The cold model serves everyone before their first answer, whichever (λ, N) is chosen: the
            # cold-start condition of the choice is its own.
            watch_weight, head_size = choose_watch_weight(table, cold_row=cold_table[cold_weight])
    like_w, watch_w = fit_pairwise(stack(like_rows)), fit_pairwise(stack(watch_rows))
    model = combined_model(like_w, watch_w, watch_weight, head_size)
    if cold_weight is not None:
        model.cold_weights = fit_pairwise(stack(cold_like_rows)) + cold_weight * fit_pairwise(stack(cold_watch_rows))
    return LearnedCombination(model=model, watch_weight=watch_weight, head_size=head_size, like_weights=like_w,
                              watch_weights=watch_w, like_pairs=len(stack(like_rows)),
                              watch_pairs=len(stack(watch_rows)), validation=table,
                              cold_watch_weight=cold_weight, cold_validation=cold_table)


# Every candidate (λ, N): the linear mixes, and the heads (λ = 0 has no head: it is will-like alone).
MIXES = tuple((w, 0) for w in WATCH_WEIGHTS) + tuple((w, n) for n in HEAD_SIZES if n for w in WATCH_WEIGHTS if w)


def combined_model(like_w: np.ndarray, watch_w: np.ndarray, watch_weight: float, head_size: int) -> PreferenceModel:
    """The served model of a (λ, N) choice: the linear mix when N = 0, else will-like with a will-pick head."""
    if head_size <= 0 or watch_weight <= 0:
        return PreferenceModel(features=FEATURES, weights=like_w + watch_weight * watch_w)
    return PreferenceModel(features=FEATURES, weights=like_w, pick_weights=watch_weight * watch_w,
                           head_size=head_size)


def cold_user(user: ReplayUser) -> ReplayUser:
    """The same person before any warm-up answer (genres only): their answered opinions are held out too."""
    empty = np.empty(0, dtype=np.int64)
    taste = KindTaste(genre_columns=user.taste.genre_columns, answer_positions=empty,
                      answer_values=np.empty(0, dtype=np.int8), own_row=user.taste.own_row)
    return ReplayUser(user_id=user.user_id, taste=taste,
                      heldout_positions=np.r_[user.heldout_positions, user.taste.answer_positions].astype(np.int64),
                      heldout_liked=np.r_[user.heldout_liked, user.taste.answer_values > 0].astype(bool),
                      answered_positions=empty, priors=user.priors)


def _watch_weight_rows(validation, like_w: np.ndarray, watch_w: np.ndarray, per: dict,
                       cold_w: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Per-user metrics of held-out training users for every candidate (λ, N) and for both references, after
    the warm-up answers and (key ("cold", name)) before any: a new person must not be served worse than by
    top-rated (the cold-start target) — will-watch leans on the collaborative signals an empty profile lacks.
    With `cold_w` (the cold model's will-like and will-watch weights), its candidates λ before any answer too
    (key ("cold", COLD_MODEL, λ))."""
    for group, replayed in validation:
        for user, prefix in ((replayed, ()), (cold_user(replayed), (COLD,))):
            features = features_for(group.ix, group.collab, user)
            if prefix and cold_w is not None:
                cold_like, cold_watch = (PreferenceModel(features=FEATURES, weights=w).score(features) for w in cold_w)
                for weight in WATCH_WEIGHTS:
                    per.setdefault((COLD, COLD_MODEL, weight), []).append(
                        user_metrics((cold_like + weight * cold_watch).astype(np.float32), user))
            like = PreferenceModel(features=FEATURES, weights=like_w).score(features)
            watch = PreferenceModel(features=FEATURES, weights=watch_w).score(features)
            lifts = {n: evidence(user.taste.answer_positions.size) * head_lift(watch, n) for n in HEAD_SIZES if n}
            for weight, n in MIXES:
                score = like + weight * (lifts[n] if n else watch)
                per.setdefault((*prefix, weight, n) if prefix else (weight, n), []).append(
                    user_metrics(score.astype(np.float32), user))
            for name in (BASELINE, POPULARITY):
                scores = score_kind(group.ix, group.collab, strategy=Strategy(name), mood=None, minutes=None,
                                    taste=user.taste, priors=user.priors).score
                per.setdefault((*prefix, name) if prefix else name, []).append(user_metrics(scores, user))


def _watch_weight_table(per: dict) -> dict:
    """Mean metrics for every candidate (λ, N) and both references, with each candidate's AUC lead over
    top-rated and its NDCG@10 before any answer (`cold_ndcg`)."""
    table = {name: _mean_metrics(rows) for name, rows in per.items()
             if not (isinstance(name, tuple) and name[0] == COLD)}
    for name in (*MIXES, BASELINE, POPULARITY):
        cold = per.get((COLD, *name) if isinstance(name, tuple) else (COLD, name))
        if cold:
            table[name]["cold_ndcg"] = _mean_metrics(cold)["ndcg"]
            if name in MIXES:
                table[name]["cold_ndcg_lead_low"] = _paired_lead_low(cold, per[(COLD, BASELINE)], "ndcg")
    for mix in MIXES:
        table[mix]["auc_lead_low"] = _paired_lead_low(per[mix], per[BASELINE])
    return table


def _cold_model_table(per: dict) -> dict:
    """λ → the cold model's mean metrics before any answer, with its leads over top-rated there (ROC AUC, and
    NDCG@10 as `cold_ndcg_lead_low`, the cold-start condition `choose_watch_weight` reads from it)."""
    table = {}
    baseline = per.get((COLD, BASELINE), [])
    for weight in WATCH_WEIGHTS:
        rows = per.get((COLD, COLD_MODEL, weight))
        if rows:
            table[weight] = {**_mean_metrics(rows), "auc_lead_low": _paired_lead_low(rows, baseline),
                             "cold_ndcg_lead_low": _paired_lead_low(rows, baseline, "ndcg")}
    return table


def choose_cold_model(cold_table: dict, per: dict, chosen_cold_rows: list[dict]) -> float | None:
    """λ of the cold model, or None to serve a person with no opinion by the chosen (λ, N) as before.

    Among the cold model's candidates that beat top-rated before any answer (ROC AUC and NDCG@10, each by
    one standard error of the paired lead) and reach popularity's NDCG@10 there, the best NDCG@10; kept only
    when that beats what the chosen (λ, N) gives the same people before any answer (`chosen_cold_rows`, per
    user) by one standard error of the paired lead too: a second model has to earn its place."""
    popularity = _mean_metrics(per.get((COLD, POPULARITY), [])).get("ndcg", 0.0)
    feasible = [w for w, row in cold_table.items()
                if row["auc_lead_low"] >= 0 and row["cold_ndcg_lead_low"] >= 0 and row["ndcg"] >= popularity]
    if not feasible or not chosen_cold_rows:
        return None
    best = max(feasible, key=lambda w: (cold_table[w]["ndcg"], -w))
    if _paired_lead_low(per[(COLD, COLD_MODEL, best)], chosen_cold_rows, "ndcg") <= 0:
        return None
    return best


def _paired_lead_low(rows: list[dict], reference: list[dict], metric: str = "roc_auc") -> float:
    """Mean per-user ROC AUC lead over the reference minus one standard error of that mean.

    A mean AUC over a few hundred users is uncertain by several thousandths, the size of the lead a
    large λ keeps; asking the lead to be one standard error clear of zero keeps the AUC target by
    evidence rather than by the draw of the held-out users."""
    lead = np.array([r[metric] - b[metric] for r, b in zip(rows, reference) if metric in r and metric in b])
    if lead.size < 2:
        return float(lead.mean()) if lead.size else 0.0
    return float(lead.mean() - lead.std(ddof=1) / np.sqrt(lead.size))


def choose_watch_weight(table: dict, cold_row: dict | None = None):
    """The candidate (λ, or (λ, N)) with the best NDCG@10 among those whose ROC AUC is at least top-rated's (by
    one standard error of the paired per-user lead, when the table has it: `_paired_lead_low`), whose NDCG@10
    is at least popularity's and whose NDCG@10 before any answer is at least top-rated's (`cold_ndcg`, when the
    table has it) — the product's targets: the best list for this person, never worse than the references at
    telling liked from not liked, nor for a new person (by one standard error of the paired lead too,
    `cold_ndcg_lead_low`); when none qualifies, the best mean of ROC AUC and NDCG@10. With `cold_row` (the cold
    model's, which then serves everyone before their first answer) that row's cold-start lead counts for every
    candidate. Ties go to the smaller λ (then the smaller head)."""
    baseline, popularity = table[BASELINE], table[POPULARITY]
    candidates = [k for k in table if k not in (BASELINE, POPULARITY)]

    def cold_lead(key):  # by one standard error of the paired lead when the table has it, like the AUC
        row = table[key] if cold_row is None else cold_row
        return row.get("cold_ndcg_lead_low", row.get("cold_ndcg", np.inf) - baseline.get("cold_ndcg", -np.inf))

    def simpler(key):
        return tuple(-x for x in key) if isinstance(key, tuple) else (-key,)

    feasible = [k for k in candidates
                if table[k].get("auc_lead_low", table[k]["roc_auc"] - baseline["roc_auc"]) >= 0
                and table[k]["ndcg"] >= popularity["ndcg"] and cold_lead(k) >= 0]
    if feasible:
        return max(feasible, key=lambda k: (table[k]["ndcg"], *simpler(k)))
    return max(candidates, key=lambda k: (table[k]["roc_auc"] + table[k]["ndcg"], *simpler(k)))


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
        out["roc_auc"] = _roc_auc(relevant, held_scores)
    wanted = set(user.heldout_positions[relevant].tolist())
    if not wanted:
        return out
    ranked = np.nan_to_num(score.astype(np.float64), neginf=-1e9).copy()
    ranked[user.answered_positions] = -np.inf
    # The k best, ties by position, without sorting the whole catalogue: everything at least the k-th value.
    kth = np.partition(ranked, ranked.size - k)[ranked.size - k] if ranked.size > k else -np.inf
    candidates = np.flatnonzero(ranked >= kth)
    top = candidates[np.lexsort((candidates, -ranked[candidates]))][:k]
    hits = np.array([int(p) in wanted for p in top], dtype=float)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = discounts[: min(k, len(wanted))].sum()
    out["ndcg"] = float((hits * discounts).sum() / ideal)
    precision = np.cumsum(hits) / np.arange(1, k + 1)
    out["map"] = float((precision * hits).sum() / min(k, len(wanted)))
    return out


def _roc_auc(relevant: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC by the Mann–Whitney rank sum (ties count half), as sklearn's roc_auc_score, without its overhead."""
    ranks = rankdata(scores)
    positives = int(relevant.sum())
    negatives = relevant.size - positives
    return float((ranks[relevant].sum() - positives * (positives + 1) / 2) / (positives * negatives))


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
