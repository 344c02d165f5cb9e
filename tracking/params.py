"""Parsing of the query parameters shared by the KPI page, the KPI API and the partner stats API."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext

DEFAULT_DAYS = 30
MAX_DAYS = 366


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
            return date.fromisoformat(raw)
        except ValueError:
            raise InvalidParameter(name, gettext("%(name)s must be a date as YYYY-MM-DD.") % {"name": name}) from None

    date_to = parse("to") or timezone.localdate()
    try:
        date_from = parse("from") or date_to - timedelta(days=default_days - 1)
    except OverflowError:  # `to` in the first days of year 1
        raise InvalidParameter("to", gettext("to is too early.")) from None
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
        return date(int(year), int(month), 1)
    except ValueError:
        raise InvalidParameter("month", gettext("month must be YYYY-MM.")) from None
