"""The tracked redirect: a card's shop button lands on the shop with the click id, exactly once."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import IntegrityError
from django.test import override_settings

from catalog.models import Offer
from recommender.services import recommend
from recommender.types import RecommendationRequest
from tests.factories import ContentItemFactory, MoodFactory, OfferFactory
from tracking.links import offer_link, offer_link_token, read_offer_link_token
from tracking.models import Click
from tracking.services import is_redirectable_url, offer_url_with_click_id

from .conftest import go_path

pytestmark = pytest.mark.django_db


def test_click_from_a_recommendation_lands_on_the_shop_with_the_click_id(client, profile, partner, experiment):
    item = ContentItemFactory(length_minutes=90)
    offer = OfferFactory(item=item, partner=partner, url="https://kinoport.example/film/1?ref=ms")
    result = recommend(RecommendationRequest(mood=MoodFactory(), minutes=120, kinds=("film",), profile=profile))
    link = result.results["film"][0].offers[0].link

    browser = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"
    response = client.get(urlsplit(link).path, HTTP_USER_AGENT=browser)

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "kinoport.example", "/film/1")
    query = parse_qs(target.query)
    assert query["ref"] == ["ms"]
    click = Click.objects.get()
    assert query["ms_click_id"] == [click.click_id]
    assert len(click.click_id) >= 22
    assert (click.offer, click.partner, click.profile) == (offer, partner, profile)
    assert str(click.recommendation_id) == str(result.request_id)
    assert click.user_agent == browser
    assert click.billable
    assert click.payout == partner.payout_click
    assert response["Cache-Control"].startswith("max-age=0")


def test_card_links_use_the_public_address(offer, make_recommendation, settings):
    recommendation = make_recommendation()
    for base in ("https://moodstream.example", "https://go.moodstream.example/ms"):
        settings.PUBLIC_BASE_URL = base
        link = offer_link(recommendation_id=recommendation.pk, offer_id=offer.pk)
        assert link == f"{base}/go/" + offer_link_token(recommendation_id=recommendation.pk, offer_id=offer.pk)
        assert read_offer_link_token(link.rsplit("/", 1)[1]) == (recommendation.pk, offer.pk)


def test_a_click_costs_two_database_round_trips(client, offer, profile, make_recommendation,
                                               django_assert_num_queries):
    # The link's offer, partner and recommendation in one query; lock, dedup check and insert in another.
    path = go_path(make_recommendation(profile=profile), offer)
    with django_assert_num_queries(2):
        assert client.get(path).status_code == 302
    assert Click.objects.count() == 1


def test_existing_query_is_kept_byte_for_byte_and_partner_param_used(client, partner, offer, make_recommendation):
    partner.click_param = "sub_id"
    partner.save(update_fields=["click_param"])
    response = client.get(go_path(make_recommendation(), offer))
    click_id = Click.objects.get().click_id
    assert response["Location"] == f"https://kinoport.example/film/42?utm_source=ms&q=a%20b&sub_id={click_id}"


def test_a_stored_click_param_is_replaced_not_duplicated():
    url = offer_url_with_click_id(url="https://s.example/p?ms_click_id=old&x=1#frag", param="ms_click_id",
                                  click_id="NEW")
    assert url == "https://s.example/p?x=1&ms_click_id=NEW#frag"


def test_variant_and_experiment_come_from_the_recommendation(client, offer, profile, experiment, make_recommendation):
    recommendation = make_recommendation(profile=profile, variant="treatment", experiment=experiment)
    client.get(go_path(recommendation, offer))
    click = Click.objects.get()
    assert (click.variant, click.experiment) == ("treatment", experiment)


def test_click_ids_are_unique_and_random(client, offer, make_recommendation):
    for number in range(20):  # twenty people
        client.get(go_path(make_recommendation(), offer), REMOTE_ADDR=f"203.0.113.{number + 1}")
    ids = set(Click.objects.values_list("click_id", flat=True))
    assert len(ids) == 20


def test_repeated_click_within_the_window_counts_once_and_reuses_the_click_id(client, offer, profile,
                                                                              make_recommendation):
    first = client.get(go_path(make_recommendation(profile=profile), offer))
    # A second card (another recommendation) of the same offer, a second later: the same user, same offer.
    second = client.get(go_path(make_recommendation(profile=profile), offer))
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Click.objects.count() == 1


@override_settings(CLICK_DEDUP_SECONDS=10)
def test_click_after_the_window_counts_again(client, offer, profile, make_recommendation):
    recommendation = make_recommendation(profile=profile)
    client.get(go_path(recommendation, offer))
    Click.objects.update(created_at=Click.objects.get().created_at - timedelta(seconds=11))
    client.get(go_path(recommendation, offer))
    assert Click.objects.count() == 2


def test_same_user_different_offers_are_different_clicks(client, offer, other_offer, profile, make_recommendation):
    recommendation = make_recommendation(profile=profile)
    client.get(go_path(recommendation, offer))
    client.get(go_path(recommendation, other_offer))
    assert Click.objects.count() == 2


@pytest.mark.parametrize("mangle", [
    lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature changed
    lambda token: "x" + token,
    lambda token: "not-a-token",
    lambda token: token.split(".")[0],
])
def test_forged_token_is_404_and_records_nothing(client, offer, make_recommendation, mangle):
    token = offer_link_token(recommendation_id=make_recommendation().pk, offer_id=offer.pk)
    response = client.get(f"/go/{mangle(token)}")
    assert response.status_code == 404
    assert Click.objects.count() == 0


def test_token_edited_to_point_at_another_offer_is_404(client, offer, other_offer, make_recommendation):
    token = offer_link_token(recommendation_id=make_recommendation().pk, offer_id=offer.pk)
    rec_hex, offer_hex, signature = token.split(".")
    forged = f"{rec_hex}.{other_offer.pk:x}.{signature}"
    assert client.get(f"/go/{forged}").status_code == 404
    assert Click.objects.count() == 0


def test_token_for_a_deleted_offer_or_recommendation_is_404(client, offer, make_recommendation):
    recommendation = make_recommendation()
    path = go_path(recommendation, offer)
    recommendation.delete()
    assert client.get(path).status_code == 404
    assert Click.objects.count() == 0


def test_withdrawn_offer_shows_a_page_and_does_not_redirect(client, offer, make_recommendation):
    offer.partner.name = "<b>Kino & Co</b>"
    offer.partner.save(update_fields=["name"])
    Offer.objects.filter(pk=offer.pk).update(available=False)
    response = client.get(go_path(make_recommendation(), offer))
    assert response.status_code == 410
    assert "Location" not in response
    body = response.content.decode()
    assert "offer is gone" in body
    assert "&lt;b&gt;Kino &amp; Co&lt;/b&gt;" in body
    assert Click.objects.count() == 0


def test_inactive_partner_offer_is_gone_too(client, offer, make_recommendation):
    offer.partner.is_active = False
    offer.partner.save(update_fields=["is_active"])
    assert client.get(go_path(make_recommendation(), offer)).status_code == 410


@pytest.mark.parametrize("url, ok", [
    ("https://shop.example/a?b=c", True),
    ("http://shop.example", True),
    ("javascript:alert(1)", False),
    ("JAVASCRIPT:alert(1)", False),
    ("data:text/html,hi", False),
    ("//evil.example/x", False),
    ("https:///nohost", False),
    ("https://shop.example/a b", False),
    ("ftp://shop.example/file", False),
    ("http://[::1/broken", False),
    ("", False),
])
def test_only_absolute_http_urls_are_redirect_targets(url, ok):
    assert is_redirectable_url(url) is ok


def test_a_javascript_url_can_never_be_stored_as_an_offer(offer):
    with pytest.raises(IntegrityError):
        Offer.objects.filter(pk=offer.pk).update(url="javascript:alert(document.cookie)")


def test_post_is_not_allowed(client, offer, make_recommendation):
    assert client.post(go_path(make_recommendation(), offer)).status_code == 405
    assert Click.objects.count() == 0
