"""Strategies that turn the signals into one score per item, and the picking rules.

A strategy combines the *preference* features (taste, collaborative, priors: what ratings can
teach) into one number; the request's context — mood and time — is then added with hand-set
weights, because ratings carry no mood or time to learn them from:

    score = z(preference) + MOOD_WEIGHT · mood fit + TIME_WEIGHT · time fit

z() standardises the preference over the kind's items, so the mood weight means the same
(four standard deviations of preference for a perfect mood fit) whatever the strategy.

- `heuristic`: hand-set preference weights, serving until a ModelVersion is active;
- `model`: the preference weights of a trained ModelVersion (a logistic regression);
- `baseline`: the vote-weighted rating alone (ignores mood and taste; the time rules still hold);
- `popularity`: the popularity prior alone (the evaluation's second reference).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from .collab import KindCollab
from .index import KindIndex
from .signals import FEATURES, KindTaste, MoodFit, MoodProfile, Priors, TimeFit, mood_fit, preference_features, time_fit

HEURISTIC, MODEL, BASELINE, POPULARITY = "heuristic", "model", "baseline", "popularity"
STRATEGIES = (HEURISTIC, MODEL, BASELINE, POPULARITY)

MOOD_WEIGHT = 4.0
TIME_WEIGHT = 0.5
# A book's time fit counts the sittings it needs (signals.time_fit): half as much as the mood.
BOOK_TIME_WEIGHT = 2.0
# Standard deviations of preference beyond which an item gains nothing more (see score_kind).
PREFERENCE_CAP = 2.0

# Hand-set weights over standardised preference features (the learned model replaces them).
HAND_WEIGHTS = {"genre_taste": 1.0, "content_taste": 0.7, "collab_like": 1.0, "collab_seen": 0.3,
                "collab_neighbours": 0.3, "item_knn": 0.0, "ease": 0.0, "quality": 1.0, "popularity": 0.5}

# Diversity: within a kind's first DIVERSE_TOP picks, no two of one series or by one creator.
DIVERSE_TOP = 3
# Only this many best-scored items are looked at when picking (the rest cannot make the list).
CANDIDATES = 400


@dataclass
class PreferenceModel:
    """A learned combination of the preference features (weights in raw feature units).

    Linear (`weights · features`) unless it has a *head* (issue 11c): then `weights` is the
    "will like" model, which orders the whole catalogue, and the `head_size` items with the best
    `pick_weights · features` ("will pick") score are raised by how far that score is above the
    head's edge, in proportion to the person's evidence k / (k + 1), k their likes and dislikes —
    score = like + k / (k + 1) · max(pick − pick of the head_size-th item, 0). The head (what a list
    shows) is ordered by will-pick and will-like together, everything beyond it by will-like; with no
    opinion yet there is no head (will-pick leans on the collaborative signals an empty profile lacks,
    and on stored users it served a new person worse than top-rated).

    `cold_weights`, when learned (`learning.learn_preference_model`), order the catalogue for a person
    with no like or dislike yet: a linear model fitted on the stored users replayed before any answer,
    where the collaborative features describe the genre crowd rather than the person's neighbours and
    the weights learned after answers can mean something else (a strong negative weight on how many
    people know an item turns a new person's list obscure). Only kept when it served the stored users'
    first list better than the weights learned after answers.
    """

    features: tuple[str, ...]
    weights: np.ndarray
    pick_weights: np.ndarray | None = None
    head_size: int = 0
    cold_weights: np.ndarray | None = None

    def to_bytes(self) -> bytes:
        # numpy's own format, not pickle: loading an artifact from the database runs no code.
        buffer = io.BytesIO()
        head = {}
        if self.pick_weights is not None and self.head_size > 0:
            head = {"pick_weights": self.pick_weights.astype(np.float64), "head_size": np.array(self.head_size)}
        if self.cold_weights is not None:
            head["cold_weights"] = self.cold_weights.astype(np.float64)
        np.savez(buffer, weights=self.weights.astype(np.float64), features=np.array(self.features), **head)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> PreferenceModel:
        with np.load(io.BytesIO(bytes(data)), allow_pickle=False) as arrays:
            head = {}
            if "pick_weights" in arrays.files:  # artifacts before issue 11c are linear
                head = {"pick_weights": arrays["pick_weights"], "head_size": int(arrays["head_size"])}
            if "cold_weights" in arrays.files:  # and those before the tenth session have no cold model
                head["cold_weights"] = arrays["cold_weights"]
            return cls(features=tuple(str(f) for f in arrays["features"]), weights=arrays["weights"], **head)

    def aligned(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Weights in FEATURES order (a feature the model does not know gets 0)."""
        lookup = dict(zip(self.features, self.weights if weights is None else weights))
        return np.array([lookup.get(name, 0.0) for name in FEATURES], dtype=np.float32)

    def score(self, features: np.ndarray, opinions: int = 0) -> np.ndarray:
        """One preference number per item from the [F, n] features of a person with `opinions` likes and dislikes."""
        if opinions <= 0 and self.cold_weights is not None:
            return self.aligned(self.cold_weights) @ features
        like = self.aligned() @ features
        if self.pick_weights is None or self.head_size <= 0 or features.shape[1] == 0 or opinions <= 0:
            return like
        pick = self.aligned(self.pick_weights) @ features
        return like + np.float32(evidence(opinions)) * head_lift(pick, self.head_size)


def named_weights(features, weights: np.ndarray | None, digits: int) -> dict[str, float]:
    """A model's weights by feature name, rounded for a report ({} when it has none)."""
    return {} if weights is None else {f: round(float(w), digits) for f, w in zip(features, weights)}


def evidence(opinions: int) -> float:
    """How much a head counts for a person with this many likes and dislikes: k / (k + 1)."""
    return opinions / (opinions + 1.0)


def head_lift(pick: np.ndarray, head_size: int) -> np.ndarray:
    """max(pick − the head_size-th best pick, 0): what raises the head of the list above the rest."""
    n = pick.size
    edge = np.partition(pick, n - head_size)[n - head_size] if n > head_size else pick.min()
    return np.maximum(pick - edge, np.float32(0.0)).astype(np.float32)


@dataclass
class Strategy:
    name: str
    model: PreferenceModel | None = None
    model_version_id: int | None = None
    model_version_name: str | None = None


@dataclass
class KindScores:
    score: np.ndarray  # float32; -inf for items that may not be shown
    features: np.ndarray | None
    mood: MoodFit | None
    time: TimeFit
    # The collaborative signal above which a pick earns the "people with your taste" reason.
    collab_top: float = np.inf


def preference(strategy: Strategy, features: np.ndarray, ix: KindIndex, priors: Priors | None = None,
               opinions: int = 0) -> np.ndarray:
    """One preference number per item from the [F, n] features (`opinions`: the person's likes and dislikes)."""
    if strategy.name == BASELINE:
        # The replay's training users are scored with their own ratings left out of the priors.
        return (priors.quality if priors is not None else ix.quality).astype(np.float32)
    if strategy.name == POPULARITY:
        if priors is not None:
            return priors.popularity.astype(np.float32)
        # Votes break ties between equally popular items.
        return (ix.popularity + 1e-9 * np.log1p(ix.votes)).astype(np.float32)
    if strategy.name == MODEL and strategy.model is not None:
        return strategy.model.score(features, opinions)
    # Each feature in standard deviations (a constant one counts nothing), then one matrix-vector product.
    n = max(features.shape[1], 1)
    weights = np.zeros(len(FEATURES), dtype=np.float32)
    for i, (name, row) in enumerate(zip(FEATURES, features)):
        weight = HAND_WEIGHTS[name]
        if weight:
            # Mean and variance through BLAS dot products: no temporary arrays.
            mean = float(row.sum(dtype=np.float64)) / n
            variance = float(np.dot(row, row)) / n - mean * mean
            if variance > 1e-12:
                weights[i] = weight / np.sqrt(variance)
    return weights @ features


def score_kind(ix: KindIndex, collab: KindCollab | None, *, strategy: Strategy, mood: MoodProfile | None,
               minutes: int | None, taste: KindTaste, priors: Priors | None = None) -> KindScores:
    """Score every item of one kind at once."""
    time = time_fit(ix, minutes)
    features = None
    if strategy.name in (BASELINE, POPULARITY):
        score = preference(strategy, np.empty((0, ix.size), dtype=np.float32), ix, priors)
        moods = mood_fit(ix, mood)
    else:
        features = preference_features(ix, collab, taste, priors)
        pref = preference(strategy, features, ix, opinions=int(taste.answer_positions.size))
        moods = mood_fit(ix, mood)
        # Capped beside a mood: the preference of a few outstanding items (a skewed prior's long tail)
        # would otherwise outweigh any mood, and opposite moods would share their top picks.
        score = _standardise(pref, time.allowed)
        if moods is not None:
            score = np.minimum(score, PREFERENCE_CAP) + MOOD_WEIGHT * moods.fit
        if minutes is not None:
            score = score + (BOOK_TIME_WEIGHT if ix.kind == "book" else TIME_WEIGHT) * time.fit
    score = np.where(time.allowed, score, -np.inf).astype(np.float32)
    collab_top = np.inf
    if features is not None and features.shape[1]:
        top = float(features[FEATURES.index("collab_like")].max())
        collab_top = 0.5 * top if top > 0 else np.inf
    return KindScores(score=score, features=features, mood=moods, time=time, collab_top=collab_top)


def _standardise(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Preference in standard deviations over the items that may be shown."""
    sample = values[mask]
    if sample.size == 0:
        return values
    mean = float(sample.sum(dtype=np.float64)) / sample.size
    variance = max(float(np.dot(sample, sample)) / sample.size - mean * mean, 0.0)
    std = np.sqrt(variance) if variance > 1e-12 else 1.0
    return ((values - np.float32(mean)) * np.float32(1.0 / std)).astype(np.float32)


def top_positions(score: np.ndarray, count: int) -> np.ndarray:
    """Rows of the `count` best finite scores, best first (ties: lower row first, for determinism)."""
    finite = np.isfinite(score)
    n = int(np.count_nonzero(finite))
    if n > count:
        # The count-th best value by a plain partition (several times cheaper than an argpartition);
        # every row at or above it is a candidate, so ties at the edge go to the lower rows.
        threshold = np.partition(score[finite], n - count)[n - count]
        finite &= score >= threshold
    rows = np.flatnonzero(finite)
    order = np.lexsort((rows, -score[rows]))
    return rows[order][:count]


def pick_diverse(ix: KindIndex, score: np.ndarray, limit: int) -> list[int]:
    """The best `limit` rows, with no two of one series or one creator among the first DIVERSE_TOP."""
    candidates = top_positions(score, max(CANDIDATES, limit * 10))
    picks: list[int] = []
    skipped: list[int] = []
    series_seen, creators_seen = set(), set()
    for pos in candidates:
        if len(picks) >= limit:
            break
        series, creator = int(ix.series[pos]), int(ix.creator[pos])
        clash = (series >= 0 and series in series_seen) or (creator >= 0 and creator in creators_seen)
        if clash and len(picks) < DIVERSE_TOP:
            skipped.append(int(pos))
            continue
        picks.append(int(pos))
        if series >= 0:
            series_seen.add(series)
        if creator >= 0:
            creators_seen.add(creator)
    # A catalogue too small for the rule still fills the list, after the diverse picks.
    for pos in skipped:
        if len(picks) >= limit:
            break
        picks.append(pos)
    return picks


PLAYLIST_FILL = 0.9
# Tracks looked at per playlist: enough for the time several times over, not the whole catalogue.
PLAYLIST_CANDIDATES_PER_MINUTE = 2
PLAYLIST_MIN_CANDIDATES = 200


def build_playlist(ix: KindIndex, score: np.ndarray, minutes: int, first: list[int]) -> list[int]:
    """Tracks that fill the minutes: total ≤ minutes, ≥ 90% of them when the catalogue allows, no artist twice.

    Greedy by score (the shown picks first), then one pass of swaps that lengthen the playlist
    without exceeding the time.
    """
    budget = minutes * 60.0
    first_set = set(first)
    pool = top_positions(score, PLAYLIST_MIN_CANDIDATES + PLAYLIST_CANDIDATES_PER_MINUTE * minutes).tolist()
    candidates = list(first) + [p for p in pool if p not in first_set]
    durations = ix.duration_seconds[candidates].tolist()
    artists_of = ix.creator[candidates].tolist()
    chosen: list[int] = []  # indexes into candidates
    artists: set[int] = set()
    total = 0.0
    for i, (duration, artist) in enumerate(zip(durations, artists_of)):
        if duration != duration or (artist >= 0 and artist in artists) or total + duration > budget:
            continue
        chosen.append(i)
        total += duration
        if artist >= 0:
            artists.add(artist)
    if total < PLAYLIST_FILL * budget and chosen:
        total = _lengthen(chosen, durations, artists_of, artists, total, budget, keep=len(first_set))
    return [candidates[i] for i in chosen]


def _lengthen(chosen, durations, artists_of, artists, total, budget, keep) -> float:
    """Swap chosen tracks (from the last) for longer unused ones while that still fits the time."""
    in_use = np.zeros(len(durations), dtype=bool)
    in_use[chosen] = True
    spare_dur = np.array(durations, dtype=np.float64)
    spare_art = np.array(artists_of, dtype=np.int64)
    for slot in range(len(chosen) - 1, keep - 1, -1):
        gap = budget - total
        if gap <= (1 - PLAYLIST_FILL) * budget:
            break
        current = chosen[slot]
        others = artists - {artists_of[current]}
        fits = (~in_use & (spare_dur > durations[current]) & (spare_dur <= durations[current] + gap)
                & ~np.isin(spare_art, list(others)))
        found = np.flatnonzero(fits)
        if found.size:
            best = int(found[0])  # candidates are in score order: the best-scored that fits
            in_use[current], in_use[best] = False, True
            chosen[slot] = best
            total += durations[best] - durations[current]
            artists.discard(artists_of[current])
            if artists_of[best] >= 0:
                artists.add(artists_of[best])
    return total
