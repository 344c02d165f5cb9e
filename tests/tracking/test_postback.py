"""Server-to-server postbacks: a GET with the partner's key, the same rules as the REST API."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tracking.models import Conversion

pytestmark = pytest.mark.django_db


@pytest.fixture
def click(offer, profile, click_on):
    return click_on(offer, profile=profile, ago=timedelta(minutes=5))


def params(key, click, **extra):
    values = {"key": key, "click_id": click.click_id, "event": "purchase", "event_id": "order-77", "amount": "200.00",
              "currency": "RUB"}
    values.update(extra)
    return values


def test_postback_creates_one_conversion(client, postback_key, click):
    response = client.get("/postback/kinoport", params(postback_key, click))
    assert response.status_code == 201
    assert response.json()["payout"] == "50.00"  # 30 + 10% of 200
    conversion = Conversion.objects.get()
    assert (conversion.click, conversion.event_id, conversion.status) == (click, "order-77", "pending")


def test_replayed_postback_is_one_conversion(client, postback_key, click):
    first = client.get("/postback/kinoport", params(postback_key, click))
    replay = client.get("/postback/kinoport", params(postback_key, click))
    assert (first.status_code, replay.status_code) == (201, 200)
    assert first.json()["id"] == replay.json()["id"]
    assert Conversion.objects.count() == 1


def test_a_registration_postback_retried_under_a_new_event_id_is_not_billed_twice(client, postback_key, click):
    first = client.get("/postback/kinoport", params(postback_key, click, event="registration", event_id="lead-1"))
    retry = client.get("/postback/kinoport", params(postback_key, click, event="registration", event_id="lead-1-retry"))
    assert (first.status_code, retry.status_code) == (201, 409)
    assert retry.json()["code"] == "already_converted"
    assert [(e, str(p)) for e, p in Conversion.objects.values_list("event_id", "payout")] == [
        ("lead-1", first.json()["payout"])]


def test_a_postback_costs_three_database_round_trips(client, postback_key, click, django_assert_num_queries):
    # The partner; its earlier report of this event and the click; the insert.
    with django_assert_num_queries(3):
        assert client.get("/postback/kinoport", params(postback_key, click)).status_code == 201
    with django_assert_num_queries(3):
        assert client.get("/postback/kinoport", params(postback_key, click)).status_code == 200


def test_the_first_answer_says_exactly_what_was_stored(client, postback_key, click):
    # The 201 answer is built from what was inserted; the replay's 200 is read back from the database.
    first = client.get("/postback/kinoport", params(postback_key, click, occurred_at="2025-05-01T12:30:00+03:00"))
    replay = client.get("/postback/kinoport", params(postback_key, click, occurred_at="2025-05-01T12:30:00+03:00"))
    assert first.json() == replay.json()
    assert first.json()["amount"] == "200.00"
    assert first.json()["suspicious"] is True  # before its click (made five minutes ago)


def test_a_deactivated_partner_is_refused_even_with_the_right_key(client, partner, postback_key, click):
    partner.is_active = False
    partner.save(update_fields=["is_active"])
    response = client.get("/postback/kinoport", params(postback_key, click))
    assert response.status_code == 403
    assert response.json()["code"] == "wrong_key"
    assert Conversion.objects.count() == 0


@pytest.mark.parametrize("key", ["", "wrong-key"])
def test_wrong_key_is_403_and_nothing_recorded(client, postback_key, click, key):
    response = client.get("/postback/kinoport", params(key, click))
    assert response.status_code == 403
    assert response.json()["code"] == "wrong_key"
    assert Conversion.objects.count() == 0


def test_another_partners_key_does_not_open_this_partner(client, other_partner, click):
    from catalog.services import partner_issue_postback_key

    other_key = partner_issue_postback_key(partner=other_partner)
    assert client.get("/postback/kinoport", params(other_key, click)).status_code == 403
    # …and with the right partner the click is someone else's.
    response = client.get("/postback/chitai", params(other_key, click))
    assert response.status_code == 400
    assert response.json()["code"] == "other_partner_click"
    assert Conversion.objects.count() == 0


def test_unknown_partner_is_404(client, postback_key, click):
    assert client.get("/postback/nosuchshop", params(postback_key, click)).status_code == 404


@pytest.mark.parametrize("extra, code", [
    ({"amount": "12,5"}, "malformed_amount"),
    ({"event": "install"}, "unknown_event"),
    ({"click_id": "forged"}, "unknown_click"),
    ({"occurred_at": "2999-01-01T00:00:00Z"}, "future_date"),
    ({"event_id": ""}, "missing_field"),
])
def test_bad_postbacks_are_refused_with_a_reason(client, postback_key, click, extra, code):
    response = client.get("/postback/kinoport", params(postback_key, click, **extra))
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert Conversion.objects.count() == 0


def test_partner_postback_key_command_prints_a_working_key(client, partner, click):
    out, err = StringIO(), StringIO()
    call_command("partner_postback_key", "kinoport", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert len(key) >= 40
    assert "/postback/kinoport?key=" in err.getvalue()
    partner.refresh_from_db()
    assert key not in partner.postback_key_hash
    assert client.get("/postback/kinoport", params(key, click)).status_code == 201


def test_new_key_replaces_the_old_one(client, postback_key, click):
    call_command("partner_postback_key", "kinoport", stdout=StringIO(), stderr=StringIO())
    assert client.get("/postback/kinoport", params(postback_key, click)).status_code == 403


def test_command_names_known_codes_for_an_unknown_partner(partner):
    with pytest.raises(CommandError, match="Known codes: kinoport"):
        call_command("partner_postback_key", "nope", stdout=StringIO(), stderr=StringIO())
