"""Checking and converting one feed row: the same rules and reasons for every format."""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from math import ceil
from operator import attrgetter

from catalog.models import Kind, MusicMode, OfferType
from moodstream.control_characters import STRIPPED_CHARACTERS, UNSTORABLE_CHARACTERS, is_lone_surrogate

from .genres import merchant_category
from .languages import iso_639_1
from .rows import LIST_FIELDS, ROW_FIELDS, OfferRow

# Every current ISO 4217 code of money (funds, metals and the test codes XTS / XXX are not prices).
# YML's historical "RUR" means the ruble and is stored as RUB.
ACCEPTED_CURRENCIES = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD
CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF
GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP
LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB
PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP
SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER
ZAR ZMW ZWG ZWL
""".split())
CURRENCY_ALIASES = {"RUR": "RUB"}
KIND_ALIASES = {
    "film": Kind.FILM, "movie": Kind.FILM, "фильм": Kind.FILM, "кино": Kind.FILM,
    "book": Kind.BOOK, "ebook": Kind.BOOK, "книга": Kind.BOOK,
    "audiobook": Kind.BOOK, "аудиокнига": Kind.BOOK,
    "track": Kind.TRACK, "music": Kind.TRACK, "song": Kind.TRACK, "трек": Kind.TRACK, "музыка": Kind.TRACK,
    "песня": Kind.TRACK, "audio book": Kind.BOOK, "e-book": Kind.BOOK, "электронная книга": Kind.BOOK,
    "видео": Kind.FILM, "video": Kind.FILM, "series": Kind.FILM, "сериал": Kind.FILM,
}
# Albums are refused by name (docs/feeds.md, "Albums"): a pick is one track, its length a song's.
ALBUM_WORDS = frozenset({"album", "альбом", "lp", "ep", "compilation", "сборник"})
# YML offer types that are content; "vendor.model" only with a <param name="kind">.
CONTENT_YML_TYPES = frozenset({"", "book", "audiobook", "artist.title"})
# Carriers (YML <media>, an audiobook's <storage>) that are physical things.
PHYSICAL_MEDIA = frozenset({
    "cd", "cd-r", "cd-da", "mp3-cd", "mp3 cd", "mp3cd", "sacd", "hdcd", "dvd", "dvd-r", "dvd-audio", "dvd5", "dvd9",
    "hd-dvd", "hd dvd", "blu-ray", "bluray", "blu ray", "bd", "bd-r", "4k blu-ray", "uhd blu-ray", "vinyl", "lp", "винил",
    "пластинка", "виниловая пластинка", "грампластинка", "cassette", "mc", "audio cassette", "аудиокассета", "кассета",
    "vhs", "видеокассета", "flash", "usb", "usb-flash", "flash-карта", "флешка", "компакт-диск", "диск", "minidisc", "md",
})
OFFER_TYPE_ALIASES = {
    "buy": OfferType.BUY, "purchase": OfferType.BUY, "покупка": OfferType.BUY,
    "rent": OfferType.RENT, "rental": OfferType.RENT, "аренда": OfferType.RENT,
    "subscription": OfferType.SUBSCRIPTION, "подписка": OfferType.SUBSCRIPTION,
    "free": OfferType.FREE, "бесплатно": OfferType.FREE,
}
# Google / Meta availability values are here too: a preorder or backorder can be bought now.
TRUE_WORDS = frozenset({"true", "1", "yes", "y", "да", "in_stock", "in stock", "instock", "preorder", "pre-order",
                        "backorder", "available for order", "available", "ja", "oui", "sí", "si"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "нет", "out_of_stock", "out of stock", "outofstock",
                         "discontinued", "sold out", "nein", "non"})
MAX_PRICE = Decimal("9999999999.99")
_IMDB_ID = re.compile(r"^tt\d{7,10}$")
_ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}\d{7}$")
_BARCODE = re.compile(r"^\d{8}$|^\d{12,14}$")
_AMOUNT_CODE = re.compile(r"^\s*(?:([A-Za-z]{3})\s*)?([-+]?[\d\s\u00a0.,]+?)\s*(?:([A-Za-z]{3}))?\s*$")
_YEAR = re.compile(r"^\d{4}")


class RowRejected(ValueError):
    """A row rejected; `problems` lists every field at fault (this one first), each with its reason."""

    def __init__(self, field_name: str, reason: str, value: str = "", problems: list["RowRejected"] | None = None):
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason
        self.value = value
        self._problems = problems

    @property
    def problems(self) -> list["RowRejected"]:
        # Computed, not stored: a list holding the exception itself would make every rejection a
        # reference cycle, left to the garbage collector (paused during an import).
        return self._problems or [self]

    @classmethod
    def of(cls, problems: list["RowRejected"]) -> "RowRejected":
        first = problems[0]
        return cls(first.field, first.reason, first.value, problems)


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
    # [{"name", "role"}]: main creators first (author / director / performer), then narrators and cast.
    credits: list[dict] = field(default_factory=list)
    publisher: str = ""
    country: str = ""
    age_rating: int | None = None
    barcode: str = ""


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
    value = (value if value.isprintable() else STRIPPED_CHARACTERS.sub("", value)).strip()
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


def split_amount(value: str) -> tuple[str, str]:
    """ "299 BDT", "USD 15.00", "15.00" -> (amount, currency code or "")."""
    match = _AMOUNT_CODE.match(value)
    if match and (match.group(1) or match.group(3)) and not (match.group(1) and match.group(3)):
        return match.group(2), (match.group(1) or match.group(3)).upper()
    return value, ""


def parse_price(value: str, field_name: str = "price") -> Decimal:
    text = value.strip().replace(" ", "").replace("\u00a0", "").replace(",", ".")
    if not text:
        raise RowRejected(field_name, "missing: every offer needs a price (0 for free offers)")
    try:
        price = Decimal(text)
    except InvalidOperation:
        raise RowRejected(field_name, "not a number", value) from None
    if not price.is_finite():
        raise RowRejected(field_name, "not a number", value)
    if price < 0:
        raise RowRejected(field_name, "negative prices are not accepted", value)
    if price > MAX_PRICE:
        raise RowRejected(field_name, f"larger than {MAX_PRICE}", value)
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
    if len(text) == 13 and text.isdigit() and text.isascii():
        # The common spelling, checked without the regular expressions below (the same rule).
        if _isbn13_sum(text) % 10 == 0:
            return text
        raise RowRejected("isbn", "not a valid ISBN-10 or ISBN-13", value)
    first = re.split(r"[,;|/ ]+(?=[\dXx-]{10})", text)[0]
    digits = re.sub(r"[^0-9Xx]", "", first).upper()
    if len(digits) == 10 and digits[:9].isdigit():
        check = sum((10 - i) * (10 if ch == "X" else int(ch)) for i, ch in enumerate(digits)) % 11
        if check == 0:
            body = "978" + digits[:9]
            return body + str((10 - _isbn13_sum(body) % 10) % 10)
    elif len(digits) == 13 and digits.isdigit():
        if _isbn13_sum(digits) % 10 == 0:
            return digits
    raise RowRejected("isbn", "not a valid ISBN-10 or ISBN-13", value)


def _isbn13_sum(digits: str) -> int:
    """The ISBN-13 weighted digit sum (weights 1, 3, 1, 3, …): a valid ISBN-13's is a multiple of 10."""
    return sum(map(int, digits[0::2])) + 3 * sum(map(int, digits[1::2]))


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


_DURATION_PART = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(h|hr|hrs|hours?|ч|час|часа|часов|m|min|mins|minutes?|мин|минут|минуты|м|"
    r"s|sec|secs|seconds?|с|сек|секунд|секунды)\.?(?=[\s\d,.;]|$)", re.IGNORECASE)
_ISO_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$", re.IGNORECASE)
_UNIT_SECONDS = {"h": 3600, "ч": 3600, "m": 60, "м": 60, "s": 1, "с": 1}


def parse_duration(value: str, field_name: str, *, bare: int = 60) -> int | None:
    """Seconds from "45m23s", "1 ч 2 мин", "1:02:03" (h:m:s), "45:23" (m:s), "PT1H2M" or a bare
    number (`bare` seconds each: minutes unless the field says otherwise)."""
    text = value.strip()
    if not text:
        return None
    seconds: float | None = None
    try:
        seconds = float(text.replace(",", ".")) * bare
    except ValueError:
        if ":" in text:
            parts = text.split(":")
            if 2 <= len(parts) <= 3 and all(part.strip().isdigit() for part in parts):
                numbers = [int(part) for part in parts]
                seconds = numbers[-1] + 60 * numbers[-2] + (3600 * numbers[0] if len(numbers) == 3 else 0)
        elif match := _ISO_DURATION.match(text):
            days, hours, minutes, secs = (float(group or 0) for group in match.groups())
            seconds = ((days * 24 + hours) * 60 + minutes) * 60 + secs
        else:
            parts = _DURATION_PART.findall(text)
            if parts and not _DURATION_PART.sub("", text).strip(" ,.;"):
                seconds = sum(float(number.replace(",", ".")) * _UNIT_SECONDS[unit[0].lower()] for number, unit in parts)
    if seconds is None or seconds != seconds:
        raise RowRejected(field_name, 'not a duration like "45m23s", "1:02:03" or "169 min"', value)
    if not 1 <= seconds <= 10 * 24 * 3600:
        raise RowRejected(field_name, "must be between 1 second and 10 days", value)
    return round(seconds)


_AGE = re.compile(r"^(\d{1,3})\s*(\+|plus)?\s*(month|months|мес|месяц|месяца|месяцев|year|years|y|лет|год|года)?\.?\s*\+?$",
                  re.IGNORECASE)


def parse_age(value: str) -> int | None:
    """The youngest age in years: "16+", "6", "18 лет", "6 month" (YML <age unit="month">) -> 0."""
    text = value.strip()
    if not text:
        return None
    match = _AGE.match(text)
    if not match:
        raise RowRejected("age", 'not an age rating like "16+" or "6"', value)
    age = int(match.group(1))
    if (match.group(3) or "").casefold().startswith(("month", "мес")):
        age //= 12
    if age > 21:
        raise RowRejected("age", "must be between 0 and 21 years", value)
    return age


def parse_barcode(value: str) -> str:
    text = value.strip()
    if not text:
        return ""
    first = re.split(r"[,;|]", text)[0]
    digits = re.sub(r"[\s-]", "", first)
    if not _BARCODE.match(digits):
        raise RowRejected("barcode", "not an EAN / UPC / GTIN (8, 12, 13 or 14 digits)", value)
    return digits


def printable(text: str) -> str:
    """The text with each C0 control character (tab and newline aside) and lone surrogate shown as U+FFFD."""
    return UNSTORABLE_CHARACTERS.sub("\ufffd", text) if text and not text.isprintable() else text


def control_character_problems(row: OfferRow) -> list[RowRejected]:
    """Every field holding a C0 control character (tab and newline aside) or a lone surrogate: the row is
    rejected for each, named. A NUL can never be stored in PostgreSQL text, the other control characters
    are never meant, and a lone surrogate (a JSON feed's "\\ud800") is not a character at all."""
    # One look at all the text for the common case (none), field by field only on a hit. Every C0
    # control character is unprintable, so printable text (most rows) needs no search at all.
    text = " ".join(_STRING_TEXTS(row))
    names = " ".join([" ".join(parts) for parts in _LIST_TEXTS(row)])
    if (text.isprintable() or not UNSTORABLE_CHARACTERS.search(text)) and (
            names.isprintable() or not UNSTORABLE_CHARACTERS.search(names)):
        return []
    values = _ROW_TEXTS(row)
    problems = []
    for name, value in zip(ROW_FIELDS, values):
        text = "\n".join(value) if isinstance(value, tuple) else value
        if found := UNSTORABLE_CHARACTERS.search(text):
            what = "the lone surrogate" if is_lone_surrogate(found.group()) else "the control character"
            problems.append(RowRejected(name, f"contains {what} U+{ord(found.group()):04X}",
                                        UNSTORABLE_CHARACTERS.sub("\ufffd", text)))
    return problems


_ROW_TEXTS = attrgetter(*ROW_FIELDS)
_STRING_TEXTS = attrgetter(*[name for name in ROW_FIELDS if name not in LIST_FIELDS])
_LIST_TEXTS = attrgetter(*[name for name in ROW_FIELDS if name in LIST_FIELDS])


def validate_row(row: OfferRow, *, max_description_chars: int) -> ValidOffer:
    """Check one row; every problem found is reported, each with its field and reason."""
    # Almost every row of a real feed is valid: it is checked first by a straight pass that
    # stops at the first problem, and only a row with a problem takes the full pass below that
    # collects every problem (its result for a valid row is the same; this runs for every row).
    try:
        offer = _valid_row(row, max_description_chars)
    except RowRejected:
        offer = None
    if offer is not None:
        return offer
    return _every_problem(row, max_description_chars=max_description_chars)


def _valid_row(row: OfferRow, max_description_chars: int) -> ValidOffer | None:
    """`_every_problem` for a row without problems, the same steps in a straight line; None (or
    RowRejected) as soon as the row has a problem, for the full pass to report."""
    if "__not_an_object__" in row.extra or control_character_problems(row):
        return None
    sku = clean_text(row.sku, limit=200, field_name="sku")
    title = clean_text(row.title, limit=500, field_name="title")
    if not (sku or row.sku.strip()) or not (title or row.title.strip()) or not row.url.strip():
        return None
    url = http_url(row.url, field_name="url", limit=2000)
    price_text, price_currency = split_amount(row.price)
    price = parse_price(price_text)
    currency = _currency(row, price_currency)
    if row.sale_price.strip():
        sale_text, sale_currency = split_amount(row.sale_price)
        sale = parse_price(sale_text, "sale_price")
        if sale_currency and sale_currency != currency:
            return None
        if sale < price:
            price = sale
    offer_type = OFFER_TYPE_ALIASES.get(row.offer_type.strip().casefold() or "buy")
    if offer_type is None:
        return None
    available = parse_available(row.available)
    kind = kind_of(row)
    description = row.description
    if description and not description.isprintable():
        description = STRIPPED_CHARACTERS.sub("", description)
    description = description.strip()
    if len(description) > max_description_chars:
        return None
    creators = [name for name in (clean_text(name, limit=300, field_name="creators") for name in row.creators) if name]
    narrators = [name for name in (clean_text(name, limit=300, field_name="narrators") for name in row.narrators)
                 if name]
    cast = [name for name in (clean_text(name, limit=300, field_name="cast") for name in row.cast) if name]
    main_role = MAIN_ROLES.get(kind, "creator")
    credits = [{"name": name, "role": main_role} for name in creators]
    credits += [{"name": name, "role": "narrator"} for name in narrators]
    credits += [{"name": name, "role": "cast"} for name in cast]
    barcode = parse_barcode(row.barcode) if row.barcode else ""
    isbn = isbn13_from(row.isbn) if row.isbn else ""
    if not isbn and barcode.startswith(("978", "979")) and len(barcode) == 13 and kind == Kind.BOOK:
        isbn = isbn13_from(barcode)
    runtime = _minutes(row.runtime_minutes) if row.runtime_minutes else None
    duration = parse_duration(row.duration_seconds, "duration_seconds", bare=1) if row.duration_seconds else None
    length = parse_duration(row.length, "length") if row.length else None
    if length:
        if kind == Kind.FILM and runtime is None:
            runtime = ceil(length / 60)
        elif kind in (Kind.TRACK, Kind.BOOK) and duration is None:
            duration = length
    pages = parse_int(row.pages, "pages", low=1, high=100_000) if row.pages else None
    if pages is not None and kind and kind != Kind.BOOK:
        return None
    item = ItemData(
        kind=kind,
        title=title,
        original_title=clean_text(row.original_title, limit=500, field_name="original_title")
        if row.original_title else "",
        creators=creators,
        credits=credits,
        year=parse_year(row.year) if row.year else None,
        genres=tuple(name for name in (clean_text(g, limit=200, field_name="genres") for g in row.genres) if name),
        description=description,
        cover_url=http_url(row.picture, field_name="picture", limit=1000) if row.picture.strip() else "",
        language=_language(row.language) if row.language else "",
        runtime_minutes=runtime,
        pages=pages,
        duration_seconds=duration,
        isbn13=isbn,
        imdb_id=_checked(row.imdb_id.strip().lower(), _IMDB_ID, "imdb_id", "not an IMDb id like tt0816692")
        if row.imdb_id else "",
        isrc=_checked(re.sub(r"[\s-]", "", row.isrc).upper(), _ISRC, "isrc", "not an ISRC like USUM71703861")
        if row.isrc else "",
        album=clean_text(row.album, limit=300, field_name="album") if row.album else "",
        tempo=parse_float(row.tempo, "tempo", low=0, high=399, exclusive_low=True) if row.tempo else None,
        energy=parse_float(row.energy, "energy", low=0, high=1) if row.energy else None,
        valence=parse_float(row.valence, "valence", low=0, high=1) if row.valence else None,
        danceability=parse_float(row.danceability, "danceability", low=0, high=1) if row.danceability else None,
        acousticness=parse_float(row.acousticness, "acousticness", low=0, high=1) if row.acousticness else None,
        mode=parse_mode(row.mode) if row.mode else "",
        series=clean_text(row.series, limit=300, field_name="series") if row.series else "",
        publisher=clean_text(row.publisher, limit=300, field_name="publisher") if row.publisher else "",
        country=clean_text(row.country, limit=100, field_name="country") if row.country else "",
        age_rating=parse_age(row.age) if row.age else None,
        barcode=barcode,
    )
    return ValidOffer(sku=sku, url=url, price=price, currency=currency, offer_type=offer_type,
                      available=available, item=item)


def _every_problem(row: OfferRow, *, max_description_chars: int) -> ValidOffer:
    """The full check of a row: every problem found is reported, each with its field and reason."""
    if "__not_an_object__" in row.extra:
        raise RowRejected("", f"an offer must be an object, not {row.extra['__not_an_object__']}")
    problems = control_character_problems(row)
    bad = {problem.field for problem in problems}
    if bad:
        row = _without_control_characters(row, bad)

    def check(function, *args, default=None, **kwargs):
        try:
            return function(*args, **kwargs)
        except RowRejected as exc:
            if exc.field not in bad:
                # Kept without its traceback and context: they hold this frame, whose caller holds
                # `problems`, a reference cycle a rejected row would leave for the garbage collector.
                exc.__traceback__ = exc.__context__ = None
                problems.append(exc)
            return default

    def require(value: str, field_name: str, reason: str) -> None:
        if not value and field_name not in bad:
            problems.append(RowRejected(field_name, reason))

    sku = check(clean_text, row.sku, limit=200, field_name="sku", default="")
    require(sku or row.sku.strip(), "sku", "missing: every offer needs its own id (SKU)")
    title = check(clean_text, row.title, limit=500, field_name="title", default="")
    require(title or row.title.strip(), "title", "missing")
    url = ""
    if not row.url.strip():
        require("", "url", "missing")
    else:
        url = check(http_url, row.url, field_name="url", limit=2000, default="")
    price_text, price_currency = split_amount(row.price)
    price = check(parse_price, price_text)
    currency = check(_currency, row, price_currency, default="RUB")
    if row.sale_price.strip():
        sale_text, sale_currency = split_amount(row.sale_price)
        sale = check(parse_price, sale_text, "sale_price")
        if sale is not None and sale_currency and sale_currency != currency and "currency" not in bad:
            problems.append(RowRejected("sale_price", f"in {sale_currency}, the price in {currency}", row.sale_price))
        elif sale is not None and price is not None and sale < price:
            price = sale  # what the buyer pays now
    offer_type = OFFER_TYPE_ALIASES.get(row.offer_type.strip().casefold() or "buy")
    if offer_type is None:
        check(_raise, "offer_type", f"use one of {', '.join(OfferType.values)}", row.offer_type)
    available = check(parse_available, row.available, default=True)
    kind = check(kind_of, row, default="")

    description = row.description
    if description and not description.isprintable():
        description = STRIPPED_CHARACTERS.sub("", description)
    description = description.strip()
    if len(description) > max_description_chars:
        check(_raise, "description", f"{len(description):,} characters, at most {max_description_chars:,} are allowed")

    creators = _names(check, row.creators, "creators")
    narrators = _names(check, row.narrators, "narrators") if row.narrators else []
    cast = _names(check, row.cast, "cast") if row.cast else []
    main_role = MAIN_ROLES.get(kind, "creator")
    credits = [{"name": name, "role": main_role} for name in creators]
    credits += [{"name": name, "role": "narrator"} for name in narrators]
    credits += [{"name": name, "role": "cast"} for name in cast]

    # Most optional fields are empty: they are checked only when given (this runs for every row).
    barcode = check(parse_barcode, row.barcode, default="") if row.barcode else ""
    isbn = check(isbn13_from, row.isbn, default="") if row.isbn else ""
    if not isbn and barcode.startswith(("978", "979")) and len(barcode) == 13 and kind == Kind.BOOK:
        isbn = check(isbn13_from, barcode, default="")  # a book's barcode is its ISBN
    runtime = check(_minutes, row.runtime_minutes) if row.runtime_minutes else None
    duration = check(parse_duration, row.duration_seconds, "duration_seconds", bare=1) if row.duration_seconds else None
    length = check(parse_duration, row.length, "length") if row.length else None
    if length:
        if kind == Kind.FILM and runtime is None:
            runtime = ceil(length / 60)
        elif kind in (Kind.TRACK, Kind.BOOK) and duration is None:
            duration = length  # a track's length, an audiobook's listening time
    item = ItemData(
        kind=kind,
        title=title,
        original_title=check(clean_text, row.original_title, limit=500, field_name="original_title", default="")
        if row.original_title else "",
        creators=creators,
        credits=credits,
        year=check(parse_year, row.year) if row.year else None,
        genres=tuple(name for name in (check(clean_text, g, limit=200, field_name="genres", default="")
                                       for g in row.genres) if name),
        description=description,
        cover_url=check(http_url, row.picture, field_name="picture", limit=1000, default="") if row.picture.strip() else "",
        language=check(_language, row.language, default="") if row.language else "",
        runtime_minutes=runtime,
        pages=check(parse_int, row.pages, "pages", low=1, high=100_000) if row.pages else None,
        duration_seconds=duration,
        isbn13=isbn,
        imdb_id=check(_checked, row.imdb_id.strip().lower(), _IMDB_ID, "imdb_id", "not an IMDb id like tt0816692",
                      default="") if row.imdb_id else "",
        isrc=check(_checked, re.sub(r"[\s-]", "", row.isrc).upper(), _ISRC, "isrc", "not an ISRC like USUM71703861",
                   default="") if row.isrc else "",
        album=check(clean_text, row.album, limit=300, field_name="album", default="") if row.album else "",
        tempo=check(parse_float, row.tempo, "tempo", low=0, high=399, exclusive_low=True) if row.tempo else None,
        energy=check(parse_float, row.energy, "energy", low=0, high=1) if row.energy else None,
        valence=check(parse_float, row.valence, "valence", low=0, high=1) if row.valence else None,
        danceability=check(parse_float, row.danceability, "danceability", low=0, high=1) if row.danceability else None,
        acousticness=check(parse_float, row.acousticness, "acousticness", low=0, high=1) if row.acousticness else None,
        mode=check(parse_mode, row.mode, default="") if row.mode else "",
        series=check(clean_text, row.series, limit=300, field_name="series", default="") if row.series else "",
        publisher=check(clean_text, row.publisher, limit=300, field_name="publisher", default="")
        if row.publisher else "",
        country=check(clean_text, row.country, limit=100, field_name="country", default="") if row.country else "",
        age_rating=check(parse_age, row.age) if row.age else None,
        barcode=barcode,
    )
    if item.pages is not None and kind and kind != Kind.BOOK:
        check(_raise, "pages", "only books have pages", row.pages)
    if problems:
        raise RowRejected.of(problems)
    return ValidOffer(sku=sku, url=url, price=price, currency=currency, offer_type=offer_type,
                      available=available, item=item)


MAIN_ROLES = {Kind.BOOK: "author", Kind.FILM: "director", Kind.TRACK: "performer"}


def _raise(field_name: str, reason: str, value: str = ""):
    raise RowRejected(field_name, reason, value)


def _names(check, names, field_name: str) -> list[str]:
    cleaned = (check(clean_text, name, limit=300, field_name=field_name, default="") for name in names)
    return [name for name in cleaned if name]


def _without_control_characters(row: OfferRow, fields: set[str]) -> OfferRow:
    """A copy without the control characters, so the other checks report only other problems."""
    from dataclasses import replace

    changes = {}
    for name in fields:
        value = getattr(row, name)
        changes[name] = (tuple(UNSTORABLE_CHARACTERS.sub("", part) for part in value) if isinstance(value, tuple)
                         else UNSTORABLE_CHARACTERS.sub("", value))
    return replace(row, **changes)


def _currency(row: OfferRow, from_price: str) -> str:
    given = row.currency.strip().upper()
    given = CURRENCY_ALIASES.get(given, given)
    from_price = CURRENCY_ALIASES.get(from_price, from_price)
    if given and from_price and given != from_price:
        raise RowRejected("currency", f"the price is in {from_price} but the currency says {given}", row.currency)
    currency = given or from_price or "RUB"
    if currency not in ACCEPTED_CURRENCIES:
        raise RowRejected("currency", f"unknown currency {currency[:12]!r}; use an ISO 4217 code such as RUB, USD, EUR",
                          row.currency or currency)
    return currency


def _language(value: str) -> str:
    text = value.strip()
    if not text:
        return ""
    code = iso_639_1(text)
    if code is None:
        raise RowRejected("language", "not a language: use an ISO 639 code such as ru, en or rus, or its name", value)
    return code


def _minutes(value: str) -> int | None:
    """A film's runtime: minutes, or any duration ("2h 49m", "2:49:00")."""
    text = value.strip()
    if not text:
        return None
    try:
        return parse_int(text, "runtime_minutes", low=1, high=10_000)
    except RowRejected:
        if text.replace(",", ".").replace(".", "", 1).isdigit():
            raise
    seconds = parse_duration(text, "runtime_minutes")
    return ceil(seconds / 60) if seconds else None


def _checked(value: str, pattern: re.Pattern, field_name: str, reason: str) -> str:
    if value and not pattern.match(value):
        raise RowRejected(field_name, reason, value)
    return value


def kind_of(row: OfferRow) -> str:
    """The row's kind, or a rejection saying why it is not digital content MoodStream recommends."""
    yml_type = row.yml_type.strip()
    if yml_type not in CONTENT_YML_TYPES and not (yml_type == "vendor.model" and row.kind.strip()):
        hint = " unless it says its kind (<param name=\"kind\">book</param>)" if yml_type == "vendor.model" else ""
        raise RowRejected("type", f"offer type {yml_type[:40]!r} is not content MoodStream recommends{hint}", yml_type)
    media = row.media.strip()
    if media.casefold() in PHYSICAL_MEDIA:
        raise RowRejected("media", f"physical media ({media}) is not sold through MoodStream", media)
    if row.downloadable.strip().casefold() in FALSE_WORDS:
        raise RowRejected("downloadable", "a physical copy (downloadable=false) is not sold through MoodStream",
                          row.downloadable)
    category_kind = ""
    if row.product_category.strip():
        verdict = merchant_category(row.product_category)
        if verdict.physical:
            raise RowRejected("google_product_category", f"physical media ({verdict.physical}) is not sold through "
                                                         "MoodStream", row.product_category)
        if not verdict.is_content:
            raise RowRejected("google_product_category", f"{row.product_category.strip()[:100]!r} is not content "
                                                         "MoodStream recommends", row.product_category)
        category_kind = verdict.kind
    text = row.kind.strip().casefold()
    if text in ALBUM_WORDS or (text in ("", "track", "music") and _several(row.tracks)):
        count = f" of {row.tracks.strip()} tracks" if _several(row.tracks) else ""
        raise RowRejected("kind", f"an album{count} is not a single track: MoodStream recommends tracks, so list "
                                  "each track as an offer of its own", row.kind or row.tracks)
    if text:
        kind = KIND_ALIASES.get(text)
        if kind is None:
            raise RowRejected("kind", "use film, book, audiobook or track", row.kind)
        return kind
    if category_kind:
        return category_kind
    kind = _inferred_kind(row)
    if kind:
        return kind
    if yml_type == "artist.title":
        raise RowRejected("kind", "an artist.title offer needs <artist> (music) or <director> / <starring> (a film)")
    raise RowRejected("kind", "missing: say film, book, audiobook or track")


def guess_kind(row: OfferRow) -> str:
    """The kind as far as the row says it, or "" (never raises): for mapping its categories."""
    kind = KIND_ALIASES.get(row.kind.strip().casefold(), "")
    if not kind and row.product_category.strip():
        kind = merchant_category(row.product_category).kind
    return kind or _inferred_kind(row)


def _inferred_kind(row: OfferRow) -> str:
    # No kind given: the external id or the length field says what the work is.
    if row.isbn.strip() or row.pages.strip() or row.narrators:
        return Kind.BOOK
    if row.imdb_id.strip() or row.runtime_minutes.strip() or row.cast:
        return Kind.FILM
    if row.isrc.strip() or row.duration_seconds.strip() or row.tempo.strip():
        return Kind.TRACK
    return ""


def _several(value: str) -> bool:
    text = value.strip()
    return text.isdigit() and int(text) > 1
