"""Reads for tracking: the KPI report, partner statistics and monthly statements."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
from django.db.models import Count, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from catalog.models import Partner
from recommender.models import Experiment

from .models import Click, Conversion, DailyKpi, KpiRefreshState
from .stats import DifferenceInterval, welch_interval
from .user_activity import sum_per_user, unpack_user_activity

EVENTS = tuple(Conversion.Event.values)  # registration, subscription, purchase
ZERO = Decimal("0.00")


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a calendar day in settings.TIME_ZONE (23 or 25 hours on DST changes)."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), tz)
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), tz)
    return start, end


def _ratio(numerator, denominator) -> float | None:
    return numerator / denominator if denominator else None


# --- KPI ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VariantKey:
    experiment_id: int | None
    variant: str
    label: str

    @property
    def param(self) -> str:
        """How the variant is named in URLs (?a=…&b=…): "<experiment id>:<variant>", 0 for none."""
        return f"{self.experiment_id or 0}:{self.variant}"


@dataclass
class KpiCounts:
    active_users: int = 0
    requests: int = 0
    clicks: int = 0
    registrations: int = 0
    subscriptions: int = 0
    purchases: int = 0
    payouts: Decimal = ZERO

    @property
    def conversions(self) -> int:
        return self.registrations + self.subscriptions + self.purchases

    @property
    def actions(self) -> int:
        return self.clicks + self.conversions

    @property
    def actions_per_user(self) -> float | None:
        return _ratio(self.actions, self.active_users)

    @property
    def conversions_per_user(self) -> float | None:
        return _ratio(self.conversions, self.active_users)

    def add(self, row: DailyKpi) -> None:
        self.requests += row.requests
        self.clicks += row.clicks
        self.registrations += row.registrations
        self.subscriptions += row.subscriptions
        self.purchases += row.purchases
        self.payouts += row.payouts


@dataclass
class KpiRow(KpiCounts):
    day: date | None = None
    key: VariantKey | None = None


@dataclass
class VariantSummary(KpiCounts):
    """A variant over the whole range; active users are distinct over the range, not summed per day."""

    key: VariantKey | None = None
    per_user_actions: np.ndarray = field(default_factory=lambda: np.zeros(0))
    per_user_conversions: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass(frozen=True)
class VariantComparison:
    a: VariantSummary
    b: VariantSummary
    actions: DifferenceInterval | None
    conversions: DifferenceInterval | None


@dataclass
class KpiReport:
    date_from: date
    date_to: date
    rows: list[KpiRow]
    variants: list[VariantSummary]
    refreshed_at: datetime | None

    def variant(self, param: str) -> VariantSummary | None:
        return next((v for v in self.variants if v.key.param == param), None)

    def compare(self, a_param: str, b_param: str) -> VariantComparison | None:
        a, b = self.variant(a_param), self.variant(b_param)
        if a is None or b is None or a is b:
            return None
        return VariantComparison(
            a=a, b=b,
            actions=welch_interval(a.per_user_actions, b.per_user_actions),
            conversions=welch_interval(a.per_user_conversions, b.per_user_conversions),
        )

    def default_pair(self) -> tuple[str, str] | None:
        """The first two variants (by code) of the experiment with the most users, if any."""
        by_experiment = defaultdict(list)
        for summary in self.variants:
            if summary.key.experiment_id:
                by_experiment[summary.key.experiment_id].append(summary)
        candidates = [v for v in by_experiment.values() if len(v) >= 2]
        if not candidates and len(self.variants) >= 2:
            candidates = [self.variants]
        if not candidates:
            return None
        group = sorted(max(candidates, key=lambda v: sum(s.active_users for s in v)), key=lambda s: s.key.variant)
        return group[0].key.param, group[1].key.param


def kpi_report(*, date_from: date, date_to: date, per_user: bool = True) -> KpiReport:
    """KPI per day and variant from the pre-aggregated rows: a few hundred rows whatever the traffic.

    With `per_user`, each variant also gets its users' totals over the range (distinct active
    users and the values the confidence interval needs), from the packed per-user columns.
    """
    daily = DailyKpi.objects.filter(day__gte=date_from, day__lte=date_to).order_by("day", "experiment_id", "variant")
    if not per_user:
        daily = daily.defer("user_activity")
    daily = list(daily)
    keys = {(r.experiment_id, r.variant) for r in daily}
    experiment_codes = dict(
        Experiment.objects.filter(pk__in={e for e, _v in keys if e}).values_list("id", "code")
    )
    variant_keys = {
        (e, v): VariantKey(e, v, f"{experiment_codes.get(e, e)} / {v or '—'}" if e else (v or "no experiment"))
        for e, v in keys
    }

    rows = []
    summaries: dict[tuple, VariantSummary] = {}
    user_days: dict[tuple, list] = defaultdict(list)
    for record in daily:
        key = (record.experiment_id, record.variant)
        row = KpiRow(day=record.day, key=variant_keys[key], active_users=record.active_users)
        row.add(record)
        rows.append(row)
        summaries.setdefault(key, VariantSummary(key=variant_keys[key])).add(record)
        if per_user:
            user_days[key].append(unpack_user_activity(record.user_activity))
    for key, days in user_days.items():
        totals = sum_per_user(days)
        summary = summaries[key]
        summary.per_user_actions = totals.actions
        summary.per_user_conversions = totals.conversions
        summary.active_users = int(totals.profile_ids.size)

    state = KpiRefreshState.objects.filter(pk=1).values_list("refreshed_at", flat=True).first()
    return KpiReport(date_from=date_from, date_to=date_to, rows=rows,
                     variants=sorted(summaries.values(), key=lambda s: s.key.label), refreshed_at=state)


# --- Partner statistics ---------------------------------------------------------------------------


@dataclass
class PartnerDay:
    day: date
    clicks: int = 0
    click_payout: Decimal = ZERO
    conversions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EVENTS, 0))
    approved: int = 0
    pending: int = 0
    rejected: int = 0
    approved_payout: Decimal = ZERO
    pending_payout: Decimal = ZERO
    # The amounts above are in the partner's payout currency; what clicks and approved conversions of the
    # day owe in another one (billed before the partner's currency changed) is kept apart, never added.
    other_currencies: dict[str, Decimal] = field(default_factory=dict)

    @property
    def conversion_count(self) -> int:
        return sum(self.conversions.values())

    @property
    def payout(self) -> Decimal:
        """What the partner owes for the day so far: clicks plus approved conversions."""
        return self.click_payout + self.approved_payout


def partner_daily_stats(*, partner: Partner, date_from: date, date_to: date) -> list[PartnerDay]:
    """One partner's clicks, conversions and payouts per day, read live from its own rows; amounts in the
    partner's payout currency, those billed in another one apart (`PartnerDay.other_currencies`)."""
    tz = timezone.get_current_timezone()
    currency = partner.payout_currency
    start, end = local_day_bounds(date_from)[0], local_day_bounds(date_to)[1]
    days = {date_from + timedelta(days=n): PartnerDay(day=date_from + timedelta(days=n))
            for n in range((date_to - date_from).days + 1)}
    clicks = (
        Click.objects.filter(partner=partner, created_at__gte=start, created_at__lt=end, billable=True)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values_list("day", "payout_currency")
        .annotate(n=Count("id"), payout=Sum("payout"))
        .order_by()
    )
    for day, click_currency, n, payout in clicks:
        entry = days[day]
        entry.clicks += n
        if click_currency == currency:
            entry.click_payout += payout or ZERO
        else:
            _owe(entry.other_currencies, click_currency, payout)
    conversions = (
        Conversion.objects.filter(partner=partner, occurred_at__gte=start, occurred_at__lt=end, is_test=False)
        .annotate(day=TruncDate("occurred_at", tzinfo=tz))
        .values_list("day", "event", "status", "payout_currency")
        .annotate(n=Count("id"), payout=Sum("payout"))
        .order_by()
    )
    for day, event, status, conversion_currency, n, payout in conversions:
        entry = days[day]
        if status == Conversion.Status.REJECTED:
            entry.rejected += n
            continue
        entry.conversions[event] += n
        if status == Conversion.Status.APPROVED:
            entry.approved += n
            if conversion_currency == currency:
                entry.approved_payout += payout or ZERO
            else:
                _owe(entry.other_currencies, conversion_currency, payout)
        else:
            entry.pending += n
            if conversion_currency == currency:
                entry.pending_payout += payout or ZERO
    return [days[d] for d in sorted(days)]


def _owe(owed: dict[str, Decimal], currency: str, payout: Decimal | None) -> None:
    owed[currency] = owed.get(currency, ZERO) + (payout or ZERO)


# --- Monthly statements -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    action: str  # "click" or a conversion event
    count: int
    payout: Decimal
    currency: str


@dataclass
class Statement:
    partner: Partner
    month: date  # the first day
    lines: list[StatementLine]
    totals: dict[str, Decimal]  # owed per payout currency
    pending_count: int
    pending_payout: Decimal  # in the partner's payout currency
    # Pending conversions priced in an earlier payout currency: currency → amount.
    pending_elsewhere: dict[str, Decimal]
    rejected: list[Conversion]


def month_bounds(month: date) -> tuple[datetime, datetime]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return local_day_bounds(first)[0], local_day_bounds(following)[0]


def partner_statement(*, partner: Partner, month: date) -> Statement:
    """What a partner owes for a calendar month: clicks and approved conversions; rejected ones apart."""
    start, end = month_bounds(month)
    lines: list[StatementLine] = []
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    # Each click in the currency it was billed in (a partner's payout currency may have changed in the month).
    clicks = (
        Click.objects.filter(partner=partner, created_at__gte=start, created_at__lt=end, billable=True)
        .values_list("payout_currency")
        .annotate(n=Count("id"), payout=Sum("payout"))
        .order_by("payout_currency")
    )
    for currency, n, payout in clicks:
        lines.append(StatementLine("click", n, payout or ZERO, currency))
        totals[currency] += payout or ZERO
    in_month = Conversion.objects.filter(partner=partner, occurred_at__gte=start, occurred_at__lt=end, is_test=False)
    approved = (
        in_month.filter(status=Conversion.Status.APPROVED)
        .values_list("event", "payout_currency")
        .annotate(n=Count("id"), payout=Sum("payout"))
        .order_by()
    )
    for event, currency, n, payout in sorted(approved, key=lambda row: (EVENTS.index(row[0]), row[1])):
        lines.append(StatementLine(event, n, payout or ZERO, currency))
        totals[currency] += payout or ZERO
    # Not owed yet; each amount in the currency its conversions were priced in.
    pending = (
        in_month.filter(status=Conversion.Status.PENDING)
        .values_list("payout_currency")
        .annotate(n=Count("id"), payout=Sum("payout"))
        .order_by("payout_currency")
    )
    pending_count = sum(n for _currency, n, _payout in pending)
    pending_elsewhere = {currency: payout or ZERO for currency, _n, payout in pending}
    pending_payout = pending_elsewhere.pop(partner.payout_currency, ZERO)
    rejected = list(
        in_month.filter(status=Conversion.Status.REJECTED).select_related("click").order_by("occurred_at", "pk")
    )
    return Statement(partner=partner, month=month.replace(day=1), lines=lines, totals=dict(totals),
                     pending_count=pending_count, pending_payout=pending_payout, pending_elsewhere=pending_elsewhere,
                     rejected=rejected)


# --- Offer activity (the admin's offer lists) --------------------------------------------------------


def offer_activity_annotations(queryset, *, days: int):
    """Offers annotated with their clicks and conversions of the last `days` days (test ones left out).

    Correlated subqueries, not joins: two joined counts would multiply each other, and a page of
    100 offers costs one query either way.
    """
    since = timezone.now() - timedelta(days=days)
    clicks = (Click.objects.filter(offer=OuterRef("pk"), created_at__gte=since, billable=True)
              .order_by().values("offer").annotate(n=Count("pk")).values("n"))
    conversions = (Conversion.objects.filter(click__offer=OuterRef("pk"), occurred_at__gte=since, is_test=False)
                   .exclude(status=Conversion.Status.REJECTED)
                   .order_by().values("click__offer").annotate(n=Count("pk")).values("n"))
    return queryset.annotate(
        period_clicks=Coalesce(Subquery(clicks, output_field=IntegerField()), Value(0)),
        period_conversions=Coalesce(Subquery(conversions, output_field=IntegerField()), Value(0)),
    )
