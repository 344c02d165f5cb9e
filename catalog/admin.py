"""The catalogue admin: where staff edit items, moods and partners, and partners their offers."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from moodstream.admin_scope import URL_FIELD_OVERRIDES, MoodStreamAdmin, PartnerScopedAdmin
from moodstream.money import money
from tracking.connect import TestConversionError, connect_test_conversion, postback_url_template
from tracking.models import Conversion
from tracking.selectors import offer_activity_annotations

from .feeds.admin import import_feed_now  # also registers the FeedImport and GenreAlias admins
from .models import ContentItem, Genre, Mood, MoodGenreWeight, MoodPhrase, Offer, Partner
from .services import item_refresh_derived_fields, normalize_title, partner_issue_api_token, partner_issue_postback_key


@admin.register(Genre)
class GenreAdmin(MoodStreamAdmin):
    list_display = ["code", "kind", "name_ru", "name_en", "item_count"]
    list_filter = ["kind"]
    search_fields = ["code", "name_ru", "name_en"]
    ordering = ["kind", "code"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(item_count=Count("items"))

    @admin.display(description=_("Items"), ordering="item_count")
    def item_count(self, obj):
        return obj.item_count


class MoodGenreWeightInline(admin.TabularInline):
    model = MoodGenreWeight
    extra = 1
    autocomplete_fields = ["genre"]
    ordering = ["genre__kind", "-weight"]


class MoodPhraseInline(admin.TabularInline):
    """The words and phrases people write for the mood; the bot understands typed messages by them."""

    model = MoodPhrase
    extra = 1
    ordering = ["language", "text"]
    verbose_name = "word or phrase people write for this mood"


@admin.register(Mood)
class MoodAdmin(MoodStreamAdmin):
    list_display = ["__str__", "code", "name_ru", "position", "valence", "arousal", "tempo_range", "energy_range",
                    "mode", "is_active"]
    list_editable = ["position", "valence", "arousal", "is_active"]
    search_fields = ["code", "name_ru", "name_en"]
    inlines = [MoodPhraseInline, MoodGenreWeightInline]
    fieldsets = [
        (None, {"fields": ["code", "name_ru", "name_en", "emoji", "position", "is_active"]}),
        (_("Valence / arousal (0–1)"), {"fields": ["valence", "arousal"]}),
        (_("Music audio ranges"), {"fields": [("tempo_min", "tempo_max"), ("energy_min", "energy_max"), "mode"]}),
    ]

    @admin.display(description=_("Tempo, BPM"))
    def tempo_range(self, obj):
        return f"{obj.tempo_min:g}–{obj.tempo_max:g}" if obj.tempo_min is not None and obj.tempo_max is not None else "—"

    @admin.display(description=_("Energy"))
    def energy_range(self, obj):
        return f"{obj.energy_min:g}–{obj.energy_max:g}" if obj.energy_min is not None and obj.energy_max is not None else "—"


class OfferInline(admin.TabularInline):
    model = Offer
    formfield_overrides = URL_FIELD_OVERRIDES
    extra = 0
    fields = ["partner", "sku", "url", "price", "currency", "offer_type", "available", "updated_at"]
    readonly_fields = ["updated_at"]
    autocomplete_fields = ["partner"]
    show_change_link = True


class AvailabilityFilter(admin.SimpleListFilter):
    title = _("availability")
    parameter_name = "available"

    def lookups(self, request, model_admin):
        return [("yes", _("Has an available offer")), ("no", _("No available offer"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(available_offers__gt=0)
        if self.value() == "no":
            return queryset.filter(available_offers=0)
        return queryset


def cover_thumbnail(url: str, height: int = 60):
    if not url:
        return "—"
    return format_html('<img src="{}" alt="" style="height:{}px;border-radius:3px" loading="lazy">', url, height)


def cut(text: str, width: str = "22em"):
    """Long text cut to one line, the whole of it on hover (feed text is escaped by format_html)."""
    return format_html('<span class="ms-cut" style="max-width:{}" title="{}">{}</span>', width, text, text)


class LinesField(forms.CharField):
    """A list of names edited as text, one per line (instead of the JSON the model stores)."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 60})

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(str(name) for name in value)
        return value

    def to_python(self, value):
        names = [line.strip() for line in (super().to_python(value) or "").splitlines()]
        return list(dict.fromkeys(name for name in names if name))  # blank lines and repeats dropped

    def has_changed(self, initial, data):
        return (initial or []) != self.to_python(data)


class ContentItemForm(forms.ModelForm):
    creators = LinesField(required=False, help_text=_("Directors, authors or artists, one per line, in order."))

    class Meta:
        model = ContentItem
        fields = "__all__"


@admin.register(ContentItem)
class ContentItemAdmin(MoodStreamAdmin):
    form = ContentItemForm
    # Annotated (GROUP BY) querysets drop Meta.ordering: order explicitly for stable pages.
    ordering = ["kind", "title"]
    # Chosen to fit 1400 px: long titles and creator lists are cut, whole on hover.
    list_display = ["thumbnail", "title_cut", "kind", "year", "creators_display", "rating", "votes",
                    "length_minutes", "available_offers"]
    list_display_links = ["thumbnail", "title_cut"]
    list_filter = ["kind", AvailabilityFilter, "genres", "moods", "offers__partner"]
    search_fields = ["title", "original_title", "title_en", "primary_creator", "creators", "=imdb_id", "=isbn13", "=isrc"]
    autocomplete_fields = ["genres", "moods"]
    readonly_fields = ["cover_preview", "normalized_title", "primary_creator", "created_at", "updated_at"]
    inlines = [OfferInline]
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["kind", "title", "title_en", "original_title", "year", "creators", "credits", "series",
                           "publisher", "description", "cover_url", "cover_preview", "language", "country",
                           "age_rating"]}),
        (_("Classification"), {"fields": ["genres", "moods"]}),
        (_("Popularity and length"), {"fields": ["rating", "votes", "popularity", "length_minutes", "pages"]}),
        (_("External ids"), {"fields": ["imdb_id", "isbn13", "isrc", "barcode"]}),
        (_("Music"), {"classes": ["collapse"], "fields": ["album", "duration_seconds", "tempo", "energy", "valence",
                                                      "danceability", "acousticness", "mode"]}),
        (_("Bookkeeping"), {"classes": ["collapse"], "fields": ["normalized_title", "primary_creator", "created_at",
                                                             "updated_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            available_offers=Count("offers", filter=Q(offers__available=True))
        )

    def get_search_results(self, request, queryset, search_term):
        """Also match the normalised title, so "интерстеллар", "AMELIE" or "Амели!" find their items on any
        database (SQLite's LIKE folds only ASCII case) and accents or punctuation never get in the way."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        normalized = normalize_title(search_term)
        if normalized:
            found |= queryset.filter(normalized_title__contains=normalized)
        return found, may_have_duplicates

    def save_model(self, request, obj, form, change):
        item_refresh_derived_fields(item=obj)
        super().save_model(request, obj, form, change)

    @admin.display(description="")
    def thumbnail(self, obj):
        return cover_thumbnail(obj.cover_url, 48)

    @admin.display(description=_("Cover"))
    def cover_preview(self, obj):
        return cover_thumbnail(obj.cover_url, 180)

    @admin.display(description=_("Title"), ordering="title")
    def title_cut(self, obj):
        return cut(f"{obj.title} ({obj.original_title})" if obj.original_title else obj.title, "30em")

    @admin.display(description=_("Creators"))
    def creators_display(self, obj):
        return cut(", ".join(obj.creators or []), "16em")

    @admin.display(description=_("Offers"), ordering="available_offers")
    def available_offers(self, obj):
        return obj.available_offers


@admin.register(Partner)
class PartnerAdmin(PartnerScopedAdmin):
    # Annotated (GROUP BY) querysets drop Meta.ordering: order explicitly for stable pages.
    ordering = ["name"]
    partner_lookup = "pk"
    actions = [import_feed_now]
    partner_staff_actions = frozenset({"view", "change"})
    # A shop may point MoodStream at its feed; rates and keys are set by MoodStream staff.
    partner_staff_readonly_fields = ("code", "name", "is_active", "payout_currency", "payout_click",
                                     "payout_registration", "payout_subscription", "payout_purchase",
                                     "payout_purchase_percent", "click_param")
    list_display = ["name", "code", "is_active", "offer_count", "feed_format", "import_interval_minutes",
                    "has_api_token", "connect_link"]
    list_filter = ["is_active", "feed_format"]
    search_fields = ["code", "name"]
    readonly_fields = ["api_token_prefix", "last_import_started_at", "created_at"]
    fieldsets = [
        (None, {"fields": ["code", "name", "site_url", "is_active"]}),
        (_("Payouts per action"), {"fields": ["payout_currency", "payout_click", "payout_registration",
                                           "payout_subscription", "payout_purchase", "payout_purchase_percent"]}),
        (_("Feed"), {"fields": ["feed_url", "feed_format", "feed_is_full", "import_interval_minutes",
                             "last_import_started_at"]}),
        (_("Tracking and API"), {"fields": ["click_param", "api_token_prefix", "created_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(offer_count=Count("offers", filter=Q(offers__available=True)))

    def get_urls(self):
        return [path("<path:object_id>/connect/", self.admin_site.admin_view(self.connect_view),
                     name="catalog_partner_connect"), *super().get_urls()]

    @admin.display(description=_("Connect"))
    def connect_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:catalog_partner_connect", args=[obj.pk]),
                           _("Connect your shop"))

    def connect_view(self, request, object_id):
        """"Connect your shop": formats, feed settings, API token, postback URL and a test conversion."""
        self._check_scoped_object(request, object_id)
        partner = self.get_object(request, unquote(object_id))
        if partner is None:
            raise Http404(_("No such partner."))
        if not self.has_view_permission(request, partner):
            raise PermissionDenied
        shown_token = shown_key = ""
        result = error = None
        if request.method == "POST":
            if not self.has_change_permission(request, partner):
                raise PermissionDenied
            action = request.POST.get("action")
            if action == "api_token":
                shown_token = partner_issue_api_token(partner=partner)
                messages.warning(request, _("A new API token was issued; the previous one no longer works. "
                                            "Copy it now: it is not shown again."))
            elif action == "postback_key":
                shown_key = partner_issue_postback_key(partner=partner)
                messages.warning(request, _("A new postback key was issued; the previous one no longer works. "
                                            "Copy it now: it is not shown again."))
            elif action == "test":
                try:
                    result = connect_test_conversion(partner=partner, key=request.POST.get("key", "").strip(),
                                                  event=request.POST.get("event") or Conversion.Event.PURCHASE)
                except TestConversionError as exc:
                    error = str(exc)
        return TemplateResponse(request, "admin/catalog/partner/connect.html", {
            **self.admin_site.each_context(request),
            "title": _("Connect your shop: %(name)s") % {"name": partner.name},
            "opts": self.opts, "original": partner, "partner": partner,
            "can_change": self.has_change_permission(request, partner),
            "shown_token": shown_token, "shown_key": shown_key, "result": result, "error": error,
            "postback_url": postback_url_template(partner=partner, key=shown_key),
            "last_import": partner.imports.order_by("-created_at").first(),
            "recent_tests": Conversion.objects.filter(partner=partner, is_test=True).select_related("click")
                                              .order_by("-created_at")[:5],
            "events": Conversion.Event.choices,
        })

    @admin.display(description=_("Available offers"), ordering="offer_count")
    def offer_count(self, obj):
        return obj.offer_count

    @admin.display(description=_("API token"), boolean=True)
    def has_api_token(self, obj):
        return bool(obj.api_token_hash)


class PeriodFilter(admin.SimpleListFilter):
    """The period the clicks and conversions columns count over (not a filter of the rows)."""

    title = _("clicks and conversions in")
    parameter_name = "period"
    CHOICES = {"7": 7, "30": 30, "90": 90}

    def lookups(self, request, model_admin):
        return [(key, _("last %(days)s days") % {"days": days}) for key, days in self.CHOICES.items()]

    def choices(self, changelist):
        # "Last 30 days" is what an empty choice means: show it selected instead of "All".
        for lookup, title in self.lookup_choices:
            yield {"selected": (self.value() or "30") == lookup, "query_string":
                   changelist.get_query_string({self.parameter_name: lookup}), "display": title}

    def queryset(self, request, queryset):
        return queryset

    @classmethod
    def days(cls, request) -> int:
        return cls.CHOICES.get(request.GET.get(cls.parameter_name, ""), 30)


@admin.register(Offer)
class OfferAdmin(PartnerScopedAdmin):
    partner_staff_actions = frozenset({"view", "change"})
    partner_staff_readonly_fields = ("partner", "item", "sku")
    # Chosen to fit 1400 px: the title is cut (whole on hover), money carries its currency.
    list_display = ["item_cut", "sku_cut", "partner", "price_display", "offer_type", "available", "updated_short",
                    "clicks_in_period", "conversions_in_period"]
    list_display_links = ["item_cut"]
    list_filter = [PeriodFilter, "available", "offer_type", "partner", "item__kind"]
    search_fields = ["sku", "item__title", "item__original_title", "url"]
    autocomplete_fields = ["item", "partner"]
    list_select_related = ["item", "partner"]
    readonly_fields = ["created_at", "updated_at"]
    fields = ["partner", "item", "sku", "url", "price", "currency", "offer_type", "available", "created_at",
              "updated_at"]

    def get_queryset(self, request):
        # Two correlated counts (not joins, which would multiply each other) over the period's rows;
        # test clicks from "Connect your shop" are not a shop's traffic.
        return offer_activity_annotations(super().get_queryset(request), days=PeriodFilter.days(request))

    @admin.display(description=_("Item"), ordering="item__title")
    def item_cut(self, obj):
        return cut(obj.item.title, "18em")

    @admin.display(description=_("SKU"), ordering="sku")
    def sku_cut(self, obj):
        return cut(obj.sku, "9em")

    @admin.display(description=_("Updated"), ordering="updated_at")
    def updated_short(self, obj):
        """When a feed (or staff) last changed the offer: the date, the exact moment on hover."""
        moment = timezone.localtime(obj.updated_at)
        return format_html('<span title="{}">{}</span>', formats.date_format(moment, "SHORT_DATETIME_FORMAT"),
                           formats.date_format(moment, "SHORT_DATE_FORMAT"))

    @admin.display(description=_("Price"), ordering="price")
    def price_display(self, obj):
        return money(obj.price, obj.currency)

    @admin.display(description=_("Clicks"), ordering="period_clicks")
    def clicks_in_period(self, obj):
        return obj.period_clicks

    @admin.display(description=_("Conversions"), ordering="period_conversions")
    def conversions_in_period(self, obj):
        return obj.period_conversions
