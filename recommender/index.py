"""The prepared item index: one set of numpy arrays per kind, scored in one pass per request.

The index holds only items with an available offer (only those earn money). It is built from
the database (`index_from_database`) or from plain arrays (`KindIndex.from_arrays`, used by
the offline evaluation), so the service and the evaluation score with the same code.

Each process keeps the last index it built and checks a cheap version stamp of the catalogue
(counts and the latest `updated_at` of items and offers) at most every
`settings.RECOMMENDER_INDEX_REFRESH_SECONDS`; when the stamp changes it rebuilds. Every web and
worker process therefore sees catalogue changes within that interval, without a restart. The
ratings used by the collaborative signal have their own stamp and matrix (`collab.py`).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db.models import Count, Exists, Max, OuterRef, Q, Sum

from catalog.models import ContentItem, Genre, Kind, Mood, MoodGenreWeight, Offer
from catalog.services import book_reading_minutes

KINDS = (Kind.FILM.value, Kind.BOOK.value, Kind.TRACK.value)

MODE_MAJOR, MODE_MINOR, MODE_UNKNOWN = 1, -1, 0


@dataclass(frozen=True)
class GenreInfo:
    id: int
    code: str
    name_ru: str
    name_en: str


@dataclass
class KindIndex:
    """The items of one kind as parallel arrays; position i of every array is item `item_ids[i]`.

    Genres and mood tags are stored as short padded lists of column numbers ([K, n] arrays,
    padded with the number of columns), not as dense one-hot matrices: every per-item genre
    operation is then K contiguous gathers, which is fast and small even at a million items.
    """

    kind: str
    item_ids: np.ndarray  # int64, ascending, so a position is a searchsorted away
    genre_ids: np.ndarray  # int64: genre column -> Genre pk (or a dataset's genre number)
    genre_cols: np.ndarray  # intp [K, n]: the item's genre columns, padded with len(genre_ids)
    mood_ids: np.ndarray  # int64: mood column -> Mood pk
    mood_cols: np.ndarray  # intp [J, n]: the item's editorial mood tags, padded with len(mood_ids)
    length: np.ndarray  # float32 minutes (films: runtime, books: reading time, tracks: duration); NaN unknown
    duration_seconds: np.ndarray  # float32, tracks; NaN unknown
    tempo: np.ndarray  # float32 BPM; NaN unknown
    energy: np.ndarray  # float32 0..1; NaN unknown
    valence: np.ndarray  # float32 0..1; NaN unknown
    mode: np.ndarray  # int8: 1 major, -1 minor, 0 unknown
    rating: np.ndarray  # float32 0..10; NaN unknown
    votes: np.ndarray  # float32
    popularity_raw: np.ndarray  # float32 0..100
    series: np.ndarray  # int32 code, -1 none
    creator: np.ndarray  # int32 code, -1 none
    year: np.ndarray  # float32; NaN unknown
    genre_info: dict[int, GenreInfo] = field(default_factory=dict)
    # Derived in __post_init__:
    quality: np.ndarray = field(init=False)
    popularity: np.ndarray = field(init=False)
    genre_count: np.ndarray = field(init=False)
    has_tags: np.ndarray = field(init=False)
    idf: np.ndarray = field(init=False)
    content_inv_norm: np.ndarray = field(init=False)
    mood_bits: np.ndarray = field(init=False)  # int64: bit j set when tagged with mood column j
    length_or_inf: np.ndarray = field(init=False)
    seconds_or_inf: np.ndarray = field(init=False)
    # Mood fit depends only on the mood and the items: computed once per mood per index.
    mood_cache: dict = field(init=False, default_factory=dict, repr=False)
    # Time fit depends only on the minutes (a few values in practice: the bot's buttons): once per value.
    time_cache: dict = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self):
        # Native index width: numpy gathers with intp indexes without converting them each time.
        self.genre_cols = self.genre_cols.astype(np.intp)
        self.mood_cols = self.mood_cols.astype(np.intp)
        self.quality = quality_priors(self.rating, self.votes)
        self.popularity = np.clip(self.popularity_raw / 100.0, 0, 1).astype(np.float32)
        g, m = len(self.genre_ids), len(self.mood_ids)
        self.genre_count = (self.genre_cols < g).sum(axis=0).astype(np.float32)
        self.has_tags = (self.mood_cols < m).any(axis=0) if self.mood_cols.shape[0] else np.zeros(self.size, bool)
        df = np.bincount(self.genre_cols.ravel(), minlength=g + 1)[:g].astype(np.float32)
        self.idf = (np.log((1 + self.size) / (1 + df)) + 1.0).astype(np.float32)
        squares = self.genre_sum(self.idf ** 2) + 0.25 * (self.mood_cols < m).sum(axis=0)
        self.content_inv_norm = np.where(squares > 0, 1.0 / np.sqrt(np.maximum(squares, 1e-12)), 0.0).astype(np.float32)
        self.mood_bits = np.zeros(self.size, dtype=np.int64)
        for row in self.mood_cols:
            tagged = row < m
            self.mood_bits[tagged] |= np.left_shift(1, row[tagged]).astype(np.int64)
        self.length_or_inf = np.where(np.isnan(self.length), np.inf, self.length).astype(np.float32)
        self.seconds_or_inf = np.where(np.isnan(self.duration_seconds), np.inf, self.duration_seconds).astype(np.float32)

    def __len__(self):
        return len(self.item_ids)

    @property
    def size(self) -> int:
        return len(self.item_ids)

    def positions(self, item_ids) -> np.ndarray:
        """Positions of the given item ids that are in this index (others are dropped)."""
        ids = np.asarray(list(item_ids), dtype=np.int64)
        if ids.size == 0 or self.size == 0:
            return np.empty(0, dtype=np.int64)
        pos = np.searchsorted(self.item_ids, ids)
        pos = np.minimum(pos, self.size - 1)
        return pos[self.item_ids[pos] == ids]

    def genre_columns(self, genre_ids) -> np.ndarray:
        wanted = set(int(g) for g in genre_ids)
        return np.array([c for c, gid in enumerate(self.genre_ids) if int(gid) in wanted], dtype=np.int64)

    # Per-item operations over genre columns: K gathers each.
    def _gather(self, weights: np.ndarray, cols: np.ndarray, reduce):
        padded = np.append(weights.astype(np.float32), np.float32(0))
        if cols.shape[0] == 0:
            return np.zeros(self.size, dtype=np.float32)
        out = padded.take(cols[0])
        for k in range(1, cols.shape[0]):
            reduce(out, padded.take(cols[k]), out=out)
        return out

    def genre_sum(self, weights: np.ndarray) -> np.ndarray:
        return self._gather(weights, self.genre_cols, np.add)

    def genre_max(self, weights: np.ndarray) -> np.ndarray:
        return self._gather(weights, self.genre_cols, np.maximum)

    def mood_sum(self, weights: np.ndarray) -> np.ndarray:
        return self._gather(weights, self.mood_cols, np.add)

    def content_dot(self, genre_direction: np.ndarray, mood_direction: np.ndarray) -> np.ndarray:
        """Dot product of every item's unit content vector with a direction in (genre, mood) space."""
        return (self.genre_sum(self.idf * genre_direction) + 0.5 * self.mood_sum(mood_direction)) * self.content_inv_norm

    def content_rows(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unit content vectors of a few items, split in their genre and mood parts."""
        genres = self.one_hot_genres(positions) * self.idf
        moods = np.zeros((len(positions), len(self.mood_ids) + 1), dtype=np.float32)
        for row in self.mood_cols[:, positions]:
            moods[np.arange(len(positions)), row] = 0.5
        scale = self.content_inv_norm[positions][:, None]
        return genres * scale, moods[:, :-1] * scale

    def one_hot_genres(self, positions: np.ndarray) -> np.ndarray:
        out = np.zeros((len(positions), len(self.genre_ids) + 1), dtype=np.float32)
        for row in self.genre_cols[:, positions]:
            out[np.arange(len(positions)), row] = 1.0
        return out[:, :-1]

    def item_genre_ids(self, pos: int) -> list[int]:
        return [int(self.genre_ids[c]) for c in self.genre_cols[:, pos] if c < len(self.genre_ids)]

    @property
    def nbytes(self) -> int:
        return sum(v.nbytes for v in vars(self).values() if isinstance(v, np.ndarray))


def padded_columns(n: int, rows: np.ndarray, cols: np.ndarray, pad: int) -> np.ndarray:
    """[K, n] lists of columns per row from (row, column) pairs, padded with `pad`."""
    if len(rows) == 0:
        return np.full((0, n), pad, dtype=np.intp)
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    keep = np.ones(len(rows), dtype=bool)
    keep[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols = rows[keep], cols[keep]
    starts = np.searchsorted(rows, rows, side="left")
    rank = np.arange(len(rows)) - starts
    out = np.full((int(rank.max()) + 1, n), pad, dtype=np.intp)
    out[rank, rows] = cols
    return out


def padded_from_dense(dense: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(dense)
    return padded_columns(dense.shape[0], rows, cols, dense.shape[1])


def quality_priors(rating: np.ndarray, votes: np.ndarray) -> np.ndarray:
    """Vote-weighted (Bayesian) ratings on 0..1, so a 9.0 from 12 votes does not beat 8.5 from 2 million.

    WR = (v·R + m·C) / (v + m), with C the vote-weighted mean rating of the kind and m the mean
    number of votes of the kind's rated items (the IMDb top-250 formula with a catalogue-relative
    m, so no number depends on one dataset). The one rating prior the model sees: a second, barely
    shrunk mean (m = 5) let the learned weights subtract the two and push 4–9-vote items to the top.
    """
    r = np.nan_to_num(rating.astype(np.float64), nan=0.0)
    v = np.where(np.isnan(rating), 0.0, votes.astype(np.float64))
    total = v.sum()
    if total <= 0:
        return np.where(np.isnan(rating), 0.5, r / 10.0).astype(np.float32)
    c = float((r * v).sum() / total)
    m = float(v[v > 0].mean())
    return ((v * r + m * c) / (v + m) / 10.0).astype(np.float32)


def _codes(values: list[str]) -> np.ndarray:
    """Integer codes for strings (case-insensitive); empty strings get -1."""
    table: dict[str, int] = {}
    out = np.full(len(values), -1, dtype=np.int32)
    for i, value in enumerate(values):
        key = (value or "").strip().casefold()
        if key:
            out[i] = table.setdefault(key, len(table))
    return out


def _floats(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float32)


@dataclass
class CatalogueIndex:
    """Every kind's index, plus the stamp it was built from."""

    kinds: dict[str, KindIndex]
    stamp: tuple
    built_at: float
    # Mood id -> {genre id: weight}: moods are data edited in the admin, read with the index.
    mood_weights: dict[int, dict[int, float]] = field(default_factory=dict)
    # Every genre, in the model's ordering (kind, English name): shown with the picked items, so a
    # request needs no genre query. Shared by every request of this index: read-only.
    genres: dict[int, Genre] = field(default_factory=dict)
    genre_rank: dict[int, int] = field(init=False, repr=False)

    def __post_init__(self):
        self.genre_rank = {gid: rank for rank, gid in enumerate(self.genres)}

    def item_genres(self, kind: str, pos: int) -> list[Genre]:
        """The genres of the item at `pos` of a kind's index, in the order `item.genres.all()` gives them."""
        ids = [gid for gid in self.kinds[kind].item_genre_ids(pos) if gid in self.genre_rank]
        return [self.genres[gid] for gid in sorted(ids, key=self.genre_rank.__getitem__)]

    @property
    def nbytes(self) -> int:
        return sum(ix.nbytes for ix in self.kinds.values())


def catalogue_stamp() -> tuple:
    """A cheap fingerprint of everything the index reads: three aggregates and the (few) genres."""
    items = ContentItem.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    # Available offers are counted too: a bulk withdrawal (queryset.update) does not touch updated_at.
    offers = Offer.objects.aggregate(n=Count("id"), available=Count("id", filter=Q(available=True)),
                                     last=Max("updated_at"))
    weights = MoodGenreWeight.objects.aggregate(n=Count("id"), total=Sum("weight"), last=Max("id"))
    # Genre names and order are shown with every pick from the index: a rename must reach it too.
    genres = tuple(Genre.objects.order_by("id").values_list("id", "kind", "code", "name_ru", "name_en"))
    return (items["n"], items["last"], offers["n"], offers["available"], offers["last"],
            weights["n"], weights["total"], weights["last"], genres)


def index_from_database() -> CatalogueIndex:
    """Build every kind's index from the catalogue: items with an available offer only."""
    stamp = catalogue_stamp()
    genres_by_kind: dict[str, dict[int, GenreInfo]] = {kind: {} for kind in KINDS}
    genres: dict[int, Genre] = {}
    for genre in Genre.objects.order_by(*Genre._meta.ordering, "id"):
        genres[genre.pk] = genre
        genres_by_kind.setdefault(genre.kind, {})[genre.pk] = GenreInfo(genre.pk, genre.code, genre.name_ru,
                                                                        genre.name_en)
    mood_ids = np.array(sorted(Mood.objects.values_list("id", flat=True)), dtype=np.int64)
    with_offer = Exists(Offer.objects.filter(item=OuterRef("pk"), available=True))
    fields = ("id", "kind", "length_minutes", "pages", "duration_seconds", "tempo", "energy", "valence", "mode",
              "rating", "votes", "popularity", "series", "primary_creator", "year")
    rows = list(ContentItem.objects.filter(with_offer).order_by("id").values_list(*fields))
    item_genres = list(ContentItem.genres.through.objects.filter(contentitem__in=ContentItem.objects.filter(with_offer))
                       .values_list("contentitem_id", "genre_id"))
    item_moods = list(ContentItem.moods.through.objects.filter(contentitem__in=ContentItem.objects.filter(with_offer))
                      .values_list("contentitem_id", "mood_id"))
    kinds = {}
    for kind in KINDS:
        kind_rows = [r for r in rows if r[1] == kind]
        kinds[kind] = _kind_from_rows(kind, kind_rows, item_genres, item_moods, genres_by_kind[kind], mood_ids)
    mood_weights: dict[int, dict[int, float]] = {}
    for mood_id, genre_id, weight in MoodGenreWeight.objects.values_list("mood_id", "genre_id", "weight"):
        mood_weights.setdefault(mood_id, {})[genre_id] = weight
    return CatalogueIndex(kinds=kinds, stamp=stamp, built_at=time.monotonic(), mood_weights=mood_weights,
                          genres=genres)


def _kind_from_rows(kind, rows, item_genres, item_moods, genres, mood_ids) -> KindIndex:
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    kind_genre_ids = np.array(sorted(genres), dtype=np.int64)
    genre_col = {int(g): c for c, g in enumerate(kind_genre_ids)}
    mood_col = {int(m): c for c, m in enumerate(mood_ids)}
    genre_cols = _pairs_to_padded(ids, item_genres, genre_col, len(kind_genre_ids))
    mood_cols = _pairs_to_padded(ids, item_moods, mood_col, len(mood_ids))

    length = _floats([r[2] for r in rows])
    duration = _floats([r[4] for r in rows])
    if kind == Kind.BOOK:
        length = _floats([reading_minutes(pages=r[3], length_minutes=r[2]) for r in rows])
    if kind == Kind.TRACK:
        length = np.where(np.isnan(duration), length, duration / 60.0).astype(np.float32)
        duration = np.where(np.isnan(duration), length * 60.0, duration).astype(np.float32)
    mode = np.array([MODE_MAJOR if r[8] == "major" else MODE_MINOR if r[8] == "minor" else MODE_UNKNOWN
                     for r in rows], dtype=np.int8)
    return KindIndex(
        kind=kind, item_ids=ids, genre_ids=kind_genre_ids, genre_cols=genre_cols, mood_ids=mood_ids,
        mood_cols=mood_cols, length=length, duration_seconds=duration,
        tempo=_floats([r[5] for r in rows]), energy=_floats([r[6] for r in rows]),
        valence=_floats([r[7] for r in rows]), mode=mode, rating=_floats([r[9] for r in rows]),
        votes=_floats([r[10] or 0 for r in rows]), popularity_raw=_floats([r[11] or 0 for r in rows]),
        series=_codes([r[12] for r in rows]), creator=_codes([r[13] for r in rows]),
        year=_floats([r[14] for r in rows]),
        genre_info={int(g): genres[int(g)] for g in kind_genre_ids},
    )


def reading_minutes(*, pages: int | None, length_minutes: int | None) -> int | None:
    """A book's reading time, the one number the scoring, the reasons and the card all show:
    pages × BOOK_MINUTES_PER_PAGE when the pages are known, else the feed's own length."""
    return book_reading_minutes(pages) if pages else length_minutes


def _pairs_to_padded(ids: np.ndarray, pairs: list[tuple[int, int]], column: dict[int, int], pad: int) -> np.ndarray:
    """Padded column lists for the index's items from (item id, genre or mood id) pairs."""
    items = np.array([p[0] for p in pairs], dtype=np.int64)
    cols = np.array([column.get(p[1], -1) for p in pairs], dtype=np.int64)
    keep = cols >= 0
    items, cols = items[keep], cols[keep]
    if not len(ids) or not len(items):
        return np.full((0, len(ids)), pad, dtype=np.intp)
    pos = np.minimum(np.searchsorted(ids, items), len(ids) - 1)
    hit = ids[pos] == items
    return padded_columns(len(ids), pos[hit], cols[hit], pad)


class _ProcessCache:
    """The last index this process built, re-validated against the stamp every few seconds."""

    def __init__(self, build, stamp):
        self._build = build
        self._stamp = stamp
        self._lock = threading.Lock()
        self._value = None
        self._checked_at = -math.inf

    def get(self):
        interval = settings.RECOMMENDER_INDEX_REFRESH_SECONDS
        now = time.monotonic()
        if self._value is not None and now - self._checked_at < interval:
            return self._value
        with self._lock:
            if self._value is not None and time.monotonic() - self._checked_at < interval:
                return self._value
            if self._value is None or self._stamp() != self._value.stamp:
                self._value = self._build()
            self._checked_at = time.monotonic()
            return self._value

    def clear(self):
        with self._lock:
            self._value = None
            self._checked_at = -math.inf


_catalogue_cache = _ProcessCache(index_from_database, catalogue_stamp)


def catalogue_index() -> CatalogueIndex:
    """This process's current index (rebuilt when the catalogue has changed)."""
    return _catalogue_cache.get()


def catalogue_index_clear() -> None:
    """Forget the cached index (tests and the benchmark use this to measure a cold build)."""
    _catalogue_cache.clear()
