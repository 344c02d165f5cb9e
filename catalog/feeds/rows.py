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
    creators: tuple[str, ...] = ()
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
    # Fields the parser met but that have no column here; never stored, kept for debugging.
    extra: dict = field(default_factory=dict, compare=False, repr=False)

    def content_key(self) -> str:
        """Every value that reaches the database, joined: the input of Offer.row_hash."""
        values = list(_ROW_VALUES(self))
        for index in _LIST_INDEXES:
            values[index] = "\x1e".join(values[index])
        return "\x1f".join(values)


# The column names of CSV feeds and the field names of JSON feeds (docs/feeds.md lists them).
ROW_FIELDS: tuple[str, ...] = tuple(
    name for name in OfferRow.__dataclass_fields__ if name not in ("position", "extra")
)
LIST_FIELDS = frozenset({"creators", "genres"})
_ROW_VALUES = attrgetter(*ROW_FIELDS)
_LIST_INDEXES = [index for index, name in enumerate(ROW_FIELDS) if name in LIST_FIELDS]
REQUIRED_COLUMNS: tuple[str, ...] = ("sku", "title", "url", "price")
