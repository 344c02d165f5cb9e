"""The catalogue admin: where staff edit items, moods and partners, and partners their offers."""

from django import forms
from django.contrib import admin
from django.db.models import Count, Q
from django.utils.html import format_html

from moodstream.admin_scope import URL_FIELD_OVERRIDES, MoodStreamAdmin, PartnerScopedAdmin

from .feeds.admin import import_feed_now  # also registers the FeedImport and GenreAlias admins
from .models import ContentItem, Genre, Mood, MoodGenreWeight, MoodPhrase, Offer, Partner
from .services import item_refresh_derived_fields, normalize_title


@admin.register(Genre)
class GenreAdmin(MoodStreamAdmin):
    list_display = ["code", "kind", "name_ru", "name_en", "item_count"]
    list_filter = ["kind"]
    search_fields = ["code", "name_ru", "name_en"]
    ordering = ["kind", "code"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(item_count=Count("items"))

    @admin.display(description="Items", ordering="item_count")
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
        ("Valence / arousal (0–1)", {"fields": ["valence", "arousal"]}),
        ("Music audio ranges", {"fields": [("tempo_min", "tempo_max"), ("energy_min", "energy_max"), "mode"]}),
    ]

    @admin.display(description="Tempo, BPM")
    def tempo_range(self, obj):
        return f"{obj.tempo_min:g}–{obj.tempo_max:g}" if obj.tempo_min is not None and obj.tempo_max is not None else "—"

    @admin.display(description="Energy")
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
    title = "availability"
    parameter_name = "available"

    def lookups(self, request, model_admin):
        return [("yes", "Has an available offer"), ("no", "No available offer")]

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
    creators = LinesField(required=False, help_text="Directors, authors or artists, one per line, in order.")

    class Meta:
        model = ContentItem
        fields = "__all__"


@admin.register(ContentItem)
class ContentItemAdmin(MoodStreamAdmin):
    form = ContentItemForm
    # Annotated (GROUP BY) querysets drop Meta.ordering: order explicitly for stable pages.
    ordering = ["kind", "title"]
    list_display = ["thumbnail", "title", "original_title", "kind", "year", "creators_display", "rating", "votes",
                    "length_minutes", "available_offers"]
    list_display_links = ["thumbnail", "title"]
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
        ("Classification", {"fields": ["genres", "moods"]}),
        ("Popularity and length", {"fields": ["rating", "votes", "popularity", "length_minutes", "pages"]}),
        ("External ids", {"fields": ["imdb_id", "isbn13", "isrc", "barcode"]}),
        ("Music", {"classes": ["collapse"], "fields": ["album", "duration_seconds", "tempo", "energy", "valence",
                                                      "danceability", "acousticness", "mode"]}),
        ("Bookkeeping", {"classes": ["collapse"], "fields": ["normalized_title", "primary_creator", "created_at",
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

    @admin.display(description="Cover")
    def cover_preview(self, obj):
        return cover_thumbnail(obj.cover_url, 180)

    @admin.display(description="Creators")
    def creators_display(self, obj):
        return ", ".join(obj.creators or [])

    @admin.display(description="Offers", ordering="available_offers")
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
                    "has_api_token"]
    list_filter = ["is_active", "feed_format"]
    search_fields = ["code", "name"]
    readonly_fields = ["api_token_prefix", "last_import_started_at", "created_at"]
    fieldsets = [
        (None, {"fields": ["code", "name", "site_url", "is_active"]}),
        ("Payouts per action", {"fields": ["payout_currency", "payout_click", "payout_registration",
                                           "payout_subscription", "payout_purchase", "payout_purchase_percent"]}),
        ("Feed", {"fields": ["feed_url", "feed_format", "feed_is_full", "import_interval_minutes",
                             "last_import_started_at"]}),
        ("Tracking and API", {"fields": ["click_param", "api_token_prefix", "created_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(offer_count=Count("offers", filter=Q(offers__available=True)))

    @admin.display(description="Available offers", ordering="offer_count")
    def offer_count(self, obj):
        return obj.offer_count

    @admin.display(description="API token", boolean=True)
    def has_api_token(self, obj):
        return bool(obj.api_token_hash)


@admin.register(Offer)
class OfferAdmin(PartnerScopedAdmin):
    partner_staff_actions = frozenset({"view", "change"})
    partner_staff_readonly_fields = ("partner", "item", "sku")
    list_display = ["sku", "item", "partner", "price", "currency", "offer_type", "available", "updated_at"]
    list_filter = ["partner", "available", "offer_type", "item__kind"]
    search_fields = ["sku", "item__title", "item__original_title", "url"]
    autocomplete_fields = ["item", "partner"]
    list_select_related = ["item", "partner"]
    readonly_fields = ["created_at", "updated_at"]
    fields = ["partner", "item", "sku", "url", "price", "currency", "offer_type", "available", "created_at",
              "updated_at"]
