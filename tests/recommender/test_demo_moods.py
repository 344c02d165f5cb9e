"""Mood visibly matters on the demo catalogue (issue 4, Targets): far-apart moods give different picks."""

from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.management import call_command

from catalog.models import Mood
from recommender.index import catalogue_index
from recommender.services import recommend
from recommender.types import RecommendationRequest

DEMO = Path(settings.BASE_DIR) / "fixtures" / "demo"
HAS_DEMO = (Path(settings.BASE_DIR) / "catalog" / "management" / "commands" / "load_demo.py").exists() and all(
    (DEMO / name).exists() for name in ("films.json", "books.json", "tracks.json"))

pytestmark = [pytest.mark.django_db, pytest.mark.skipif(not HAS_DEMO, reason="the demo catalogue is not there yet")]

FAR_APART = [("joyful", "melancholic"), ("energetic", "calm")]
TOP = 5


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)


def _top(mood: Mood, minutes=180):
    result = recommend(RecommendationRequest(mood=mood, minutes=minutes, limit=TOP))
    return result.results


def _fits_mood(pick, mood: Mood) -> bool:
    weights = set(mood.genre_weights.values_list("genre_id", flat=True))
    if any(g.pk in weights for g in pick.item.genres.all()):
        return True
    item = pick.item
    if item.kind == "track" and item.tempo is not None and item.energy is not None:
        return (mood.tempo_min <= item.tempo <= mood.tempo_max) and (mood.energy_min <= item.energy <= mood.energy_max)
    return False


@pytest.mark.parametrize("first, second", FAR_APART)
def test_far_apart_moods_share_at_most_one_item_per_kind(demo, first, second):
    a, b = (_top(Mood.objects.get(code=code)) for code in (first, second))
    for kind in ("film", "book", "track"):
        assert len(a[kind]) == TOP and len(b[kind]) == TOP
        shared = {p.item.pk for p in a[kind]} & {p.item.pk for p in b[kind]}
        assert len(shared) <= 1, (kind, [p.item.title for p in a[kind]], [p.item.title for p in b[kind]])


def test_most_picks_carry_a_mood_genre_or_fall_in_its_audio_range(demo):
    fitting = total = 0
    for mood in Mood.objects.filter(is_active=True):
        for picks in _top(mood).values():
            fitting += sum(_fits_mood(p, mood) for p in picks)
            total += len(picks)
    assert total and fitting / total >= 0.8, f"{fitting}/{total}"


def test_films_respect_the_time_and_playlists_fill_it(demo):
    mood = Mood.objects.get(code="unwind")
    for minutes in (30, 90, 120):
        result = recommend(RecommendationRequest(mood=mood, minutes=minutes, limit=TOP))
        assert all(p.item.length_minutes <= minutes for p in result.results["film"])
        assert result.playlist.total_seconds <= minutes * 60
        assert result.playlist.total_seconds >= 0.9 * minutes * 60
        artists = [p.item.primary_creator for p in result.playlist.items]
        assert len(artists) == len(set(artists))


def test_index_holds_every_demo_item_with_an_offer(demo):
    index = catalogue_index()
    assert all(ix.size > 0 for ix in index.kinds.values())
    assert np.isfinite(index.kinds["film"].quality).all()


OPPOSITE = [("joyful", "melancholic"), ("calm", "energetic"), ("calm", "thrills")]


@pytest.mark.parametrize("first, second", OPPOSITE)
def test_opposite_moods_share_no_top_three_film(demo, first, second):
    a, b = (recommend(RecommendationRequest(mood=Mood.objects.get(code=code), minutes=180, kinds=("film",),
                                            limit=3)).results["film"] for code in (first, second))
    assert not {p.item.pk for p in a} & {p.item.pk for p in b}, ([p.item.title for p in a], [p.item.title for p in b])


def test_an_empty_profile_gets_no_top_three_item_with_fewer_votes_than_the_kinds_median(demo):
    index = catalogue_index()
    median = {kind: float(np.median(ix.votes)) for kind, ix in index.kinds.items()}
    for mood in Mood.objects.filter(is_active=True):
        for kind, picks in recommend(RecommendationRequest(mood=mood, minutes=600, limit=3)).results.items():
            low = [(p.item.title, p.item.votes) for p in picks if (p.item.votes or 0) < median[kind]]
            assert not low, (mood.code, kind, median[kind], low)


def test_books_move_with_the_minutes(demo):
    for mood in Mood.objects.filter(is_active=True):
        lengths = {}
        for minutes in (30, 600):
            picks = recommend(RecommendationRequest(mood=mood, minutes=minutes, kinds=("book",), limit=3)).results
            lengths[minutes] = float(np.median([p.item.length_minutes for p in picks["book"]]))
        assert lengths[30] < lengths[600], (mood.code, lengths)
