"""The KPI page refreshes stale rows itself (no beat under `make run`), within bounds."""

from datetime import timedelta

from django.utils import timezone

from tracking.models import DailyKpi, KpiRefreshState
from tracking.services import kpi_refresh_if_stale, kpi_refresh_recent


def test_a_page_view_refreshes_stale_rows(client, staff_user, offer, click_on):
    click_on(offer)
    assert not DailyKpi.objects.exists()
    client.force_login(staff_user)
    page = client.get("/admin/tracking/dailykpi/").content.decode()
    assert DailyKpi.objects.filter(day=timezone.localdate(), clicks=1).exists()
    assert "No activity in this range." not in page


def test_fresh_rows_are_not_rebuilt_on_every_view(offer, click_on):
    kpi_refresh_recent()
    click_on(offer)
    result = kpi_refresh_if_stale(max_age=timedelta(minutes=5), max_days=14)
    assert result.rebuilt == [] and not DailyKpi.objects.filter(clicks__gt=0).exists()
    KpiRefreshState.objects.update(refreshed_at=timezone.now() - timedelta(minutes=6))
    assert kpi_refresh_if_stale(max_age=timedelta(minutes=5), max_days=14).rebuilt == [timezone.localdate()]


def test_too_many_days_are_left_to_the_button(client, staff_user, offer, click_on):
    for days_ago in (0, 3, 6):
        click_on(offer, ago=timedelta(days=days_ago))
    result = kpi_refresh_if_stale(max_age=timedelta(minutes=5), max_days=2)
    assert result.rebuilt == [] and result.deferred_days == 7 and not DailyKpi.objects.exists()
