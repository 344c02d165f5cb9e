"""KPI per day and variant: exact counts from the pre-aggregated rows, the interval, the staff-only export."""

import base64
import re
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.test import override_settings
from django.utils import timezone
from scipy import stats as scipy_stats

from tests.factories import ProfileFactory
from tracking.models import Click, Conversion, DailyKpi
from tracking.services import kpi_refresh_range, kpi_refresh_recent
from tracking.stats import welch_interval
from tracking.user_activity import pack_user_activity, sum_per_user, unpack_user_activity
from tracking.tasks import refresh_daily_kpi

pytestmark = pytest.mark.django_db


def at(day_offset: int, hour: int = 12) -> datetime:
    """Noon (local time) `day_offset` days from today."""
    day = timezone.localdate() + timedelta(days=day_offset)
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


def convert(click, event, occurred_at, status="pending", payout="50.00", event_id=None):
    return Conversion.objects.create(partner_id=click.partner_id, click=click, event=event,
                                     event_id=event_id or f"e{Conversion.objects.count()}", payout=Decimal(payout),
                                     status=status, occurred_at=occurred_at)


@pytest.fixture
def traffic(offer, other_offer, experiment, make_recommendation, click_on):
    """Yesterday: control has users u1 (2 requests, 1 click, 1 registration) and u2 (1 request, no click);
    treatment has u3 (1 request, 2 clicks on two offers, 1 purchase, 1 rejected subscription)."""
    u1, u2, u3 = ProfileFactory(), ProfileFactory(), ProfileFactory()
    yesterday = at(-1)
    recs = {
        "r1a": make_recommendation(profile=u1, experiment=experiment, variant="control"),
        "r1b": make_recommendation(profile=u1, experiment=experiment, variant="control"),
        "r2": make_recommendation(profile=u2, experiment=experiment, variant="control"),
        "r3": make_recommendation(profile=u3, experiment=experiment, variant="treatment"),
    }
    c1 = click_on(offer, recommendation=recs["r1a"])
    c3a = click_on(offer, recommendation=recs["r3"])
    c3b = click_on(other_offer, recommendation=recs["r3"])
    from recommender.models import Recommendation

    Recommendation.objects.update(created_at=yesterday)
    Click.objects.update(created_at=yesterday)
    convert(c1, "registration", yesterday + timedelta(hours=1), status="approved", payout="50.00")
    convert(c3a, "purchase", yesterday + timedelta(hours=2), payout="80.00")
    convert(c3b, "subscription", yesterday + timedelta(hours=2), status="rejected", payout="150.00")
    return {"u1": u1, "u2": u2, "u3": u3, "clicks": (c1, c3a, c3b)}


def test_refresh_counts_users_requests_clicks_conversions_and_payouts(traffic, experiment):
    kpi_refresh_recent()
    day = timezone.localdate() - timedelta(days=1)
    rows = {r.variant: r for r in DailyKpi.objects.filter(day=day)}
    control, treatment = rows["control"], rows["treatment"]
    assert (control.active_users, control.requests, control.clicks) == (2, 3, 1)
    assert (control.registrations, control.subscriptions, control.purchases) == (1, 0, 0)
    assert control.payouts == Decimal("51.00")  # 1.00 per click + 50.00 registration
    assert (treatment.active_users, treatment.requests, treatment.clicks) == (1, 1, 2)
    # The rejected subscription is left out of counts and payouts.
    assert (treatment.registrations, treatment.subscriptions, treatment.purchases) == (0, 0, 1)
    assert treatment.payouts == Decimal("82.00")
    assert control.experiment == experiment


def test_a_conversion_stored_with_a_year_1_date_does_not_stop_the_kpi_refresh(traffic):
    # Such dates are refused now (invalid_date); one stored before that must not break every refresh,
    # as it did: year 1's day cannot be bounded in Moscow time.
    from datetime import timezone as dt_timezone

    convert(traffic["clicks"][0], "purchase", datetime(1, 1, 1, tzinfo=dt_timezone.utc), status="approved")
    kpi_refresh_recent()
    assert DailyKpi.objects.get(variant="control").payouts == Decimal("51.00")  # the rest as before


def test_a_day_of_the_largest_payouts_still_fits_the_kpi(traffic):
    # 101 purchases at the largest payout a conversion holds sum past 10^12: the column they were summed
    # into (14 digits) made PostgreSQL refuse the row, and every refresh after it failed.
    click = traffic["clicks"][0]
    for n in range(101):
        convert(click, "purchase", at(-1, hour=13), status="approved", payout="9999999999.99", event_id=f"big-{n}")
    kpi_refresh_recent()
    control = DailyKpi.objects.get(variant="control")
    assert control.payouts == Decimal("51.00") + 101 * Decimal("9999999999.99")


def test_kpi_api_reports_actions_per_user_per_variant(client, staff_user, traffic):
    kpi_refresh_recent()
    client.force_login(staff_user)
    day = (timezone.localdate() - timedelta(days=1)).isoformat()
    body = client.get("/api/v1/kpi", {"from": day, "to": day}).json()
    by_label = {row["label"]: row for row in body["rows"]}
    control, treatment = by_label["ranker-v2 / control"], by_label["ranker-v2 / treatment"]
    assert control["actions_per_user"] == pytest.approx(2 / 2)  # (1 click + 1 conversion) / 2 users
    assert control["conversions_per_user"] == pytest.approx(1 / 2)
    assert treatment["actions_per_user"] == pytest.approx(3 / 1)
    assert treatment["conversions"] == {"registration": 0, "subscription": 0, "purchase": 1}
    assert treatment["payouts"] == "82.00"
    assert body["comparison"]["a"].endswith(":control") and body["comparison"]["b"].endswith(":treatment")


def test_conversion_counts_on_the_day_it_occurred(offer, make_recommendation, click_on, profile):
    click = click_on(offer, recommendation=make_recommendation(profile=profile, variant="v1"))
    Click.objects.update(created_at=at(-3))
    convert(Click.objects.get(), "registration", at(-1))
    kpi_refresh_recent()
    assert DailyKpi.objects.get(day=timezone.localdate() - timedelta(days=3)).registrations == 0
    assert DailyKpi.objects.get(day=timezone.localdate() - timedelta(days=1)).registrations == 1
    assert click.pk


def test_incremental_refresh_picks_up_new_rows_and_status_changes(traffic):
    refresh_daily_kpi.delay()  # the Celery task, run eagerly in tests
    day = timezone.localdate() - timedelta(days=1)
    assert DailyKpi.objects.get(day=day, variant="treatment").purchases == 1
    # The partner rejects the purchase later: the next refresh re-reads that day.
    Conversion.objects.filter(event="purchase").update(status="rejected", updated_at=timezone.now())
    days = kpi_refresh_recent()
    assert day in days
    assert DailyKpi.objects.get(day=day, variant="treatment").purchases == 0


def test_refresh_range_rebuilds_after_deletions(traffic):
    kpi_refresh_recent()
    Conversion.objects.all().delete()
    day = timezone.localdate() - timedelta(days=1)
    kpi_refresh_range(date_from=day, date_to=day)
    assert DailyKpi.objects.get(day=day, variant="control").registrations == 0


def test_refresh_twice_does_not_double(traffic):
    kpi_refresh_recent()
    kpi_refresh_range(date_from=timezone.localdate() - timedelta(days=5), date_to=timezone.localdate())
    kpi_refresh_recent()
    assert DailyKpi.objects.filter(variant="control").count() == 1
    assert sum(unpack_user_activity(r.user_activity).profile_ids.size for r in DailyKpi.objects.all()) == 3


def test_per_user_rows_carry_each_users_actions(traffic):
    kpi_refresh_recent()
    actions = {}
    for row in DailyKpi.objects.all():
        packed = unpack_user_activity(row.user_activity)
        actions.update(zip(packed.profile_ids.tolist(), zip(packed.actions.tolist(), packed.conversions.tolist())))
    # (clicks + conversions, conversions); u2 only asked for recommendations: active with zero actions.
    assert actions == {traffic["u1"].pk: (2, 1), traffic["u2"].pk: (0, 0), traffic["u3"].pk: (3, 1)}


def test_per_user_totals_add_up_across_days():
    day1 = unpack_user_activity(pack_user_activity([5, 7], [1, 2], [0, 1]))
    day2 = unpack_user_activity(pack_user_activity([7, 9], [3, 0], [1, 0]))
    totals = sum_per_user([day1, day2])
    assert totals.profile_ids.tolist() == [5, 7, 9]
    assert totals.actions.tolist() == [1, 5, 0]
    assert totals.conversions.tolist() == [0, 2, 0]
    assert unpack_user_activity(b"").profile_ids.size == 0


def test_welch_interval_matches_scipy():
    rng = np.random.default_rng(7)
    a = rng.poisson(1.0, 400).astype(float)
    b = rng.poisson(1.3, 300).astype(float)
    ours = welch_interval(a, b)
    reference = scipy_stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert ours.difference == pytest.approx(b.mean() - a.mean())
    assert (ours.low, ours.high) == (pytest.approx(reference.low), pytest.approx(reference.high))
    assert ours.excludes_zero


def test_welch_interval_needs_two_users_each_side():
    assert welch_interval(np.array([1.0]), np.array([1.0, 2.0])) is None


def test_kpi_api_is_for_moodstream_staff_only(client, partner_staff, traffic):
    assert client.get("/api/v1/kpi").status_code == 403
    client.force_login(partner_staff)
    assert client.get("/api/v1/kpi").status_code == 403


def test_kpi_api_accepts_basic_auth_for_scripts(api_client, staff_user):
    api_client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"boss:boss-password-123").decode())
    assert api_client.get("/api/v1/kpi").status_code == 200


def test_kpi_api_refuses_a_bad_range(client, staff_user):
    client.force_login(staff_user)
    response = client.get("/api/v1/kpi", {"from": "2025-02-10", "to": "2025-02-01"})
    assert response.status_code == 400
    assert response.json()["field"] == "from"
    assert client.get("/api/v1/kpi", {"from": "10/02/2025"}).json()["detail"] == "from must be a date as YYYY-MM-DD."


def test_admin_kpi_page_shows_the_table_chart_and_interval(client, staff_user, traffic):
    # Enough users on each side for an interval: 2 control users and 1 treatment user are padded with more.
    kpi_refresh_recent()
    client.force_login(staff_user)
    day = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = client.get("/admin/tracking/dailykpi/", {"from": day, "to": day})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="kpi-chart"' in html and 'id="kpi-chart-data"' in html
    assert "/static/tracking/vendor/chartjs/chart.umd.min.js" in html
    assert "ranker-v2 / control" in html and "ranker-v2 / treatment" in html
    assert "Export CSV" in html


def test_admin_kpi_csv_export(client, staff_user, traffic):
    kpi_refresh_recent()
    client.force_login(staff_user)
    day = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = client.get("/admin/tracking/dailykpi/", {"from": day, "to": day, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().strip().splitlines()
    assert lines[0].startswith("date,variant,active_users,requests,clicks,registration,subscription,purchase")
    assert f"{day},ranker-v2 / control,2,3,1,1,0,0,1,1.000000,0.500000,51.00" in lines


def test_admin_refresh_button_rebuilds(client, staff_user, traffic):
    client.force_login(staff_user)
    response = client.post("/admin/tracking/dailykpi/")
    assert response.status_code == 302
    assert DailyKpi.objects.exists()


@override_settings(CLICK_DEDUP_SECONDS=10)  # two billable clicks by one person, a minute apart
def test_interval_on_the_page_with_enough_users(client, staff_user, offer, experiment, make_recommendation, click_on):
    # control: 10 users with one click each; treatment: 10 users with two clicks each.
    for variant, clicks in (("control", 1), ("treatment", 2)):
        for _ in range(10):
            rec = make_recommendation(profile=ProfileFactory(), experiment=experiment, variant=variant)
            for _ in range(clicks):
                click_on(offer, recommendation=rec)
                Click.objects.filter(recommendation=rec).update(created_at=timezone.now() - timedelta(minutes=1))
    # dedup reuses a click within the window, so the second click per user was made "a minute later"
    kpi_refresh_recent()
    client.force_login(staff_user)
    body = client.get("/api/v1/kpi").json()
    ci = body["comparison"]["actions_per_user"]
    assert ci["users_a"] == ci["users_b"] == 10
    assert ci["difference"] == pytest.approx(1.0)
    assert ci["ci95"] == [pytest.approx(1.0), pytest.approx(1.0)]  # no variance within either arm
    html = client.get("/admin/tracking/dailykpi/").content.decode()
    # Numbers follow the admin's locale (a decimal comma in Russian).
    assert re.search(r'class="kpi-diff">1[.,]0000<', html)


@override_settings(CLICK_DEDUP_SECONDS=10)  # the person's second click, a day later, is billable
def test_a_user_active_on_two_days_counts_once_over_the_range(client, staff_user, offer, profile,
                                                              make_recommendation, click_on):
    for days_ago in (1, 2):
        click = click_on(offer, recommendation=make_recommendation(profile=profile, variant="v"))
        Click.objects.filter(pk=click.pk).update(created_at=at(-days_ago))
    from recommender.models import Recommendation

    Recommendation.objects.update(created_at=at(-1))
    kpi_refresh_recent()
    client.force_login(staff_user)
    body = client.get("/api/v1/kpi").json()
    assert sum(row["active_users"] for row in body["rows"]) == 2  # one per day
    assert body["variants"][0]["active_users"] == 1  # distinct over the range
    assert body["variants"][0]["actions_per_user"] == pytest.approx(2.0)


def test_per_user_totals_with_sparse_ids_take_the_sorting_path():
    far = 10**12
    totals = sum_per_user([unpack_user_activity(pack_user_activity([far, 3], [1, 1], [0, 1])),
                           unpack_user_activity(pack_user_activity([3], [2], [2]))])
    assert totals.profile_ids.tolist() == [3, far]
    assert totals.actions.tolist() == [3, 1] and totals.conversions.tolist() == [3, 0]
