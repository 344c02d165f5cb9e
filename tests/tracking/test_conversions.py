"""Partners report conversions by REST: every rule, and every bad input refused with nothing changed."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings
from django.utils import timezone

from tracking.models import Conversion

pytestmark = pytest.mark.django_db

URL = "/api/v1/partner/conversions"


def report(click, **fields):
    body = {"click_id": click.click_id, "event": "registration", "event_id": "ev-1",
            "occurred_at": (timezone.now()).isoformat()}
    body.update(fields)
    return body


@pytest.fixture
def old_click(offer, profile, click_on):
    # An ordinary click a minute ago: conversions on it are not suspicious.
    return click_on(offer, profile=profile, ago=timedelta(minutes=1))


def test_registration_is_recorded_with_the_partner_rate(partner_api, partner, old_click):
    response = partner_api.post(URL, report(old_click), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["click_id"] == old_click.click_id
    assert (body["event"], body["event_id"], body["status"]) == ("registration", "ev-1", "pending")
    assert body["payout"] == "50.00" and body["payout_currency"] == "RUB"
    assert body["suspicious"] is False
    conversion = Conversion.objects.get()
    assert (conversion.partner, conversion.click, conversion.payout) == (partner, old_click, Decimal("50.00"))


def test_purchase_payout_is_fixed_plus_share_of_amount(partner_api, old_click):
    # kinoport: 30.00 per purchase + 10% of the amount
    response = partner_api.post(URL, report(old_click, event="purchase", amount="499.95", currency="RUB"),
                                format="json")
    assert response.status_code == 201
    assert response.json()["payout"] == "80.00"  # 30 + 49.995 rounded half-up
    assert response.json()["amount"] == "499.95"


def test_subscription_rate(partner_api, old_click):
    response = partner_api.post(URL, report(old_click, event="subscription"), format="json")
    assert response.json()["payout"] == "150.00"


def test_payout_stays_as_stored_when_rates_change(partner_api, partner, old_click):
    partner_api.post(URL, report(old_click), format="json")
    partner.payout_registration = Decimal("999.00")
    partner.save(update_fields=["payout_registration"])
    assert Conversion.objects.get().payout == Decimal("50.00")


def test_replay_returns_the_existing_conversion(partner_api, old_click):
    first = partner_api.post(URL, report(old_click), format="json")
    replay = partner_api.post(URL, report(old_click, event="purchase", amount="1.00"), format="json")
    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.json() == first.json()
    assert Conversion.objects.count() == 1


@pytest.mark.parametrize("event", ["registration", "subscription"])
def test_a_second_signup_on_one_click_under_a_new_event_id_is_refused_not_billed(partner_api, old_click, event):
    # A partner's system that retries with a fresh event id (or reports the same sign-up from two places)
    # must not bill the person's registration twice.
    first = partner_api.post(URL, report(old_click, event=event, event_id="signup-1"), format="json")
    assert first.status_code == 201
    body = refused(partner_api, report(old_click, event=event, event_id="signup-2"), "already_converted", "event",
                   status=409)
    assert f"conversion {first.json()['id']}, event_id signup-1" in body["detail"]
    assert list(Conversion.objects.values_list("event_id", flat=True)) == ["signup-1"]
    # The first one's replay is still answered as before.
    assert partner_api.post(URL, report(old_click, event=event, event_id="signup-1"), format="json").status_code == 200


def test_one_click_may_bring_a_registration_a_subscription_and_many_purchases(partner_api, old_click):
    bodies = [report(old_click, event="registration", event_id="r-1"),
              report(old_click, event="subscription", event_id="s-1"),
              report(old_click, event="purchase", event_id="order-1", amount="100.00"),
              report(old_click, event="purchase", event_id="order-2", amount="250.00")]
    assert [partner_api.post(URL, body, format="json").status_code for body in bodies] == [201] * 4
    assert sorted(Conversion.objects.values_list("event", flat=True)) == [
        "purchase", "purchase", "registration", "subscription"]


def test_a_rejected_registration_leaves_room_for_the_real_one(partner_api, old_click):
    first = partner_api.post(URL, report(old_click, event_id="r-1"), format="json").json()
    partner_api.patch(f"{URL}/{first['id']}", {"status": "rejected", "reason": "test account"}, format="json")
    again = partner_api.post(URL, report(old_click, event_id="r-2"), format="json")
    assert again.status_code == 201, again.json()
    assert sorted(Conversion.objects.values_list("event_id", "status")) == [("r-1", "rejected"), ("r-2", "pending")]


def test_same_event_id_from_two_partners_is_two_conversions(partner_api, other_partner_api, old_click, other_offer,
                                                            click_on):
    other_click = click_on(other_offer, ago=timedelta(minutes=1))
    assert partner_api.post(URL, report(old_click), format="json").status_code == 201
    assert other_partner_api.post(URL, report(other_click), format="json").status_code == 201
    assert Conversion.objects.count() == 2


def test_conversion_within_five_seconds_of_the_click_is_flagged(partner_api, offer, click_on):
    click = click_on(offer)
    response = partner_api.post(URL, report(click, occurred_at=(click.created_at + timedelta(seconds=2)).isoformat()),
                                format="json")
    assert response.status_code == 201
    assert response.json()["suspicious"] is True


def test_conversion_before_its_click_is_accepted_but_flagged(partner_api, old_click):
    before = (old_click.created_at - timedelta(hours=1)).isoformat()
    response = partner_api.post(URL, report(old_click, occurred_at=before), format="json")
    assert response.status_code == 201
    assert response.json()["suspicious"] is True


def test_unix_seconds_are_accepted_for_occurred_at(partner_api, old_click):
    moment = int(timezone.now().timestamp()) - 10
    response = partner_api.post(URL, report(old_click, occurred_at=str(moment)), format="json")
    assert response.status_code == 201
    assert Conversion.objects.get().occurred_at.timestamp() == moment


def refused(client, body, code, field=None, status=400):
    before = list(Conversion.objects.values_list("id", "status", "payout"))
    response = client.post(URL, body, format="json")
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    if field:
        assert response.json()["field"] == field
    assert list(Conversion.objects.values_list("id", "status", "payout")) == before
    return response.json()


def test_unknown_click_is_refused(partner_api, old_click):
    body = refused(partner_api, report(old_click, click_id="no-such-click"), "unknown_click", "click_id")
    assert "not a MoodStream click" in body["detail"]


def test_another_partners_click_is_refused(other_partner_api, old_click):
    body = refused(other_partner_api, report(old_click), "other_partner_click", "click_id")
    assert "another partner" in body["detail"]


@override_settings(ATTRIBUTION_WINDOW_DAYS=30)
def test_click_older_than_the_attribution_window_is_refused(partner_api, offer, click_on):
    click = click_on(offer, ago=timedelta(days=31))
    body = refused(partner_api, report(click), "click_expired", "click_id")
    assert "30-day attribution window" in body["detail"]


@override_settings(ATTRIBUTION_WINDOW_DAYS=30)
def test_event_inside_the_window_is_accepted_even_if_reported_later(partner_api, offer, click_on):
    click = click_on(offer, ago=timedelta(days=31))
    inside = (click.created_at + timedelta(days=29)).isoformat()
    assert partner_api.post(URL, report(click, occurred_at=inside), format="json").status_code == 201


@pytest.mark.parametrize("amount", ["abc", "-5", "1e3", "12.345", "NaN", "Infinity", "1,50", True, [], {"v": 1}])
def test_malformed_amount_is_refused(partner_api, old_click, amount):
    body = refused(partner_api, report(old_click, event="purchase", amount=amount), "malformed_amount", "amount")
    assert "amount" in body["detail"]


def test_purchase_without_amount_is_refused(partner_api, old_click):
    refused(partner_api, report(old_click, event="purchase"), "missing_field", "amount")


def test_unknown_event_is_refused(partner_api, old_click):
    body = refused(partner_api, report(old_click, event="install"), "unknown_event", "event")
    assert "registration, subscription, purchase" in body["detail"]


def test_date_in_the_future_is_refused(partner_api, old_click):
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    refused(partner_api, report(old_click, occurred_at=future), "future_date", "occurred_at")


def test_a_purchase_whose_payout_would_not_fit_is_refused_not_a_500(partner_api, old_click, partner):
    partner.payout_purchase_percent = Decimal("100")  # the most a partner may pay: the whole purchase
    partner.save()
    body = refused(partner_api, report(old_click, event="purchase", amount="9999999999.99"), "amount_too_large",
                   "amount")
    assert "9999999999.99" in body["detail"]


def test_a_purchase_share_above_100_percent_is_refused_in_the_admin(partner):
    partner.payout_purchase_percent = Decimal("150")
    with pytest.raises(ValidationError) as refused_share:
        partner.full_clean()
    assert "payout_purchase_percent" in refused_share.value.message_dict


@pytest.mark.parametrize("value", ["yesterday", "2025-13-45T00:00:00", "99999999999999"])
def test_unreadable_date_is_refused(partner_api, old_click, value):
    refused(partner_api, report(old_click, occurred_at=value), "invalid_date", "occurred_at")


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00", "0001-01-01T00:00:00+05:00",
                                   "1999-12-31T23:59:59Z"])
def test_a_placeholder_date_is_refused_not_billed(partner_api, old_click, value):
    # Go's zero time and .NET's DateTime.MinValue. Stored, it was billed, and every KPI refresh after it
    # failed: year 1's day bounds cannot be computed in Moscow time.
    body = refused(partner_api, report(old_click, occurred_at=value), "invalid_date", "occurred_at")
    assert "2000-01-01" in body["detail"]


@pytest.mark.parametrize("missing", ["click_id", "event", "event_id"])
def test_missing_field_is_refused(partner_api, old_click, missing):
    body = report(old_click)
    del body[missing]
    refused(partner_api, body, "missing_field" if missing != "event" else "missing_field", missing)


def test_bad_currency_is_refused(partner_api, old_click):
    refused(partner_api, report(old_click, event="purchase", amount="10", currency="rubles"), "invalid_field",
            "currency")


def test_percent_payout_in_another_currency_is_refused(partner_api, old_click):
    refused(partner_api, report(old_click, event="purchase", amount="10", currency="USD"), "currency_mismatch",
            "currency")


def test_body_must_be_an_object(partner_api):
    response = partner_api.post(URL, ["x"], format="json")
    assert response.status_code == 400


def test_no_token_or_wrong_token_is_refused(api_client, old_click):
    assert api_client.post(URL, report(old_click), format="json").status_code in (401, 403)
    api_client.credentials(HTTP_AUTHORIZATION="Bearer nonsense-token-value")
    assert api_client.post(URL, report(old_click), format="json").status_code == 401
    assert Conversion.objects.count() == 0


# --- status --------------------------------------------------------------------------------------------


@pytest.fixture
def conversion(partner_api, old_click):
    return partner_api.post(URL, report(old_click), format="json").json()


def test_partner_approves_a_pending_conversion(partner_api, conversion):
    response = partner_api.patch(f"{URL}/{conversion['id']}", {"status": "approved"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert Conversion.objects.get().status == "approved"


def test_rejection_needs_a_reason_and_keeps_it(partner_api, conversion):
    path = f"{URL}/{conversion['id']}"
    assert partner_api.patch(path, {"status": "rejected"}, format="json").json()["code"] == "reason_required"
    assert Conversion.objects.get().status == "pending"
    response = partner_api.patch(path, {"status": "rejected", "reason": "refunded"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["status_reason"]) == ("rejected", "refunded")


def test_final_status_cannot_be_changed(partner_api, conversion):
    path = f"{URL}/{conversion['id']}"
    partner_api.patch(path, {"status": "approved"}, format="json")
    response = partner_api.patch(path, {"status": "rejected", "reason": "changed our mind"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "already_final"
    assert Conversion.objects.get().status == "approved"
    # Setting the same status again is harmless.
    assert partner_api.patch(path, {"status": "approved"}, format="json").status_code == 200


def test_unknown_status_is_refused(partner_api, conversion):
    response = partner_api.patch(f"{URL}/{conversion['id']}", {"status": "pending"}, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "status"


def test_another_partners_conversion_is_404(other_partner_api, conversion):
    response = other_partner_api.patch(f"{URL}/{conversion['id']}", {"status": "approved"}, format="json")
    assert response.status_code == 404
    assert Conversion.objects.get().status == "pending"


def test_answer_shape_matches_the_documented_serializer(partner_api, old_click):
    from tracking.serializers import ConversionSerializer

    body = partner_api.post(URL, report(old_click, event="purchase", amount="10.5"), format="json").json()
    assert list(body) == ConversionSerializer.Meta.fields
    assert body["amount"] == "10.50"
    assert Conversion.objects.get().occurred_at == timezone.datetime.fromisoformat(body["occurred_at"])


@pytest.mark.django_db(transaction=True)
def test_the_one_signup_rule_rejects_the_repeats_it_finds_when_it_is_installed(partner, offer, profile, click_on):
    # Reports accepted before the rule existed: three registrations of one click (one already rejected by
    # the partner), a subscription and two purchases. Installing the rule keeps the earliest registration.
    click = click_on(offer, profile=profile, ago=timedelta(hours=1))
    executor = MigrationExecutor(connection)
    executor.migrate([("tracking", "0008_kpi_payouts_wider")])
    try:
        for event_id, event, status in [("r-1", "registration", "rejected"), ("r-2", "registration", "approved"),
                                        ("r-3", "registration", "pending"), ("s-1", "subscription", "pending"),
                                        ("o-1", "purchase", "pending"), ("o-2", "purchase", "pending")]:
            Conversion.objects.create(partner=partner, click=click, event=event, event_id=event_id, status=status,
                                      payout=Decimal("50.00"), occurred_at=timezone.now())
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate([("tracking", "0009_conversion_one_signup_per_click")])
    statuses = dict(Conversion.objects.values_list("event_id", "status"))
    assert statuses == {"r-1": "rejected", "r-2": "approved", "r-3": "rejected", "s-1": "pending", "o-1": "pending",
                        "o-2": "pending"}
    assert "a click brings one registration" in Conversion.objects.get(event_id="r-3").status_reason
