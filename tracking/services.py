"""Writes for tracking: clicks, conversions and their status, and the KPI aggregate rows."""

import re
import secrets
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Min, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext

from catalog.models import Offer, Partner
from moodstream.api_input import CONTROL_CHARACTERS_CODE, control_characters_message
from moodstream.control_characters import CONTROL_CHARACTERS
from recommender.models import Recommendation

from .billing import advisory_lock_id, click_dedup_key
from .links import LinkTarget
from .models import Click, Conversion, DailyKpi, KpiRefreshState
from .params import EARLIEST_DATE
from .selectors import local_day_bounds
from .user_activity import pack_user_activity

# --- Clicks ---------------------------------------------------------------------------------

CLICK_ID_BYTES = 16  # 128 random bits, 22 url-safe characters


class LinkTargetMissing(Exception):
    """The token was ours but its recommendation or offer no longer exists."""


class OfferGone(Exception):
    """The offer was withdrawn (or can no longer be linked to): show a page instead of redirecting."""

    def __init__(self, *, partner_name: str):
        super().__init__("The offer is not available.")
        self.partner_name = partner_name


@dataclass(frozen=True)
class ClickResult:
    click_id: str
    redirect_url: str
    created: bool  # False when a repeat within the dedup window reused the earlier click


def is_redirectable_url(url: str) -> bool:
    """Only absolute http(s) URLs without control characters are ever redirect targets."""
    if not url or any(ord(ch) < 33 for ch in url):
        return False
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False


def offer_url_with_click_id(*, url: str, param: str, click_id: str) -> str:
    """The offer URL with `param=click_id` added; the rest of the query is kept byte for byte."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if any(name == param for name, _value in pairs):
        # The stored URL already carries the parameter: ours replaces it, so the shop sees one value.
        query = urlencode([(name, value) for name, value in pairs if name != param] + [(param, click_id)])
    else:
        added = f"{quote(param, safe='')}={quote(click_id, safe='')}"
        query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit(parts._replace(query=query))


@dataclass(frozen=True)
class _LinkRow:
    """What the redirect needs of the offer, its partner and the recommendation, in one row."""

    offer_id: int
    url: str
    available: bool
    partner_id: int
    partner_active: bool
    partner_name: str
    click_param: str
    payout_click: Decimal
    payout_currency: str
    recommendation_found: bool
    profile_id: int | None
    experiment_id: int | None
    variant: str


def _link_row(target: LinkTarget) -> _LinkRow | None:
    # The redirect is the hottest path of the service: one hand-written query instead of
    # three ORM ones (building ORM queries costs more CPU here than running them).
    offer_table, partner_table = Offer._meta.db_table, Partner._meta.db_table
    rec_table = Recommendation._meta.db_table
    rec_id = Recommendation._meta.pk.get_db_prep_value(target.recommendation_id, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT o.url, o.available, p.id, p.is_active, p.name, p.click_param, p.payout_click, p.payout_currency,"
            f" r.id, r.profile_id, r.experiment_id, r.variant"
            f" FROM {offer_table} o JOIN {partner_table} p ON p.id = o.partner_id"
            f" LEFT JOIN {rec_table} r ON r.id = %s"
            f" WHERE o.id = %s",
            [rec_id, target.offer_id],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    url, available, partner_id, active, name, param, payout, currency, rec_pk, profile_id, experiment_id, variant = row
    return _LinkRow(target.offer_id, url, bool(available), partner_id, bool(active), name, param or "ms_click_id",
                    _db_decimal(payout), currency, rec_pk is not None, profile_id, experiment_id,
                    variant or "")


def click_record(*, target: LinkTarget, user_agent: str = "", client_address: str = "",
                 billable: bool = True) -> ClickResult:
    """Record a click-through on a tracked link and return where to send the user.

    Raises LinkTargetMissing (→ 404) or OfferGone (→ "offer is gone" page, no redirect).
    A billable click repeated by the same person on the same link within settings.CLICK_DEDUP_SECONDS
    reuses the earlier click, so it is billed once and the shop sees one click id; the person is the
    bot user, or for an anonymous link the client's network (tracking.billing).
    A click that is not billable (a crawler, a prefetch, a HEAD request) is recorded apart, free.
    """
    link = _link_row(target)
    if link is None or not link.recommendation_found:
        raise LinkTargetMissing()
    if not link.available or not link.partner_active or not is_redirectable_url(link.url):
        raise OfferGone(partner_name=link.partner_name)

    now = timezone.now()
    user_agent = (user_agent or "")[:400]
    if not billable:
        click_id = _click_insert(link=link, target=target, user_agent=user_agent, now=now)
        return ClickResult(click_id, offer_url_with_click_id(url=link.url, param=link.click_param, click_id=click_id),
                           created=True)
    dedup_key = click_dedup_key(profile_id=link.profile_id, offer_id=link.offer_id, client_address=client_address)
    window_start = now - timedelta(seconds=settings.CLICK_DEDUP_SECONDS)
    while True:
        click_id = _click_insert_unless_recent(link=link, target=target, user_agent=user_agent, now=now,
                                               since=window_start, dedup_key=dedup_key)
        created = click_id is not None
        if not created:
            click_id = _recent_click_id(dedup_key=dedup_key, since=window_start)
        # (None again only if the earlier click was deleted in between: then this one counts after all.)
        if click_id is not None:
            return ClickResult(click_id, offer_url_with_click_id(url=link.url, param=link.click_param,
                                                                 click_id=click_id), created=created)


_CLICK_COLUMNS = ("click_id", "profile_id", "offer_id", "partner_id", "recommendation_id", "experiment_id", "variant",
                  "user_agent", "payout", "payout_currency", "created_at", "billable", "dedup_key")
_CLICK_INSERT_UNLESS_RECENT = (
    f"INSERT INTO {Click._meta.db_table} ({', '.join(_CLICK_COLUMNS)})"
    f" SELECT {', '.join(['%s'] * len(_CLICK_COLUMNS))}"
    f" WHERE NOT EXISTS (SELECT 1 FROM {Click._meta.db_table}"
    f" WHERE dedup_key = %s AND created_at >= %s)"
    f" RETURNING click_id"
)
_CLICK_INSERT = (
    f"INSERT INTO {Click._meta.db_table} ({', '.join(_CLICK_COLUMNS)})"
    f" VALUES ({', '.join(['%s'] * len(_CLICK_COLUMNS))})"
)
# Two simultaneous clicks by one person on one link (double tap, two gunicorn workers, a script
# firing 20 GETs at once) must not both pass the "no recent click" check: a transaction-scoped
# advisory lock per dedup key serialises them. Sent with the insert as one message, the two run as
# one implicit transaction (one round trip, no BEGIN / COMMIT of their own), and the insert, a
# statement of its own, reads a snapshot taken after the lock was granted, so it sees a click
# committed by whoever held it. (Several statements in one execute() need Django's default
# client-side parameter binding.) The lock id is 64 bits of the key's HMAC: a collision between two
# keys only makes one wait a moment.
_LOCK_DEDUP_KEY = "SELECT pg_advisory_xact_lock(%s); "


def _click_values(*, link: _LinkRow, target: LinkTarget, user_agent: str, now: datetime, billable: bool,
                  dedup_key: str) -> list:
    return [_new_click_id(), link.profile_id, link.offer_id, link.partner_id,
            Recommendation._meta.pk.get_db_prep_value(target.recommendation_id, connection), link.experiment_id,
            link.variant, user_agent, link.payout_click if billable else Decimal("0"), link.payout_currency,
            connection.ops.adapt_datetimefield_value(now), billable, dedup_key]


def _click_insert_unless_recent(*, link: _LinkRow, target: LinkTarget, user_agent: str, now: datetime,
                                since: datetime, dedup_key: str) -> str | None:
    """Insert a billable click unless one with this dedup key exists since `since`: its click id, or None."""
    values = [*_click_values(link=link, target=target, user_agent=user_agent, now=now, billable=True,
                             dedup_key=dedup_key),
              dedup_key, connection.ops.adapt_datetimefield_value(since)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_LOCK_DEDUP_KEY + _CLICK_INSERT_UNLESS_RECENT, [advisory_lock_id(dedup_key), *values])
            cursor.nextset()
        else:
            # Elsewhere (SQLite, one developer's machine) writes are serialised by the database itself.
            cursor.execute(_CLICK_INSERT_UNLESS_RECENT, values)
        row = cursor.fetchone()
    return row[0] if row else None


def _click_insert(*, link: _LinkRow, target: LinkTarget, user_agent: str, now: datetime) -> str:
    """Insert a click that is not billable (no dedup key, payout 0): its click id."""
    values = _click_values(link=link, target=target, user_agent=user_agent, now=now, billable=False, dedup_key="")
    with connection.cursor() as cursor:
        cursor.execute(_CLICK_INSERT, values)
    return values[0]


def _recent_click_id(*, dedup_key: str, since: datetime) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT click_id FROM {Click._meta.db_table}"
            f" WHERE dedup_key = %s AND created_at >= %s ORDER BY created_at DESC LIMIT 1",
            [dedup_key, connection.ops.adapt_datetimefield_value(since)],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _new_click_id() -> str:
    return secrets.token_urlsafe(CLICK_ID_BYTES)


# --- Conversions ----------------------------------------------------------------------------

SUSPICIOUS_WITHIN = timedelta(seconds=5)
# Partners' clocks drift; a report a minute ahead of ours is not "in the future".
FUTURE_TOLERANCE = timedelta(seconds=60)
_AMOUNT = re.compile(r"^\d{1,10}(\.\d{1,2})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_CENT = Decimal("0.01")
# The largest payout Conversion.payout holds (12 digits, 2 of them decimals).
_PAYOUT_MAX = Decimal(10) ** (Conversion._meta.get_field("payout").max_digits - 2) - _CENT


class ConversionRefused(Exception):
    """A conversion report that cannot be accepted; nothing was written."""

    def __init__(self, code: str, detail: str, field: str | None = None, status: int = 400):
        super().__init__(detail)
        self.code, self.detail, self.field, self.status = code, detail, field, status

    def as_dict(self) -> dict:
        """The API's error body (moodstream.api_errors): field is null when no one field is at fault."""
        return {"code": self.code, "detail": self.detail, "field": self.field or None}


@dataclass(frozen=True)
class ConversionReport:
    click_id: str
    event: str
    event_id: str
    amount: Decimal | None
    currency: str
    occurred_at: datetime


def conversion_report_parse(*, data: Mapping, partner: Partner, now: datetime | None = None) -> ConversionReport:
    """Validate a partner's report (JSON body or postback query) into typed values.

    The same rules serve the REST API and the postback, so both refuse the same input the same way.
    """
    now = now or timezone.now()

    def text(name: str, *, required: bool, max_length: int) -> str:
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise ConversionRefused("missing_field", gettext("%(name)s is required.") % {"name": name}, name)
            return ""
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise ConversionRefused("invalid_field", gettext("%(name)s must be a string.") % {"name": name}, name)
        value = str(value).strip()
        if CONTROL_CHARACTERS.search(value):
            # NUL cannot even be sent to PostgreSQL in a look-up: refused here, by name, not a 500 later.
            raise ConversionRefused(CONTROL_CHARACTERS_CODE, control_characters_message(name), name)
        if len(value) > max_length:
            raise ConversionRefused("invalid_field", gettext("%(name)s is longer than %(length)s characters.")
                                    % {"name": name, "length": max_length}, name)
        return value

    click_id = text("click_id", required=True, max_length=40)
    event = text("event", required=True, max_length=20)
    if event not in Conversion.Event.values:
        raise ConversionRefused("unknown_event", gettext("event must be one of: %(events)s.")
                                % {"events": ", ".join(Conversion.Event.values)}, "event")
    event_id = text("event_id", required=True, max_length=100)

    amount = None
    raw_amount = data.get("amount")
    if raw_amount is not None and raw_amount != "":
        if isinstance(raw_amount, bool) or not isinstance(raw_amount, str | int | float):
            raise ConversionRefused("malformed_amount", gettext("amount must be a number such as 499.00."), "amount")
        raw = str(raw_amount).strip()
        if not _AMOUNT.match(raw):
            raise ConversionRefused(
                "malformed_amount",
                gettext("amount must be a non-negative number with at most two decimals, such as 499.00."), "amount")
        amount = Decimal(raw)
    elif event == Conversion.Event.PURCHASE:
        raise ConversionRefused("missing_field", gettext("amount is required for a purchase."), "amount")

    currency = text("currency", required=False, max_length=3).upper() or partner.payout_currency
    if not _CURRENCY.match(currency):
        raise ConversionRefused("invalid_currency", gettext("currency must be a three-letter ISO 4217 code such as RUB."),
                                "currency")

    occurred_at = _parse_moment(data.get("occurred_at"), now=now)
    if occurred_at > now + FUTURE_TOLERANCE:
        raise ConversionRefused("future_date", gettext("occurred_at is in the future."), "occurred_at")
    return ConversionReport(click_id=click_id, event=event, event_id=event_id, amount=amount, currency=currency,
                            occurred_at=occurred_at)


# No conversion of this service can be older (the first date the reports take): earlier moments are
# placeholders, not dates.
EARLIEST_OCCURRED_AT = datetime.combine(EARLIEST_DATE, time(), tzinfo=dt_timezone.utc)


def _parse_moment(value, *, now: datetime) -> datetime:
    """ISO 8601 (naive means UTC) or Unix seconds; absent means now."""
    if value is None or value == "":
        return now
    if isinstance(value, bool):
        raise ConversionRefused("invalid_date", gettext("occurred_at must be ISO 8601 or Unix seconds."), "occurred_at")
    raw = str(value).strip()
    try:
        if re.fullmatch(r"\d{9,11}", raw):
            return datetime.fromtimestamp(int(raw), tz=dt_timezone.utc)
        moment = parse_datetime(raw)
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        raise ConversionRefused("invalid_date", gettext("occurred_at must be ISO 8601 (e.g. 2025-05-01T12:30:00+03:00) "
                                                   "or Unix seconds."), "occurred_at")
    moment = moment if timezone.is_aware(moment) else moment.replace(tzinfo=dt_timezone.utc)
    # Year 1 is what some systems send for "no date" (Go's zero time, .NET's DateTime.MinValue). Kept, it
    # would be billed, and the KPI refresh could not bound its day (nor read it back, on PostgreSQL).
    if moment.year < EARLIEST_OCCURRED_AT.year or moment < EARLIEST_OCCURRED_AT:
        raise ConversionRefused("invalid_date", gettext("occurred_at is before %(earliest)s: send the moment the "
                                                        "conversion happened.")
                                % {"earliest": EARLIEST_OCCURRED_AT.date().isoformat()},
                                "occurred_at")
    return moment


# The Partner fields `conversion_payout` reads (and conversion_record stores).
PAYOUT_FIELDS = ("payout_currency", "payout_registration", "payout_subscription", "payout_purchase",
                 "payout_purchase_percent")


# What the postback needs of its partner: to check the key and to price the report (in the model's
# field order, as Model.from_db expects).
_POSTBACK_PARTNER_FIELDS = tuple(field.attname for field in Partner._meta.concrete_fields
                                 if field.attname in {"id", "is_active", "postback_key_hash", *PAYOUT_FIELDS})


def postback_partner(*, code: str) -> Partner | None:
    """The partner a postback URL names (only the fields the postback uses), or None."""
    # One hand-written query: the ORM would spend more CPU building it than PostgreSQL running it.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(_POSTBACK_PARTNER_FIELDS)} FROM {Partner._meta.db_table} WHERE code = %s",
                       [code])
        row = cursor.fetchone()
    if row is None:
        return None
    # Money as Decimal whatever the database hands back (SQLite: a float).
    values = [_db_decimal(value) if name.startswith("payout_") and name != "payout_currency" else value
              for name, value in zip(_POSTBACK_PARTNER_FIELDS, row)]
    return Partner.from_db(connection.alias, _POSTBACK_PARTNER_FIELDS, values)


def _db_decimal(value) -> Decimal:
    return Decimal(str(value)).quantize(_CENT)


def conversion_payout(*, partner: Partner, event: str, amount: Decimal | None, currency: str) -> Decimal:
    """What MoodStream earns for one action, from the partner's current rates."""
    if event == Conversion.Event.REGISTRATION:
        return partner.payout_registration
    if event == Conversion.Event.SUBSCRIPTION:
        return partner.payout_subscription
    payout = partner.payout_purchase
    if partner.payout_purchase_percent:
        if currency != partner.payout_currency:
            raise ConversionRefused(
                "currency_mismatch",
                gettext("this partner's purchase payout is a share of the amount in %(currency)s; "
                        "report the amount in %(currency)s.") % {"currency": partner.payout_currency}, "currency")
        payout += (amount or Decimal(0)) * partner.payout_purchase_percent / 100
    payout = payout.quantize(_CENT, rounding=ROUND_HALF_UP)
    if payout > _PAYOUT_MAX:  # PostgreSQL would refuse to store it: a 400 here, not a 500 there
        raise ConversionRefused("amount_too_large", gettext("amount is too large: its payout would exceed "
                                                            "%(limit)s.") % {"limit": _PAYOUT_MAX}, "amount")
    return payout


def conversion_record(*, partner: Partner, report: ConversionReport) -> tuple[Conversion, bool]:
    """Create the conversion a partner reported; a replay of (partner, event_id) returns the existing one.

    Returns (conversion, created). Raises ConversionRefused for an unknown click, another
    partner's click, a click older than the attribution window at the time of the event, or a second
    registration or subscription on the click under another event_id (409: one of each per click).
    """
    existing_id, click = _existing_conversion_and_click(partner=partner, report=report)
    if existing_id is not None:
        return _conversion_with_click(existing_id), False
    if click is None:
        raise ConversionRefused("unknown_click", gettext("click_id is not a MoodStream click."), "click_id")
    if click.partner_id != partner.pk:
        raise ConversionRefused("other_partner_click", gettext("click_id belongs to another partner's offer."),
                                "click_id")
    window = timedelta(days=settings.ATTRIBUTION_WINDOW_DAYS)
    if report.occurred_at > click.created_at + window:
        raise ConversionRefused(
            "click_expired",
            gettext("the click is older than the %(days)s-day attribution window.")
            % {"days": settings.ATTRIBUTION_WINDOW_DAYS}, "click_id")
    payout = (Decimal("0.00") if click.is_test else
              conversion_payout(partner=partner, event=report.event, amount=report.amount, currency=report.currency))
    # A conversion before its click, or seconds after it, is more likely a bot than a person:
    # kept for the partner to judge, but flagged.
    suspicious = report.occurred_at < click.created_at + SUSPICIOUS_WITHIN
    now = timezone.now()
    conversion = Conversion(
        partner=partner, click=click, event=report.event, event_id=report.event_id, amount=report.amount,
        currency=report.currency if report.amount is not None else "", payout=payout,
        payout_currency=partner.payout_currency, suspicious=suspicious, occurred_at=report.occurred_at,
        created_at=now, updated_at=now,
        # Only MoodStream makes test clicks (the connect page), so a partner cannot mark its own reports unbilled.
        is_test=click.is_test,
    )
    conversion.pk = _conversion_insert_unless_reported(conversion)
    if conversion.pk is None:
        # Either the same report arrived twice at once (the other request created it), or this is a second
        # registration or subscription on the click under another event_id (conversion_one_signup_per_click).
        replayed = Conversion.objects.select_related("click").filter(partner=partner, event_id=report.event_id).first()
        if replayed is not None:
            return replayed, False
        first = (Conversion.objects.filter(click=click, event=report.event)
                 .exclude(status=Conversion.Status.REJECTED).values_list("id", "event_id").first())
        raise _repeated_signup(click=click, event=report.event, first=first)
    conversion._state.adding, conversion._state.db = False, connection.alias
    return conversion, True


def _repeated_signup(*, click: Click, event: str, first: tuple[int, str] | None) -> ConversionRefused:
    """409 for a second registration or subscription on a click, naming the first (id, event_id)."""
    if first is None:  # the first was rejected in between (a rejection is final): the report may come again
        return ConversionRefused("retry", gettext("the report was not stored; send it again."), status=503)
    return ConversionRefused(
        "already_converted",
        gettext("click %(click)s already has a %(event)s (conversion %(id)s, event_id %(event_id)s): a click brings "
                "one registration and one subscription; report each purchase with its own event_id.")
        % {"click": click.click_id, "event": event, "id": first[0], "event_id": first[1]}, "event", status=409)


_CONVERSION_FIELDS = [field for field in Conversion._meta.concrete_fields if not field.primary_key]
_CONVERSION_INSERT_UNLESS_REPORTED = (
    f"INSERT INTO {Conversion._meta.db_table} ({', '.join(field.column for field in _CONVERSION_FIELDS)})"
    f" VALUES ({', '.join(['%s'] * len(_CONVERSION_FIELDS))})"
    f" ON CONFLICT DO NOTHING RETURNING id"
)


def _conversion_insert_unless_reported(conversion: Conversion) -> int | None:
    """Insert the conversion unless (partner, event_id) exists, or the click has this registration or subscription
    already (conversion_one_signup_per_click): its id, or None.

    One statement in autocommit: no transaction, savepoint or IntegrityError to recover from when a
    replay races the original (the database waits for the other insert and then does nothing).
    """
    values = [field.get_db_prep_save(getattr(conversion, field.attname), connection) for field in _CONVERSION_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(_CONVERSION_INSERT_UNLESS_REPORTED, values)
        row = cursor.fetchone()
    return row[0] if row else None


def _existing_conversion_and_click(*, partner: Partner, report: ConversionReport) -> tuple[int | None, Click | None]:
    # Postbacks arrive by the hundred per second: both look-ups in one hand-written query
    # (ORM query building would cost more CPU than the database does).
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT v.id FROM {Conversion._meta.db_table} v WHERE v.partner_id = %s AND v.event_id = %s),"
            f" c.id, c.partner_id, c.created_at, c.is_test"
            f" FROM (SELECT 1 AS one) AS x LEFT JOIN {Click._meta.db_table} c ON c.click_id = %s",
            [partner.pk, report.event_id, report.click_id],
        )
        existing_id, click_pk, click_partner_id, click_created_at, click_is_test = cursor.fetchone()
    if click_pk is None:
        return existing_id, None
    return existing_id, Click(pk=click_pk, click_id=report.click_id, partner_id=click_partner_id,
                              created_at=_db_datetime(click_created_at), is_test=bool(click_is_test))


def _db_datetime(value) -> datetime:
    """A timestamp read by raw SQL: PostgreSQL gives aware datetimes, SQLite naive UTC text."""
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=dt_timezone.utc)


def _conversion_with_click(pk: int) -> Conversion:
    return Conversion.objects.select_related("click").get(pk=pk)


def conversion_set_status(*, conversion: Conversion, status: str, reason: str = "") -> Conversion:
    """Judge a pending conversion: approved, or rejected with a reason. Setting the same status again is a no-op."""
    if status not in (Conversion.Status.APPROVED, Conversion.Status.REJECTED):
        raise ConversionRefused("invalid_status", gettext("status must be approved or rejected."), "status")
    reason = (reason or "").strip()
    if status == Conversion.Status.REJECTED and not reason:
        raise ConversionRefused("reason_required", gettext("a rejection needs a reason."), "reason")
    if len(reason) > 300:
        raise ConversionRefused("invalid_field", gettext("reason is longer than 300 characters."), "reason")
    with transaction.atomic():
        locked = Conversion.objects.select_for_update().select_related("click").get(pk=conversion.pk)
        if locked.status == status:
            return locked
        if locked.status != Conversion.Status.PENDING:
            raise ConversionRefused("already_final", gettext("the conversion is already %(status)s.") % {"status": locked.status},
                                    "status",
                                    status=409)
        locked.status, locked.status_reason = status, reason
        locked.save(update_fields=["status", "status_reason", "updated_at"])
    return locked


# --- KPI aggregates ---------------------------------------------------------------------------

# Rows committed a little after their timestamp (long transactions) are still picked up.
KPI_REFRESH_OVERLAP = timedelta(minutes=10)


def kpi_refresh_recent(*, now: datetime | None = None) -> list[date]:
    """Rebuild the KPI rows of every day touched since the last refresh (all days the first time)."""
    now = now or timezone.now()
    KpiRefreshState.objects.get_or_create(pk=1)
    with transaction.atomic():
        # Holding the state row serialises refreshes from Celery beat, the admin button and the command.
        state = KpiRefreshState.objects.select_for_update().get(pk=1)
        days = _days_touched_since(state.watermark - KPI_REFRESH_OVERLAP if state.watermark else None)
        for day in sorted(days):
            _kpi_rebuild_day(day=day, refreshed_at=now)
        state.watermark, state.refreshed_at = now, now
        state.save(update_fields=["watermark", "refreshed_at"])
    return sorted(days)


@dataclass(frozen=True)
class KpiAutoRefresh:
    rebuilt: list[date]
    deferred_days: int  # days that need a rebuild but were too many for a page view


def kpi_refresh_if_stale(*, max_age: timedelta, max_days: int) -> KpiAutoRefresh:
    """Refresh the KPI rows when the last refresh is older than `max_age` — for a page view without beat.

    Bounded so a page view never waits long: it takes the refresh lock without waiting (a refresh
    already running elsewhere is simply not repeated) and rebuilds at most `max_days` days; more
    than that is left to the "Refresh now" button, beat or `manage.py refresh_kpi`.
    """
    now = timezone.now()
    KpiRefreshState.objects.get_or_create(pk=1)
    state = KpiRefreshState.objects.get(pk=1)
    if state.refreshed_at and now - state.refreshed_at < max_age:
        return KpiAutoRefresh(rebuilt=[], deferred_days=0)
    with transaction.atomic():
        locked = KpiRefreshState.objects.select_for_update(skip_locked=True).filter(pk=1).first()
        if locked is None:
            return KpiAutoRefresh(rebuilt=[], deferred_days=0)
        days = _days_touched_since(locked.watermark - KPI_REFRESH_OVERLAP if locked.watermark else None)
        if len(days) > max_days:
            return KpiAutoRefresh(rebuilt=[], deferred_days=len(days))
        for day in sorted(days):
            _kpi_rebuild_day(day=day, refreshed_at=now)
        locked.watermark, locked.refreshed_at = now, now
        locked.save(update_fields=["watermark", "refreshed_at"])
    return KpiAutoRefresh(rebuilt=sorted(days), deferred_days=0)


def kpi_refresh_range(*, date_from: date, date_to: date) -> list[date]:
    """Rebuild the KPI rows of every day in [date_from, date_to], e.g. after rows were deleted."""
    now = timezone.now()
    KpiRefreshState.objects.get_or_create(pk=1)
    days = [date_from + timedelta(days=n) for n in range((date_to - date_from).days + 1)]
    with transaction.atomic():
        state = KpiRefreshState.objects.select_for_update().get(pk=1)
        for day in days:
            _kpi_rebuild_day(day=day, refreshed_at=now)
        state.refreshed_at = now
        state.save(update_fields=["refreshed_at"])
    return days


def _days_touched_since(since: datetime | None) -> set[date]:
    tz = timezone.get_current_timezone()
    # A conversion dated before EARLIEST_OCCURRED_AT can only have been stored before such dates were
    # refused (year 1, a partner system's "no date"): its day cannot be bounded, so it is left out of
    # the KPI rather than stop every refresh.
    conversions = Conversion.objects.filter(occurred_at__gte=EARLIEST_OCCURRED_AT)
    if since is None:
        firsts = [
            Recommendation.objects.aggregate(m=Min("created_at"))["m"],
            Click.objects.aggregate(m=Min("created_at"))["m"],
            conversions.aggregate(m=Min("occurred_at"))["m"],
        ]
        firsts = [f for f in firsts if f is not None]
        if not firsts:
            return set()
        first = timezone.localtime(min(firsts), tz).date()
        today = timezone.localdate()
        return {first + timedelta(days=n) for n in range((today - first).days + 1)}
    days: set[date] = set()
    for queryset, changed, counted in (
        (Recommendation.objects, "created_at", "created_at"),
        (Click.objects, "created_at", "created_at"),
        (conversions, "updated_at", "occurred_at"),
    ):
        days.update(
            queryset.filter(**{f"{changed}__gte": since})
            .annotate(day=TruncDate(counted, tzinfo=tz))
            .order_by()
            .values_list("day", flat=True)
            .distinct()
        )
    return days


def _kpi_rebuild_day(*, day: date, refreshed_at: datetime) -> None:
    start, end = local_day_bounds(day)
    # (experiment, variant, profile) → [clicks, conversions]; a request alone makes a user active.
    users: dict[tuple, list[int]] = {}
    totals: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))

    requests = (
        Recommendation.objects.filter(created_at__gte=start, created_at__lt=end)
        .values_list("experiment_id", "variant", "profile_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for experiment_id, variant, profile_id, n in requests:
        totals[(experiment_id, variant)]["requests"] += n
        if profile_id is not None:
            users.setdefault((experiment_id, variant, profile_id), [0, 0])

    # Only billable clicks count: a crawler's or a prefetch's visit is not a user's action.
    clicks = (
        Click.objects.filter(created_at__gte=start, created_at__lt=end, billable=True)
        .values_list("experiment_id", "variant", "profile_id")
        .annotate(n=Count("id"), payout=Sum("payout"))
        .order_by()
    )
    for experiment_id, variant, profile_id, n, payout in clicks:
        key = (experiment_id, variant)
        totals[key]["clicks"] += n
        totals[key]["payouts"] += payout or Decimal(0)
        if profile_id is not None:
            users.setdefault((experiment_id, variant, profile_id), [0, 0])[0] += n

    conversions = (
        Conversion.objects.filter(occurred_at__gte=start, occurred_at__lt=end, is_test=False)
        .exclude(status=Conversion.Status.REJECTED)
        .values_list("click__experiment_id", "click__variant", "click__profile_id", "event")
        .annotate(n=Count("id"), payout=Sum("payout"))
        .order_by()
    )
    event_column = {"registration": "registrations", "subscription": "subscriptions", "purchase": "purchases"}
    for experiment_id, variant, profile_id, event, n, payout in conversions:
        key = (experiment_id, variant)
        totals[key][event_column[event]] += n
        totals[key]["payouts"] += payout or Decimal(0)
        if profile_id is not None:
            users.setdefault((experiment_id, variant, profile_id), [0, 0])[1] += n

    per_variant: dict[tuple, list[tuple]] = defaultdict(list)
    for (experiment_id, variant, profile_id), (clicks_n, conversions_n) in users.items():
        per_variant[(experiment_id, variant)].append((profile_id, clicks_n + conversions_n, conversions_n))
    packed = {key: pack_user_activity(*zip(*entries)) for key, entries in per_variant.items()}

    DailyKpi.objects.filter(day=day).delete()
    DailyKpi.objects.bulk_create(
        DailyKpi(day=day, experiment_id=experiment_id, variant=variant,
                 active_users=len(per_variant.get((experiment_id, variant), ())),
                 requests=t["requests"], clicks=t["clicks"], registrations=t["registrations"],
                 subscriptions=t["subscriptions"], purchases=t["purchases"], payouts=t["payouts"] or Decimal(0),
                 user_activity=packed.get((experiment_id, variant), b""), refreshed_at=refreshed_at)
        for (experiment_id, variant), t in totals.items()
    )
