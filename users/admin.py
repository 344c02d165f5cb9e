"""Admin for staff accounts, Telegram profiles, ratings and API keys (MoodStream staff only)."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from moodstream.admin_scope import MoodStreamAdmin

from .models import ApiKey, Profile, Rating, User
from .services import api_key_issue


@admin.register(User)
class UserAdmin(MoodStreamAdmin, DjangoUserAdmin):
    list_display = ["username", "email", "is_staff", "is_superuser", "partner", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "partner"]
    autocomplete_fields = ["partner"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        (_("Partner staff"), {"fields": ["partner"], "description": _("Set to make this account a shop's staff: "
                                                                     "it then sees only this partner's data.")}),
    )
    add_fieldsets = DjangoUserAdmin.add_fieldsets + ((None, {"fields": ["partner"]}),)


class RatingInline(admin.TabularInline):
    model = Rating
    extra = 0
    autocomplete_fields = ["item"]
    fields = ["item", "value", "source", "updated_at"]
    readonly_fields = ["updated_at"]


@admin.register(Profile)
class ProfileAdmin(MoodStreamAdmin):
    # Annotated (GROUP BY) querysets drop Meta.ordering: order explicitly for stable pages.
    ordering = ["-created_at"]
    list_display = ["pk", "telegram_id", "first_name", "username", "language", "onboarding", "rating_count",
                    "is_active", "created_at"]
    list_filter = ["language", "onboarding", "is_active"]
    search_fields = ["=telegram_id", "username", "first_name"]
    autocomplete_fields = ["genres"]
    inlines = [RatingInline]
    readonly_fields = ["created_at", "updated_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(rating_count=Count("ratings"))

    @admin.display(description=_("Ratings"), ordering="rating_count")
    def rating_count(self, obj):
        return obj.rating_count


@admin.register(Rating)
class RatingAdmin(MoodStreamAdmin):
    list_display = ["profile", "item", "value", "source", "updated_at"]
    list_filter = ["value", "source", "item__kind"]
    search_fields = ["item__title", "=profile__telegram_id"]
    autocomplete_fields = ["profile", "item"]
    list_select_related = ["profile", "item"]


@admin.register(ApiKey)
class ApiKeyAdmin(MoodStreamAdmin):
    list_display = ["name", "prefix", "is_active", "created_at", "last_used_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    fields = ["name", "is_active", "prefix", "created_at", "last_used_at"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created, key = api_key_issue(name=obj.name)
        obj.pk, obj.prefix, obj.created_at = created.pk, created.prefix, created.created_at
        messages.warning(request, gettext("The API key for “%(name)s” is %(key)s — copy it now, it is not shown again.")
                         % {"name": obj.name, "key": key})
