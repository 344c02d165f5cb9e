"""The plain rows every feed parser yields, whatever the format.

A parser only reads: it turns one offer of its format into an `OfferRow` of strings, exactly
as the partner wrote them. Checking and converting the values is the import service's job
(`validation.py`), so every format is held to the same rules and reports the same reasons.
"""

from dataclasses import dataclass, field
from operator import attrgetter


class FeedFormatError(ValueError):
    """The file is not a feed of the expected format (or is broken): the whole import fails."""


@dataclass(slots=True)
class OfferRow:
    # Where the row is in the file, for the rejection report: "offer #12", "line 7", "element #3 (line 9)".
    position: str
    sku: str = ""
    url: str = ""
    price: str = ""
    currency: str = ""
    offer_type: str = ""
    available: str = ""
    # film | book | audiobook | track; an audiobook is an offer for a book.
    kind: str = ""
    title: str = ""
    original_title: str = ""
    # The main creators: authors of a book, directors of a film, performers of a track.
    creators: tuple[str, ...] = ()
    narrators: tuple[str, ...] = ()  # an audiobook's readers (YML <performed_by>)
    cast: tuple[str, ...] = ()  # a film's actors (YML <starring>)
    year: str = ""
    genres: tuple[str, ...] = ()
    description: str = ""
    picture: str = ""
    language: str = ""
    runtime_minutes: str = ""
    pages: str = ""
    duration_seconds: str = ""
    isbn: str = ""
    imdb_id: str = ""
    isrc: str = ""
    album: str = ""
    tempo: str = ""
    energy: str = ""
    valence: str = ""
    danceability: str = ""
    acousticness: str = ""
    mode: str = ""
    series: str = ""
    publisher: str = ""
    country: str = ""
    age: str = ""  # "16+", "6", "18 лет"
    barcode: str = ""  # EAN / UPC / GTIN (an ISBN-13 barcode also fills isbn)
    # Any length as written ("45m23s", "1:02:03", "45.23", "PT2H", "169 мин"): a film's runtime,
    # a track's or an audiobook's duration.
    length: str = ""
    # A regular price when `price` is a sale price's partner (Google / Meta): the lower one counts.
    sale_price: str = ""
    # What the offer says it is, checked by validation ("digital content only"):
    yml_type: str = ""  # YML <offer type="...">
    media: str = ""  # a carrier: "CD", "DVD", "vinyl", "MP3-CD" (YML <media>, <storage>)
    downloadable: str = ""  # YML <downloadable>: "false" is a physical copy
    product_category: str = ""  # Google / Meta product category ("Media > Books", "784")
    tracks: str = ""  # how many tracks a music offer has (an album has several)
    # Fields the parser met but that have no column here; never stored, kept for debugging.
    extra: dict = field(default_factory=dict, compare=False, repr=False)
    # The digest of the offer's bytes as written, where the parser can vouch for them (a YML offer:
    # parsers.OfferSources); stored as Offer.source_hash so that a re-import sets the same bytes
    # aside unparsed. Not a value of the row: empty for every other format.
    source_digest: bytes = field(default=b"", compare=False, repr=False)

    def content_key(self) -> str:
        """Every value that reaches the database, joined: the input of Offer.row_hash."""
        values = list(ROW_VALUES(self))
        for index in _LIST_INDEXES:
            values[index] = "\x1e".join(values[index])
        return "\x1f".join(values)


# The column names of CSV feeds and the field names of JSON feeds (docs/feeds.md lists them).
ROW_FIELDS: tuple[str, ...] = tuple(
    name for name in OfferRow.__dataclass_fields__ if name not in ("position", "extra", "source_digest")
)
LIST_FIELDS = frozenset({"creators", "narrators", "cast", "genres"})
ROW_VALUES = attrgetter(*ROW_FIELDS)  # a row's values in ROW_FIELDS order: OfferRow(position, *values, extra)
_LIST_INDEXES = [index for index, name in enumerate(ROW_FIELDS) if name in LIST_FIELDS]
REQUIRED_COLUMNS: tuple[str, ...] = ("sku", "title", "url", "price")
