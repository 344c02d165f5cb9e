"""The realistic replay (issue 11): the answering rule, the genre taps and the warm-up picker on small synthetic data."""

import numpy as np
import scipy.sparse as sp

from recommender.collab import kind_collab_from_triples
from recommender.evaluation import GenreTaps, answer, opinion, realistic_replay
from recommender.index import KindIndex, padded_columns
from recommender.signals import Priors
from recommender.warmup import next_card, popular_cards


def _index(genres: list[list[int]], votes: list[float]) -> KindIndex:
    n = len(genres)
    pairs = [(row, g) for row, gs in enumerate(genres) for g in gs]
    cols = padded_columns(n, np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]), 3)
    nan = np.full(n, np.nan, dtype=np.float32)
    return KindIndex(kind="film", item_ids=np.arange(1, n + 1), genre_ids=np.arange(3), genre_cols=cols,
                     mood_ids=np.empty(0, dtype=np.int64), mood_cols=np.zeros((0, n), dtype=np.int16), length=nan,
                     duration_seconds=nan, tempo=nan, energy=nan, valence=nan, mode=np.zeros(n, dtype=np.int8),
                     rating=np.full(n, 7.0, dtype=np.float32), votes=np.array(votes, dtype=np.float32),
                     popularity_raw=np.array(votes, dtype=np.float32), series=np.full(n, -1, dtype=np.int32),
                     creator=np.full(n, -1, dtype=np.int32), year=nan)


def test_the_answering_rule_like_from_4_dislike_to_2_5_and_an_unrated_card_is_dont_know():
    assert [answer(s) for s in (5.0, 4.0, 3.5, 3.0, 2.5, 0.5, None)] == [1, 1, 0, 0, -1, -1, 0]
    assert opinion(np.array([4.0, 3.0, 2.5])).tolist() == [1, 0, -1]


def test_a_replayed_user_answers_the_cards_from_their_ratings_and_keeps_the_rest_held_out():
    # Items 0..5 comedy (genre 0), 6..11 drama (genre 1); the most voted are the comedies.
    ix = _index([[0]] * 6 + [[1]] * 6, [100, 90, 80, 70, 60, 50, 60, 55, 50, 45, 40, 35])
    collab = kind_collab_from_triples(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
                                      np.zeros(0, dtype=np.int8), ix.size)
    taps = GenreTaps(share=np.array([0.7, 0.3, 0.0]))
    # A drama lover who rated dramas 6, 7 and 8 and one comedy badly; nothing else.
    rated = np.array([6, 7, 8, 0])
    stars = np.array([5.0, 4.0, 3.0, 1.0])
    user = realistic_replay(ix, collab, taps, rated, stars, user_id=1, cards=4)
    assert user.taste.genre_columns.tolist() == [1]  # taps Drama: liked twice, more than people in general
    # The picker asks the best-known dramas first (the chosen genre), one at a time.
    assert user.answered_positions.tolist() == [6, 7, 8, 9]
    # 6 like, 7 like, 8 (3 stars) don't know, 9 (never rated) don't know: only opinions are answers.
    assert user.taste.answer_positions.tolist() == [6, 7] and user.taste.answer_values.tolist() == [1, 1]
    # Everything rated and not asked is held out: the comedy rated 1 star.
    assert user.heldout_positions.tolist() == [0] and user.heldout_liked.tolist() == [False]

    popular = realistic_replay(ix, collab, taps, rated, stars, user_id=1, cards=4, popular=True)
    assert popular.answered_positions.tolist() == popular_cards(ix, None, 4).tolist() == [0, 1, 2, 3]
    assert popular.taste.answer_values.tolist() == [-1]


def test_the_reference_picker_shows_a_stored_user_the_list_everyone_sees_not_one_reranked_without_their_votes():
    # Items 2 and 3 tie for the last place of a three-card list (70 votes each); the tie goes to item 2.
    ix = _index([[0]] * 4, [100, 90, 70, 70])
    collab = kind_collab_from_triples(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
                                      np.zeros(0, dtype=np.int8), ix.size)
    taps = GenreTaps(share=np.array([1.0, 0.0, 0.0]))
    # A stored user who rated item 2 is replayed with their own vote left out of the priors (69 votes).
    rated, stars = np.array([2]), np.array([5.0])
    own = Priors(quality=np.zeros(4, dtype=np.float32), popularity=np.log1p([100, 90, 69, 70]).astype(np.float32))
    replayed = realistic_replay(ix, collab, taps, rated, stars, user_id=1, cards=3, priors=own, popular=True)
    # They are asked what everyone is asked, their film included: a list re-ranked without their vote would
    # swap in item 3, which they never rated, and count against the reference a card everyone else gets.
    assert replayed.answered_positions.tolist() == [0, 1, 2]
    assert replayed.taste.answer_positions.tolist() == [2]


def test_after_a_known_card_the_picker_asks_what_people_who_know_it_also_know():
    ix = _index([[0]] * 4, [50, 40, 30, 20])
    # Stored users 1-5 know items 1 and 3 together; users 6-14 know item 0 only (the best known).
    users = np.array([u for u in range(1, 6) for _ in range(2)] + list(range(6, 15)))
    items = np.array([1, 3] * 5 + [0] * 9)
    collab = kind_collab_from_triples(users, items, np.ones(len(items), dtype=np.int8), ix.size)
    collab.opinions = 10_000  # as if the kind had enough opinions for the collaborative signals
    ask = dict(genre_columns=np.empty(0, dtype=np.int64), opinion_values=np.array([1], dtype=np.int8))
    assert next_card(ix, collab, asked=np.array([1]), opinion_positions=np.array([1]), **ask) == 3
    # After only a "don't know" on item 1: the best-known card left.
    assert next_card(ix, collab, asked=np.array([1]), opinion_positions=np.empty(0, dtype=np.int64),
                     genre_columns=np.empty(0, dtype=np.int64), opinion_values=np.empty(0, dtype=np.int8)) == 0


def test_after_dont_know_the_picker_turns_to_what_other_people_know_not_to_the_same_crowds_next_film():
    ix = _index([[0]] * 4, [50, 40, 30, 20])
    # Stored users 1-8 know items 0 and 1 (say, a film and its sequel); users 9-15 know item 2; 16-17 item 3.
    users = np.array([u for u in range(1, 9) for _ in range(2)] + list(range(9, 18)))
    items = np.array([0, 1] * 8 + [2] * 7 + [3] * 2)
    collab = kind_collab_from_triples(users, items, np.ones(len(items), dtype=np.int8), ix.size)
    collab.opinions = 10_000  # as if the kind had enough opinions for the collaborative signals
    none = np.empty(0, dtype=np.int64)
    ask = dict(genre_columns=none, asked=np.array([0]))
    # Knows item 0: the sequel, which everyone who knows the film knows too.
    assert next_card(ix, collab, opinion_positions=np.array([0]), opinion_values=np.array([1], dtype=np.int8),
                     **ask) == 1
    # Doesn't know item 0: not its sequel (known by the same 8 people, now unlikely), but item 2, known by
    # 7 other people.
    assert next_card(ix, collab, opinion_positions=none, opinion_values=np.empty(0, dtype=np.int8), **ask) == 2


def test_before_any_answer_the_first_card_is_what_people_who_chose_the_same_genres_know():
    # Four films of one genre (genre fit cannot decide), item 0 the most voted. Stored users 1-6 chose
    # genre 1 and know item 2; users 7-15 chose no genre and know item 0.
    ix = _index([[0]] * 4, [50, 40, 30, 20])
    users = np.arange(1, 16)
    items = np.array([2] * 6 + [0] * 9)
    collab = kind_collab_from_triples(users, items, np.ones(len(items), dtype=np.int8), ix.size)
    collab.opinions = 10_000  # as if the kind had enough opinions for the collaborative signals
    chose = np.array([1.0] * 6 + [0.0] * 9, dtype=np.float32)
    collab.user_genres = sp.csr_matrix(np.column_stack([np.zeros(15), chose, np.zeros(15)]).astype(np.float32))
    none = np.empty(0, dtype=np.int64)
    ask = dict(asked=none, opinion_positions=none, opinion_values=np.empty(0, dtype=np.int8))
    assert next_card(ix, collab, genre_columns=np.array([1]), **ask) == 2
    # Nobody chose genre 2 or no genre at all: what everyone knows best.
    assert next_card(ix, collab, genre_columns=np.array([2]), **ask) == 0
    assert next_card(ix, collab, genre_columns=none, **ask) == 0
    # And after a "don't know" on item 2, a genre-1 person is asked the film everyone else knows.
    assert next_card(ix, collab, genre_columns=np.array([1]), asked=np.array([2]), opinion_positions=none,
                     opinion_values=np.empty(0, dtype=np.int8)) == 0


def test_a_genre_nobody_else_chose_still_leads_the_first_card_through_the_genre_fit():
    # Item 0 (genre 0) is known by 9 stored users, item 1 (genre 1) by 4; no stored user chose a genre.
    ix = _index([[0], [1]], [90, 40])
    users = np.arange(1, 14)
    items = np.array([0] * 9 + [1] * 4)
    collab = kind_collab_from_triples(users, items, np.ones(len(items), dtype=np.int8), ix.size)
    collab.opinions = 10_000  # as if the kind had enough opinions for the collaborative signals
    collab.user_genres = sp.csr_matrix((13, 3), dtype=np.float32)
    none = np.empty(0, dtype=np.int64)
    # A person who chose genre 1 is asked its best-known film first, though fewer people know it.
    assert next_card(ix, collab, genre_columns=np.array([1]), asked=none, opinion_positions=none,
                     opinion_values=np.empty(0, dtype=np.int8)) == 1
