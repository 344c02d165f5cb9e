"""The warm-up picker: which card registration shows next (DESIGN §4), used by the bot and the replay alike.

A warm-up card is worth showing when the person can answer it: a "don't know" teaches almost
nothing, a like or a dislike teaches the taste. So the next card is the item this person most
probably *knows*, leaning to the genres they just chose:

    next = argmax over unasked items of  P(knows item) × (1 + GENRE_WEIGHT · genre fit)

- P(knows item) is the mean of two estimates from the stored users' "has an opinion" rows:
  * the linear conditional expectation: over all stored users, the best linear prediction of
    "knows item j" from what is known of this person — each answer so far (1 for a like or
    dislike, 0 for a "don't know") and each genre (1 chosen, 0 not):
        P(j) = μ_j + C_jx (C_xx + RIDGE · diag C_xx)⁻¹ (x − μ_x)
    (μ: the stored users' share knowing each item or choosing each genre, C: their covariance;
    x: this person's answers and genres). Before any answer it is what people who choose these
    genres know (and how many genres someone picks says how much they know: heavy viewers find
    more genres to their taste). Unlike the neighbours it learns from "don't know" answers before
    any opinion (after "don't know" on a film, what the same people know drops, what *other*
    people know rises), and it weighs correlated answers once (two sequels known count as one
    fact). Issue 11d conditioned on the answers within a genre crowd (the stored users weighted by
    cosine² of their genre sets); the thirteenth session's regression on the genres over everyone
    gathers +1.3% more opinions on the held-out stored users (docs/recommender.md);
  * neighbours: the share of the stored users who gave an opinion on the item, weighted by how
    alike they are to this person: each stored user's weight is their similarity² to the
    opinions given so far (the overlap of the binary rows over degree^¼ · √k: softer than
    cosine, so people who know many films count more), a "don't know" counting against those
    who know that card. With k opinions the neighbours' share is shrunk toward the conditional
    expectation (plain popularity when the genres are unknown) as (k · neighbours + prior) / (k + 1) —
    one opinion is thin evidence. So the conditional expectation carries the whole estimate before the
    first opinion (after "don't know" answers too) and half of it in the long run.
  After a "don't know" the next card is therefore a well-known one that other people know
  (DESIGN: "after Don't know, something better known"); after a like or a dislike it is what
  people who know that item also know.
- genre fit is the cosine of the item's genres with the chosen genres (0..1), so well-known
  items of the chosen genres come first but a very well-known item outside them can still be
  asked (a dislike is an answer too). GENRE_WEIGHT is 1 when P(knows) learns from the stored
  users' genres (it leans to the chosen genres already), 2 when P(knows) is blind to them (no
  stored ratings yet, or no other stored user chose any of these genres).
- no two cards of one series or by one creator.
The weights and the ridge were chosen on held-out stored users, never on test users.
"""

from __future__ import annotations

import numpy as np

from .collab import KindCollab
from .index import KindIndex

# How much more a card of the chosen genres is worth than an equally well-known card outside them, when
# P(knows) learns from the stored users' genres (so it leans to the chosen genres already).
# Chosen on held-out *stored* users of latest-small, seeds 0-2 (mean opinions gathered): with the
# neighbours alone (issue 11b) 0 → 1 +9%, 1 → 2 +0.5%, 2 → 4 −1%; with the conditional expectation
# averaged in (issue 11d, one half of the stored users) 0.5 / 1 / 1.5 / 2 → 1.284× / 1.300× / 1.299× / 1.292×;
# with the genres as regressors (thirteenth session, half 0) 0.5 / 1 / 1.5 → 1.299× / 1.314× / 1.308×.
GENRE_WEIGHT = 1.0
# The same when P(knows) is blind to the chosen genres — no stored ratings yet (the catalogue's popularity), or
# no other stored user chose any of them: the genre fit alone carries them, at issue 11's weight.
GENRE_WEIGHT_WITHOUT_GENRES = 2.0
# The neighbours' similarity divides the overlap by degree ** this (cosine: ½). What is predicted is
# *knowing* an item, and people who know many films know more of what this person knows, so a
# weaker length normalisation lets them count more: ½ → ¼ gave +1% opinions, 0 −0.5% (stored users, seeds 0-2).
NEIGHBOUR_DEGREE_POWER = 0.25
# A "don't know" counts against the stored users who know that card, at half the weight of a known card.
DONT_KNOW_WEIGHT = 0.5
# The conditional expectation's ridge, as a share of each regressor's own variance: 1 halves a lone answer's
# pull (stored users, one half: ridge ½ / 1 / 2 → 1.297× / 1.300× / 1.288×). The genres take the same
# ridge (½ / 1 / 2 on them alone: 1.309× / 1.314× / 1.315×, thirteenth session, half 0).
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
                     popularity: np.ndarray | None = None, genre_columns: np.ndarray | None = None) -> np.ndarray:
    """How likely this person knows each item, from who else knows it (see the module docstring)."""
    if collab is None or not collab.enabled:
        return _vote_share(ix, collab, popularity)
    everyone = np.ones(len(collab.user_ids), dtype=np.float64)
    if own_row is not None:
        everyone[own_row] = 0.0
    if everyone.sum() <= 0:
        return _vote_share(ix, collab, popularity)
    everyone /= everyone.sum()
    genres = _genre_regressors(collab, genre_columns)
    share = _share(collab, everyone).astype(np.float64)
    conditional = _conditional_share(collab, everyone, share, opinion_positions, unknown_positions, genres)
    # The neighbours are shrunk toward the best estimate without them: the conditional expectation from the genres
    # and every answer, the "don't know" answers included, which the neighbours cannot use before an opinion.
    prior = _vote_share(ix, collab, popularity) if genres is None else conditional.astype(np.float32)
    neighbours = _neighbour_share(collab, prior, opinion_positions, unknown_positions, own_row)
    return (0.5 * (neighbours + conditional)).astype(np.float32)


def _genre_regressors(collab: KindCollab, genre_columns: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    """The stored users' chosen genres (users × genre columns, 0/1) and this person's, or None when either is
    unknown: the stored users' genres (no profiles) or this person's (none given)."""
    if collab.user_genres is None or genre_columns is None:
        return None
    stored = collab.user_genres.toarray().astype(np.float64)
    chosen = np.zeros(stored.shape[1], dtype=np.float64)
    chosen[genre_columns[genre_columns < chosen.size]] = 1.0
    return stored, chosen


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


def _conditional_share(collab: KindCollab, users: np.ndarray, mean: np.ndarray, opinion_positions: np.ndarray,
                       unknown_positions: np.ndarray, genres: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """The stored users' best linear prediction of knowing each item from what is known of this person (see the
    module docstring): the answers so far and, when `genres` is given, the genres chosen.

    `users` weighs the stored users (summing to 1), `mean` is their share knowing each item, x_u their rows
    of regressors: the asked cards (1 known) and the genres (1 chosen). With
    c = (C_xx + RIDGE · diag C_xx)⁻¹ (person − μ_x), the pull on item j is
    C_jx c = Σ_u users_u knows_uj (x_u · c) − μ_j (μ_x · c): one sparse product for the whole catalogue,
    never an items × regressors matrix.
    """
    asked = np.concatenate([opinion_positions, unknown_positions]).astype(np.int64)[:MAX_CONDITIONED]
    person = (np.arange(asked.size) < opinion_positions.size).astype(np.float64)
    rows = collab.seen[:, asked].toarray().astype(np.float64) * collab.item_norm[asked]  # users × answers
    if genres is not None:
        rows = np.hstack([rows, genres[0]]) if asked.size else genres[0]
        person = np.concatenate([person, genres[1]])
    if person.size == 0:
        return mean
    weighted = rows * users[:, None]
    mean_x = users @ rows
    among = weighted.T @ rows - np.outer(mean_x, mean_x)
    among += CONDITIONAL_RIDGE * np.diag(np.diag(among)) + 1e-9 * np.eye(person.size)
    c = np.linalg.solve(among, person - mean_x)
    pull = (collab.seen_t @ (weighted @ c)) * collab.item_norm - mean * float(mean_x @ c)  # float64: a difference
    return np.clip(mean + pull, 0.0, 1.0)


def _share(collab: KindCollab, weights: np.ndarray) -> np.ndarray:
    """Σ over the stored users of weights × knows each item (with weights summing to 1: the share that knows it)."""
    return ((collab.seen_t @ weights.astype(np.float32)) * collab.item_norm).astype(np.float32)


def _learns_from_genres(collab: KindCollab | None, genre_columns: np.ndarray, own_row: int | None) -> bool:
    """Whether P(knows) leans to the chosen genres already: another stored user chose one of them."""
    if collab is None or not collab.enabled or collab.user_genres is None or genre_columns.size == 0:
        return False
    chosen = genre_columns[genre_columns < collab.user_genres.shape[1]]
    choosers = np.flatnonzero(np.asarray(collab.user_genres[:, chosen].sum(axis=1)).ravel())
    return bool(np.any(choosers != own_row)) if own_row is not None else choosers.size > 0


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
    known = know_probability(ix, collab, opinion_positions=opinion_positions, unknown_positions=unknown,
                             own_row=own_row, popularity=popularity, genre_columns=genre_columns)
    weight = GENRE_WEIGHT if _learns_from_genres(collab, genre_columns, own_row) else GENRE_WEIGHT_WITHOUT_GENRES
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
