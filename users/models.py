"""Accounts (staff, partner staff), Telegram profiles with their tastes, and API clients."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A login for the admin. Partner staff are linked to exactly one partner."""

    partner = models.ForeignKey(
        "catalog.Partner", verbose_name=_("partner"), null=True, blank=True, on_delete=models.PROTECT, related_name="staff",
        help_text=_("Set for a shop's staff: they see only this partner's data."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def is_partner_staff(self) -> bool:
        return self.partner_id is not None and not self.is_superuser


class AdminPreference(models.Model):
    """An admin user's own choices; kept apart from User so the account model stays Django's."""

    class Language(models.TextChoices):
        ENGLISH = "en", "English"
        RUSSIAN = "ru", "Русский"

    user = models.OneToOneField(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="admin_preference")
    language = models.CharField(verbose_name=_("language"), max_length=5, choices=Language.choices)

    class Meta:
        verbose_name = _("admin preference")
        verbose_name_plural = _("admin preferences")

    def __str__(self):
        return f"{self.user_id}: {self.language}"


class Profile(models.Model):
    """A person using MoodStream, usually through Telegram."""

    class Onboarding(models.TextChoices):
        NEW = "new", _("New")
        GENRES = "genres", _("Choosing genres")
        WARMUP = "warmup", _("Warm-up cards")
        DONE = "done", _("Done")

    telegram_id = models.BigIntegerField(verbose_name=_("telegram id"), unique=True, null=True, blank=True)
    username = models.CharField(verbose_name=_("username"), max_length=64, blank=True)
    first_name = models.CharField(verbose_name=_("first name"), max_length=128, blank=True)
    language = models.CharField(verbose_name=_("language"), max_length=8, default="ru")
    # False: the language follows the Telegram client's; True once chosen in Settings, and it wins from then on.
    language_chosen = models.BooleanField(verbose_name=_("language chosen"), default=False)
    onboarding = models.CharField(verbose_name=_("onboarding"), max_length=10, choices=Onboarding.choices, default=Onboarding.NEW)
    genres = models.ManyToManyField("catalog.Genre", verbose_name=_("genres"), related_name="fans", blank=True)
    is_active = models.BooleanField(verbose_name=_("is active"), default=True, help_text=_("False once the user blocked the bot."))
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")
        ordering = ["-created_at"]

    def __str__(self):
        return f"Profile {self.pk}" + (f" (tg {self.telegram_id})" if self.telegram_id else "")


class Rating(models.Model):
    """What a user told us about one item."""

    class Value(models.IntegerChoices):
        DISLIKE = -1, _("Dislike")
        UNKNOWN = 0, _("Don't know")
        LIKE = 1, _("Like")

    class Source(models.TextChoices):
        ONBOARDING = "onboarding", _("Onboarding")
        SEARCH = "search", _("Search results")
        API = "api", _("API")
        IMPORT = "import", _("Imported")

    profile = models.ForeignKey(Profile, verbose_name=_("profile"), on_delete=models.CASCADE, related_name="ratings")
    item = models.ForeignKey("catalog.ContentItem", verbose_name=_("item"), on_delete=models.CASCADE, related_name="ratings")
    value = models.SmallIntegerField(verbose_name=_("value"), choices=Value.choices)
    source = models.CharField(verbose_name=_("source"), max_length=12, choices=Source.choices)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
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

    profile = models.ForeignKey(Profile, verbose_name=_("profile"), on_delete=models.CASCADE, related_name="saved_items")
    item = models.ForeignKey("catalog.ContentItem", verbose_name=_("item"), on_delete=models.CASCADE, related_name="saved_by")
    # The recommendation whose card was saved: /saved's shop links are attributed to it (model, variant).
    recommendation = models.ForeignKey("recommender.Recommendation", verbose_name=_("recommendation"), null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("saved item")
        verbose_name_plural = _("saved items")
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["profile", "item"], name="saveditem_unique_profile_item")]

    def __str__(self):
        return f"{self.profile_id} 🔖 {self.item_id}"


class ApiKey(models.Model):
    """A client application's key for the recommendation API; only its hash is stored."""

    name = models.CharField(verbose_name=_("name"), max_length=100, unique=True)
    prefix = models.CharField(verbose_name=_("prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(verbose_name=_("key hash"), max_length=128, editable=False)
    is_active = models.BooleanField(verbose_name=_("is active"), default=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(verbose_name=_("last used at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name_plural = _("API keys")
        ordering = ["name"]
        verbose_name = _("API key")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"
