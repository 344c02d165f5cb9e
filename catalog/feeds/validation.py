"""Checking and converting one feed row: the same rules and reasons for every format."""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from catalog.models import Kind, MusicMode, OfferType

from .rows import OfferRow

# ISO 4217 codes accepted in feeds. YML's historical "RUR" means the ruble and is stored as RUB.
ACCEPTED_CURRENCIES = frozenset({
    "RUB", "USD", "EUR", "GBP", "CHF", "CNY", "JPY", "INR", "TRY", "KZT", "BYN", "UAH", "UZS",
    "KGS", "AMD", "GEL", "AZN", "TJS", "MDL", "PLN", "CZK", "SEK", "NOK", "DKK", "CAD", "AUD",
    "ILS", "AED", "BRL", "KRW", "HKD", "SGD",
})
CURRENCY_ALIASES = {"RUR": "RUB"}
KIND_ALIASES = {
    "film": Kind.FILM, "movie": Kind.FILM, "фильм": Kind.FILM, "кино": Kind.FILM,
    "book": Kind.BOOK, "ebook": Kind.BOOK, "книга": Kind.BOOK,
    "audiobook": Kind.BOOK, "аудиокнига": Kind.BOOK,
    "track": Kind.TRACK, "music": Kind.TRACK, "song": Kind.TRACK, "трек": Kind.TRACK, "музыка": Kind.TRACK,
}
OFFER_TYPE_ALIASES = {
    "buy": OfferType.BUY, "purchase": OfferType.BUY, "покупка": OfferType.BUY,
    "rent": OfferType.RENT, "rental": OfferType.RENT, "аренда": OfferType.RENT,
    "subscription": OfferType.SUBSCRIPTION, "подписка": OfferType.SUBSCRIPTION,
    "free": OfferType.FREE, "бесплатно": OfferType.FREE,
}
TRUE_WORDS = frozenset({"true", "1", "yes", "y", "да", "in_stock"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "нет", "out_of_stock"})
MAX_PRICE = Decimal("9999999999.99")
_IMDB_ID = re.compile(r"^tt\d{7,10}$")
_ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}\d{7}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_YEAR = re.compile(r"^\d{4}")


class RowRejected(ValueError):
    def __init__(self, field_name: str, reason: str, value: str = ""):
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason
        self.value = value


@dataclass(slots=True)
class ItemData:
    """What a feed row or a dataset row says about the work itself (film, book, track)."""

    kind: str
    title: str
    original_title: str = ""
    creators: list[str] = field(default_factory=list)
    year: int | None = None
    genres: tuple[str, ...] = ()
    description: str = ""
    cover_url: str = ""
    language: str = ""
    runtime_minutes: int | None = None
    pages: int | None = None
    duration_seconds: int | None = None
    isbn13: str = ""
    imdb_id: str = ""
    isrc: str = ""
    album: str = ""
    tempo: float | None = None
    energy: float | None = None
    valence: float | None = None
    danceability: float | None = None
    acousticness: float | None = None
    mode: str = ""
    rating: float | None = None
    votes: int | None = None
    popularity: float | None = None
    series: str = ""


@dataclass(slots=True)
class ValidOffer:
    sku: str
    url: str
    price: Decimal
    currency: str
    offer_type: str
    available: bool
    item: ItemData


def clean_text(value: str, *, limit: int, field_name: str) -> str:
    """Plain text as given (escaping happens where it is shown), minus control characters."""
    if not value:
        return ""
    value = (value if value.isprintable() else _CONTROL.sub("", value)).strip()
    if len(value) > limit:
        raise RowRejected(field_name, f"{len(value)} characters, at most {limit} are allowed", value)
    return value


_HTTP_URL = re.compile(r"https?://[^\s/?#@\\\x00-\x1f\x7f]+(?:[/?#][^\s\x00-\x1f\x7f]*)?\Z", re.IGNORECASE)
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


def http_url(value: str, *, field_name: str, limit: int) -> str:
    value = value.strip()
    if not _HTTP_URL.match(value):
        if _SPACE_OR_CONTROL.search(value):
            raise RowRejected(field_name, "the URL contains spaces or control characters", value)
        raise RowRejected(field_name, "only http:// and https:// URLs are accepted", value)
    if len(value) > limit:
        raise RowRejected(field_name, f"the URL is longer than {limit} characters", value)
    scheme_end = value.index("://")
    return value[:scheme_end].lower() + value[scheme_end:]  # the database accepts only "http(s)://"


def parse_price(value: str) -> Decimal:
    text = value.strip().replace(" ", "").replace("\u00a0", "").replace(",", ".")
    if not text:
        raise RowRejected("price", "missing: every offer needs a price (0 for free offers)")
    try:
        price = Decimal(text)
    except InvalidOperation:
        raise RowRejected("price", "not a number", value) from None
    if not price.is_finite():
        raise RowRejected("price", "not a number", value)
    if price < 0:
        raise RowRejected("price", "negative prices are not accepted", value)
    if price > MAX_PRICE:
        raise RowRejected("price", f"larger than {MAX_PRICE}", value)
    return price.quantize(Decimal("0.01"))


def parse_int(value: str, field_name: str, *, low: int, high: int) -> int | None:
    text = value.strip()
    if not text:
        return None
    try:
        number = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise RowRejected(field_name, "not a number", value) from None
    if not number.is_finite() or not low <= number <= high:
        raise RowRejected(field_name, f"must be between {low} and {high}", value)
    return int(number.to_integral_value())


def parse_float(value: str, field_name: str, *, low: float, high: float, exclusive_low: bool = False) -> float | None:
    text = value.strip()
    if not text:
        return None
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        raise RowRejected(field_name, "not a number", value) from None
    if not (low < number if exclusive_low else low <= number) or not number <= high:
        raise RowRejected(field_name, f"must be between {low:g} and {high:g}", value)
    return number


def parse_year(value: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    match = _YEAR.match(text)  # "2014", "2014-05-01"
    if not match:
        raise RowRejected("year", "not a year", value)
    year = int(match.group())
    if not 1000 <= year <= 2100:
        raise RowRejected("year", "must be between 1000 and 2100", value)
    return year


def isbn13_from(value: str) -> str:
    """An ISBN-13 from an ISBN-10 or ISBN-13 in any common spelling (the first of several)."""
    text = value.strip()
    if not text:
        return ""
    first = re.split(r"[,;|/ ]+(?=[\dXx-]{10})", text)[0]
    digits = re.sub(r"[^0-9Xx]", "", first).upper()
    if len(digits) == 10 and digits[:9].isdigit():
        check = sum((10 - i) * (10 if ch == "X" else int(ch)) for i, ch in enumerate(digits)) % 11
        if check == 0:
            body = "978" + digits[:9]
            return body + str((10 - sum((1 if i % 2 == 0 else 3) * int(d) for i, d in enumerate(body)) % 10) % 10)
    elif len(digits) == 13 and digits.isdigit():
        if sum((1 if i % 2 == 0 else 3) * int(d) for i, d in enumerate(digits)) % 10 == 0:
            return digits
    raise RowRejected("isbn", "not a valid ISBN-10 or ISBN-13", value)


def parse_available(value: str) -> bool:
    text = value.strip().casefold()
    if not text or text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise RowRejected("available", "use true or false", value)


def parse_mode(value: str) -> str:
    text = value.strip().casefold()
    if not text:
        return ""
    mode = {"1": MusicMode.MAJOR, "major": MusicMode.MAJOR, "мажор": MusicMode.MAJOR,
            "0": MusicMode.MINOR, "minor": MusicMode.MINOR, "минор": MusicMode.MINOR}.get(text)
    if mode is None:
        raise RowRejected("mode", "use major or minor", value)
    return mode


def validate_row(row: OfferRow, *, max_description_chars: int) -> ValidOffer:
    """Check one row; the first problem found rejects it with the field and the reason."""
    if "__not_an_object__" in row.extra:
        raise RowRejected("", f"an offer must be an object, not {row.extra['__not_an_object__']}")
    sku = clean_text(row.sku, limit=200, field_name="sku")
    if not sku:
        raise RowRejected("sku", "missing: every offer needs its own id (SKU)")
    title = clean_text(row.title, limit=500, field_name="title")
    if not title:
        raise RowRejected("title", "missing")
    if not row.url.strip():
        raise RowRejected("url", "missing")
    url = http_url(row.url, field_name="url", limit=2000)
    price = parse_price(row.price)
    currency = row.currency.strip().upper() or "RUB"
    currency = CURRENCY_ALIASES.get(currency, currency)
    if currency not in ACCEPTED_CURRENCIES:
        raise RowRejected("currency", f"unknown currency; use an ISO 4217 code such as RUB, USD, EUR", row.currency)
    offer_type = OFFER_TYPE_ALIASES.get(row.offer_type.strip().casefold() or "buy")
    if offer_type is None:
        raise RowRejected("offer_type", f"use one of {', '.join(OfferType.values)}", row.offer_type)
    available = parse_available(row.available)
    kind = _kind_of(row)

    description = row.description
    if description and not description.isprintable():
        description = _CONTROL.sub("", description)
    description = description.strip()
    if len(description) > max_description_chars:
        raise RowRejected("description", f"{len(description):,} characters, at most {max_description_chars:,} are allowed")
    creators = [clean_text(name, limit=300, field_name="creators") for name in row.creators]
    item = ItemData(
        kind=kind,
        title=title,
        original_title=clean_text(row.original_title, limit=500, field_name="original_title"),
        creators=[name for name in creators if name],
        year=parse_year(row.year),
        genres=tuple(name for name in (clean_text(g, limit=200, field_name="genres") for g in row.genres) if name),
        description=description,
        cover_url=http_url(row.picture, field_name="picture", limit=1000) if row.picture.strip() else "",
        language=clean_text(row.language, limit=8, field_name="language"),
        runtime_minutes=parse_int(row.runtime_minutes, "runtime_minutes", low=1, high=10_000),
        pages=parse_int(row.pages, "pages", low=1, high=100_000),
        duration_seconds=parse_int(row.duration_seconds, "duration_seconds", low=1, high=10 * 24 * 3600),
        isbn13=isbn13_from(row.isbn),
        imdb_id=_checked(row.imdb_id.strip().lower(), _IMDB_ID, "imdb_id", "not an IMDb id like tt0816692"),
        isrc=_checked(re.sub(r"[\s-]", "", row.isrc).upper(), _ISRC, "isrc", "not an ISRC like USUM71703861"),
        album=clean_text(row.album, limit=300, field_name="album"),
        tempo=parse_float(row.tempo, "tempo", low=0, high=399, exclusive_low=True),
        energy=parse_float(row.energy, "energy", low=0, high=1),
        valence=parse_float(row.valence, "valence", low=0, high=1),
        danceability=parse_float(row.danceability, "danceability", low=0, high=1),
        acousticness=parse_float(row.acousticness, "acousticness", low=0, high=1),
        mode=parse_mode(row.mode),
    )
    if item.pages is not None and kind != Kind.BOOK:
        raise RowRejected("pages", "only books have pages", row.pages)
    return ValidOffer(sku=sku, url=url, price=price, currency=currency, offer_type=offer_type,
                      available=available, item=item)


def _checked(value: str, pattern: re.Pattern, field_name: str, reason: str) -> str:
    if value and not pattern.match(value):
        raise RowRejected(field_name, reason, value)
    return value


def _kind_of(row: OfferRow) -> str:
    text = row.kind.strip().casefold()
    if text:
        kind = KIND_ALIASES.get(text)
        if kind is None:
            raise RowRejected("kind", "use film, book, audiobook or track", row.kind)
        return kind
    # No kind given: the external id or the length field says what the work is.
    if row.isbn.strip() or row.pages.strip():
        return Kind.BOOK
    if row.imdb_id.strip() or row.runtime_minutes.strip():
        return Kind.FILM
    if row.isrc.strip() or row.duration_seconds.strip() or row.tempo.strip():
        return Kind.TRACK
    raise RowRejected("kind", "missing: say film, book, audiobook or track")
