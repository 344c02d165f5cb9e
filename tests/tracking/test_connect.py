"""'Connect your shop': the page per partner, token and key issuance, and the test conversion end to end."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tracking.models import Click, Conversion, DailyKpi
from tracking.selectors import partner_daily_stats, partner_statement
from tracking.services import kpi_refresh_recent


def connect_url(partner) -> str:
    return f"/admin/catalog/partner/{partner.pk}/connect/"


def test_partner_staff_sees_its_connect_page_and_not_another(client, partner, other_partner, partner_staff):
    client.force_login(partner_staff)
    page = client.get(connect_url(partner)).content.decode()
    assert "/postback/kinoport?key=&lt;postback key&gt;&amp;click_id={click_id}" in page
    assert "ms_click_id=&lt;click id&gt;" in page
    for example in ("example-feed.yml", "example-feed.csv", "example-feed.json"):
        assert example in page
    assert client.get(connect_url(other_partner)).status_code == 404


def test_operator_opens_any_partners_page(client, staff_user, other_partner):
    client.force_login(staff_user)
    assert client.get(connect_url(other_partner)).status_code == 200


def test_issuing_a_token_shows_it_once_and_it_authenticates(client, partner, partner_staff):
    client.force_login(partner_staff)
    page = client.post(connect_url(partner), {"action": "api_token"}).content.decode()
    token = re.search(r'<code id="api-token">([^<]+)</code>', page).group(1)
    assert client.get("/api/v1/partner/stats", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert token not in client.get(connect_url(partner)).content.decode()


def test_test_conversion_goes_through_the_postback_and_is_never_billed(client, partner, offer, partner_staff):
    client.force_login(partner_staff)
    page = client.post(connect_url(partner), {"action": "postback_key"}).content.decode()
    key = re.search(r'<code id="postback-key">([^<]+)</code>', page).group(1)
    assert f"key={key}" in page  # the postback URL is built with the new key

    page = client.post(connect_url(partner), {"action": "test", "key": key, "event": "purchase"}).content.decode()
    assert "The endpoint answered 201." in page and "Recorded: a test Purchase conversion" in page
    conversion = Conversion.objects.get()
    assert conversion.is_test and conversion.click.is_test
    assert conversion.payout == 0 and conversion.click.payout == 0 and conversion.event_id.startswith("moodstream-test-")

    # Never in KPI, partner statistics or statements, even once approved.
    from tracking.services import conversion_set_status

    conversion_set_status(conversion=conversion, status=Conversion.Status.APPROVED)
    kpi_refresh_recent()
    assert not DailyKpi.objects.filter(clicks__gt=0).exists()
    today = timezone.localdate()
    stats = partner_daily_stats(partner=partner, date_from=today - timedelta(days=1), date_to=today)
    assert sum(d.clicks + d.conversion_count for d in stats) == 0
    statement = partner_statement(partner=partner, month=today)
    assert statement.lines == [] and statement.pending_count == 0


def test_wrong_key_is_refused_by_the_endpoint_and_leaves_nothing(client, partner, offer, partner_staff, postback_key):
    client.force_login(partner_staff)
    page = client.post(connect_url(partner), {"action": "test", "key": "not-the-key"}).content.decode()
    assert "The endpoint answered 403." in page and "The postback key is missing or wrong." in page
    assert not Conversion.objects.exists() and not Click.objects.exists()


def test_a_partners_own_report_on_a_real_click_is_never_a_test(client, partner, offer, postback_key, click_on):
    click = click_on(offer)
    response = client.get("/postback/kinoport", {"key": postback_key, "click_id": click.click_id,
                                                 "event": "registration", "event_id": "moodstream-test-spoof"})
    assert response.status_code == 201
    assert not Conversion.objects.get().is_test


def test_no_offer_yet_says_what_to_do(client, partner, partner_staff, postback_key):
    client.force_login(partner_staff)
    page = client.post(connect_url(partner), {"action": "test", "key": postback_key}).content.decode()
    assert "no offers yet" in page


def test_partner_staff_cannot_post_on_another_partners_page(client, other_partner, partner_staff):
    client.force_login(partner_staff)
    assert client.post(connect_url(other_partner), {"action": "api_token"}).status_code == 404
    other_partner.refresh_from_db()
    assert not other_partner.api_token_hash


@pytest.mark.parametrize("name", ["example-feed.yml", "example-feed.csv", "example-feed.json"])
def test_example_feeds_import_cleanly(name, partner, django_capture_on_commit_callbacks):
    from pathlib import Path

    from django.conf import settings

    from catalog.feeds.services import feed_import_create
    from catalog.models import FeedImport

    path = Path(settings.BASE_DIR) / "static" / "connect" / name
    with open(path, "rb") as upload, django_capture_on_commit_callbacks(execute=True):
        feed_import = feed_import_create(partner=partner, source=FeedImport.Source.UPLOAD, feed_format="",
                                         upload=upload, filename=name, is_full=False)
    feed_import.refresh_from_db()
    assert feed_import.status == FeedImport.Status.SUCCEEDED, feed_import.message
    assert (feed_import.rows_total, feed_import.rejected_count) == (2, 0), feed_import.rejected_rows
