"""Tracked click-throughs to partner shops and the conversions partners report on them."""

from django.db import models


class Click(models.Model):
    click_id = models.CharField(max_length=40, unique=True, help_text="Random, unguessable; sent to the shop.")
    profile = models.ForeignKey("users.Profile", null=True, blank=True, on_delete=models.SET_NULL, related_name="clicks")
    offer = models.ForeignKey("catalog.Offer", on_delete=models.PROTECT, related_name="clicks")
    partner = models.ForeignKey("catalog.Partner", on_delete=models.PROTECT, related_name="clicks")
    recommendation = models.ForeignKey("recommender.Recommendation", null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="clicks")
    variant = models.CharField(max_length=40, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["partner", "created_at"], name="click_partner_created_idx"),
            models.Index(fields=["profile", "offer", "created_at"], name="click_dedup_idx"),
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
        indexes = [models.Index(fields=["partner", "occurred_at"], name="conversion_partner_time_idx")]

    def __str__(self):
        return f"{self.partner_id}:{self.event_id} ({self.event})"
