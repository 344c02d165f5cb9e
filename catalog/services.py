"""Writes to the catalogue: items, offers and partner secrets."""

import json
import re
import unicodedata
from math import ceil
from pathlib import Path

from django.conf import settings

from moodstream.tokens import issue_secret

from .models import ContentItem, Genre, Kind, Partner

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalize_title(title: str) -> str:
    """Lower-case, accent- and punctuation-free title used to match the same work across sources."""
    decomposed = unicodedata.normalize("NFKD", title or "")
    without_accents = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", without_accents.casefold().replace("ё", "е")).strip()


def partner_issue_api_token(*, partner: Partner) -> str:
    """Issue a new API token for a partner (replacing the old one); returns it once."""
    issued = issue_secret()
    partner.api_token_prefix = issued.prefix
    partner.api_token_hash = issued.digest
    partner.save(update_fields=["api_token_prefix", "api_token_hash"])
    return issued.secret


def partner_issue_postback_key(*, partner: Partner) -> str:
    """Issue a new key for server-to-server postbacks; returns it once."""
    issued = issue_secret()
    partner.postback_key_hash = issued.digest
    partner.save(update_fields=["postback_key_hash"])
    return issued.secret



def item_refresh_derived_fields(*, item: ContentItem) -> None:
    """Recompute the fields derived from others: the matching keys and the comparable length."""
    item.normalized_title = normalize_title(item.title)
    item.primary_creator = (item.creators[0] if item.creators else "")[:300]
    if item.kind == Kind.BOOK and item.pages:
        item.length_minutes = book_reading_minutes(item.pages)
    elif item.kind == Kind.TRACK and item.duration_seconds:
        item.length_minutes = ceil(item.duration_seconds / 60)


def book_reading_minutes(pages: int) -> int:
    """Reading time: pages × settings.BOOK_MINUTES_PER_PAGE (1.2 by default: ~250 words a page at ~200 wpm)."""
    return ceil(pages * settings.BOOK_MINUTES_PER_PAGE)


def genres_ensure_defaults() -> int:
    """Create the genres of fixtures/genres.json that are missing; existing ones keep their (edited) names.

    Returns how many were created. The demo loader and the dataset importers both start here, so a
    dataset can be mapped onto genres before `load_demo` has ever run.
    """
    table = json.loads((Path(settings.BASE_DIR) / "fixtures" / "genres.json").read_text(encoding="utf-8"))
    existing = set(Genre.objects.values_list("kind", "code"))
    missing = [Genre(kind=kind, code=row["code"], name_ru=row["ru"], name_en=row["en"])
               for kind, rows in table.items() for row in rows if (kind, row["code"]) not in existing]
    Genre.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)
