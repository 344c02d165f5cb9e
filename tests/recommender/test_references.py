"""The evaluation's standard references (item-kNN, EASE^R blended with popularity)."""

import numpy as np

from recommender.references import blend


def test_a_reference_with_nothing_to_go_on_ranks_by_popularity_whatever_the_blend_weight():
    popularity = np.array([0.1, 0.9, 0.5], dtype=np.float32)
    for alpha in (0.0, 0.5, 2.0):
        scores = blend(np.zeros(3, dtype=np.float32), popularity, alpha)
        assert list(np.argsort(-scores)) == [1, 2, 0]


def test_a_reference_with_signal_is_scaled_and_blended():
    popularity = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    reference = np.array([0.0, 4.0, 2.0], dtype=np.float32)
    assert list(np.argsort(-blend(reference, popularity, 0.0))) == [1, 2, 0]
    assert list(np.argsort(-blend(reference, popularity, 2.0))) == [0, 1, 2]
