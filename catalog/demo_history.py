"""A simulated history for the demo: ~60 days of people asking, clicking and converting.

Clearly labelled (the experiment is "Demo: simulated history", the people are "Demo user N"
with no Telegram id) and deterministic (a seeded generator). Everything goes through the real
services — `recommend()` logs each request with its experiment variant, `click_record()` records
each click-through on a tracked link, `conversion_record()` and `conversion_set_status()` record
and judge the shops' reports — under a simulated clock, so the rows obey the same rules (variant
assignment, dedup, attribution window, payouts) as live traffic. Only the clock is simulated:
`django.utils.timezone.now` is patched while a day is played.

The two variants truly differ: people in "treatment" click more often, so the KPI page's
comparison shows a real difference with its confidence interval, and activity grows over the
period, so the chart shows a trend.
"""

import random
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from unittest import mock

from django.db import transaction
from django.utils import timezone

from recommender.collab import collab_index_clear
from recommender.index import catalogue_index_clear
from recommender.models import Experiment, ExperimentVariant
from recommender.selectors import serving_config_clear
from recommender.services import recommend
from recommender.types import RecommendationRequest
from tracking.links import LinkTarget
from tracking.models import Conversion
from tracking.services import (ConversionRefused, ConversionReport, OfferGone, click_record, conversion_record,
                               conversion_set_status, kpi_refresh_range)
from users.models import Profile

from .models import Mood, Partner

EXPERIMENT_CODE = "demo-history"
EXPERIMENT_NAME = "Demo: simulated history (ranker A/B)"
# Per request, the chance the person clicks a shop button; "treatment" truly does better.
CLICK_CHANCE = {"control": 0.30, "treatment": 0.45}
CONVERSION_CHANCE = 0.12  # per click
EVENTS = (Conversion.Event.REGISTRATION, Conversion.Event.SUBSCRIPTION, Conversion.Event.PURCHASE)


@dataclass
class HistorySummary:
    created: bool
    users: int = 0
    requests: int = 0
    clicks: int = 0
    conversions: int = 0


@contextmanager
def simulated_clock(moment: datetime):
    """Make `timezone.now()` return `moment` (moved on by `advance`) for the services called inside."""
    clock = {"now": moment}

    def advance(delta: timedelta) -> None:
        clock["now"] += delta

    with mock.patch("django.utils.timezone.now", lambda: clock["now"]):
        yield advance


def demo_history_load(*, days: int = 60, users: int = 300, seed: int = 0) -> HistorySummary:
    """Play `days` days of demo traffic ending yesterday; does nothing if the demo experiment exists."""
    if Experiment.objects.filter(code=EXPERIMENT_CODE).exists():
        return HistorySummary(created=False)
    moods = list(Mood.objects.filter(is_active=True).order_by("position", "code"))
    if not moods or not Partner.objects.exists():
        raise ValueError("Load the demo catalogue first (load_demo without --history).")
    rng = random.Random(seed)
    today = timezone.localdate()
    first_day = today - timedelta(days=days)
    _experiment(started=timezone.make_aware(datetime.combine(first_day, time.min)))
    # The catalogue and the experiment may have changed in this very process a moment ago (load_demo
    # just ran): the recommender's per-process caches would notice only after their refresh interval.
    catalogue_index_clear()
    collab_index_clear()
    serving_config_clear()
    profiles = _profiles(users)
    summary = HistorySummary(created=True, users=len(profiles))
    variant_of = {}
    for n in range(days):
        day = first_day + timedelta(days=n)
        # Activity grows over the period: from about 8% to 16% of the people a day.
        share = 0.08 + 0.08 * n / max(days - 1, 1)
        active = [p for p in profiles if rng.random() < share]
        with transaction.atomic():
            for profile in active:
                moment = timezone.make_aware(datetime.combine(day, time(hour=rng.randint(8, 22),
                                                                        minute=rng.randint(0, 59))))
                with simulated_clock(moment) as advance:
                    _play_session(rng, profile, moods, summary, variant_of, advance)
    kpi_refresh_range(date_from=first_day, date_to=today)
    return summary


def _experiment(*, started) -> Experiment:
    # Any other running experiment is paused so the demo's variants get the demo users.
    Experiment.objects.filter(is_active=True).update(is_active=False)
    experiment = Experiment.objects.create(code=EXPERIMENT_CODE, name=EXPERIMENT_NAME, is_active=True,
                                           started_at=started)
    ExperimentVariant.objects.bulk_create([
        ExperimentVariant(experiment=experiment, code="control", weight=1, strategy="baseline"),
        ExperimentVariant(experiment=experiment, code="treatment", weight=1, strategy="heuristic"),
    ])
    return experiment


def _profiles(count: int) -> list[Profile]:
    Profile.objects.bulk_create([
        Profile(first_name=f"Demo user {n}", username=f"demo_history_{n}", language="ru" if n % 3 else "en",
                onboarding=Profile.Onboarding.DONE)
        for n in range(1, count + 1)
    ])
    return list(Profile.objects.filter(username__startswith="demo_history_").order_by("pk"))


def _play_session(rng, profile, moods, summary, variant_of, advance) -> None:
    """One person's visit: one or two requests, maybe clicks, maybe a shop's conversion report."""
    for _request in range(rng.choice((1, 1, 2))):
        kind = rng.choice(("film", "book", "track"))
        result = recommend(RecommendationRequest(mood=rng.choice(moods), minutes=rng.choice((30, 60, 90, 120, 180)),
                                                 kinds=(kind,), limit=3, profile=profile, channel="telegram"))
        summary.requests += 1
        variant = variant_of.setdefault(profile.pk, result.variant or "control")
        picks = [pick for pick in result.results.get(kind, []) if pick.offers]
        advance(timedelta(minutes=rng.randint(1, 4)))
        if not picks or rng.random() >= CLICK_CHANCE.get(variant, 0.3):
            continue
        offer = rng.choice(picks).offers[0]
        try:
            click = click_record(target=LinkTarget(result.request_id, offer.offer_id), user_agent="demo history")
        except OfferGone:
            continue
        summary.clicks += click.created  # a tap the person made earlier that day is the same click
        if rng.random() < CONVERSION_CHANCE:
            _convert(rng, click.click_id, offer, summary, advance)


def _convert(rng, click_id, offer, summary, advance) -> None:
    advance(timedelta(minutes=rng.randint(5, 90)))
    partner = Partner.objects.get(code=offer.partner_code)
    event = rng.choice(EVENTS)
    report = ConversionReport(
        click_id=click_id, event=event, event_id=f"demo-{click_id[:12]}",
        amount=offer.price if event == Conversion.Event.PURCHASE else None,
        currency=offer.currency if event == Conversion.Event.PURCHASE else partner.payout_currency,
        occurred_at=timezone.now(),
    )
    try:
        conversion, created = conversion_record(partner=partner, report=report)
    except ConversionRefused:
        return
    if not created:  # the shop reported this click's conversion before (a replay): counted and judged then
        return
    summary.conversions += 1
    # Shops approve most reports within days and reject a few (returns, fraud checks).
    verdict = rng.random()
    if verdict < 0.8:
        conversion_set_status(conversion=conversion, status=Conversion.Status.APPROVED)
    elif verdict < 0.85:
        conversion_set_status(conversion=conversion, status=Conversion.Status.REJECTED, reason="Order returned (demo)")
