"""Accounts (staff, partner staff), Telegram profiles with their tastes, and API clients."""

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A login for the admin. Partner staff are linked to exactly one partner."""

    partner = models.ForeignKey(
        "catalog.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="staff",
        help_text="Set for a shop's staff: they see only this partner's data.",
    )

    @property
    def is_partner_staff(self) -> bool:
        return self.partner_id is not None and not self.is_superuser


class Profile(models.Model):
    """A person using MoodStream, usually through Telegram."""

    class Onboarding(models.TextChoices):
        NEW = "new", "New"
        GENRES = "genres", "Choosing genres"
        WARMUP = "warmup", "Warm-up cards"
        DONE = "done", "Done"

    telegram_id = models.BigIntegerField(unique=True, null=True, blank=True)
    username = models.CharField(max_length=64, blank=True)
    first_name = models.CharField(max_length=128, blank=True)
    language = models.CharField(max_length=8, default="ru")
    # False: the language follows the Telegram client's; True once chosen in Settings, and it wins from then on.
    language_chosen = models.BooleanField(default=False)
    onboarding = models.CharField(max_length=10, choices=Onboarding.choices, default=Onboarding.NEW)
    genres = models.ManyToManyField("catalog.Genre", related_name="fans", blank=True)
    is_active = models.BooleanField(default=True, help_text="False once the user blocked the bot.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Profile {self.pk}" + (f" (tg {self.telegram_id})" if self.telegram_id else "")


class Rating(models.Model):
    """What a user told us about one item."""

    class Value(models.IntegerChoices):
        DISLIKE = -1, "Dislike"
        UNKNOWN = 0, "Don't know"
        LIKE = 1, "Like"

    class Source(models.TextChoices):
        ONBOARDING = "onboarding", "Onboarding"
        SEARCH = "search", "Search results"
        API = "api", "API"
        IMPORT = "import", "Imported"

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="ratings")
    item = models.ForeignKey("catalog.ContentItem", on_delete=models.CASCADE, related_name="ratings")
    value = models.SmallIntegerField(choices=Value.choices)
    source = models.CharField(max_length=12, choices=Source.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "item"], name="rating_unique_profile_item"),
            models.CheckConstraint(condition=models.Q(value__in=[-1, 0, 1]), name="rating_value_valid"),
        ]
        indexes = [models.Index(fields=["item", "value"], name="rating_item_value_idx")]

    def __str__(self):
        return f"{self.profile_id} → {self.item_id}: {self.get_value_display()}"


class SavedItem(models.Model):
    """An item the user kept for later with 🔖: their own choice, not a record of what was shown."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="saved_items")
    item = models.ForeignKey("catalog.ContentItem", on_delete=models.CASCADE, related_name="saved_by")
    # The recommendation whose card was saved: /saved's shop links are attributed to it (model, variant).
    recommendation = models.ForeignKey("recommender.Recommendation", null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["profile", "item"], name="saveditem_unique_profile_item")]

    def __str__(self):
        return f"{self.profile_id} 🔖 {self.item_id}"


class ApiKey(models.Model):
    """A client application's key for the recommendation API; only its hash is stored."""

    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=128, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = "API key"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"
