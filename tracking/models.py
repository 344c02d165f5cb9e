"""Tracked click-throughs to partner shops, the conversions partners report on them, and the
pre-aggregated KPI rows the admin and the KPI API read."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class Click(models.Model):
    click_id = models.CharField(verbose_name=_("click id"), max_length=40, unique=True, help_text=_("Random, unguessable; sent to the shop."))
    profile = models.ForeignKey("users.Profile", verbose_name=_("profile"), null=True, blank=True, on_delete=models.SET_NULL, related_name="clicks")
    offer = models.ForeignKey("catalog.Offer", verbose_name=_("offer"), on_delete=models.PROTECT, related_name="clicks")
    partner = models.ForeignKey("catalog.Partner", verbose_name=_("partner"), on_delete=models.PROTECT, related_name="clicks")
    recommendation = models.ForeignKey("recommender.Recommendation", verbose_name=_("recommendation"), null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="clicks")
    # Copied from the recommendation so that KPI rows survive the log being pruned.
    experiment = models.ForeignKey("recommender.Experiment", verbose_name=_("experiment"), null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    variant = models.CharField(verbose_name=_("variant"), max_length=40, blank=True)
    user_agent = models.CharField(verbose_name=_("user agent"), max_length=400, blank=True)
    # False for link-preview crawlers, prefetches and HEAD requests (tracking.billing): redirected and
    # recorded, never billed (payout 0); KPI, partner statistics and statements count billable clicks only.
    billable = models.BooleanField(verbose_name=_("billable"), default=True, db_default=True)
    # HMAC of (offer, person) for billable clicks: a repeat within CLICK_DEDUP_SECONDS finds the earlier
    # click by it. Neither the client's address nor anything reversible is stored. Empty when not billable.
    dedup_key = models.CharField(verbose_name=_("dedup key"), max_length=32, blank=True, default="", db_default="", editable=False)
    # The partner's per-click rate when the click happened: statements stay exact if rates change.
    payout = models.DecimalField(verbose_name=_("payout"), max_digits=10, decimal_places=2, default=Decimal("0"))
    # … and its currency then: a partner's payout currency may change, a billed click's may not.
    payout_currency = models.CharField(verbose_name=_("payout currency"), max_length=3, default="RUB")
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True, db_index=True)
    # Made by the "Connect your shop" test button (never by a person): not billable, and its conversions are test ones.
    is_test = models.BooleanField(verbose_name=_("test"), default=False, db_default=False)

    class Meta:
        verbose_name = _("click")
        verbose_name_plural = _("clicks")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["partner", "created_at"], name="click_partner_created_idx"),
            models.Index(fields=["dedup_key", "created_at"], name="click_dedup_key_idx"),
        ]

    def __str__(self):
        return self.click_id


class Conversion(models.Model):
    class Event(models.TextChoices):
        REGISTRATION = "registration", _("Registration")
        SUBSCRIPTION = "subscription", _("Subscription")
        PURCHASE = "purchase", _("Purchase")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    partner = models.ForeignKey("catalog.Partner", verbose_name=_("partner"), on_delete=models.PROTECT, related_name="conversions")
    click = models.ForeignKey(Click, verbose_name=_("click"), on_delete=models.PROTECT, related_name="conversions")
    event = models.CharField(verbose_name=_("event"), max_length=14, choices=Event.choices)
    event_id = models.CharField(verbose_name=_("event id"), max_length=100, help_text=_("The partner's own id for this event."))
    amount = models.DecimalField(verbose_name=_("amount"), max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(verbose_name=_("currency"), max_length=3, blank=True)
    payout = models.DecimalField(verbose_name=_("payout"), max_digits=12, decimal_places=2)
    payout_currency = models.CharField(verbose_name=_("payout currency"), max_length=3, default="RUB")
    status = models.CharField(verbose_name=_("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    status_reason = models.CharField(verbose_name=_("status reason"), max_length=300, blank=True)
    suspicious = models.BooleanField(verbose_name=_("suspicious"), default=False)
    # Sent from "Connect your shop" to check a partner's set-up: never billed, never in KPI or statements.
    is_test = models.BooleanField(verbose_name=_("test"), default=False, db_default=False, db_index=True,
                                  help_text=_("A test conversion from the “Connect your shop” page: never billed."))
    occurred_at = models.DateTimeField(verbose_name=_("occurred at"))
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("conversion")
        verbose_name_plural = _("conversions")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "event_id"], name="conversion_unique_partner_event"),
            # A click brings one registration and one subscription, however many times (and under however
            # many event ids) a partner's system reports them; each purchase is its own order. A rejected
            # report does not count: a rejection is final, and the person may still sign up for real.
            models.UniqueConstraint(
                fields=["click", "event"], name="conversion_one_signup_per_click",
                condition=models.Q(event__in=["registration", "subscription"]) & ~models.Q(status="rejected")),
            models.CheckConstraint(condition=models.Q(payout__gte=0), name="conversion_payout_not_negative"),
        ]
        indexes = [
            models.Index(fields=["partner", "occurred_at"], name="conversion_partner_time_idx"),
            # The KPI refresh finds the days touched by new or re-judged conversions through it.
            models.Index(fields=["updated_at"], name="conversion_updated_idx"),
        ]

    def __str__(self):
        return f"{self.partner_id}:{self.event_id} ({self.event})"


class DailyKpi(models.Model):
    """One day × one experiment variant: the KPI table's row, rebuilt by `kpi_refresh_days`.

    Days are calendar days in settings.TIME_ZONE. Conversions count on the day they occurred,
    under their click's variant; rejected ones are left out. Active users are the distinct
    profiles with a recommendation request, a click or a conversion that day.
    """

    day = models.DateField(verbose_name=_("day"))
    experiment = models.ForeignKey("recommender.Experiment", verbose_name=_("experiment"), null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="+")
    variant = models.CharField(verbose_name=_("variant"), max_length=40, blank=True)
    active_users = models.PositiveIntegerField(verbose_name=_("active users"), default=0)
    requests = models.PositiveIntegerField(verbose_name=_("requests"), default=0)
    clicks = models.PositiveIntegerField(verbose_name=_("clicks"), default=0)
    registrations = models.PositiveIntegerField(verbose_name=_("registrations"), default=0)
    subscriptions = models.PositiveIntegerField(verbose_name=_("subscriptions"), default=0)
    purchases = models.PositiveIntegerField(verbose_name=_("purchases"), default=0)
    # Room for a million conversions of the largest payout (Conversion.payout: 12 digits) in one day.
    payouts = models.DecimalField(verbose_name=_("payouts"), max_digits=18, decimal_places=2, default=Decimal("0"),
                                  help_text=_("Click payouts plus payouts of conversions not rejected."))
    # Each active profile's actions that day, packed as arrays (tracking.user_activity): the
    # units of the per-user confidence interval. A column of numbers instead of a row per
    # user-day keeps 90 days x 1M clicks to a few hundred rows read, not a million aggregated.
    user_activity = models.BinaryField(verbose_name=_("user activity"), default=b"", editable=False)
    refreshed_at = models.DateTimeField(verbose_name=_("refreshed at"))

    class Meta:
        ordering = ["day", "experiment_id", "variant"]
        verbose_name = _("KPI by day and variant")
        verbose_name_plural = _("KPI by day and variant")
        indexes = [models.Index(fields=["day", "experiment", "variant"], name="dailykpi_key_idx")]

    def __str__(self):
        return f"{self.day} {self.variant or '—'}"

    @property
    def conversions(self) -> int:
        return self.registrations + self.subscriptions + self.purchases


class KpiRefreshState(models.Model):
    """The single row that serialises KPI refreshes and remembers up to when rows were read."""

    watermark = models.DateTimeField(verbose_name=_("watermark"), null=True, blank=True)
    refreshed_at = models.DateTimeField(verbose_name=_("refreshed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("kpi refresh state")
        verbose_name_plural = _("kpi refresh states")


class MonthlyStatement(Conversion):
    """A proxy so the monthly statement has its own entry (and URL) in the admin."""

    class Meta:
        proxy = True
        verbose_name = _("monthly statement")
        verbose_name_plural = _("monthly statements")
