"""What a partner owes per month, and the partner API's own statistics by day."""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tracking.models import Click, Conversion
from tracking.selectors import partner_statement

pytestmark = pytest.mark.django_db


def local(y, m, d, h=12):
    return timezone.make_aware(datetime(y, m, d, h))


def convert(click, event, when, status, payout, event_id, reason=""):
    return Conversion.objects.create(partner_id=click.partner_id, click=click, event=event, event_id=event_id,
                                     payout=Decimal(payout), status=status, status_reason=reason, occurred_at=when)


@pytest.fixture
def may(offer, other_offer, click_on, make_recommendation):
    """Kinoport in May 2025: 3 clicks; approved 2 registrations + 1 purchase, 1 pending, 1 rejected; plus a June
    conversion and another partner's conversion that must not show."""
    clicks = [click_on(offer, recommendation=make_recommendation()) for _ in range(3)]
    Click.objects.filter(pk__in=[c.pk for c in clicks]).update(created_at=local(2025, 5, 10))
    convert(clicks[0], "registration", local(2025, 5, 10, 13), "approved", "50.00", "r1")
    convert(clicks[1], "registration", local(2025, 5, 11), "approved", "50.00", "r2")
    convert(clicks[2], "purchase", local(2025, 5, 31, 23), "approved", "80.50", "p1")
    convert(clicks[0], "subscription", local(2025, 5, 12), "pending", "150.00", "s1")
    convert(clicks[1], "purchase", local(2025, 5, 13), "rejected", "70.00", "p2", reason="=HYPERLINK(\"x\") refunded")
    convert(clicks[2], "registration", local(2025, 6, 1, 0), "approved", "50.00", "june")
    other = click_on(other_offer, recommendation=make_recommendation())
    Click.objects.filter(pk=other.pk).update(created_at=local(2025, 5, 10))
    convert(other, "registration", local(2025, 5, 10, 14), "approved", "50.00", "other")
    return clicks


def test_statement_lists_approved_by_event_and_rejected_apart(partner, may):
    statement = partner_statement(partner=partner, month=date(2025, 5, 1))
    lines = {line.action: (line.count, line.payout) for line in statement.lines}
    assert lines == {"click": (3, Decimal("3.00")), "registration": (2, Decimal("100.00")),
                     "purchase": (1, Decimal("80.50"))}
    assert statement.totals == {"RUB": Decimal("183.50")}
    assert (statement.pending_count, statement.pending_payout) == (1, Decimal("150.00"))
    assert [c.event_id for c in statement.rejected] == ["p2"]


def test_statement_page_and_csv(client, staff_user, partner, may):
    client.force_login(staff_user)
    html = client.get("/admin/tracking/monthlystatement/", {"partner": "kinoport", "month": "2025-05"}).content.decode()
    assert re.search(r"183[.,]50\xa0₽", html)  # money with its currency sign, formatted for the language
    assert "<td>p2</td>" in html and "<td>june</td>" not in html and "<td>other</td>" not in html
    # Partner text is escaped on the page …
    assert "=HYPERLINK(&quot;x&quot;) refunded" in html
    response = client.get("/admin/tracking/monthlystatement/",
                          {"partner": "kinoport", "month": "2025-05", "format": "csv"})
    csv_text = response.content.decode()
    assert response["Content-Disposition"] == 'attachment; filename="statement-kinoport-2025-05.csv"'
    assert "total,,,183.50,RUB" in csv_text
    # … and cannot run as a spreadsheet formula in the CSV.
    assert "'=HYPERLINK" in csv_text


def test_pending_conversions_priced_in_an_earlier_currency_are_shown_in_it(client, staff_user, partner, may):
    partner.payout_currency = "USD"  # May's conversions were priced in roubles
    partner.save()
    statement = partner_statement(partner=partner, month=date(2025, 5, 1))
    assert (statement.pending_count, statement.pending_payout) == (1, Decimal("0"))
    assert statement.pending_elsewhere == {"RUB": Decimal("150.00")}
    client.force_login(staff_user)
    html = client.get("/admin/tracking/monthlystatement/", {"partner": "kinoport", "month": "2025-05"}).content.decode()
    assert re.search(r"earlier payout currency: 150[.,]00\xa0₽", html)


@pytest.mark.parametrize("month", ["9999-12", "0001-01"])
def test_statement_page_explains_a_month_out_of_range(client, staff_user, partner, may, month):
    client.force_login(staff_user)
    response = client.get("/admin/tracking/monthlystatement/", {"partner": "kinoport", "month": month})
    assert response.status_code == 200
    assert "must lie between 2000-01-01 and 2100-12-31" in response.content.decode()


def test_partner_staff_sees_only_its_statement(client, partner_staff, other_partner, may):
    client.force_login(partner_staff)
    html = client.get("/admin/tracking/monthlystatement/", {"month": "2025-05"}).content.decode()
    assert "Kinoport" in html and re.search(r"183[.,]50", html)
    assert "Chitai" not in html
    assert client.get("/admin/tracking/monthlystatement/", {"partner": "chitai"}).status_code == 404


def test_partner_stats_api_returns_own_data_by_day(partner_api, may):
    response = partner_api.get("/api/v1/partner/stats", {"from": "2025-05-10", "to": "2025-05-13"})
    assert response.status_code == 200
    body = response.json()
    assert body["partner"] == "kinoport"
    days = {d["date"]: d for d in body["days"]}
    assert list(days) == ["2025-05-10", "2025-05-11", "2025-05-12", "2025-05-13"]
    assert days["2025-05-10"]["clicks"] == 3
    assert days["2025-05-10"]["conversions"] == {"registration": 1, "subscription": 0, "purchase": 0}
    assert days["2025-05-10"]["payout"] == "53.00"
    assert days["2025-05-12"]["pending"] == 1 and days["2025-05-12"]["pending_payout"] == "150.00"
    assert days["2025-05-13"]["rejected"] == 1 and days["2025-05-13"]["payout"] == "0.00"
    assert body["totals"] == {"clicks": 3, "conversions": 3, "approved": 2, "pending": 1, "rejected": 1,
                              "payout": "103.00", "pending_payout": "150.00", "other_currencies": {}}


def test_partner_stats_never_include_another_partner(other_partner_api, may):
    body = other_partner_api.get("/api/v1/partner/stats", {"from": "2025-05-01", "to": "2025-05-31"}).json()
    assert body["partner"] == "chitai"
    assert body["totals"]["clicks"] == 1 and body["totals"]["conversions"] == 1


@pytest.mark.parametrize("query, field", [
    ({"from": "2025-05-31", "to": "2025-05-01"}, "from"),
    ({"from": "May 1"}, "from"),
    ({"to": "2025-02-30"}, "to"),
    ({"from": "2020-01-01", "to": "2025-01-01"}, "from"),
    ({"to": "9999-12-31"}, "to"),  # the day after it does not exist
    ({"from": "0001-01-01", "to": "0001-01-05"}, "to"),  # year 1's midnight in Moscow is before UTC's year 1
])
def test_partner_stats_refuses_bad_dates(partner_api, query, field):
    response = partner_api.get("/api/v1/partner/stats", query)
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_partner_stats_need_a_partner_token(api_client):
    assert api_client.get("/api/v1/partner/stats").status_code in (401, 403)


def test_default_range_is_the_last_30_days(partner_api):
    body = partner_api.get("/api/v1/partner/stats").json()
    assert len(body["days"]) == 30
    assert body["to"] == timezone.localdate().isoformat()
    assert body["from"] == (timezone.localdate() - timedelta(days=29)).isoformat()
