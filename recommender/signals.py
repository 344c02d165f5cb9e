"""The recommender's signals, each a numpy array over one kind's items (see DESIGN §6).

- time fit: films within the minutes; books by reading time (pages × BOOK_MINUTES_PER_PAGE,
  longer reads flagged "for several evenings"); tracks by duration (the playlist fills the time);
- mood fit: the mood's genre weights and editorial mood tags; for tracks also tempo, energy,
  valence and mode against the mood's ranges (genre alone when audio features are missing);
- preference features (what the learned model combines): genre taste, content similarity to
  liked / disliked items, item-to-item collaborative signals, the user-to-user "neighbours"
  signal (what people who rated the same items watched), the vote-weighted quality prior, a
  lightly shrunk mean rating and the popularity prior.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .collab import KindCollab
from .index import MODE_MAJOR, MODE_MINOR, MODE_UNKNOWN, KindIndex

FEATURES = ("genre_taste", "content_taste", "collab_like", "collab_seen", "collab_neighbours", "item_knn", "ease",
            "quality", "popularity")

# How far outside a mood's range a track still partly fits: BPM and energy units at which the fit falls to 1/e.
TEMPO_SOFTNESS = 15.0
ENERGY_SOFTNESS = 0.15


@dataclass(frozen=True)
class MoodProfile:
    """A mood as plain values: what the signals need, detached from the ORM."""

    id: int
    code: str
    name_ru: str
    name_en: str
    valence: float
    arousal: float
    tempo_min: float | None = None
    tempo_max: float | None = None
    energy_min: float | None = None
    energy_max: float | None = None
    mode: str = ""
    genre_weights: dict[int, float] = field(default_factory=dict)

    @classmethod
    def from_mood(cls, mood, weights: dict[int, float]) -> MoodProfile:
        return cls(id=mood.pk, code=mood.code, name_ru=mood.name_ru, name_en=mood.name_en, valence=mood.valence,
                   arousal=mood.arousal, tempo_min=mood.tempo_min, tempo_max=mood.tempo_max,
                   energy_min=mood.energy_min, energy_max=mood.energy_max, mode=mood.mode or "",
                   genre_weights=dict(weights))


@dataclass
class MoodFit:
    fit: np.ndarray  # 0..1, what the score uses
    genre: np.ndarray  # 0..1, the strongest mood weight among the item's genres
    tag: np.ndarray  # 0/1, tagged with this mood by editors
    audio: np.ndarray | None  # 0..1 for tracks with audio features, NaN without
    in_audio_range: np.ndarray | None  # tracks whose tempo and energy both lie in the mood's ranges


MOOD_CACHE_SIZE = 64


def mood_fit(ix: KindIndex, mood: MoodProfile | None) -> MoodFit | None:
    """The mood fit of every item, cached on the index (a mood edited in the admin gets a new key)."""
    if mood is None:
        return None
    key = (mood.id, mood.valence, mood.tempo_min, mood.tempo_max, mood.energy_min, mood.energy_max, mood.mode,
           tuple(sorted(mood.genre_weights.items())))
    cached = ix.mood_cache.get(key)
    if cached is None:
        if len(ix.mood_cache) >= MOOD_CACHE_SIZE:
            ix.mood_cache.clear()
        cached = ix.mood_cache[key] = _mood_fit(ix, mood)
    return cached


def _mood_fit(ix: KindIndex, mood: MoodProfile) -> MoodFit:
    n = ix.size
    weights = np.array([mood.genre_weights.get(int(g), 0.0) for g in ix.genre_ids], dtype=np.float32)
    # Half the strongest weight among the item's genres, half their mean: an action-crime-drama
    # is less "calm" than a pure drama, though both carry drama.
    genre = 0.5 * ix.genre_max(weights) + 0.5 * ix.genre_sum(weights) / np.maximum(ix.genre_count, 1)
    column = np.flatnonzero(ix.mood_ids == mood.id)
    if column.size:
        tag = ((ix.mood_bits >> int(column[0])) & 1).astype(np.float32)
    else:
        tag = np.zeros(n, dtype=np.float32)
    # Editors' tags are the strongest evidence: tagged fits fully; tagged with other moods only, the
    # genres count half (the editors thought of this mood and did not choose it).
    base = np.where(tag > 0, 1.0, np.where(ix.has_tags, 0.5 * genre, genre)).astype(np.float32)
    if ix.kind != "track":
        return MoodFit(fit=base, genre=genre, tag=tag, audio=None, in_audio_range=None)
    audio, in_range = _audio_fit(ix, mood)
    known = ~np.isnan(audio)
    fit = np.where(known, 0.5 * base + 0.5 * np.nan_to_num(audio), base).astype(np.float32)
    return MoodFit(fit=fit, genre=genre, tag=tag, audio=audio, in_audio_range=in_range)


def _range_fit(values: np.ndarray, low, high, softness: float) -> np.ndarray:
    low = -np.inf if low is None else low
    high = np.inf if high is None else high
    distance = np.maximum(low - values, 0) + np.maximum(values - high, 0)
    return np.exp(-distance / softness)


def _audio_fit(ix: KindIndex, mood: MoodProfile) -> tuple[np.ndarray, np.ndarray]:
    parts, present = [], []
    if mood.tempo_min is not None or mood.tempo_max is not None:
        parts.append(_range_fit(ix.tempo, mood.tempo_min, mood.tempo_max, TEMPO_SOFTNESS))
        present.append(~np.isnan(ix.tempo))
    if mood.energy_min is not None or mood.energy_max is not None:
        parts.append(_range_fit(ix.energy, mood.energy_min, mood.energy_max, ENERGY_SOFTNESS))
        present.append(~np.isnan(ix.energy))
    parts.append(1.0 - np.abs(ix.valence - mood.valence))
    present.append(~np.isnan(ix.valence))
    if mood.mode in ("major", "minor"):
        wanted = MODE_MAJOR if mood.mode == "major" else MODE_MINOR
        parts.append(np.where(ix.mode == wanted, 1.0, np.where(ix.mode == MODE_UNKNOWN, np.nan, 0.0)))
        present.append(ix.mode != MODE_UNKNOWN)
    values = np.vstack([np.where(p, v, 0.0) for v, p in zip(parts, present)])
    counts = np.vstack(present).sum(axis=0)
    # Audio counts as known when tempo or energy is; valence and mode alone are too thin.
    known = ~np.isnan(ix.tempo) | ~np.isnan(ix.energy)
    audio = np.where(known & (counts > 0), values.sum(axis=0) / np.maximum(counts, 1), np.nan).astype(np.float32)
    with np.errstate(invalid="ignore"):
        tempo_in = np.isnan(ix.tempo) | (_range_fit(ix.tempo, mood.tempo_min, mood.tempo_max, TEMPO_SOFTNESS) >= 1.0)
        energy_in = np.isnan(ix.energy) | (
            _range_fit(ix.energy, mood.energy_min, mood.energy_max, ENERGY_SOFTNESS) >= 1.0)
    return audio, known & tempo_in & energy_in


@dataclass
class TimeFit:
    allowed: np.ndarray  # bool: may be shown at all
    fit: np.ndarray  # 0..1: how well it uses the time
    long_read: np.ndarray  # bool: books longer than the minutes (read in several sittings)
    sittings: np.ndarray | None = None  # books: sittings of this length the book needs (≥ 1; NaN unknown)


# A book that needs this many sittings of the user's minutes is still "a few": its fit falls off after.
FEW_SITTINGS = 3
# Beyond a few sittings, what each doubling of them costs, in units of the time fit (a full fit is 1).
SITTINGS_DOUBLING_COST = 0.5


def book_sittings(length: np.ndarray, minutes: int) -> np.ndarray:
    """How many sittings of `minutes` a book of `length` reading minutes needs (NaN when unknown)."""
    return np.ceil(np.maximum(length, 1.0) / minutes)


TIME_CACHE_SIZE = 8


def time_fit(ix: KindIndex, minutes: int | None) -> TimeFit:
    """How every item of the kind fits the minutes; computed once per value of the minutes per index
    (its arrays are shared by the requests, so they are read-only)."""
    cached = ix.time_cache.get(minutes)
    if cached is None:
        if len(ix.time_cache) >= TIME_CACHE_SIZE:
            ix.time_cache.clear()
        cached = _time_fit(ix, minutes)
        for array in vars(cached).values():
            if array is not None:
                array.setflags(write=False)
        ix.time_cache[minutes] = cached
    return cached


def _time_fit(ix: KindIndex, minutes: int | None) -> TimeFit:
    n = ix.size
    if minutes is None:
        return TimeFit(np.ones(n, dtype=bool), np.ones(n, dtype=np.float32), np.zeros(n, dtype=bool))
    length = ix.length_or_inf
    known = length < np.inf
    fill = np.minimum(np.where(known, length, 0) / minutes, 1).astype(np.float32)
    within = length <= minutes
    if ix.kind == "film":
        # A film without a known runtime cannot be promised to fit.
        return TimeFit(within, fill, np.zeros(n, dtype=bool))
    if ix.kind == "book":
        return _book_time_fit(ix, minutes, known, within, fill)
    return TimeFit(ix.seconds_or_inf <= minutes * 60, np.ones(n, dtype=np.float32), np.zeros(n, dtype=bool))


def _book_time_fit(ix: KindIndex, minutes: int, known, within, fill) -> TimeFit:
    """A book is judged by the sittings of this length it needs.

    Read in one sitting, the fuller the better (0.5..1: at 600 minutes a long read is welcome);
    a few sittings (≤ FEW_SITTINGS) still fit well (0.5); beyond that every doubling of the
    sittings costs SITTINGS_DOUBLING_COST (the fit goes below 0: a penalty). A log scale because
    what a reader feels is the ratio — 8 evenings instead of 16 is as much better as 2 instead of
    4 —, where a 1/sittings fit squeezed every 6- to 20-hour read at 30 minutes into 0.1–0.2 and
    let a mild mood-fit difference decide between a 3-hour and an 8-hour book. Unknown length: 0.5.
    """
    sittings = np.where(known, book_sittings(np.where(known, ix.length, 1.0), minutes), np.nan).astype(np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        several = 0.5 - SITTINGS_DOUBLING_COST * np.log2(np.maximum(sittings, FEW_SITTINGS) / FEW_SITTINGS)
    fit = np.where(~known, 0.5, np.where(within, 0.5 + 0.5 * fill, several)).astype(np.float32)
    return TimeFit(np.ones(ix.size, dtype=bool), fit, known & ~within, sittings)


@dataclass
class KindTaste:
    """What one user told us, as rows of one kind's index."""

    genre_columns: np.ndarray  # chosen genres (genre columns of the index)
    answer_positions: np.ndarray  # rows with an opinion (like / dislike)
    answer_values: np.ndarray  # ±1
    own_row: int | None = None  # the user's row in the collaborative matrix, left out of their signal

    @property
    def liked(self) -> np.ndarray:
        return self.answer_positions[self.answer_values > 0]

    @property
    def disliked(self) -> np.ndarray:
        return self.answer_positions[self.answer_values < 0]


def kind_taste(ix: KindIndex, collab: KindCollab | None, *, genre_ids, answers: dict[int, int],
               user_id: int | None) -> KindTaste:
    """A user's taste for one kind from their chosen genre ids and answers {item id: -1/0/1}."""
    opinions = {item_id: value for item_id, value in answers.items() if value}
    ids = np.array(sorted(opinions), dtype=np.int64)
    positions = ix.positions(ids)
    values = np.array([opinions[int(i)] for i in ix.item_ids[positions]], dtype=np.int8)
    return KindTaste(genre_columns=ix.genre_columns(genre_ids), answer_positions=positions, answer_values=values,
                     own_row=collab.row_of(user_id) if collab is not None else None)


@dataclass
class Priors:
    """Item priors, normally the index's own; the evaluation swaps in leave-one-user-out ones for training."""

    quality: np.ndarray
    popularity: np.ndarray


def preference_features(ix: KindIndex, collab: KindCollab | None, taste: KindTaste,
                        priors: Priors | None = None) -> np.ndarray:
    """The [len(FEATURES), n] matrix the strategies combine (feature-major: each row contiguous)."""
    n = ix.size
    out = np.zeros((len(FEATURES), n), dtype=np.float32)
    if n == 0:
        return out
    if taste.genre_columns.size:
        profile = np.zeros(len(ix.genre_ids), dtype=np.float32)
        profile[taste.genre_columns] = 1.0 / np.sqrt(taste.genre_columns.size)
        # Cosine of the item's genre set with the chosen genres.
        out[0] = ix.genre_sum(profile) / np.sqrt(np.maximum(ix.genre_count, 1))
    liked, disliked = taste.liked, taste.disliked
    if liked.size or disliked.size:
        genre_dir = np.zeros(len(ix.genre_ids), dtype=np.float32)
        mood_dir = np.zeros(len(ix.mood_ids), dtype=np.float32)
        for rows, sign in ((liked, 1.0), (disliked, -1.0)):
            if rows.size:
                g, m = ix.content_rows(rows)
                genre_dir += sign * g.mean(axis=0)
                mood_dir += sign * m.mean(axis=0)
        out[1] = ix.content_dot(genre_dir, mood_dir)
    if collab is not None:
        out[2], out[3], out[4] = collab.signals(taste.answer_positions, taste.answer_values, taste.own_row, n)
        out[5] = collab.item_knn(liked, taste.own_row, n)
        out[6] = collab.ease_scores(liked, taste.own_row, n)
    priors = priors or Priors(ix.quality, ix.popularity)
    out[7] = priors.quality
    out[8] = priors.popularity
    return out
