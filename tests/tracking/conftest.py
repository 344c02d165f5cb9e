"""Fixtures for tracking tests: partners with tokens, recommendations, clicks through the real /go/ path."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from catalog.services import partner_issue_api_token, partner_issue_postback_key
from recommender.models import Experiment, Recommendation
from tests.factories import MoodFactory, OfferFactory, PartnerFactory, ProfileFactory
from tracking.links import offer_link_token
from tracking.models import Click
from users.models import User


@pytest.fixture
def partner(db):
    return PartnerFactory(code="kinoport", name="Kinoport", click_param="ms_click_id",
                          payout_purchase=Decimal("30.00"), payout_purchase_percent=Decimal("10.00"))


@pytest.fixture
def other_partner(db):
    return PartnerFactory(code="chitai", name="Chitai")


@pytest.fixture
def offer(partner):
    return OfferFactory(partner=partner, url="https://kinoport.example/film/42?utm_source=ms&q=a%20b")


@pytest.fixture
def other_offer(other_partner):
    return OfferFactory(partner=other_partner, url="https://chitai.example/book/7")


@pytest.fixture
def profile(db):
    return ProfileFactory(telegram_id=987654321)


@pytest.fixture
def make_recommendation(db):
    mood = MoodFactory()

    def make(profile=None, variant="", experiment=None, **extra):
        return Recommendation.objects.create(profile=profile, mood=mood, minutes=60, kinds=["film"],
                                             strategy="baseline", variant=variant, experiment=experiment, **extra)

    return make


@pytest.fixture
def experiment(db):
    return Experiment.objects.create(code="ranker-v2", name="Ranker v2", is_active=True)


def go_path(recommendation, offer) -> str:
    return reverse("tracking:go", args=[offer_link_token(recommendation_id=recommendation.pk, offer_id=offer.pk)])


@pytest.fixture
def click_on(client, make_recommendation):
    """Click an offer through the real /go/ view; returns the recorded Click.

    Each call comes from its own address, another person on an anonymous link: one network opening one
    offer is billed once a day, whichever links it opens."""
    addresses = (f"198.18.{n // 250}.{1 + n % 250}" for n in itertools.count())

    def click(offer, profile=None, recommendation=None, ago: timedelta | None = None):
        recommendation = recommendation or make_recommendation(profile=profile)
        response = client.get(go_path(recommendation, offer), REMOTE_ADDR=next(addresses))
        assert response.status_code == 302, response
        click = Click.objects.get(click_id=response["Location"].rsplit("=", 1)[1])
        if ago is not None:
            Click.objects.filter(pk=click.pk).update(created_at=click.created_at - ago)
            click.refresh_from_db()
        return click

    return click


@pytest.fixture
def partner_api(partner):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {partner_issue_api_token(partner=partner)}")
    return client


@pytest.fixture
def other_partner_api(other_partner):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {partner_issue_api_token(partner=other_partner)}")
    return client


@pytest.fixture
def postback_key(partner):
    return partner_issue_postback_key(partner=partner)


@pytest.fixture
def staff_user(db):
    return User.objects.create_superuser(username="boss", password="boss-password-123", email="")


@pytest.fixture
def partner_staff(partner):
    return User.objects.create_user(username="kino-staff", password="kino-password-123", is_staff=True,
                                    partner=partner)


@pytest.fixture
def other_partner_staff(other_partner):
    return User.objects.create_user(username="chitai-staff", password="chitai-password-123", is_staff=True,
                                    partner=other_partner)
