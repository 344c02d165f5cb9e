"""The catalogue (items, genres, moods) and the marketplace (partners, offers, feed imports)."""

import uuid
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    FILM = "film", _("Film")
    BOOK = "book", _("Book")
    TRACK = "track", _("Track")


class Genre(models.Model):
    """A genre within one kind: film genres differ from book and music genres."""

    kind = models.CharField(verbose_name=_("kind"), max_length=8, choices=Kind.choices)
    code = models.SlugField(verbose_name=_("code"), max_length=40)
    name_ru = models.CharField(verbose_name=_("name ru"), max_length=80)
    name_en = models.CharField(verbose_name=_("name en"), max_length=80)

    class Meta:
        verbose_name = _("genre")
        verbose_name_plural = _("genres")
        ordering = ["kind", "name_en"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="genre_unique_kind_code")]

    def __str__(self):
        # Shown in the admin (filters, pickers): in the reader's language.
        return f"{self.name(get_language() or 'ru')} ({self.get_kind_display()})"

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_ru


class MusicMode(models.TextChoices):
    MAJOR = "major", _("Major")
    MINOR = "minor", _("Minor")


class Mood(models.Model):
    """A user-facing mood: a point on the valence/arousal plane with weights toward content."""

    code = models.SlugField(verbose_name=_("code"), max_length=30, unique=True)
    name_ru = models.CharField(verbose_name=_("name ru"), max_length=60)
    name_en = models.CharField(verbose_name=_("name en"), max_length=60)
    emoji = models.CharField(verbose_name=_("emoji"), max_length=8, blank=True)
    position = models.PositiveSmallIntegerField(verbose_name=_("position"), default=0, help_text=_("Order of the mood buttons."))
    valence = models.FloatField(verbose_name=_("valence"), validators=[MinValueValidator(0), MaxValueValidator(1)])
    arousal = models.FloatField(verbose_name=_("arousal"), validators=[MinValueValidator(0), MaxValueValidator(1)])
    tempo_min = models.FloatField(verbose_name=_("tempo min"), null=True, blank=True, help_text=_("Music tempo range, BPM."))
    tempo_max = models.FloatField(verbose_name=_("tempo max"), null=True, blank=True)
    energy_min = models.FloatField(verbose_name=_("energy min"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)])
    energy_max = models.FloatField(verbose_name=_("energy max"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)])
    mode = models.CharField(verbose_name=_("mode"), max_length=5, choices=MusicMode.choices, blank=True, help_text=_("Preferred musical mode, if any."))
    genres = models.ManyToManyField(Genre, verbose_name=_("genres"), through="MoodGenreWeight", related_name="moods", blank=True)
    is_active = models.BooleanField(verbose_name=_("is active"), default=True)

    class Meta:
        verbose_name = _("mood")
        verbose_name_plural = _("moods")
        ordering = ["position", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(tempo_min__isnull=True) | Q(tempo_max__isnull=True) | Q(tempo_min__lte=models.F("tempo_max")),
                name="mood_tempo_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(energy_min__isnull=True) | Q(energy_max__isnull=True) | Q(energy_min__lte=models.F("energy_max")),
                name="mood_energy_range_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.emoji} {self.name(get_language() or 'ru')}".strip()

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_ru


class MoodPhrase(models.Model):
    """A word or phrase people write for a mood ("грустно", "feeling blue", "🌧"), for the bot's text search.

    Matched on word stems, so one form covers its inflections ("грустно" also finds "грустный");
    a phrase preceded by a negation ("не грустно", "not sad") does not count.
    """

    class Language(models.TextChoices):
        RU = "ru", "Русский"
        EN = "en", "English"

    mood = models.ForeignKey(Mood, verbose_name=_("mood"), on_delete=models.CASCADE, related_name="phrases")
    language = models.CharField(verbose_name=_("language"), max_length=2, choices=Language.choices)
    text = models.CharField(verbose_name=_("text"), max_length=100)

    class Meta:
        verbose_name = _("mood phrase")
        verbose_name_plural = _("mood phrases")
        ordering = ["mood", "language", "text"]
        constraints = [models.UniqueConstraint(fields=["mood", "language", "text"], name="moodphrase_unique")]

    def __str__(self):
        return f"{self.mood.code}: {self.text}"


class MoodGenreWeight(models.Model):
    """How strongly a mood pulls toward one genre (0..1)."""

    mood = models.ForeignKey(Mood, verbose_name=_("mood"), on_delete=models.CASCADE, related_name="genre_weights")
    genre = models.ForeignKey(Genre, verbose_name=_("genre"), on_delete=models.CASCADE, related_name="mood_weights")
    weight = models.FloatField(verbose_name=_("weight"), default=1.0, validators=[MinValueValidator(0), MaxValueValidator(1)])

    class Meta:
        verbose_name = _("mood genre weight")
        verbose_name_plural = _("mood genre weights")
        ordering = ["mood", "genre__kind", "-weight"]
        constraints = [models.UniqueConstraint(fields=["mood", "genre"], name="moodgenreweight_unique")]

    def __str__(self):
        return f"{self.mood.code} → {self.genre.code}: {self.weight}"


class ContentItem(models.Model):
    """One film, book or music track."""

    # No single-column indexes on kind, normalized_title or primary_creator: item_match_idx leads with
    # (kind, normalized_title), nothing filters on primary_creator, and every index is paid for on each
    # item a feed creates (docs/feeds.md, "Indexes").
    kind = models.CharField(verbose_name=_("kind"), max_length=8, choices=Kind.choices)
    title = models.CharField(verbose_name=_("title"), max_length=500, help_text=_("The title in Russian (the default language)."))
    original_title = models.CharField(verbose_name=_("original title"), max_length=500, blank=True)
    title_en = models.CharField(verbose_name=_("title en"), max_length=500, blank=True,
                                help_text=_("The English title (release or edition title); English readers see it first."))
    # Lower-cased, punctuation-free title used to match feed offers to items.
    normalized_title = models.CharField(verbose_name=_("normalized title"), max_length=500, editable=False)
    year = models.PositiveSmallIntegerField(verbose_name=_("year"), null=True, blank=True)
    description = models.TextField(verbose_name=_("description"), blank=True)
    cover_url = models.URLField(verbose_name=_("cover url"), max_length=1000, blank=True)
    creators = models.JSONField(verbose_name=_("creators"), default=list, blank=True, help_text=_("Directors, authors or artists, in order."))
    # Everyone credited, main creators first: [{"name": ..., "role": "author" | "narrator" | "director" |
    # "cast" | "performer"}]. `creators` stays the list of main creators that matching and cards read.
    credits = models.JSONField(verbose_name=_("credits"), default=list, blank=True, help_text=_("Everyone credited, with their role."))
    primary_creator = models.CharField(verbose_name=_("primary creator"), max_length=300, blank=True, editable=False)
    series = models.CharField(verbose_name=_("series"), max_length=300, blank=True, help_text=_("Franchise or series, for diversity."))
    genres = models.ManyToManyField(Genre, verbose_name=_("genres"), related_name="items", blank=True)
    moods = models.ManyToManyField(Mood, verbose_name=_("moods"), related_name="items", blank=True, help_text=_("Editorial mood tags."))
    language = models.CharField(verbose_name=_("language"), max_length=8, blank=True, help_text=_("ISO 639-1 code (ru, en, ...)."))
    publisher = models.CharField(verbose_name=_("publisher"), max_length=300, blank=True)
    country = models.CharField(verbose_name=_("country"), max_length=100, blank=True, help_text=_("Country of production, as the source names it."))
    # The youngest age the work is meant for (0, 6, 12, 16, 18...), for a later age filter.
    age_rating = models.PositiveSmallIntegerField(verbose_name=_("age rating"), null=True, blank=True, help_text=_("Minimum age, years."))
    barcode = models.CharField(verbose_name=_("barcode"), max_length=14, blank=True, help_text=_("EAN / UPC / GTIN."))

    rating = models.FloatField(verbose_name=_("rating"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)],
                               help_text=_("Average rating on a 0-10 scale."))
    votes = models.PositiveIntegerField(verbose_name=_("votes"), default=0)
    popularity = models.FloatField(verbose_name=_("popularity"), default=0, help_text=_("0-100."))
    length_minutes = models.PositiveIntegerField(verbose_name=_("length minutes"), 
        null=True, blank=True, help_text=_("Runtime for films, reading time for books, duration for tracks.")
    )

    imdb_id = models.CharField(verbose_name=_("IMDb id"), max_length=12, blank=True)
    isbn13 = models.CharField(verbose_name=_("ISBN-13"), max_length=13, blank=True)
    isrc = models.CharField(verbose_name=_("ISRC"), max_length=12, blank=True)

    # Books
    pages = models.PositiveIntegerField(verbose_name=_("pages"), null=True, blank=True)
    # Tracks
    duration_seconds = models.PositiveIntegerField(verbose_name=_("duration seconds"), null=True, blank=True)
    tempo = models.FloatField(verbose_name=_("tempo"), null=True, blank=True, help_text=_("BPM"))
    energy = models.FloatField(verbose_name=_("energy"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)])
    valence = models.FloatField(verbose_name=_("valence"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)])
    danceability = models.FloatField(verbose_name=_("danceability"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)])
    acousticness = models.FloatField(verbose_name=_("acousticness"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)])
    mode = models.CharField(verbose_name=_("mode"), max_length=5, choices=MusicMode.choices, blank=True)
    album = models.CharField(verbose_name=_("album"), max_length=300, blank=True)

    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("content item")
        verbose_name_plural = _("content items")
        ordering = ["kind", "title"]
        indexes = [
            models.Index(fields=["kind", "normalized_title", "year"], name="item_match_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["imdb_id"], condition=~Q(imdb_id=""), name="item_unique_imdb_id"),
            models.UniqueConstraint(fields=["isbn13"], condition=~Q(isbn13=""), name="item_unique_isbn13"),
            models.UniqueConstraint(fields=["isrc"], condition=~Q(isrc=""), name="item_unique_isrc"),
            models.CheckConstraint(condition=Q(year__isnull=True) | Q(year__gte=1000, year__lte=2100), name="item_year_sane"),
            models.CheckConstraint(condition=Q(pages__isnull=True) | Q(kind="book"), name="item_pages_only_books"),
            models.CheckConstraint(
                condition=Q(tempo__isnull=True) | Q(tempo__gt=0, tempo__lt=400), name="item_tempo_sane"
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.year})" if self.year else self.title


class OfferType(models.TextChoices):
    BUY = "buy", _("Buy")
    RENT = "rent", _("Rent")
    SUBSCRIPTION = "subscription", _("Subscription")
    FREE = "free", _("Free")


class FeedFormat(models.TextChoices):
    YML = "yml", _("Yandex Market YML")
    CSV = "csv", _("CSV")
    JSON = "json", _("JSON / JSON Lines")
    MERCHANT = "merchant", _("Google Merchant / Meta catalog")


class Partner(models.Model):
    """A shop that lists its goods and pays per user action (CPA)."""

    code = models.SlugField(verbose_name=_("code"), max_length=40, unique=True)
    name = models.CharField(verbose_name=_("name"), max_length=200)
    site_url = models.URLField(verbose_name=_("site url"), blank=True)
    is_active = models.BooleanField(verbose_name=_("is active"), default=True)

    # Payouts per action, in `payout_currency`.
    payout_currency = models.CharField(verbose_name=_("payout currency"), max_length=3, default="RUB")
    payout_click = models.DecimalField(verbose_name=_("payout click"), max_digits=10, decimal_places=2, default=Decimal("0"))
    payout_registration = models.DecimalField(verbose_name=_("payout registration"), max_digits=10, decimal_places=2, default=Decimal("0"))
    payout_subscription = models.DecimalField(verbose_name=_("payout subscription"), max_digits=10, decimal_places=2, default=Decimal("0"))
    payout_purchase = models.DecimalField(verbose_name=_("payout purchase"), max_digits=10, decimal_places=2, default=Decimal("0"),
                                          help_text=_("Fixed payout per purchase."))
    payout_purchase_percent = models.DecimalField(verbose_name=_("payout purchase percent"), max_digits=5, decimal_places=2, default=Decimal("0"),
                                                  validators=[MinValueValidator(0), MaxValueValidator(100)],
                                                  help_text=_("Share of the purchase amount, percent."))

    # Secrets are stored hashed; the prefix identifies the token without revealing it.
    api_token_prefix = models.CharField(verbose_name=_("API token prefix"), max_length=16, blank=True, db_index=True, editable=False)
    api_token_hash = models.CharField(verbose_name=_("API token hash"), max_length=128, blank=True, editable=False)
    postback_key_hash = models.CharField(verbose_name=_("postback key hash"), max_length=128, blank=True, editable=False)
    click_param = models.CharField(verbose_name=_("click param"), max_length=40, default="ms_click_id",
                                   help_text=_("Query parameter that carries the click id to the shop."))

    feed_url = models.URLField(verbose_name=_("feed url"), max_length=1000, blank=True)
    feed_format = models.CharField(verbose_name=_("feed format"), max_length=8, choices=FeedFormat.choices, default=FeedFormat.YML)
    feed_is_full = models.BooleanField(verbose_name=_("feed is full"), default=True, help_text=_("A full feed withdraws offers missing from it."))
    import_interval_minutes = models.PositiveIntegerField(verbose_name=_("import interval minutes"), default=0, help_text=_("0 = no scheduled import."))
    last_import_started_at = models.DateTimeField(verbose_name=_("last import started at"), null=True, blank=True, editable=False)

    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Offer(models.Model):
    """One partner's listing of one item."""

    # offer_unique_partner_sku and offer_item_available_idx lead with these columns, so the foreign
    # keys' own indexes would only be written, never read.
    partner = models.ForeignKey(Partner, verbose_name=_("partner"), on_delete=models.CASCADE, related_name="offers",
                                db_index=False)
    item = models.ForeignKey(ContentItem, verbose_name=_("item"), on_delete=models.CASCADE, related_name="offers",
                             db_index=False)
    sku = models.CharField(verbose_name=_("SKU"), max_length=200)
    url = models.URLField(verbose_name=_("URL"), max_length=2000)
    price = models.DecimalField(verbose_name=_("price"), max_digits=12, decimal_places=2)
    currency = models.CharField(verbose_name=_("currency"), max_length=3, default="RUB")
    offer_type = models.CharField(verbose_name=_("offer type"), max_length=12, choices=OfferType.choices, default=OfferType.BUY)
    available = models.BooleanField(verbose_name=_("available"), default=True)
    # Hash of the feed row's fields, so an unchanged row costs no write.
    row_hash = models.CharField(verbose_name=_("row hash"), max_length=32, blank=True, editable=False)
    # Hash of the feed's bytes for the offer (YML), so a re-import sets them aside unparsed
    # (catalog.feeds.parsers.OfferSources); cleared with row_hash.
    source_hash = models.CharField(verbose_name=_("source hash"), max_length=32, blank=True, default="",
                                   editable=False)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["partner", "sku"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "sku"], name="offer_unique_partner_sku"),
            models.CheckConstraint(condition=Q(price__gte=0), name="offer_price_not_negative"),
            models.CheckConstraint(
                condition=Q(url__startswith="http://") | Q(url__startswith="https://"), name="offer_url_http"
            ),
        ]
        indexes = [models.Index(fields=["item", "available"], name="offer_item_available_idx")]

    def __str__(self):
        return f"{self.partner.code}:{self.sku}"


class FeedImport(models.Model):
    """One run of one partner feed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        SKIPPED = "skipped", _("Skipped (unchanged)")
        FAILED = "failed", _("Failed")

    class Source(models.TextChoices):
        URL = "url", _("Feed URL")
        SCHEDULE = "schedule", _("Schedule")
        UPLOAD = "upload", _("Admin upload")
        API = "api", _("Partner API")
        COMMAND = "command", _("Command line")

    id = models.UUIDField(verbose_name=_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(Partner, verbose_name=_("partner"), on_delete=models.CASCADE, related_name="imports")
    status = models.CharField(verbose_name=_("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    source = models.CharField(verbose_name=_("source"), max_length=10, choices=Source.choices)
    format = models.CharField(verbose_name=_("format"), max_length=8, choices=FeedFormat.choices, blank=True)
    is_full = models.BooleanField(verbose_name=_("is full"), default=True)
    source_url = models.URLField(verbose_name=_("source url"), max_length=1000, blank=True)
    file = models.FileField(verbose_name=_("file"), upload_to="feeds/%Y/%m/", blank=True)
    content_sha256 = models.CharField(verbose_name=_("content sha256"), max_length=64, blank=True, db_index=True)
    size_bytes = models.BigIntegerField(verbose_name=_("size bytes"), null=True, blank=True)

    rows_total = models.PositiveIntegerField(verbose_name=_("rows total"), default=0)
    created_count = models.PositiveIntegerField(verbose_name=_("created count"), default=0)
    updated_count = models.PositiveIntegerField(verbose_name=_("updated count"), default=0)
    unchanged_count = models.PositiveIntegerField(verbose_name=_("unchanged count"), default=0)
    rejected_count = models.PositiveIntegerField(verbose_name=_("rejected count"), default=0)
    withdrawn_count = models.PositiveIntegerField(verbose_name=_("withdrawn count"), default=0)
    items_created_count = models.PositiveIntegerField(verbose_name=_("items created count"), default=0)
    rejected_rows = models.JSONField(verbose_name=_("rejected rows"), default=list, blank=True, help_text=_("The first rejected rows with reasons."))
    # [{"field", "reason", "count"}], most frequent first: what a partner fixes first.
    rejected_reasons = models.JSONField(verbose_name=_("rejected reasons"), default=list, blank=True, help_text=_("Rejection reasons with their counts."))
    # [{"name", "offers"}]: categories that gave an offer neither a genre nor a kind.
    unmapped_categories = models.JSONField(verbose_name=_("unmapped categories"), default=list, blank=True,
                                           help_text=_("Categories that mapped to no genre, with their offer counts."))
    message = models.TextField(verbose_name=_("message"), blank=True)

    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(verbose_name=_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(verbose_name=_("finished at"), null=True, blank=True)
    # Stamped every FEED_IMPORT_HEARTBEAT_SECONDS while a worker runs the import; a stale one means
    # the worker died (housekeeping then fails the import).
    heartbeat_at = models.DateTimeField(verbose_name=_("heartbeat at"), null=True, blank=True)
    # The Celery task id that claimed the import: the same task redelivered after its worker died
    # may take the import over; any other run of it may not.
    task_id = models.CharField(verbose_name=_("task id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("feed import")
        verbose_name_plural = _("feed imports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["partner", "-created_at"], name="feedimport_partner_recent_idx")]

    def __str__(self):
        # The admin's title and breadcrumbs: in the reader's language, the status as its label.
        return gettext("%(partner)s import %(when)s (%(status)s)") % {
            "partner": self.partner.code, "when": f"{self.created_at:%Y-%m-%d %H:%M}", "status": self.get_status_display()}

    @property
    def duration_seconds(self):
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class GenreAlias(models.Model):
    """How a source's genre or category name maps onto one of MoodStream's genres.

    Editable in the admin. `source` is where the name comes from: "feed" for partner feed
    categories, or a dataset family ("imdb", "goodreads", "spotify"). An alias without a
    genre says "ignore this name" (e.g. "fiction", which says nothing about mood).
    """

    source = models.SlugField(verbose_name=_("source"), max_length=20)
    kind = models.CharField(verbose_name=_("kind"), max_length=8, choices=Kind.choices)
    # Stored normalised (catalog.services.normalize_title), so "Sci-Fi" and "sci fi" are one name.
    name = models.CharField(verbose_name=_("name"), max_length=200)
    genre = models.ForeignKey(Genre, verbose_name=_("genre"), on_delete=models.CASCADE, null=True, blank=True, related_name="aliases")

    class Meta:
        verbose_name = _("genre alias")
        ordering = ["source", "kind", "name"]
        verbose_name_plural = _("genre aliases")
        constraints = [
            models.UniqueConstraint(fields=["source", "kind", "name"], name="genrealias_unique_source_kind_name"),
        ]

    def __str__(self):
        return f"{self.source}/{self.kind}: {self.name} → {self.genre.code if self.genre else '(ignored)'}"


class PartnerCategoryMapping(models.Model):
    """One partner's category name -> a genre and/or a kind (editable in the admin).

    Looked up before MoodStream's own aliases. A mapping with neither a genre nor a kind tells
    the importer to ignore the category (it is then no longer reported as unmapped).
    """

    partner = models.ForeignKey(Partner, verbose_name=_("partner"), on_delete=models.CASCADE, related_name="category_mappings")
    # Stored normalised (catalog.services.normalize_title), as the importer looks names up.
    category = models.CharField(verbose_name=_("category"), max_length=200, help_text=_("The category name as the feed writes it."))
    kind = models.CharField(verbose_name=_("kind"), max_length=8, choices=Kind.choices, blank=True,
                            help_text=_("Offers in this category are of this kind (when they do not say)."))
    genre = models.ForeignKey(Genre, verbose_name=_("genre"), on_delete=models.CASCADE, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("partner category mapping")
        verbose_name_plural = _("partner category mappings")
        ordering = ["partner", "category"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "category"], name="partnercategorymapping_unique"),
        ]

    def __str__(self):
        target = " / ".join(filter(None, [self.kind, self.genre.code if self.genre else ""])) or "(ignored)"
        return f"{self.partner.code}: {self.category} → {target}"


class PartnerColumnMapping(models.Model):
    """One partner's CSV column or JSON key -> one of MoodStream's feed fields (docs/feeds.md).

    Lets a shop's own export (WooCommerce, Shopify, a spreadsheet in any language) be used as it
    is. An empty field ignores the column.
    """

    partner = models.ForeignKey(Partner, verbose_name=_("partner"), on_delete=models.CASCADE, related_name="column_mappings")
    column = models.CharField(verbose_name=_("column"), max_length=200, help_text=_("The column header or JSON key, as the feed writes it."))
    field = models.CharField(verbose_name=_("field"), max_length=40, blank=True, help_text=_("Our field; empty ignores the column."))

    class Meta:
        verbose_name = _("partner column mapping")
        verbose_name_plural = _("partner column mappings")
        ordering = ["partner", "column"]
        constraints = [models.UniqueConstraint(fields=["partner", "column"], name="partnercolumnmapping_unique")]

    def __str__(self):
        return f"{self.partner.code}: {self.column} → {self.field or '(ignored)'}"
