from celery import shared_task

from .services import kpi_refresh_recent


@shared_task(name="tracking.refresh_daily_kpi")
def refresh_daily_kpi() -> int:
    """Rebuild the KPI rows of the days touched since the last run; returns how many days."""
    return len(kpi_refresh_recent())
