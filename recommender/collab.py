"""Collaborative signals from every user's stored ratings.

Per kind, a sparse users × items matrix with unit-length item columns: cosine similarity of
two items is the dot product of their columns. For a user with answers (item, ±1), the
item-to-item signal of every item is Σ_answers sim(item, answer) · value / number of answers —
computed as two sparse products (items → users → items), never as an items × items matrix, so
it stays cheap at hundreds of thousands of items.

The user-to-user signal (`neighbours`) asks the other way round: which stored users gave an
opinion on the same items as this user (cosine of their binary "has an opinion" rows), and
what share of those neighbours, weighted by similarity squared (Breese et al.'s case
amplification: the closest neighbours count most, no top-k cut-off to tune), rated each item.
It predicts what the user will *watch* at all, which the catalogue-wide ranking rewards.

The user's own row is left out of every signal, so they only say what *other* people's ratings
imply (and training features match serving features).

Like the catalogue index, the matrix is cached per process and rebuilt when the ratings'
stamp (count and latest change) moves, checked at most every RECOMMENDER_INDEX_REFRESH_SECONDS.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from django.conf import settings
from django.db.models import Count, Max

from users.models import Profile, Rating

from .index import CatalogueIndex, KindIndex, _ProcessCache, catalogue_index


def collab_min_ratings() -> int:
    """Below this many opinions (likes + dislikes) of a kind the signal is too noisy and stays off."""
    return settings.RECOMMENDER_COLLAB_MIN_RATINGS


@dataclass
class KindCollab:
    user_ids: np.ndarray  # int64 ascending: row -> profile id (or dataset user id)
    like: sp.csc_matrix  # users × items, ±1 scaled to unit columns
    seen: sp.csc_matrix  # users × items, 1 for any opinion, unit columns
    opinions: int
    like_t: sp.csr_matrix = None
    seen_t: sp.csr_matrix = None
    # seen[u, i] = 1 / item_norm[i]: the binary matrix is seen × item_norm, no second copy needed.
    item_norm: np.ndarray = None  # float32 [items]: sqrt(number of opinions of the item)
    user_degree: np.ndarray = None  # float32 [users]: number of opinions of the user
    # Likes alone (binary, unit columns): the item-kNN signal, cosine over who liked both items.
    likes: sp.csc_matrix = None
    likes_t: sp.csr_matrix = None
    # users × genre columns, 1 for each genre the stored user chose (None when unknown): the warm-up
    # picker's "people who chose these genres know…" prior.
    user_genres: sp.csr_matrix | None = None
    # EASE^R fits for the model's `ease` feature (references.attach_ease): -1 = every stored user,
    # f = without fold f's users (the fold of each user row in ease_fold_of_row).
    ease_models: dict | None = None
    ease_fold_of_row: np.ndarray | None = None

    def __post_init__(self):
        self.like_t = self.like.T.tocsr()
        self.seen_t = self.seen.T.tocsr()
        if self.likes is None:
            self.likes = _unit_columns(sp.csc_matrix(self.like > 0, dtype=np.float32))
        self.likes_t = self.likes.T.tocsr()
        if self.item_norm is None:
            self.item_norm = _binary_norms(self.seen)
        if self.user_degree is None:
            binary = self.seen @ sp.diags(self.item_norm)
            self.user_degree = np.asarray(binary.sum(axis=1), dtype=np.float32).ravel()

    @property
    def enabled(self) -> bool:
        return self.opinions >= collab_min_ratings()

    def row_of(self, user_id) -> int | None:
        if user_id is None or not len(self.user_ids):
            return None
        pos = int(np.searchsorted(self.user_ids, user_id))
        return pos if pos < len(self.user_ids) and self.user_ids[pos] == user_id else None

    @property
    def nbytes(self) -> int:
        total = self.user_ids.nbytes + self.item_norm.nbytes + self.user_degree.nbytes
        for m in (self.like, self.seen, self.like_t, self.seen_t, self.likes, self.likes_t):
            total += m.data.nbytes + m.indices.nbytes + m.indptr.nbytes
        for ease in (self.ease_models or {}).values():
            total += ease.weights.nbytes + ease.items.nbytes
        return total

    def signals(self, positions: np.ndarray, values: np.ndarray, own_row: int | None, n: int):
        """(collab_like, collab_seen, neighbours) for all n items given the user's answers (positions, ±1 values)."""
        zeros = np.zeros(n, dtype=np.float32)
        if not self.enabled or positions.size == 0:
            return zeros, zeros, zeros
        like_users = _columns_dot(self.like, positions, values.astype(np.float32))
        seen_users = _columns_dot(self.seen, positions)
        # How many of the user's answered items each stored user also has an opinion on.
        overlap = _columns_dot(self.seen, positions, self.item_norm[positions])
        if own_row is not None:
            like_users[own_row] = 0.0
            seen_users[own_row] = 0.0
            overlap[own_row] = 0.0
        scale = 1.0 / len(positions)
        like = (self.like_t @ like_users).astype(np.float32) * scale
        seen = (self.seen_t @ seen_users).astype(np.float32) * scale
        return like, seen, self._neighbours(overlap, len(positions), n)

    def item_knn(self, liked: np.ndarray, own_row: int | None, n: int) -> np.ndarray:
        """Item-kNN over likes: Σ over the user's liked items of cosine(item, liked item), scaled to a
        maximum of 1 (so it mixes with 0..1 priors the same way for every user); the user's own row
        is left out."""
        if not self.enabled or liked.size == 0:
            return np.zeros(n, dtype=np.float32)
        users = _columns_dot(self.likes, liked)
        if own_row is not None:
            users[own_row] = 0.0
        score = (self.likes_t @ users).astype(np.float32)
        # An item's similarity to itself is not evidence (the liked items are not offered again anyway).
        score[liked] = 0.0
        top = float(score.max()) if score.size else 0.0
        return score * np.float32(1.0 / top) if top > 0 else score

    def ease_scores(self, liked: np.ndarray, own_row: int | None, n: int) -> np.ndarray:
        """EASE^R scores from the user's likes, scaled to a maximum of 1 (0 without a fit or likes)."""
        if not self.ease_models or liked.size == 0:
            return np.zeros(n, dtype=np.float32)
        fold = -1
        if own_row is not None and self.ease_fold_of_row is not None:
            fold = int(self.ease_fold_of_row[own_row])
        score = self.ease_models.get(fold, self.ease_models[-1]).scores(liked, n)
        score = np.maximum(score, 0.0)
        top = float(score.max())
        return score * np.float32(1.0 / top) if top > 0 else score

    def _neighbours(self, overlap: np.ndarray, answers: int, n: int) -> np.ndarray:
        """Similarity²-weighted share of the stored users with the same answered items who rated each item."""
        similarity = overlap / np.sqrt(np.maximum(self.user_degree, 1.0) * answers)
        weights = (similarity * similarity).astype(np.float32)
        total = float(weights.sum(dtype=np.float64))
        if total <= 0:
            return np.zeros(n, dtype=np.float32)
        return ((self.seen_t @ weights) * self.item_norm * np.float32(1.0 / total)).astype(np.float32)


def _columns_dot(matrix: sp.csc_matrix, positions: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """`matrix[:, positions] @ weights` (weights default to ones) as a float32 vector over the rows.

    A user has a handful of answers: gathering their columns' entries straight from the CSC arrays
    and summing them per row costs a quarter of building the sliced sparse matrix and multiplying it.
    """
    starts, ends = matrix.indptr[positions], matrix.indptr[positions + 1]
    counts = ends - starts
    entries = np.repeat(ends - np.cumsum(counts), counts) + np.arange(int(counts.sum()))
    data = matrix.data[entries]
    if weights is not None:
        data = data * np.repeat(weights, counts)
    return np.bincount(matrix.indices[entries], weights=data, minlength=matrix.shape[0]).astype(np.float32)


def kind_collab_from_triples(users: np.ndarray, positions: np.ndarray, values: np.ndarray, n_items: int) -> KindCollab:
    """Build one kind's matrices from (user id, item position, value in -1/0/1) triples; 0 (don't know) is no opinion."""
    keep = values != 0
    users, positions, values = users[keep], positions[keep], values[keep].astype(np.float32)
    user_ids, rows = np.unique(users, return_inverse=True)
    shape = (len(user_ids), n_items)
    like = sp.csc_matrix((values, (rows, positions)), shape=shape, dtype=np.float32)
    seen = sp.csc_matrix((np.ones_like(values), (rows, positions)), shape=shape, dtype=np.float32)
    seen.sum_duplicates()
    seen.data[:] = 1.0  # binary: an opinion given twice is one opinion
    return KindCollab(user_ids=user_ids.astype(np.int64), like=_unit_columns(like), seen=_unit_columns(seen),
                      opinions=int(len(values)))


def _unit_columns(matrix: sp.csc_matrix) -> sp.csc_matrix:
    matrix.sum_duplicates()
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=0)).ravel())
    norms[norms == 0] = 1.0
    return sp.csc_matrix(matrix @ sp.diags(1.0 / norms).astype(np.float32), dtype=np.float32)


def _binary_norms(seen: sp.csc_matrix) -> np.ndarray:
    """sqrt(opinions per item) back from the unit-column binary matrix (its entries are 1 / that)."""
    norms = np.zeros(seen.shape[1], dtype=np.float32)
    counts = np.diff(seen.indptr)
    filled = counts > 0
    first = seen.indptr[:-1][filled]
    norms[filled] = 1.0 / seen.data[first]
    return norms


@dataclass
class CollabIndex:
    kinds: dict[str, KindCollab]
    stamp: tuple
    built_at: float

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.kinds.values())


def ratings_stamp() -> tuple:
    agg = Rating.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    return (agg["n"], agg["last"])


def collab_from_database(catalogue: CatalogueIndex) -> CollabIndex:
    stamp = (ratings_stamp(), catalogue.stamp)
    triples = list(Rating.objects.exclude(value=Rating.Value.UNKNOWN).values_list("profile_id", "item_id", "value",
                                                                                   "item__kind"))
    # Chosen genres ride on the ratings' stamp: a new user chooses them before their first warm-up answer.
    chosen = list(Profile.genres.through.objects.values_list("profile_id", "genre_id"))
    kinds = {}
    for kind, ix in catalogue.kinds.items():
        kind_triples = [t for t in triples if t[3] == kind]
        collab = kind_collab_for_index(
            ix, np.array([t[0] for t in kind_triples], dtype=np.int64),
            np.array([t[1] for t in kind_triples], dtype=np.int64),
            np.array([t[2] for t in kind_triples], dtype=np.int64))
        collab.user_genres = _user_genres(ix, collab, chosen)
        attach_ease(collab)
        kinds[kind] = collab
    return CollabIndex(kinds=kinds, stamp=stamp, built_at=time.monotonic())


def attach_ease(collab: KindCollab) -> None:
    # Imported here: references.py builds on this module's KindCollab.
    from .references import SERVING_EASE_ITEMS, attach_ease as fit

    fit(collab, items=SERVING_EASE_ITEMS)


def _user_genres(ix: KindIndex, collab: KindCollab, chosen: list[tuple[int, int]]) -> sp.csr_matrix:
    """users × the kind's genre columns: the genres each stored user chose in their profile."""
    column = {int(g): c for c, g in enumerate(ix.genre_ids)}
    pairs = [(collab.row_of(profile_id), column[genre_id]) for profile_id, genre_id in chosen if genre_id in column]
    pairs = [(row, col) for row, col in pairs if row is not None]
    data = np.ones(len(pairs), dtype=np.float32)
    return sp.csr_matrix((data, ([p[0] for p in pairs], [p[1] for p in pairs])),
                         shape=(len(collab.user_ids), len(ix.genre_ids)))


def kind_collab_for_index(ix: KindIndex, users: np.ndarray, item_ids: np.ndarray, values: np.ndarray) -> KindCollab:
    """Map item ids to the index's rows (dropping items without an offer) and build the matrices."""
    if ix.size and len(item_ids):
        pos = np.minimum(np.searchsorted(ix.item_ids, item_ids), ix.size - 1)
        hit = ix.item_ids[pos] == item_ids
    else:
        pos, hit = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    return kind_collab_from_triples(users[hit], pos[hit], values[hit], ix.size)


def _current_stamp():
    return (ratings_stamp(), catalogue_index().stamp)


_collab_cache = _ProcessCache(lambda: collab_from_database(catalogue_index()), _current_stamp)


def collab_index() -> CollabIndex:
    return _collab_cache.get()


def collab_index_clear() -> None:
    _collab_cache.clear()
