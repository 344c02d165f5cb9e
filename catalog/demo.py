"""The demo catalogue: genres, moods, three partner shops and an offer for every item.

Everything is read from `fixtures/`. Loading is idempotent and never overwrites: a row that
already exists (found by its natural key) is left exactly as staff last edited it.
"""

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction

from .models import (ContentItem, FeedFormat, Genre, Kind, Mood, MoodGenreWeight, MoodPhrase, Offer, OfferType,
                     Partner)
from .services import book_reading_minutes, genres_ensure_defaults, item_refresh_derived_fields, normalize_title

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"

DEMO_PARTNERS = {
    Kind.FILM: {
        "code": "kinoport", "name": "КиноПорт", "site_url": "https://kinoport.example",
        "payout_click": Decimal("2.00"), "payout_registration": Decimal("60.00"),
        "payout_subscription": Decimal("250.00"), "payout_purchase": Decimal("40.00"),
    },
    Kind.BOOK: {
        "code": "chitai", "name": "Читай-Слушай", "site_url": "https://chitai-slushai.example",
        "payout_click": Decimal("1.50"), "payout_registration": Decimal("40.00"),
        "payout_subscription": Decimal("150.00"), "payout_purchase_percent": Decimal("8.00"),
    },
    Kind.TRACK: {
        "code": "zvukplus", "name": "Звук+", "site_url": "https://zvukplus.example",
        "payout_click": Decimal("1.00"), "payout_registration": Decimal("50.00"),
        "payout_subscription": Decimal("200.00"),
    },
}


@dataclass
class DemoSummary:
    created: dict[str, int] = field(default_factory=dict)
    existing: dict[str, int] = field(default_factory=dict)

    def count(self, what: str, created: bool) -> None:
        bucket = self.created if created else self.existing
        bucket[what] = bucket.get(what, 0) + 1

    def count_many(self, what: str, created: int) -> None:
        if created:
            self.created[what] = self.created.get(what, 0) + created


def _read(name: str) -> dict:
    with open(FIXTURES_DIR / name, encoding="utf-8") as handle:
        return json.load(handle)


def _stable_number(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


@transaction.atomic
def demo_load() -> DemoSummary:
    """Create whatever of the demo catalogue is missing; change nothing that exists."""
    summary = DemoSummary()
    genres = _load_genres(summary)
    moods = _load_moods(summary, genres)
    partners = {}
    for kind, fields in DEMO_PARTNERS.items():
        values = dict(fields)
        partner, created = Partner.objects.get_or_create(
            code=values.pop("code"), defaults={**values, "feed_format": FeedFormat.YML}
        )
        partners[kind] = partner
        summary.count("partners", created)
    for kind, file_name, builder in [
        (Kind.FILM, "films.json", _film_fields),
        (Kind.BOOK, "books.json", _book_fields),
        (Kind.TRACK, "tracks.json", _track_fields),
    ]:
        if (FIXTURES_DIR / "demo" / file_name).exists():
            rows = _read(f"demo/{file_name}")["items"]
            _load_items(summary, kind, rows, builder, genres, moods, partners[kind])
    return summary


def _load_genres(summary: DemoSummary) -> dict[tuple[str, str], Genre]:
    created = genres_ensure_defaults()
    genres = {(genre.kind, genre.code): genre for genre in Genre.objects.all()}
    for bucket, count in ((summary.created, created), (summary.existing, len(genres) - created)):
        if count:
            bucket["genres"] = count
    return genres


def _load_moods(summary: DemoSummary, genres) -> dict[str, Mood]:
    moods = {}
    for position, row in enumerate(_read("moods.json")["moods"], start=1):
        (tempo_min, tempo_max), (energy_min, energy_max) = row["tempo"], row["energy"]
        mood, created = Mood.objects.get_or_create(
            code=row["code"],
            defaults={
                "name_ru": row["ru"], "name_en": row["en"], "emoji": row["emoji"], "position": position,
                "valence": row["valence"], "arousal": row["arousal"], "tempo_min": tempo_min,
                "tempo_max": tempo_max, "energy_min": energy_min, "energy_max": energy_max, "mode": row["mode"],
            },
        )
        moods[mood.code] = mood
        summary.count("moods", created)
        summary.count_many("mood phrases", mood_phrases_add_missing(mood=mood, words=row.get("words") or {}))
        for kind, weights in row["genres"].items():
            for code, weight in weights.items():
                _weight, created = MoodGenreWeight.objects.get_or_create(
                    mood=mood, genre=genres[(kind, code)], defaults={"weight": weight}
                )
                summary.count("mood weights", created)
    return moods


def mood_phrases_add_missing(*, mood: Mood, words: dict[str, list[str]]) -> int:
    """Give `mood` the fixture's words in each language it has none in yet (staff edits are kept); returns how many."""
    have = set(MoodPhrase.objects.filter(mood=mood).values_list("language", flat=True).distinct())
    new = [MoodPhrase(mood=mood, language=language, text=text.strip()[:100])
           for language, texts in words.items() if language not in have for text in dict.fromkeys(texts) if text.strip()]
    MoodPhrase.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def _film_fields(row: dict) -> dict:
    return {
        "original_title": row.get("original_title", ""), "title_en": row.get("title_en", ""),
        "creators": row.get("directors", []),
        "rating": row.get("rating"), "votes": row.get("votes") or 0, "length_minutes": row["runtime"],
        "imdb_id": row.get("imdb_id", ""),
        "popularity": min(100.0, round((row.get("votes") or 0) / 25_000, 1)),
    }


def _book_fields(row: dict) -> dict:
    rating = row.get("rating")
    isbn = row.get("isbn13", "")
    return {
        "original_title": row.get("original_title", ""), "title_en": row.get("title_en", ""),
        "creators": row.get("authors", []),
        # Goodreads-style ratings are out of 5; the catalogue keeps every rating on a 0-10 scale.
        "rating": round(rating * 2, 2) if rating is not None else None, "votes": row.get("votes") or 0,
        "pages": row["pages"], "length_minutes": book_reading_minutes(row["pages"]), "isbn13": isbn,
        "cover_url": f"https://covers.openlibrary.org/b/isbn/{isbn}-L.jpg" if isbn else "",
        "popularity": min(100.0, round((row.get("votes") or 0) / 20_000, 1)),
    }


def _track_fields(row: dict) -> dict:
    return {
        "title_en": row.get("title_en", ""), "creators": row.get("artists", []), "album": row.get("album", ""),
        "duration_seconds": row["duration_seconds"], "tempo": row.get("tempo"), "energy": row.get("energy"),
        "valence": row.get("valence"), "danceability": row.get("danceability"),
        "acousticness": row.get("acousticness"), "mode": row.get("mode") or "", "isrc": row.get("isrc", ""),
        "popularity": row.get("popularity") or 0,
    }


def _load_items(summary, kind, rows, builder, genres, moods, partner) -> None:
    """Create the missing items of one kind, their tags and offers, in a few bulk queries."""
    items = ContentItem.objects.filter(kind=kind)
    by_key = {}
    for pk, imdb_id, isbn13, isrc, title, year in items.values_list(
        "pk", "imdb_id", "isbn13", "isrc", "normalized_title", "year"
    ):
        by_key.update({key: pk for key in (imdb_id, isbn13, isrc) if key})
        by_key[(title, year)] = pk

    # Items loaded before English titles existed get them; a title staff have set is kept.
    without_english = set(items.filter(title_en="").values_list("pk", flat=True))
    english: dict[int, str] = {}
    new_items, new_rows = [], []
    for row in rows:
        fields = builder(row)
        external_ids = [fields.get(name) for name in ("imdb_id", "isbn13", "isrc") if fields.get(name)]
        keys = [key for key in external_ids if key in by_key] + [(normalize_title(row["title"]), row.get("year"))]
        existing = next((by_key[key] for key in keys if key in by_key), False)
        if existing is not False:
            if existing in without_english and fields.get("title_en"):
                english[existing] = fields["title_en"]
            summary.count(f"{kind}s", False)
            continue
        item = ContentItem(kind=kind, title=row["title"], year=row.get("year"),
                           description=row.get("description", ""), series=row.get("series", ""), **fields)
        item_refresh_derived_fields(item=item)
        new_items.append(item)
        new_rows.append(row)
        by_key[(item.normalized_title, item.year)] = None  # a duplicate row in the file is created once
        summary.count(f"{kind}s", True)
    ContentItem.objects.bulk_create(new_items, batch_size=500)
    ContentItem.objects.bulk_update([ContentItem(pk=pk, title_en=title) for pk, title in english.items()],
                                    ["title_en"], batch_size=500)

    # bulk_create returns primary keys on PostgreSQL and SQLite alike.
    ContentItem.genres.through.objects.bulk_create(
        [ContentItem.genres.through(contentitem_id=item.pk, genre_id=genres[(kind, code)].pk)
         for item, row in zip(new_items, new_rows) for code in row.get("genres", [])],
        batch_size=1000, ignore_conflicts=True,
    )
    ContentItem.moods.through.objects.bulk_create(
        [ContentItem.moods.through(contentitem_id=item.pk, mood_id=moods[code].pk)
         for item, row in zip(new_items, new_rows) for code in row.get("moods", [])],
        batch_size=1000, ignore_conflicts=True,
    )

    existing_skus = set(Offer.objects.filter(partner=partner).values_list("sku", flat=True))
    new_offers = []
    for item, row in zip(new_items, new_rows):
        for offer_fields in _offers_for(kind, item, row, partner):
            if offer_fields["sku"] in existing_skus:
                summary.count("offers", False)
                continue
            existing_skus.add(offer_fields["sku"])
            new_offers.append(Offer(item=item, **offer_fields))
            summary.count("offers", True)
    Offer.objects.bulk_create(new_offers, batch_size=500)


def _offers_for(kind, item: ContentItem, row: dict, partner: Partner) -> list[dict]:
    """One offer per item (and an audiobook for some books), with deterministic demo prices."""
    sku_base = f"{kind}-{item.imdb_id or item.isbn13 or _stable_number(item.normalized_title + str(item.year))}"
    slug = sku_base.lower()
    base = {"partner": partner, "currency": "RUB", "available": True}
    if kind == Kind.FILM:
        renting = _stable_number(slug) % 3 != 0
        return [{**base, "sku": sku_base, "url": f"{partner.site_url}/film/{slug}",
                 "offer_type": OfferType.RENT if renting else OfferType.BUY,
                 "price": Decimal("199.00") if renting else Decimal("399.00")}]
    if kind == Kind.BOOK:
        pages = row["pages"]
        offers = [{**base, "sku": sku_base, "url": f"{partner.site_url}/book/{slug}", "offer_type": OfferType.BUY,
                   "price": Decimal(149 + (pages // 100) * 50)}]
        if _stable_number(slug) % 3 == 0:
            offers.append({**base, "sku": f"audio-{sku_base}", "url": f"{partner.site_url}/audiobook/{slug}",
                           "offer_type": OfferType.SUBSCRIPTION, "price": Decimal("399.00")})
        return offers
    return [{**base, "sku": sku_base, "url": f"{partner.site_url}/track/{slug}",
             "offer_type": OfferType.SUBSCRIPTION, "price": Decimal("199.00")}]
