"""The warm-up picker: which card registration shows next (DESIGN §4), used by the bot and the replay alike.

A warm-up card is worth showing when the person can answer it: a "don't know" teaches almost
nothing, a like or a dislike teaches the taste. So the next card is the item this person most
probably *knows*, leaning to the genres they just chose:

    next = argmax over unasked items of  P(knows item) × (1 + GENRE_WEIGHT · genre fit)

- P(knows item) is the mean of two estimates from the stored users' "has an opinion" rows:
  * neighbours: the share of the stored users who gave an opinion on the item, weighted by how
    alike they are to this person: each stored user's weight is their similarity² to the
    opinions given so far (the overlap of the binary rows over degree^¼ · √k: softer than
    cosine, so people who know many films count more), a "don't know" counting against those
    who know that card. Before the first like or dislike the weights come from the genres: the
    stored users who chose the same genres (cosine² of the genre sets; plain popularity when no
    genres are known); with k opinions the neighbours' share is shrunk toward that as
    (k · neighbours + crowd) / (k + 1) — one opinion is thin evidence;
  * the linear conditional expectation (issue 11d): among the stored users who chose the same
    genres (the same weights as the crowd above), the best linear prediction of "knows item j"
    from the answers so far — 1 for a like or dislike, 0 for a "don't know":
        P(j) = μ_j + C_jA (C_AA + RIDGE · diag C_AA)⁻¹ (answers − μ_A)
    (μ: the crowd's share knowing each item, C: the crowd's covariance of knowing two items, A:
    the asked cards; all stored users alike when no genres are known). Unlike the neighbours it learns from "don't know" answers before any
    opinion (after "don't know" on a film, what the same crowd knows drops, what *other* people
    know rises), and it weighs correlated answers once (two sequels known count as one fact).
  After a "don't know" the next card is therefore a well-known one that other people know
  (DESIGN: "after Don't know, something better known"); after a like or a dislike it is what
  people who know that item also know.
- genre fit is the cosine of the item's genres with the chosen genres (0..1), so well-known
  items of the chosen genres come first but a very well-known item outside them can still be
  asked (a dislike is an answer too). GENRE_WEIGHT is 1 when P(knows) comes from the genre crowd
  (it leans to the chosen genres already), 2 when P(knows) is genre-blind (no stored ratings yet).
- no two cards of one series or by one creator.
The weights and the ridge were chosen on held-out stored users, never on test users.
"""

from __future__ import annotations

import numpy as np

from .collab import KindCollab
from .index import KindIndex

# How much more a card of the chosen genres is worth than an equally well-known card outside them, when
# P(knows) comes from the stored users who chose the same genres (so it leans to those genres already).
# Chosen on held-out *stored* users of latest-small, seeds 0-2 (mean opinions gathered): with the
# neighbours alone (issue 11b) 0 → 1 +9%, 1 → 2 +0.5%, 2 → 4 −1%; with the conditional expectation
# averaged in (issue 11d, one half of the stored users) 0.5 / 1 / 1.5 / 2 → 1.284× / 1.300× / 1.299× / 1.292×.
GENRE_WEIGHT = 1.0
# The same when P(knows) is genre-blind — the catalogue's popularity (no stored ratings yet), or no stored
# user chose these genres: the genre fit alone carries the chosen genres, at issue 11's weight.
GENRE_WEIGHT_WITHOUT_CROWD = 2.0
# The neighbours' similarity divides the overlap by degree ** this (cosine: ½). What is predicted is
# *knowing* an item, and people who know many films know more of what this person knows, so a
# weaker length normalisation lets them count more: ½ → ¼ gave +1% opinions, 0 −0.5% (stored users, seeds 0-2).
NEIGHBOUR_DEGREE_POWER = 0.25
# A "don't know" counts against the stored users who know that card, at half the weight of a known card.
DONT_KNOW_WEIGHT = 0.5
# The conditional expectation's ridge, as a share of each answer's own variance: 1 halves a lone answer's
# pull (stored users, one half: ridge ½ / 1 / 2 → 1.297× / 1.300× / 1.288×).
CONDITIONAL_RIDGE = 1.0
# At most this many answers are conditioned on (a returning person may have hundreds): the likes and
# dislikes first, then the "don't know" answers, each in the order given; the cost grows with their square.
MAX_CONDITIONED = 30


def genre_fit(ix: KindIndex, genre_columns: np.ndarray) -> np.ndarray:
    """Cosine of every item's genre set with the chosen genres (0 when none are chosen)."""
    if genre_columns.size == 0 or ix.size == 0:
        return np.zeros(ix.size, dtype=np.float32)
    profile = np.zeros(len(ix.genre_ids), dtype=np.float32)
    profile[genre_columns] = 1.0 / np.sqrt(genre_columns.size)
    return ix.genre_sum(profile) / np.sqrt(np.maximum(ix.genre_count, 1))


def know_probability(ix: KindIndex, collab: KindCollab | None, *, opinion_positions: np.ndarray,
                     unknown_positions: np.ndarray, own_row: int | None = None,
                     popularity: np.ndarray | None = None, crowd: np.ndarray | None = None) -> np.ndarray:
    """How likely this person knows each item, from who else knows it (see the module docstring); `crowd`:
    the stored users who chose the same genres (`genre_crowd`), None when unknown."""
    prior = _share(collab, crowd) if crowd is not None else _vote_share(ix, collab, popularity)
    if collab is None or not collab.enabled:
        return prior
    neighbours = _neighbour_share(collab, prior, opinion_positions, unknown_positions, own_row)
    if crowd is None:
        crowd = np.ones(len(collab.user_ids), dtype=np.float64)
        if own_row is not None:
            crowd[own_row] = 0.0
        total = crowd.sum()
        if total <= 0:
            return neighbours
        crowd /= total
    conditional = _conditional_share(collab, crowd, opinion_positions, unknown_positions)
    return (0.5 * (neighbours + conditional)).astype(np.float32)


def _neighbour_share(collab: KindCollab, prior: np.ndarray, opinion_positions: np.ndarray,
                     unknown_positions: np.ndarray, own_row: int | None) -> np.ndarray:
    """The similarity²-weighted share of the stored users who know each item, shrunk toward `prior`."""
    k = int(opinion_positions.size)
    if k == 0:
        return prior
    # How many of the person's known cards each stored user also knows, less half of the cards the
    # person did not know (someone who knows what this person does not is less alike).
    overlap = np.asarray(collab.seen[:, opinion_positions] @ collab.item_norm[opinion_positions]).ravel()
    if unknown_positions.size:
        overlap -= DONT_KNOW_WEIGHT * np.asarray(
            collab.seen[:, unknown_positions] @ collab.item_norm[unknown_positions]).ravel()
    overlap = np.maximum(overlap, 0.0)
    if own_row is not None:
        overlap[own_row] = 0.0
    similarity = overlap / (np.maximum(collab.user_degree, 1.0) ** NEIGHBOUR_DEGREE_POWER * np.sqrt(k))
    weights = (similarity * similarity).astype(np.float32)
    total = float(weights.sum(dtype=np.float64))
    if total <= 0:
        return prior
    neighbours = (collab.seen_t @ weights) * collab.item_norm * np.float32(1.0 / total)
    return ((k * neighbours + prior) / (k + 1)).astype(np.float32)


def _conditional_share(collab: KindCollab, crowd: np.ndarray, opinion_positions: np.ndarray,
                       unknown_positions: np.ndarray) -> np.ndarray:
    """The crowd's best linear prediction of knowing each item from the answers (see the module docstring).

    `crowd` is a distribution over the stored users (weights summing to 1), x_u the binary rows. With
    c = (C_AA + RIDGE · diag C_AA)⁻¹ (answers − μ_A), C_jA c = Σ_u crowd_u x_uj (x_uA · c) − μ_j (μ_A · c):
    one sparse product for the whole catalogue, never an items × answers matrix.
    """
    asked = np.concatenate([opinion_positions, unknown_positions]).astype(np.int64)[:MAX_CONDITIONED]
    mean = _share(collab, crowd).astype(np.float64)
    if asked.size == 0:
        return mean
    answers = (np.arange(asked.size) < opinion_positions.size).astype(np.float64)
    binary = collab.seen[:, asked].toarray().astype(np.float64) * collab.item_norm[asked]  # users × answers
    weighted = binary * crowd[:, None]
    mean_asked = mean[asked]
    among = weighted.T @ binary - np.outer(mean_asked, mean_asked)
    among += CONDITIONAL_RIDGE * np.diag(np.diag(among)) + 1e-9 * np.eye(asked.size)
    c = np.linalg.solve(among, answers - mean_asked)
    pull = (collab.seen_t @ (weighted @ c)) * collab.item_norm - mean * float(mean_asked @ c)  # float64: a difference
    return np.clip(mean + pull, 0.0, 1.0)


def _share(collab: KindCollab, weights: np.ndarray) -> np.ndarray:
    """Σ over the stored users of weights × knows each item (with weights summing to 1: the share that knows it)."""
    return ((collab.seen_t @ weights.astype(np.float32)) * collab.item_norm).astype(np.float32)


def genre_crowd(collab: KindCollab | None, genre_columns: np.ndarray | None,
                own_row: int | None) -> np.ndarray | None:
    """The stored users who chose the same genres, weighted by cosine² of the genre sets (summing to 1)."""
    if (collab is None or not collab.enabled or collab.user_genres is None or genre_columns is None
            or genre_columns.size == 0):
        return None
    chosen = np.zeros(collab.user_genres.shape[1], dtype=np.float32)
    chosen[genre_columns[genre_columns < chosen.size]] = 1.0
    overlap = np.asarray(collab.user_genres @ chosen).ravel()
    counts = np.asarray(collab.user_genres.sum(axis=1)).ravel()
    similarity = overlap / np.sqrt(np.maximum(counts, 1.0) * genre_columns.size)
    weights = (similarity * similarity).astype(np.float64)
    if own_row is not None:
        weights[own_row] = 0.0
    total = float(weights.sum())
    if total <= 0:
        return None
    return weights / total


def _vote_share(ix: KindIndex, collab: KindCollab | None, popularity: np.ndarray | None) -> np.ndarray:
    """Share of the stored users with an opinion on each item; the catalogue's popularity when there are none."""
    if collab is not None and collab.enabled and popularity is None and len(collab.user_ids):
        return (collab.item_norm ** 2 / np.float32(len(collab.user_ids))).astype(np.float32)
    return (ix.popularity if popularity is None else popularity).astype(np.float32)


def next_card(ix: KindIndex, collab: KindCollab | None, *, genre_columns: np.ndarray, asked: np.ndarray,
              opinion_positions: np.ndarray, opinion_values: np.ndarray, own_row: int | None = None,
              popularity: np.ndarray | None = None, allowed: np.ndarray | None = None) -> int | None:
    """The index row of the next warm-up card of this kind, or None when nothing is left to ask."""
    if ix.size == 0:
        return None
    unknown = np.setdiff1d(asked, opinion_positions)
    crowd = genre_crowd(collab, genre_columns, own_row)
    known = know_probability(ix, collab, opinion_positions=opinion_positions, unknown_positions=unknown,
                             own_row=own_row, popularity=popularity, crowd=crowd)
    weight = GENRE_WEIGHT if crowd is not None else GENRE_WEIGHT_WITHOUT_CROWD
    score = known * (1.0 + weight * genre_fit(ix, genre_columns))
    # Votes break ties between items nobody similar knows (an empty ratings matrix, say).
    score = score.astype(np.float64) + 1e-9 * np.log1p(ix.votes)
    if allowed is not None:
        score[~allowed] = -np.inf
    if asked.size:
        score[asked] = -np.inf
        for codes in (ix.series, ix.creator):
            taken = codes[asked]
            taken = taken[taken >= 0]
            if taken.size:
                score[np.isin(codes, taken)] = -np.inf
    best = int(np.argmax(score))
    return best if np.isfinite(score[best]) else None


def popular_cards(ix: KindIndex, popularity: np.ndarray | None, count: int) -> np.ndarray:
    """The reference picker: the `count` most popular items, the same for everyone."""
    share = ix.popularity if popularity is None else popularity
    return np.lexsort((np.arange(ix.size), -np.log1p(ix.votes), -share))[:count]
