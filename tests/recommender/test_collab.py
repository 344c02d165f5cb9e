"""The collaborative signals: item-to-item, and the user-to-user "neighbours"."""

import numpy as np
import pytest

from recommender.collab import kind_collab_from_triples


def _collab(groups):
    """groups: [(user ids, item positions, value)] — every user of a group rates every item of it."""
    users, items, values = [], [], []
    for group_users, group_items, value in groups:
        for user in group_users:
            for item in group_items:
                users.append(user)
                items.append(item)
                values.append(value)
    return kind_collab_from_triples(np.array(users), np.array(items), np.array(values), 8)


@pytest.fixture(autouse=True)
def collab_on(settings):
    settings.RECOMMENDER_COLLAB_MIN_RATINGS = 1


def test_neighbours_are_what_people_with_the_same_answers_watched():
    # Users 1-4 rated films 0-2; users 5-8 rated films 3-5; film 6 only by user 9.
    collab = _collab([((1, 2, 3, 4), (0, 1, 2), 1), ((5, 6, 7, 8), (3, 4, 5), -1), ((9,), (6,), 1)])
    like, seen, neighbours = collab.signals(np.array([0]), np.array([1], dtype=np.int8), None, 8)
    # Every neighbour of someone who answered film 0 also rated films 1 and 2; nobody else counts.
    assert neighbours[1] == pytest.approx(1.0) and neighbours[2] == pytest.approx(1.0)
    assert neighbours[3] == neighbours[4] == neighbours[6] == neighbours[7] == 0.0
    # The signal is about watching, whatever the opinion: disliked films 3-5 are "watched" by their group.
    _l, _s, other = collab.signals(np.array([3]), np.array([1], dtype=np.int8), None, 8)
    assert other[4] == pytest.approx(1.0) and other[1] == 0.0


def test_closer_neighbours_count_more():
    # Users 1-2 rated 0, 1, 2 (like me: I answered 0 and 1); users 3-6 rated 0 and many others, including 7.
    collab = _collab([((1, 2), (0, 1, 2), 1), ((3, 4, 5, 6), (0, 3, 4, 5, 6, 7), 1)])
    _l, _s, neighbours = collab.signals(np.array([0, 1]), np.array([1, 1], dtype=np.int8), None, 8)
    assert neighbours[2] > neighbours[7] > 0


def test_a_users_own_ratings_never_feed_their_own_signals():
    collab = _collab([((1, 2, 3), (0, 1), 1), ((4,), (0, 5), 1)])
    mine = collab.row_of(4)
    like, seen, neighbours = collab.signals(np.array([0]), np.array([1], dtype=np.int8), mine, 8)
    assert like[5] == seen[5] == neighbours[5] == 0.0
    assert neighbours[1] > 0
    assert collab.signals(np.array([0]), np.array([1], dtype=np.int8), None, 8)[2][5] > 0


def test_signals_stay_off_without_enough_opinions(settings):
    settings.RECOMMENDER_COLLAB_MIN_RATINGS = 1000
    collab = _collab([((1, 2, 3), (0, 1), 1)])
    assert not any(s.any() for s in collab.signals(np.array([0]), np.array([1], dtype=np.int8), None, 8))
