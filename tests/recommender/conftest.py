"""Fixtures for the recommender tests: the real genres and moods, and small catalogues built with factories."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from catalog.models import Genre, Mood, MoodGenreWeight
from recommender.collab import collab_index_clear
from recommender.index import catalogue_index_clear
from recommender.selectors import serving_config_clear
from tests.factories import ContentItemFactory, OfferFactory, PartnerFactory

FIXTURES = Path(settings.BASE_DIR) / "fixtures"


@pytest.fixture(autouse=True)
def fresh_index(settings):
    """Every test sees its own catalogue at once: no cached index, no refresh delay."""
    settings.RECOMMENDER_INDEX_REFRESH_SECONDS = 0
    catalogue_index_clear()
    collab_index_clear()
    serving_config_clear()
    yield
    catalogue_index_clear()
    collab_index_clear()
    serving_config_clear()


def load_genres_and_moods():
    genres = {}
    for kind, rows in json.loads((FIXTURES / "genres.json").read_text(encoding="utf-8")).items():
        if kind.startswith("_"):
            continue
        for row in rows:
            genres[(kind, row["code"])] = Genre.objects.create(kind=kind, code=row["code"], name_ru=row["ru"],
                                                               name_en=row["en"])
    moods = {}
    for position, row in enumerate(json.loads((FIXTURES / "moods.json").read_text(encoding="utf-8"))["moods"]):
        mood = Mood.objects.create(
            code=row["code"], name_ru=row["ru"], name_en=row["en"], emoji=row.get("emoji", ""), position=position,
            valence=row["valence"], arousal=row["arousal"], tempo_min=row["tempo"][0], tempo_max=row["tempo"][1],
            energy_min=row["energy"][0], energy_max=row["energy"][1], mode=row.get("mode", ""),
        )
        moods[mood.code] = mood
        for kind, weights in row["genres"].items():
            for code, weight in weights.items():
                if (kind, code) in genres:
                    MoodGenreWeight.objects.create(mood=mood, genre=genres[(kind, code)], weight=weight)
    return genres, moods


@pytest.fixture
def taxonomy(db):
    """(genres by (kind, code), moods by code) from fixtures/genres.json and moods.json."""
    return load_genres_and_moods()


@pytest.fixture
def shop(db):
    return PartnerFactory(code="shop", name="Shop")


def make_item(shop, genres=(), *, offer=True, price="299.00", **fields):
    item = ContentItemFactory(genres=list(genres), **fields)
    if offer:
        OfferFactory(partner=shop, item=item, price=Decimal(price))
    return item
