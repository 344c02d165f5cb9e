"""The demo catalogue: complete, correct enough to demo every mood, and safe to load twice."""

import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Q

from catalog.models import ContentItem, Genre, Kind, Mood, MoodGenreWeight, Offer, Partner

pytestmark = pytest.mark.django_db

MINIMUM_ITEMS = {Kind.FILM: 150, Kind.BOOK: 150, Kind.TRACK: 250}


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)


def table_sizes():
    return {model.__name__: model.objects.count() for model in (Genre, Mood, MoodGenreWeight, ContentItem, Offer,
                                                                 Partner)}


def test_loading_twice_changes_nothing(demo):
    before = table_sizes()
    stamps = dict(ContentItem.objects.values_list("pk", "updated_at"))
    call_command("load_demo", verbosity=0)
    assert table_sizes() == before
    assert dict(ContentItem.objects.values_list("pk", "updated_at")) == stamps


def test_staff_edits_survive_a_reload(demo):
    weight = MoodGenreWeight.objects.select_related("mood", "genre").first()
    weight.weight = 0.05
    weight.save(update_fields=["weight"])
    item = ContentItem.objects.first()
    item.title = "Edited by staff"
    item.save(update_fields=["title"])
    offer = Offer.objects.first()
    offer.price = Decimal("1.00")
    offer.save(update_fields=["price"])
    mood = Mood.objects.get(code="calm")
    mood.name_en = "Serene"
    mood.save(update_fields=["name_en"])

    call_command("load_demo", verbosity=0)

    weight.refresh_from_db()
    item.refresh_from_db()
    offer.refresh_from_db()
    mood.refresh_from_db()
    assert (weight.weight, item.title, offer.price, mood.name_en) == (0.05, "Edited by staff", Decimal("1.00"), "Serene")


def test_catalogue_is_big_enough_and_every_item_is_on_sale(demo):
    for kind, minimum in MINIMUM_ITEMS.items():
        assert ContentItem.objects.filter(kind=kind).count() >= minimum, kind
    assert not ContentItem.objects.exclude(offers__available=True).exists()
    assert set(Partner.objects.values_list("code", flat=True)) == {"kinoport", "chitai", "zvukplus"}
    assert set(Offer.objects.values_list("currency", flat=True)) == {"RUB"}


def test_every_mood_has_fifteen_good_matches_of_each_kind(demo):
    for mood in Mood.objects.all():
        for kind in Kind.values:
            mood_genres = Q(genres__in=Genre.objects.filter(kind=kind, mood_weights__mood=mood))
            good = mood_genres
            if kind == Kind.TRACK:
                good |= Q(tempo__gte=mood.tempo_min, tempo__lte=mood.tempo_max,
                          energy__gte=mood.energy_min, energy__lte=mood.energy_max)
            matches = ContentItem.objects.filter(kind=kind, moods=mood).filter(good).distinct().count()
            assert matches >= 15, f"{mood.code}/{kind}: {matches}"


def test_external_ids_are_well_formed(demo):
    for imdb_id in ContentItem.objects.exclude(imdb_id="").values_list("imdb_id", flat=True):
        assert re.fullmatch(r"tt\d{7,8}", imdb_id), imdb_id
    for isbn in ContentItem.objects.exclude(isbn13="").values_list("isbn13", flat=True):
        digits = [int(d) for d in isbn]
        assert len(digits) == 13 and sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10 == 0, isbn


def test_kind_specific_fields_are_filled(demo):
    assert not ContentItem.objects.filter(kind=Kind.FILM, length_minutes__isnull=True).exists()
    assert not ContentItem.objects.filter(kind=Kind.BOOK, pages__isnull=True).exists()
    tracks = ContentItem.objects.filter(kind=Kind.TRACK)
    assert not tracks.filter(Q(duration_seconds__isnull=True) | Q(tempo__isnull=True) | Q(energy__isnull=True)
                             | Q(valence__isnull=True)).exists()
    interstellar = ContentItem.objects.get(imdb_id="tt0816692")
    assert (interstellar.original_title, interstellar.year, interstellar.creators) == (
        "Interstellar", 2014, ["Christopher Nolan"])
