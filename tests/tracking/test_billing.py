"""Click billing: one billable click per (offer, person) within the window; crawlers, prefetches and HEAD free."""

import ipaddress
import threading
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.db import connection, connections
from django.test import Client, override_settings
from django.utils import timezone

from recommender.index import catalogue_index_clear
from tests.factories import ContentItemFactory, MoodFactory, OfferFactory
from tracking.billing import is_billable_request
from tracking.models import Click, DailyKpi
from tracking.selectors import partner_daily_stats, partner_statement
from tracking.services import kpi_refresh_range
from users.services import api_key_issue

from .conftest import go_path

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
PREVIEW_AGENTS = [
    "TelegramBot (like TwitterBot)",
    "WhatsApp/2.23.20.0 A",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Facebot",
    "Twitterbot/1.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "LinkPreview/1.0",
    "some-crawler/3.1",
    "Mozilla/5.0 (compatible; YandexSpider/3.0)",
]


def billable_clicks():
    return Click.objects.filter(billable=True)


@pytest.fixture
def anonymous_link(offer, make_recommendation):
    """A link of a recommendation made without a Telegram user (an API client's)."""
    return go_path(make_recommendation(profile=None), offer)


def test_anonymous_api_link_bills_one_click_for_twenty_gets(client, catalogue_offer_for_api):
    api_key = api_key_issue(name="app")[1]
    response = client.post("/api/v1/recommendations", {"mood": catalogue_offer_for_api.code, "minutes": 120},
                           content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    assert response.status_code == 200, response.content
    link = urlsplit(response.json()["results"]["film"][0]["offers"][0]["link"]).path

    locations = {client.get(link, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7")["Location"]
                 for _ in range(20)}

    assert billable_clicks().count() == 1
    assert Click.objects.count() == 1
    # Every repeat lands with the one click id.
    assert locations == {f"https://kinoport.example/film/9?ms_click_id={Click.objects.get().click_id}"}


@pytest.fixture
def catalogue_offer_for_api(partner):
    """A mood and one film on offer; the recommender's per-process index is built for this test alone."""
    catalogue_index_clear()
    mood = MoodFactory()
    OfferFactory(item=ContentItemFactory(length_minutes=90), partner=partner, url="https://kinoport.example/film/9")
    yield mood
    catalogue_index_clear()


def test_anonymous_clicks_by_different_people_are_billed_each(client, anonymous_link):
    client.get(anonymous_link, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7")
    client.get(anonymous_link, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="198.51.100.20")  # another address
    client.get(anonymous_link, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="2001:db8:1:2::10")  # an IPv6 subscriber
    client.get(anonymous_link, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="2001:db8:1:3::10")  # another /64
    client.get(anonymous_link, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7")  # the first one again
    assert billable_clicks().count() == 4


def test_a_new_user_agent_or_ipv6_interface_id_does_not_bill_again(client, anonymous_link):
    """A user agent costs nothing to change, nor do the lower 64 bits of an IPv6 address: neither makes a new person."""
    for number in range(10):
        client.get(anonymous_link, HTTP_USER_AGENT=f"{BROWSER} Variant/{number}", REMOTE_ADDR="203.0.113.7")
        client.get(anonymous_link, HTTP_USER_AGENT=f"{BROWSER} Variant/{number}",
                   REMOTE_ADDR=f"2001:db8:1:2::{number + 1:x}")
    assert billable_clicks().count() == 2


def test_forwarded_for_is_believed_only_behind_a_trusted_proxy(client, anonymous_link, settings):
    settings.TRUSTED_PROXY = False
    for forged in ("198.51.100.1", "198.51.100.2"):
        client.get(anonymous_link, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=forged)
    assert billable_clicks().count() == 1

    settings.TRUSTED_PROXY = True  # the proxy appends the real client's address last
    for person in ("198.51.100.1", "198.51.100.2", "198.51.100.2"):
        client.get(anonymous_link, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="10.0.0.2",
                   HTTP_X_FORWARDED_FOR=f"1.2.3.4, {person}")
    assert billable_clicks().count() == 3


def test_forwarded_for_from_a_client_that_bypasses_the_proxy_does_not_bill_again(client, anonymous_link, settings):
    """TRUSTED_PROXY on, but gunicorn reached directly from the internet: a made-up X-Forwarded-For on each
    request must not make a new person, only the proxy's own networks are believed."""
    settings.TRUSTED_PROXY = True
    for forged in ("198.51.100.1", "198.51.100.2", "198.51.100.3", "not-an-address"):
        client.get(anonymous_link, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=forged)
    assert billable_clicks().count() == 1

    # The proxy at an address named in TRUSTED_PROXY_NETWORKS (here a public one) is believed again.
    settings.TRUSTED_PROXY_NETWORKS = (ipaddress.ip_network("203.0.113.0/28"),)
    client.get(anonymous_link, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7",
               HTTP_X_FORWARDED_FOR="198.51.100.9")
    # …but a proxy that forwards something that is not an address counts as its own address: already billed.
    client.get(anonymous_link, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7",
               HTTP_X_FORWARDED_FOR="198.51.100.10, unknown")
    assert billable_clicks().count() == 2


def test_a_client_minting_new_anonymous_links_to_one_offer_is_billed_once(client, offer, other_offer,
                                                                           make_recommendation):
    # A partner site's widget asks the API for a recommendation on every page view, so a client that reloads
    # the page gets a fresh link each time: twenty links to one offer, opened from one network, bill once.
    locations = {client.get(go_path(make_recommendation(), offer), HTTP_USER_AGENT=BROWSER,
                            REMOTE_ADDR="203.0.113.7")["Location"] for _ in range(20)}
    assert billable_clicks().count() == 1 and len(locations) == 1
    # Another network on one of those links, or the same client on another offer, is another click.
    client.get(go_path(make_recommendation(), offer), HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="198.51.100.20")
    client.get(go_path(make_recommendation(), other_offer), HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7")
    assert billable_clicks().count() == 3


@override_settings(CLICK_DEDUP_SECONDS=10)
def test_anonymous_click_after_the_window_is_billed_again(client, anonymous_link):
    client.get(anonymous_link, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7")
    Click.objects.update(created_at=timezone.now() - timedelta(seconds=11))
    client.get(anonymous_link, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7")
    assert billable_clicks().count() == 2


def test_a_link_replayed_hours_later_by_the_same_person_is_billed_once_a_day(client, partner, offer, profile,
                                                                            make_recommendation):
    # The token names the person, so a script holding the link can replay it from anywhere.
    path = go_path(make_recommendation(profile=profile), offer)
    first = client.get(path, HTTP_USER_AGENT=BROWSER)["Location"]
    Click.objects.update(created_at=timezone.now() - timedelta(hours=23))
    again = client.get(path, HTTP_USER_AGENT="curl/8.5.0", REMOTE_ADDR="198.51.100.9")["Location"]
    assert again == first  # the same click id: the shop sees the visit, the partner pays once
    assert billable_clicks().count() == 1
    Click.objects.update(created_at=timezone.now() - timedelta(hours=25))
    client.get(path, HTTP_USER_AGENT=BROWSER)
    assert billable_clicks().count() == 2  # the next day's visit is a new click


def test_the_client_address_is_never_stored(client, anonymous_link):
    client.get(anonymous_link, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7")
    row = Click.objects.values().get()
    assert not any("203.0.113.7" in str(value) for value in row.values())
    assert len(row["dedup_key"]) == 32


@pytest.mark.parametrize("user_agent", PREVIEW_AGENTS)
def test_link_preview_crawlers_are_redirected_but_never_billed(client, partner, anonymous_link, user_agent):
    response = client.get(anonymous_link, HTTP_USER_AGENT=user_agent)
    assert response.status_code == 302
    assert response["Location"].startswith("https://kinoport.example/film/42")
    click = Click.objects.get()
    assert (click.billable, click.payout, click.dedup_key) == (False, Decimal("0"), "")


@pytest.mark.parametrize("header", ["HTTP_SEC_PURPOSE", "HTTP_PURPOSE"])
@pytest.mark.parametrize("value", ["prefetch", "prefetch;prerender", "prefetch;anonymous-client-ip"])
def test_prefetches_are_redirected_but_never_billed(client, anonymous_link, header, value):
    response = client.get(anonymous_link, HTTP_USER_AGENT=BROWSER, **{header: value})
    assert response.status_code == 302
    assert not billable_clicks().exists()


def test_head_is_redirected_but_never_billed(client, anonymous_link):
    response = client.head(anonymous_link, HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 302
    assert not billable_clicks().exists()


def test_a_preview_does_not_swallow_the_persons_click(client, offer, profile, make_recommendation):
    # Telegram fetches the link for its preview, then the user taps it: the tap is billed.
    path = go_path(make_recommendation(profile=profile), offer)
    client.get(path, HTTP_USER_AGENT="TelegramBot (like TwitterBot)")
    client.get(path, HTTP_USER_AGENT=BROWSER)
    client.get(path, HTTP_USER_AGENT=BROWSER)
    assert billable_clicks().count() == 1
    assert Click.objects.filter(billable=False).count() == 1


@pytest.mark.parametrize("user_agent", [
    BROWSER,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
    " Telegram-iOS/10.14",  # Telegram's in-app browser: a person
    "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile",
    "",
])
def test_people_are_billable(user_agent):
    assert is_billable_request(method="GET", user_agent=user_agent, headers={})


def test_kpi_partner_statistics_and_statement_count_billable_clicks_only(client, partner, offer, profile,
                                                                         make_recommendation):
    path = go_path(make_recommendation(profile=profile), offer)
    client.get(path, HTTP_USER_AGENT="facebookexternalhit/1.1")
    client.head(path, HTTP_USER_AGENT=BROWSER)
    client.get(path, HTTP_USER_AGENT=BROWSER)
    assert Click.objects.count() == 3
    today = timezone.localdate()

    kpi_refresh_range(date_from=today, date_to=today)
    (row,) = DailyKpi.objects.filter(day=today)
    assert (row.clicks, row.payouts) == (1, partner.payout_click)

    (day,) = partner_daily_stats(partner=partner, date_from=today, date_to=today)
    assert (day.clicks, day.click_payout) == (1, partner.payout_click)

    statement = partner_statement(partner=partner, month=date(today.year, today.month, 1))
    assert [(line.action, line.count, line.payout) for line in statement.lines] == [
        ("click", 1, partner.payout_click)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_gets_of_one_anonymous_link_bill_one_click(anonymous_link):
    barrier = threading.Barrier(20)
    locations, errors = [], []

    def get():
        try:
            browser = Client()
            barrier.wait()
            response = browser.get(anonymous_link, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7")
            assert response.status_code == 302, response
            locations.append(response["Location"])
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=get) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors, errors
    assert billable_clicks().count() == 1
    assert Click.objects.count() == 1
    assert len(set(locations)) == 1 and len(locations) == 20
    assert locations[0].endswith("ms_click_id=" + Click.objects.get().click_id)


def test_a_click_keeps_the_currency_it_was_billed_in_when_the_partner_changes_currency(
        client, partner, offer, profile, make_recommendation, partner_api):
    partner.payout_currency, partner.payout_click = "RUB", Decimal("5.00")
    partner.save()
    client.get(go_path(make_recommendation(profile=profile), offer), HTTP_USER_AGENT=BROWSER)
    partner.payout_currency, partner.payout_click = "USD", Decimal("0.06")
    partner.save()
    another_offer = OfferFactory(partner=partner, item=ContentItemFactory())
    client.get(go_path(make_recommendation(profile=profile), another_offer), HTTP_USER_AGENT=BROWSER)
    today = timezone.localdate()

    # The statement bills each click in its own currency: never "2 clicks, 5.06 USD".
    statement = partner_statement(partner=partner, month=today.replace(day=1))
    assert [(line.action, line.count, line.payout, line.currency) for line in statement.lines] == [
        ("click", 1, Decimal("5.00"), "RUB"), ("click", 1, Decimal("0.06"), "USD")]
    assert statement.totals == {"RUB": Decimal("5.00"), "USD": Decimal("0.06")}

    # The partner's own statistics: amounts in the payout currency, the earlier currency's apart.
    body = partner_api.get("/api/v1/partner/stats", {"from": today.isoformat(), "to": today.isoformat()}).json()
    assert body["payout_currency"] == "USD"
    assert (body["totals"]["clicks"], body["totals"]["payout"]) == (2, "0.06")
    assert body["totals"]["other_currencies"] == {"RUB": "5.00"}
