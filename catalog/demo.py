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

from .models import ContentItem, FeedFormat, Genre, Kind, Mood, MoodGenreWeight, Offer, OfferType, Partner
from .services import book_reading_minutes, item_refresh_derived_fields, normalize_title

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
        path = FIXTURES_DIR / "demo" / file_name
        if not path.exists():
            continue
        for row in _read(f"demo/{file_name}")["items"]:
            item, created = _get_or_create_item(kind, builder(row), genres, moods, row)
            summary.count(f"{kind}s", created)
            for offer_fields in _offers_for(kind, item, row, partners[kind]):
                _offer, created = Offer.objects.get_or_create(
                    partner=offer_fields.pop("partner"), sku=offer_fields.pop("sku"),
                    defaults={"item": item, **offer_fields},
                )
                summary.count("offers", created)
    return summary


def _load_genres(summary: DemoSummary) -> dict[tuple[str, str], Genre]:
    genres = {}
    for kind, rows in _read("genres.json").items():
        for row in rows:
            genre, created = Genre.objects.get_or_create(
                kind=kind, code=row["code"], defaults={"name_ru": row["ru"], "name_en": row["en"]}
            )
            genres[(kind, row["code"])] = genre
            summary.count("genres", created)
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
        for kind, weights in row["genres"].items():
            for code, weight in weights.items():
                _weight, created = MoodGenreWeight.objects.get_or_create(
                    mood=mood, genre=genres[(kind, code)], defaults={"weight": weight}
                )
                summary.count("mood weights", created)
    return moods


def _film_fields(row: dict) -> dict:
    return {
        "original_title": row.get("original_title", ""), "creators": row.get("directors", []),
        "rating": row.get("rating"), "votes": row.get("votes") or 0, "length_minutes": row["runtime"],
        "imdb_id": row.get("imdb_id", ""),
        "popularity": min(100.0, round((row.get("votes") or 0) / 25_000, 1)),
    }


def _book_fields(row: dict) -> dict:
    rating = row.get("rating")
    isbn = row.get("isbn13", "")
    return {
        "original_title": row.get("original_title", ""), "creators": row.get("authors", []),
        # Goodreads-style ratings are out of 5; the catalogue keeps every rating on a 0-10 scale.
        "rating": round(rating * 2, 2) if rating is not None else None, "votes": row.get("votes") or 0,
        "pages": row["pages"], "length_minutes": book_reading_minutes(row["pages"]), "isbn13": isbn,
        "cover_url": f"https://covers.openlibrary.org/b/isbn/{isbn}-L.jpg" if isbn else "",
        "popularity": min(100.0, round((row.get("votes") or 0) / 20_000, 1)),
    }


def _track_fields(row: dict) -> dict:
    return {
        "creators": row.get("artists", []), "album": row.get("album", ""),
        "duration_seconds": row["duration_seconds"], "tempo": row.get("tempo"), "energy": row.get("energy"),
        "valence": row.get("valence"), "danceability": row.get("danceability"),
        "acousticness": row.get("acousticness"), "mode": row.get("mode") or "", "isrc": row.get("isrc", ""),
        "popularity": row.get("popularity") or 0,
    }


def _get_or_create_item(kind, fields, genres, moods, row) -> tuple[ContentItem, bool]:
    lookup = None
    for id_field in ("imdb_id", "isbn13", "isrc"):
        if fields.get(id_field):
            lookup = {id_field: fields[id_field]}
            break
    existing = ContentItem.objects.filter(**lookup).first() if lookup else None
    if existing is None:
        existing = ContentItem.objects.filter(
            kind=kind, normalized_title=normalize_title(row["title"]), year=row.get("year")
        ).first()
    if existing is not None:
        return existing, False
    item = ContentItem(
        kind=kind, title=row["title"], year=row.get("year"), description=row.get("description", ""),
        series=row.get("series", ""), **fields,
    )
    item_refresh_derived_fields(item=item)
    item.save()
    item.genres.set([genres[(kind, code)] for code in row.get("genres", [])])
    item.moods.set([moods[code] for code in row.get("moods", [])])
    return item, True


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
