"""Parsing of the query parameters shared by the KPI page, the KPI API and the partner stats API."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext

DEFAULT_DAYS = 30
MAX_DAYS = 366
# Dates asked for lie here: outside, a day's bounds in local time cannot always be computed (year 1
# in a zone east of UTC, the day after 9999-12-31), and the service holds nothing there anyway.
EARLIEST_DATE, LATEST_DATE = date(2000, 1, 1), date(2100, 12, 31)


class InvalidParameter(ValueError):
    def __init__(self, field: str, detail: str):
        super().__init__(detail)
        self.field, self.detail = field, detail


@dataclass(frozen=True)
class DateRange:
    date_from: date
    date_to: date


def date_range_from_params(params, *, default_days: int = DEFAULT_DAYS, max_days: int = MAX_DAYS) -> DateRange:
    """`from` and `to` as YYYY-MM-DD, both inclusive; by default the last `default_days` days up to today."""

    def parse(name: str) -> date | None:
        raw = (params.get(name) or "").strip()
        if not raw:
            return None
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            raise InvalidParameter(name, gettext("%(name)s must be a date as YYYY-MM-DD.") % {"name": name}) from None
        return _within_service_dates(name, value)

    date_to = parse("to") or timezone.localdate()
    date_from = parse("from") or date_to - timedelta(days=default_days - 1)
    if date_from > date_to:
        raise InvalidParameter("from", gettext("from must not be after to."))
    if (date_to - date_from).days + 1 > max_days:
        raise InvalidParameter("from", gettext("the range is longer than %(days)s days.") % {"days": max_days})
    return DateRange(date_from, date_to)


def month_from_param(raw: str | None) -> date:
    """`month` as YYYY-MM; by default the current month."""
    raw = (raw or "").strip()
    if not raw:
        return timezone.localdate().replace(day=1)
    try:
        year, month = raw.split("-")
        value = date(int(year), int(month), 1)
    except ValueError:
        raise InvalidParameter("month", gettext("month must be YYYY-MM.")) from None
    return _within_service_dates("month", value)


def _within_service_dates(name: str, value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise InvalidParameter(name, gettext("%(name)s must lie between %(earliest)s and %(latest)s.") % {
            "name": name, "earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()})
    return value
