"""Standard references for the offline evaluation: item-kNN and EASE^R, each blended with popularity.

Not served. They exist so every evaluation says where the model stands against what a
recommender engineer would try first (DESIGN §6). Both are scored from the user's likes only,
computed from exactly the stored ratings (and answers) the model sees, and blended with the
popularity prior:  score = reference / max(reference) + α · popularity.
Their settings (α; EASE's λ) are chosen on held-out *stored* users, never on test users.

- item-kNN: cosine item-item over the stored users' likes (`KindCollab.item_knn`, the same
  signal the model has as a feature);
- EASE^R (Steck 2019): B = I − P·diag(1/diag P), P = (XᵀX + λI)⁻¹ over the binary likes X,
  diag B = 0; the user's score is their like row times B. The dense inverse is cubic in items,
  so it is fitted on the EASE_ITEMS items with the most likes (the rest get 0 and rank by
  popularity): the long tail has too few likes for the item-item weights to mean anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .collab import KindCollab

EASE_ITEMS = 2500
EASE_LAMBDAS = (100.0, 300.0, 1000.0)
# The model's `ease` feature when no choice on held-out users was made (serving): the grid's middle.
EASE_LAMBDA = 300.0
# Training users get the feature from a fit without their fold of users (like every other
# collaborative signal, their own ratings must not describe them).
EASE_FOLDS = 5
# Serving rebuilds the fit in every process whenever the ratings change (collab.py's stamp): the
# cubic inverse is kept to ~0.1 s and 4 MB per kind by fitting the 1,000 most-liked items there
# (2,500 items: ~2 s and 25 MB per kind).
SERVING_EASE_ITEMS = 1000
BLEND_WEIGHTS = (0.0, 0.1, 0.2, 0.5, 1.0, 2.0)


@dataclass
class Ease:
    items: np.ndarray  # index rows the weights cover
    weights: np.ndarray  # float32 [len(items), len(items)], zero diagonal
    lam: float

    def scores(self, liked: np.ndarray, n: int) -> np.ndarray:
        out = np.zeros(n, dtype=np.float32)
        rows = np.flatnonzero(np.isin(self.items, liked))
        if rows.size:
            out[self.items] = self.weights[rows].sum(axis=0)
        return out


def likes_matrix(collab: KindCollab, keep_rows: np.ndarray | None = None) -> sp.csc_matrix:
    """Binary users × items likes of the stored users (optionally only some rows)."""
    likes = sp.csc_matrix(collab.like > 0, dtype=np.float32)
    return likes if keep_rows is None else sp.csc_matrix(likes.tocsr()[keep_rows])


def ease_fit(likes: sp.csc_matrix, lam: float, items: int = EASE_ITEMS) -> Ease:
    counts = np.asarray(likes.sum(axis=0)).ravel()
    order = np.lexsort((np.arange(counts.size), -counts))
    top = np.sort(order[: min(items, int((counts > 0).sum()))])
    x = likes[:, top]
    gram = (x.T @ x).toarray().astype(np.float64)
    gram[np.diag_indices_from(gram)] += lam
    p = np.linalg.inv(gram)
    b = -p / np.diag(p)
    b[np.diag_indices_from(b)] = 0.0
    return Ease(items=top, weights=b.astype(np.float32), lam=lam)


def blend(reference: np.ndarray, popularity: np.ndarray, alpha: float) -> np.ndarray:
    top = float(reference.max()) if reference.size else 0.0
    if top <= 0:
        # Nothing to go on (no likes, or none the reference covers): popularity alone, whatever α was
        # chosen; with α = 0 the blend would otherwise rank every item equal (a cold user's AUC 0.5).
        return popularity.astype(np.float32)
    return (reference / top + alpha * popularity).astype(np.float32)


@dataclass
class References:
    """The references with their chosen settings, ready to score replayed users."""

    knn_alpha: float
    ease: Ease | None
    ease_alpha: float

    @property
    def settings(self) -> dict:
        return {"item_knn": {"alpha": self.knn_alpha},
                "ease": {"lambda": self.ease.lam if self.ease else None, "alpha": self.ease_alpha}}

    def knn_scores(self, ix, collab: KindCollab, user, alpha: float | None = None) -> np.ndarray:
        knn = collab.item_knn(user.taste.liked, user.taste.own_row, ix.size)
        return blend(knn, _popularity(ix, user), self.knn_alpha if alpha is None else alpha)

    def evaluate(self, ix, collab: KindCollab, users) -> dict:
        from .learning import evaluate_scores

        rows = {"item_knn": evaluate_scores(users, lambda u: self.knn_scores(ix, collab, u))}
        if self.ease is not None:
            rows["ease"] = evaluate_scores(
                users, lambda u: blend(self.ease.scores(u.taste.liked, ix.size), _popularity(ix, u), self.ease_alpha))
        return rows


def _popularity(ix, user) -> np.ndarray:
    return (user.priors.popularity if user.priors is not None else ix.popularity).astype(np.float32)


def choose_references(ix, collab: KindCollab, validation: list) -> References:
    """α of item-kNN, and λ and α of EASE^R, by the best NDCG@10 on held-out stored users.

    EASE is fitted without those users' rows for the choice (item-kNN leaves each user's own row
    out by itself), then refitted on every stored user.
    """
    from .learning import evaluate_scores

    validation = [u for u in validation if u.heldout_liked.any()]
    if not validation or not collab.enabled:
        return References(knn_alpha=1.0, ease=None, ease_alpha=1.0)
    knn = {a: evaluate_scores(validation, lambda u, a=a: blend(
        collab.item_knn(u.taste.liked, u.taste.own_row, ix.size), _popularity(ix, u), a)).ndcg for a in BLEND_WEIGHTS}
    knn_alpha = max(BLEND_WEIGHTS, key=lambda a: (knn[a], -a))
    held_rows = [collab.row_of(u.user_id) for u in validation]
    keep = np.setdiff1d(np.arange(len(collab.user_ids)), [r for r in held_rows if r is not None])
    fit_likes = likes_matrix(collab, keep)
    best = (-1.0, -EASE_LAMBDAS[0], -BLEND_WEIGHTS[0])
    for lam in EASE_LAMBDAS:
        ease = ease_fit(fit_likes, lam)
        base = {id(u): ease.scores(u.taste.liked, ix.size) for u in validation}
        for a in BLEND_WEIGHTS:
            ndcg = evaluate_scores(validation, lambda u, a=a: blend(base[id(u)], _popularity(ix, u), a)).ndcg
            best = max(best, (ndcg, -lam, -a))
    _ndcg, lam, alpha = best
    return References(knn_alpha=knn_alpha, ease=ease_fit(likes_matrix(collab), -lam), ease_alpha=-alpha)


def attach_ease(collab: KindCollab, *, lam: float = EASE_LAMBDA, folds: int = 0, items: int = EASE_ITEMS) -> None:
    """Fit EASE^R for the model's `ease` feature: on every stored user (key -1, for anyone not stored)
    and, with `folds`, once per fold without that fold's users (for the stored users themselves)."""
    if not collab.enabled or not len(collab.user_ids):
        return
    likes = likes_matrix(collab)
    models = {-1: ease_fit(likes, lam, items)}
    fold_of_row = (collab.user_ids % folds).astype(np.int64) if folds else None
    for fold in range(folds):
        models[fold] = ease_fit(likes_matrix(collab, np.flatnonzero(fold_of_row != fold)), lam, items)
    collab.ease_models, collab.ease_fold_of_row = models, fold_of_row
