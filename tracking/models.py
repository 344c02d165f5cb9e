"""Tracked click-throughs to partner shops, the conversions partners report on them, and the
pre-aggregated KPI rows the admin and the KPI API read."""

from decimal import Decimal

from django.db import models


class Click(models.Model):
    click_id = models.CharField(max_length=40, unique=True, help_text="Random, unguessable; sent to the shop.")
    profile = models.ForeignKey("users.Profile", null=True, blank=True, on_delete=models.SET_NULL, related_name="clicks")
    offer = models.ForeignKey("catalog.Offer", on_delete=models.PROTECT, related_name="clicks")
    partner = models.ForeignKey("catalog.Partner", on_delete=models.PROTECT, related_name="clicks")
    recommendation = models.ForeignKey("recommender.Recommendation", null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="clicks")
    # Copied from the recommendation so that KPI rows survive the log being pruned.
    experiment = models.ForeignKey("recommender.Experiment", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    variant = models.CharField(max_length=40, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    # False for link-preview crawlers, prefetches and HEAD requests (tracking.billing): redirected and
    # recorded, never billed (payout 0); KPI, partner statistics and statements count billable clicks only.
    billable = models.BooleanField(default=True, db_default=True)
    # HMAC of (link, person) for billable clicks: a repeat within CLICK_DEDUP_SECONDS finds the earlier
    # click by it. Neither the client's address nor anything reversible is stored. Empty when not billable.
    dedup_key = models.CharField(max_length=32, blank=True, default="", db_default="", editable=False)
    # The partner's per-click rate when the click happened: statements stay exact if rates change.
    payout = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["partner", "created_at"], name="click_partner_created_idx"),
            models.Index(fields=["dedup_key", "created_at"], name="click_dedup_key_idx"),
        ]

    def __str__(self):
        return self.click_id


class Conversion(models.Model):
    class Event(models.TextChoices):
        REGISTRATION = "registration", "Registration"
        SUBSCRIPTION = "subscription", "Subscription"
        PURCHASE = "purchase", "Purchase"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    partner = models.ForeignKey("catalog.Partner", on_delete=models.PROTECT, related_name="conversions")
    click = models.ForeignKey(Click, on_delete=models.PROTECT, related_name="conversions")
    event = models.CharField(max_length=14, choices=Event.choices)
    event_id = models.CharField(max_length=100, help_text="The partner's own id for this event.")
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    payout = models.DecimalField(max_digits=12, decimal_places=2)
    payout_currency = models.CharField(max_length=3, default="RUB")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    status_reason = models.CharField(max_length=300, blank=True)
    suspicious = models.BooleanField(default=False)
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "event_id"], name="conversion_unique_partner_event"),
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

    day = models.DateField()
    experiment = models.ForeignKey("recommender.Experiment", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="+")
    variant = models.CharField(max_length=40, blank=True)
    active_users = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    registrations = models.PositiveIntegerField(default=0)
    subscriptions = models.PositiveIntegerField(default=0)
    purchases = models.PositiveIntegerField(default=0)
    payouts = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"),
                                  help_text="Click payouts plus payouts of conversions not rejected.")
    # Each active profile's actions that day, packed as arrays (tracking.user_activity): the
    # units of the per-user confidence interval. A column of numbers instead of a row per
    # user-day keeps 90 days x 1M clicks to a few hundred rows read, not a million aggregated.
    user_activity = models.BinaryField(default=b"", editable=False)
    refreshed_at = models.DateTimeField()

    class Meta:
        ordering = ["day", "experiment_id", "variant"]
        verbose_name = "KPI by day and variant"
        verbose_name_plural = "KPI by day and variant"
        indexes = [models.Index(fields=["day", "experiment", "variant"], name="dailykpi_key_idx")]

    def __str__(self):
        return f"{self.day} {self.variant or '—'}"

    @property
    def conversions(self) -> int:
        return self.registrations + self.subscriptions + self.purchases


class KpiRefreshState(models.Model):
    """The single row that serialises KPI refreshes and remembers up to when rows were read."""

    watermark = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)


class MonthlyStatement(Conversion):
    """A proxy so the monthly statement has its own entry (and URL) in the admin."""

    class Meta:
        proxy = True
        verbose_name = "monthly statement"
        verbose_name_plural = "monthly statements"
