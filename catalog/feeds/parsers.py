"""Feed parsers: Yandex Market YML, CSV and JSON / JSON Lines behind one interface.

Each parser reads a binary stream in chunks and yields `OfferRow`s one by one, so memory
stays flat however large the feed is. A file that is not a feed of the format (or breaks off
halfway) raises `FeedFormatError` with a message that starts "not a YML/CSV/JSON feed: ".
"""

import codecs
import csv
import hashlib
import importlib.util
import io
import json
import re
from collections import deque
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO, Protocol
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from django.conf import settings

from catalog.models import FeedFormat

from .rows import LIST_FIELDS, REQUIRED_COLUMNS, ROW_FIELDS, FeedFormatError, OfferRow

CHUNK_BYTES = 256 * 1024
_LIST_SPLIT = re.compile(r"\s*[|;]\s*")
_CREATOR_SPLIT = re.compile(r"\s*[,;]\s*")


class FeedParser(Protocol):
    format: str

    def rows(self, stream: BinaryIO) -> Iterator[OfferRow]:
        """Yield the feed's offers in file order; raise FeedFormatError if it is not such a feed."""


def parser_for(feed_format: str, *, column_map: dict[str, str] | None = None,
               sources: "OfferSources | None" = None) -> FeedParser:
    """The parser of a format. `column_map` is a partner's own column names (their column or JSON
    key -> our field, "" to ignore it) for CSV, JSON and the delimited Google / Meta form;
    `sources` lets a YML re-import set the offers stored as they are aside (OfferSources)."""
    if feed_format == FeedFormat.YML:
        return YmlParser(sources=sources)
    try:
        return {FeedFormat.CSV: CsvParser, FeedFormat.JSON: JsonParser,
                FeedFormat.MERCHANT: MerchantParser}[feed_format](column_map=column_map)
    except KeyError:
        raise FeedFormatError(
            f"unknown feed format {feed_format!r}: use one of {', '.join(FeedFormat.values)}"
        ) from None


_XML_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_MERCHANT_ROOTS = frozenset({b"rss", b"feed"})


def detect_format(head: bytes) -> str:
    """Guess the format from the first bytes: XML is YML, or Google Merchant / Meta when its root is
    <rss> or <feed>; `[` or `{` is JSON; a header with Google's `id`, `link` and `image_link` or
    `availability` columns is the delimited Google / Meta form; anything else CSV."""
    text = head.lstrip(codecs.BOM_UTF8).lstrip()
    if text.startswith(b"<"):
        # The first element that is not <?xml ...?>, a comment or <!DOCTYPE ...>.
        root = _XML_ROOT.search(re.sub(rb"<!--.*?-->|<![^>]*>|<\?.*?\?>", b"", text, flags=re.DOTALL))
        name = root.group(1).rpartition(b":")[2].lower() if root else b""
        return FeedFormat.MERCHANT if name in _MERCHANT_ROOTS else FeedFormat.YML
    if text[:1] in (b"[", b"{"):
        return FeedFormat.JSON
    header = text.split(b"\n", 1)[0].decode("utf-8", "replace")
    delimiter = max(",;\t", key=header.count)
    columns = {_merchant_key(name) for name in next(csv.reader([header], delimiter=delimiter), [])}
    if {"id", "link"} <= columns and columns & {"image_link", "availability"}:
        return FeedFormat.MERCHANT
    return FeedFormat.CSV


def _split_list(value: str, pattern: re.Pattern = _LIST_SPLIT) -> tuple[str, ...]:
    if not value:
        return ()
    text = value.strip()
    separators = _SEPARATORS.get(pattern)
    if separators is not None and not any(separator in text for separator in separators):
        return (text,) if text else ()  # one name (the common case): what the split gives, without it
    return tuple(part for part in pattern.split(text) if part)


# --- YML --------------------------------------------------------------------------------------

# <param name="..."> names (lower-cased) and the row field each one fills.
YML_PARAMS: dict[str, str] = {
    "kind": "kind", "вид": "kind", "тип контента": "kind", "вид контента": "kind",
    "offer_type": "offer_type", "тип предложения": "offer_type", "тип доступа": "offer_type",
    "year": "year", "год": "year", "год выпуска": "year",
    "runtime": "runtime_minutes", "runtime_minutes": "runtime_minutes", "хронометраж": "runtime_minutes",
    "duration_seconds": "duration_seconds",
    "pages": "pages", "количество страниц": "pages", "страниц": "pages",
    "isbn": "isbn", "imdb": "imdb_id", "imdb id": "imdb_id", "imdb_id": "imdb_id", "isrc": "isrc",
    "album": "album", "альбом": "album", "tempo": "tempo", "bpm": "tempo", "темп": "tempo",
    "energy": "energy", "энергия": "energy", "valence": "valence", "danceability": "danceability",
    "acousticness": "acousticness", "mode": "mode", "лад": "mode",
    "language": "language", "язык": "language",
    "original_title": "original_title", "оригинальное название": "original_title",
    "series": "series", "серия": "series", "publisher": "publisher", "издательство": "publisher",
    "издатель": "publisher", "age": "age", "возраст": "age", "возрастное ограничение": "age",
    "возрастной рейтинг": "age", "country": "country", "страна": "country", "barcode": "barcode",
    "штрихкод": "barcode", "ean": "barcode", "gtin": "barcode", "tracks": "tracks", "количество треков": "tracks",
    "треков": "tracks", "media": "media", "носитель": "media", "length": "length", "recording_length": "length",
    "время звучания": "length",
}
# Parameters that name people or genres, and so add to a list.
YML_LIST_PARAMS: dict[str, str] = {
    "author": "creators", "автор": "creators", "director": "creators", "режиссер": "creators",
    "режиссёр": "creators", "artist": "creators", "исполнитель": "creators",
    "narrator": "narrators", "чтец": "narrators", "читает": "narrators", "performed_by": "narrators",
    "actors": "cast", "актеры": "cast", "актёры": "cast", "в ролях": "cast", "starring": "cast", "cast": "cast",
    "genre": "genres", "жанр": "genres",
}
# "Duration"/"Длительность" depends on its unit: minutes for films, seconds for tracks.
YML_DURATION_PARAMS = frozenset({"duration", "длительность", "продолжительность"})
_SECONDS_UNITS = frozenset({"s", "sec", "secs", "second", "seconds", "с", "сек", "секунд", "секунды"})

# Offer children copied as they are (tag → row field); docs/feeds.md lists every YML element.
YML_FIELDS: dict[str, str] = {
    "url": "url", "price": "price", "currencyId": "currency", "name": "title", "title": "title",
    "model": "title", "year": "year", "description": "description", "ISBN": "isbn",
    "page_extent": "pages", "language": "language", "album": "album", "original_title": "original_title",
    "originalName": "original_title", "series": "series", "publisher": "publisher", "country": "country",
    "barcode": "barcode", "media": "media", "storage": "media", "downloadable": "downloadable",
}
# Children that name people, several in one element separated by commas: tag → row field.
YML_PEOPLE = {"author": "creators", "director": "creators", "artist": "creators",
              "performed_by": "narrators", "starring": "cast"}
# Carriers that make an artist.title offer a film rather than music.
_FILM_MEDIA = frozenset({"dvd", "blu-ray", "bluray", "bd", "vhs", "hd-dvd", "4k blu-ray", "uhd blu-ray"})
_MMSS = re.compile(r"^\d+\.\d{1,2}$")


class _YmlTarget:
    """Receives the expat parser's events and collects finished offers as rows.

    This runs for every element of the file, so the path inside an offer is kept short: while
    an offer is open the parser calls the `_offer_*` handlers (a depth counter and each child's
    tag, attributes and where its text starts), and its text goes straight into a list.
    """

    def __init__(self):
        self.expat = None
        self.path: list[str] = []  # the open elements down to <offer>
        self.depth = 0
        self.rows: list[OfferRow] = []
        self.categories: dict[str, tuple[str, str]] = {}
        self._category_cache: dict[str, tuple[str, ...]] = {}
        self.offer_count = 0
        self._offer_attrs: dict[str, str] = {}
        self._offer_line = 0
        self._fields: list[tuple[str, dict[str, str], str]] = []
        # The open offer's character data, in order; a child's text is what came between its tags.
        self._texts: list[str] = []
        self._child: tuple[str, dict[str, str], int] = ("", {}, 0)
        self._capturing = False
        self._child_attrs: dict[str, str] = {}
        self._text: list[str] = []
        # Setting unchanged offers aside (_OffersSetAside; all in file offsets): the bytes removed
        # from what expat saw so far and the newlines among them, where the last offer (or the
        # <offers> tag) that expat saw began its end tag, and the offers expat will see with the
        # digest of their bytes, in file order: (start, end, digest, categories version).
        self.byte_shift = 0
        self.line_shift = 0
        self.boundary = -1
        self.expected: deque[tuple[int, int, bytes, int]] = deque()
        self._source: tuple[int, int, bytes, int] | None = None
        self.categories_version = 0
        self.unsafe_to_set_aside = ""  # why not, once seen: a namespace or a DTD that shapes elements

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        self.depth += 1
        self.path.append(tag)
        depth = self.depth
        if depth == 3 and tag == "offers":
            self.boundary = self.expat.CurrentByteIndex + self.byte_shift
        elif depth == 1 and tag != "yml_catalog":
            hint = " (a Google Merchant / Meta feed: use the format merchant)" if tag.rpartition("}")[2] in (
                "rss", "feed") else ""
            raise FeedFormatError(f"not a YML feed: the root element is <{tag}>, expected <yml_catalog>{hint}")
        if depth == 4 and tag == "offer" and self.path[2] == "offers":
            self.offer_count += 1
            self._offer_attrs = attributes
            expat = self.expat
            self._offer_line = expat.CurrentLineNumber + self.line_shift
            if self.expected:
                self._source = self._expected_at(expat.CurrentByteIndex + self.byte_shift)
            self._fields = []
            self._texts = []
            expat.StartElementHandler = self._offer_start
            expat.EndElementHandler = self._offer_end
            expat.CharacterDataHandler = self._texts.append
        elif depth == 4 and tag == "category":
            self._child_attrs, self._text, self._capturing = attributes, [], True

    def data(self, text: str) -> None:
        if self._capturing:
            self._text.append(text)

    def end(self, tag: str) -> None:
        depth = self.depth
        self.depth -= 1
        self.path.pop()
        if depth == 4 and tag == "category" and self._capturing:
            attributes = self._child_attrs
            self.categories[attributes.get("id", "")] = ("".join(self._text).strip(), attributes.get("parentId", ""))
            self._capturing = False
            self.categories_version += 1

    def _offer_start(self, tag: str, attributes: dict[str, str]) -> None:
        self.depth += 1
        if self.depth == 5:
            self._child = (tag, attributes, len(self._texts))

    def _offer_end(self, tag: str) -> None:
        depth = self.depth
        self.depth = depth - 1
        if depth == 5:
            child_tag, attributes, first = self._child
            texts = self._texts
            count = len(texts) - first
            self._fields.append((child_tag, attributes,
                                 "" if not count else texts[first] if count == 1 else "".join(texts[first:])))
        elif depth == 4:
            row = self._offer_row()
            self.rows.append(row)
            self.path.pop()
            expat = self.expat
            self.boundary = expat.CurrentByteIndex + self.byte_shift
            if self._source is not None:
                # The scanned bytes were this very element (it ends where they end) and were hashed
                # with the categories it was read with: the digest vouches for the row.
                _start, end, digest, version = self._source
                self._source = None
                if self.boundary == end - len(_OFFER_END) and version == self.categories_version:
                    row.source_digest = digest
            expat.StartElementHandler = self.start
            expat.EndElementHandler = self.end
            expat.CharacterDataHandler = self.data

    def close(self) -> None:
        return None

    def _expected_at(self, start: int) -> tuple[int, int, bytes, int] | None:
        """The scanned offer that starts where expat's does, if any (a "<offer" the scan met inside
        a comment or a CDATA section has no element: it is passed over)."""
        expected = self.expected
        while expected and expected[0][0] < start:
            expected.popleft()
        if expected and expected[0][0] == start:
            return expected.popleft()
        return None

    def _category_names(self, category_id: str) -> tuple[str, ...]:
        """The category and its ancestors, nearest first (the genre mapping tries each)."""
        if category_id in self._category_cache:
            return self._category_cache[category_id]
        start, names, seen = category_id, [], set()
        while category_id and category_id in self.categories and category_id not in seen:
            seen.add(category_id)
            name, category_id = self.categories[category_id]
            if name:
                names.append(name)
        self._category_cache[start] = tuple(names)
        return self._category_cache[start]

    def _offer_row(self) -> OfferRow:
        attributes = self._offer_attrs
        row = OfferRow(
            position=f"offer #{self.offer_count} (line {self._offer_line})",
            sku=attributes.get("id", "").strip(),
            available=attributes.get("available", "true"),
        )
        offer_type = attributes.get("type", "").strip()
        row.yml_type = offer_type
        people: dict[str, list[str]] = {"creators": [], "narrators": [], "cast": []}
        genres: list[str] = []
        durations: list[tuple[str, str]] = []
        has_director = has_artist = False
        for tag, child_attributes, text in self._fields:
            text = text.strip()
            field_name = YML_FIELDS.get(tag)
            if field_name is not None:
                if not getattr(row, field_name):
                    setattr(row, field_name, text)
            elif tag in YML_PEOPLE:
                people[YML_PEOPLE[tag]].extend(_split_list(text, _CREATOR_SPLIT))
                has_director = has_director or tag in ("director", "starring")
                has_artist = has_artist or tag == "artist"
            elif tag == "param":
                name = child_attributes.get("name", "").strip().casefold()
                if name in YML_PARAMS:
                    setattr(row, YML_PARAMS[name], text)
                elif name in YML_LIST_PARAMS:
                    target = genres if YML_LIST_PARAMS[name] == "genres" else people[YML_LIST_PARAMS[name]]
                    target.extend(_split_list(text, _CREATOR_SPLIT))
                    has_director = has_director or name in ("director", "режиссер", "режиссёр")
                elif name in YML_DURATION_PARAMS:
                    durations.append((text, child_attributes.get("unit", "").strip().casefold().rstrip(".")))
                else:
                    row.extra[name] = text
            elif tag == "categoryId":
                genres.extend(self._category_names(text))
            elif tag == "picture":
                row.picture = row.picture or text
            elif tag == "recording_length":
                # The specification's form is mm.ss ("45.23"); "45m23s" and "1:02:03" are read as written.
                row.length = text.replace(".", ":") if _MMSS.match(text) else text
            elif tag == "age":
                unit = child_attributes.get("unit", "").strip()
                row.age = f"{text} {unit}" if unit and text.isdigit() else text
            else:
                row.extra[tag] = text
        row.creators = tuple(people["creators"])
        row.narrators = tuple(people["narrators"])
        row.cast = tuple(people["cast"])
        row.genres = tuple(genres)
        if not row.kind:
            row.kind = {"book": "book", "audiobook": "audiobook"}.get(offer_type, "")
            if offer_type == "artist.title":
                if has_director or row.media.strip().casefold() in _FILM_MEDIA:
                    row.kind = "film"
                elif has_artist or row.creators:
                    row.kind = "track"
        for value, unit in durations:
            seconds = unit in _SECONDS_UNITS or (not unit and row.kind == "track")
            setattr(row, "duration_seconds" if seconds else "runtime_minutes", value)
        return row


def _expat_parser(target) -> DefusedXMLParser:
    parser = DefusedXMLParser(target=target, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    target.expat = parser.parser
    # Bind the element handlers straight to the target: ElementTree's wrappers cost more
    # than the parsing itself. defusedxml's entity and DTD guards stay on the expat parser.
    parser.parser.StartElementHandler = target.start
    parser.parser.EndElementHandler = target.end
    parser.parser.CharacterDataHandler = target.data
    parser.parser.buffer_size = CHUNK_BYTES  # fewer, larger text callbacks
    parser.parser.ordered_attributes = False  # each element's attributes as a dict, built by expat
    return parser


def _xml_rows(stream: BinaryIO, target, *, what: str, sources: "OfferSources | None" = None) -> Iterator[OfferRow]:
    """Feed the stream in chunks to defusedxml's expat parser, yielding the rows `target` builds
    (with `sources`, a YML re-import: the offers stored as they are set aside, _OffersSetAside).

    Entity declarations (XML bombs) and external entities are refused; the DOCTYPE line of ordinary
    feeds is allowed. A broken file fails as "not <what>: …".
    """
    parser = _expat_parser(target)
    setting_aside = None
    try:
        if sources is None:
            while chunk := stream.read(CHUNK_BYTES):
                parser.feed(chunk)
                if target.rows:
                    yield from target.rows
                    target.rows.clear()
        else:
            setting_aside = _OffersSetAside(parser, target, sources)
            yield from setting_aside.rows(stream)
        parser.close()
    except ParseError as exc:
        if setting_aside is not None and setting_aside.set_aside:
            # Expat's line and column count the bytes it saw: read the file again as it is, for
            # the very message a first import of this file gives.
            raise setting_aside.plain_error(stream, what, exc) from None
        raise FeedFormatError(f"not {what}: {exc}") from None
    except DefusedXmlException as exc:
        raise FeedFormatError(
            f"not {what}: entity declarations and external entities are refused ({exc!r})"
        ) from None
    yield from target.rows


# --- YML re-imports: the offers stored as they are, set aside before expat sees them ------------

_OFFER_START = b"<offer"
_OFFER_END = b"</offer>"
_AFTER_OFFER_TAG = frozenset(b" \t\r\n>/")
_XML_SPACE = b" \t\r\n"
# What may lie between where the last element expat saw began and an offer set aside after it:
# the <offers> start tag or an offer's end tag, then XML white space. Nothing that could open a
# comment, a CDATA section or a tag around the offer.
_BOUNDARY_GAP = re.compile(rb"(?:<offers[ \t\r\n]*>|</offer[ \t\r\n]*>)[ \t\r\n]*")
# An offer longer than this is not scanned for its end: expat reads it as usual.
MAX_SCANNED_OFFER_BYTES = 1024 * 1024


def _parsing_code() -> bytes:
    """The digest of the code that turns an offer's bytes into its row, read when this module is
    imported, next to the code the process runs: a release that changes it reads every offer again,
    and a process never vouches for rows with a newer version's key (a worker not yet restarted
    after a release keeps its own)."""
    digest = hashlib.blake2b(digest_size=32)
    for name in _PARSING_MODULES:
        digest.update(Path(importlib.util.find_spec(name).origin).read_bytes())
    return digest.digest()


_PARSING_MODULES = ("catalog.feeds.parsers", "catalog.feeds.rows", "catalog.feeds.genres", "catalog.feeds.validation",
                    "catalog.services")
PARSING_CODE = _parsing_code()


class OfferSources:
    """What lets the YML parser set a re-imported offer aside unparsed: the digests of the offers'
    bytes the partner's offers carry (Offer.source_hash; an object with `contains(list of
    digests) -> list of bools`, importer.StoredDigests), and a key for everything outside the
    offer's bytes that shapes its row (`context`: the partner's column and category mappings, the
    genre table; services.source_context; the parser adds its own code, PARSING_CODE).

    An offer's digest is blake2b of its bytes as written, from "<offer" to "</offer>", keyed with
    that context, the file's XML declaration (its encoding) and the categories read before the
    offer. Equal digests mean equal bytes read the same way, so the same row (and row hash) as the
    offer that carries it; a changed category, mapping, genre or parser changes every digest and
    the file is read in full. Offers whose categories map to nothing (the import report counts
    them) carry no digest (genres.CategoryMapper).
    """

    def __init__(self, *, context: bytes, stored):
        self.context = context
        self.stored = stored


class UnchangedOffer:
    """An offer set aside unparsed: its bytes are those of the partner's offer with that SKU as it
    is stored. A row of the feed all the same: its SKU counts as listed, or as a duplicate."""

    __slots__ = ("number", "line", "sku")
    genres = ()  # nothing for the category mapping to do

    def __init__(self, number: int, line: int, sku: str):
        self.number = number
        self.line = line
        self.sku = sku

    @property
    def position(self) -> str:
        return f"offer #{self.number} (line {self.line})"


class _OffersSetAside:
    """Feeds a YML file to expat, leaving out the offers whose bytes the partner's offers carry.

    Each complete "<offer ...>...</offer>" in the buffer is found with `bytes.find` and hashed
    (keyed: OfferSources); the digests are looked up a buffer at a time. An offer whose digest is
    stored is set aside (an UnchangedOffer takes its place among the rows) only where expat is
    between two offers: expat has read everything up to it, it stands directly inside <offers>,
    and nothing but white space lies between it and the end tag of the last offer expat read (or
    the <offers> tag), so it cannot sit inside a comment, a CDATA section or a tag. The removed
    bytes were one whole element the last time (the digest was stored only when expat's element
    started and ended exactly there), so expat reads the rest exactly as in the whole file; the
    target adds the removed bytes and lines back to expat's positions. Every other offer is read
    by expat as usual, and its row carries its digest when expat's element is exactly the bytes
    hashed. A file declaring a namespace or holding an internal DTD subset is read in full.
    """

    def __init__(self, parser: DefusedXMLParser, target: "_YmlTarget", sources: OfferSources):
        self.parser = parser
        self.target = target
        self.sources = sources
        self.set_aside = 0
        self._key: tuple[int, bytes] = (-1, b"")
        self._declaration = b""
        expat = parser.parser
        expat.StartNamespaceDeclHandler = self._namespace
        expat.StartDoctypeDeclHandler = self._doctype

    def _namespace(self, prefix, uri) -> None:
        self.target.unsafe_to_set_aside = "a namespace"

    def _doctype(self, name, system_id, public_id, has_internal_subset) -> None:
        if has_internal_subset:
            self.target.unsafe_to_set_aside = "an internal DTD subset"  # default attributes, say

    def _hash_key(self) -> bytes:
        target = self.target
        version, key = self._key
        if version != target.categories_version:
            categories = repr(sorted(target.categories.items())).encode("utf-8", "surrogatepass")
            key = hashlib.blake2b(PARSING_CODE + self.sources.context + b"\0" + self._declaration + b"\0"
                                  + categories, digest_size=32).digest()
            self._key = (target.categories_version, key)
        return key

    def rows(self, stream: BinaryIO) -> Iterator:
        target, feed = self.target, self.parser.feed
        stored = self.sources.stored
        blake2b = hashlib.blake2b
        buffer, base = b"", 0  # the file from offset `base` on (what expat has had is kept while small)
        fed = 0  # the file offset up to which expat has had the file (less what was set aside)
        newlines, counted = 0, 0  # the newlines in the file before offset `counted`
        end_of_file = False
        while not end_of_file:
            chunk = stream.read(CHUNK_BYTES)
            end_of_file = not chunk
            if fed == 0 and not buffer:
                head = chunk.removeprefix(codecs.BOM_UTF8)
                if head.startswith(b"<?xml"):
                    self._declaration = head[:head.find(b"?>") + 2]
            buffer += chunk
            spans, scanned = self._scan(buffer, fed - base, end_of_file)
            if spans and spans[0][0] > fed - base:
                # Up to the first offer first: the categories before it are read, for its key.
                feed(buffer[fed - base:spans[0][0]])
                fed = base + spans[0][0]
            key = self._hash_key()
            version = target.categories_version
            digests = [blake2b(buffer[start:end], digest_size=16, key=key).digest() for start, end in spans]
            expected, rows = target.expected, target.rows
            removing = -1  # where the offers being set aside (and the white space between them) begin
            previous_end = -1  # where the last of them ends
            for (start, end), digest, is_stored in zip(spans, digests, stored.contains(digests)):
                if is_stored:
                    if removing < 0:
                        feed(buffer[fed - base:start])
                        fed = base + start
                    sku = self._sku(buffer, start)
                    # Next to the offer set aside just before it (expat has read nothing since),
                    # only the white space between the two is left to check.
                    if sku is not None and (not buffer[previous_end - base:start].strip(_XML_SPACE)
                                            if removing >= 0 else self._between_offers(buffer, base, start, version)):
                        if removing < 0:
                            removing = base + start
                        newlines += buffer.count(b"\n", counted - base, start)
                        counted = base + start
                        target.offer_count += 1
                        rows.append(UnchangedOffer(target.offer_count, newlines + 1, sku))
                        previous_end = base + end
                        self.set_aside += 1
                        continue
                if removing >= 0:
                    fed = self._removed(buffer, base, removing, previous_end)
                    removing = -1
                expected.append((base + start, base + end, digest, version))
            if removing >= 0:
                fed = self._removed(buffer, base, removing, previous_end)
            if base + scanned > fed:
                feed(buffer[fed - base:scanned])
                fed = base + scanned
            # Every offer scanned ended before `scanned` and expat has read that far: an entry left
            # was no element of <offers> (an "<offer" elsewhere in the file), and never will be.
            expected.clear()
            newlines += buffer.count(b"\n", counted - base, scanned)
            counted = base + scanned
            # Keep the white space since the last offer's end tag (the next offer set aside is
            # checked against it) unless it is long; the rest has been read.
            keep = target.boundary - base if 0 <= fed - target.boundary <= 4096 and target.boundary >= base else scanned
            buffer, base = buffer[keep:], base + keep
            if target.rows:
                yield from target.rows
                target.rows.clear()

    @staticmethod
    def _scan(buffer: bytes, start_at: int, end_of_file: bool) -> tuple[list[tuple[int, int]], int]:
        """The complete offers in the buffer from `start_at` on, as (start, end) offsets, and where
        the scan stopped: at an offer not yet complete, or the buffer's end (less a tag's length)."""
        spans: list[tuple[int, int]] = []
        find, size, position = buffer.find, len(buffer), start_at
        while True:
            start = find(_OFFER_START, position)
            if start < 0:
                return spans, size if end_of_file else max(position, size - len(_OFFER_START) + 1)
            after = start + len(_OFFER_START)
            if after >= size:
                if end_of_file:
                    return spans, size
                return spans, start
            if buffer[after] not in _AFTER_OFFER_TAG:  # <offers>
                position = after
                continue
            end = find(_OFFER_END, after)
            if end < 0:
                if end_of_file or size - start > MAX_SCANNED_OFFER_BYTES:
                    position = after
                    continue
                return spans, start
            position = end + len(_OFFER_END)
            spans.append((start, position))

    def _removed(self, buffer: bytes, base: int, start: int, end: int) -> int:
        """Offers from file offset `start` to `end` (and the white space between them) were set
        aside: expat's positions from here on are short of them. Returns where expat goes on."""
        target = self.target
        target.byte_shift += end - start
        target.line_shift += buffer.count(b"\n", start - base, end - base)
        target.boundary = end - len(_OFFER_END)
        return end

    def _between_offers(self, buffer: bytes, base: int, start: int, version: int) -> bool:
        target = self.target
        return (not target.unsafe_to_set_aside and target.depth == 3 and target.path[2] == "offers"
                and target.categories_version == version and base <= target.boundary < base + start
                and _BOUNDARY_GAP.fullmatch(buffer, target.boundary - base, start) is not None)

    @staticmethod
    def _sku(buffer: bytes, start: int) -> str | None:
        """The offer's id as expat would give it, when it is written plainly (ASCII, no reference,
        no white space to normalise); otherwise None, and expat reads the offer."""
        after = start + len(_OFFER_START)
        if buffer.startswith(b' id="', after):  # as nearly every shop writes it
            value = buffer[after + 5:buffer.find(b'"', after + 5)]
        else:
            tag_end = buffer.find(b">", start)
            value = next((match["value"][1:-1] for match in _ATTRIBUTE.finditer(buffer, after, tag_end)
                          if match["name"] == b"id"), None)
        return value.decode("ascii").strip() if value is not None and _PLAIN_VALUE.fullmatch(value) else None

    def plain_error(self, stream: BinaryIO, what: str, error: ParseError) -> FeedFormatError:
        """The error a plain read of the whole file gives (its line and column count every byte);
        expat's own if the stream cannot go back to its start (the importer's always can)."""
        try:
            rewind = getattr(stream, "rewind", None)  # a CountingReader; any seekable stream otherwise
            rewind() if rewind else stream.seek(0)
        except (OSError, ValueError):
            return FeedFormatError(f"not {what}: {error}")
        try:
            for _row in _xml_rows(stream, type(self.target)(), what=what):
                pass
        except FeedFormatError as exc:
            return exc
        # Unreachable unless setting offers aside changed what expat read: fail loudly, not quietly.
        raise RuntimeError("a YML file that expat reads whole broke once offers were set aside")


# An attribute of a start tag (the tag was well-formed when its digest was stored) and a value
# that expat passes on exactly as written.
_ATTRIBUTE = re.compile(rb"""[ \t\r\n]+(?P<name>[^ \t\r\n=/>]+)[ \t\r\n]*=[ \t\r\n]*(?P<value>"[^"]*"|'[^']*')""")
_PLAIN_VALUE = re.compile(rb"[\x20-\x25\x27-\x3b\x3d-\x7e]*")


class YmlParser:
    """Yandex Market YML (`yml_catalog/shop/offers/offer`), UTF-8 or windows-1251.

    Parsed with defusedxml's expat parser fed in chunks: entity declarations (XML bombs) and
    external entities are refused, the DOCTYPE line of ordinary YML files is allowed.
    """

    format = FeedFormat.YML

    def __init__(self, *, sources: OfferSources | None = None):
        self.sources = sources

    def rows(self, stream: BinaryIO) -> Iterator[OfferRow]:
        """The rows, in file order; with `sources` (a re-import), an UnchangedOffer in place of each
        offer stored as it is (OfferSources)."""
        return _xml_rows(stream, _YmlTarget(), what="a YML feed", sources=self.sources)


# --- CSV --------------------------------------------------------------------------------------

# Other spellings partners use for the documented columns.
COLUMN_ALIASES: dict[str, str] = {
    "id": "sku", "offer_id": "sku", "name": "title", "currencyid": "currency", "currency_id": "currency",
    "type": "offer_type", "image": "picture", "cover_url": "picture", "cover": "picture",
    "author": "creators", "authors": "creators", "director": "creators", "directors": "creators",
    "artist": "creators", "artists": "creators", "creator": "creators",
    "genre": "genres", "category": "genres", "categories": "genres", "isbn13": "isbn",
    "runtime": "runtime_minutes", "pages_count": "pages", "duration": "duration_seconds",
}
_ROW_FIELD_SET = frozenset(ROW_FIELDS)


def _key(name: str) -> str:
    return name.strip().lstrip("\ufeff").casefold().replace(" ", "_").replace("-", "_")


def _column_field(name: str, column_map: dict[str, str] | None = None) -> str | None:
    key = _key(name)
    if column_map and key in column_map:
        return column_map[key] or None  # the partner's mapping; "" ignores the column
    key = COLUMN_ALIASES.get(key, key)
    return key if key in _ROW_FIELD_SET else None


def normalize_column_map(column_map: dict[str, str] | None) -> dict[str, str]:
    """A partner's {their column: our field} keyed the way headers are looked up."""
    return {_key(column): field for column, field in (column_map or {}).items()
            if not field or field in _ROW_FIELD_SET}


def _set_value(row: OfferRow, name: str, value: str, list_split: re.Pattern = _LIST_SPLIT) -> None:
    if name in LIST_FIELDS:
        setattr(row, name, getattr(row, name) + _split_list(value, list_split))
    elif name == "product_category" and row.product_category:
        return  # google_product_category wins over fb_product_category
    else:
        setattr(row, name, value.strip() if name != "description" else value)


class CsvParser:
    """CSV with a header row (comma, semicolon or tab separated, UTF-8).

    Columns are named as `OfferRow` fields (docs/feeds.md), or as the partner's column mapping
    says; unknown columns are ignored, `sku`, `title`, `url`, `price` are required. Lists
    (creators, genres) are separated by `|` or `;`.
    """

    format = FeedFormat.CSV
    format_name = "CSV"
    list_split = _LIST_SPLIT

    def __init__(self, *, column_map: dict[str, str] | None = None):
        self.column_map = normalize_column_map(column_map)

    def field_of(self, name: str) -> str | None:
        return _column_field(name, self.column_map)

    def rows(self, stream: BinaryIO) -> Iterator[OfferRow]:
        # A 10 MB description must reach validation (and be rejected there), not break the reader.
        csv.field_size_limit(max(csv.field_size_limit(), settings.FEED_MAX_BYTES))
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        line_number = 1
        name = self.format_name
        try:
            header_line = text.readline()
            delimiter = max(",;\t", key=header_line.count)
            header = next(csv.reader([header_line], delimiter=delimiter), [])
            columns = [self.field_of(name) for name in header]
            missing = [name for name in REQUIRED_COLUMNS if name not in columns]
            if missing:
                shown = ", ".join(repr(name.strip()[:40]) for name in header[:12]) or "nothing"
                raise FeedFormatError(
                    f"not a {name} feed: missing required columns {', '.join(missing)} in the header (found {shown})"
                )
            reader = csv.reader(text, delimiter=delimiter)
            indexed = [(index, name) for index, name in enumerate(columns) if name]
            list_split = self.list_split
            for values in reader:
                line_number = reader.line_num + 1
                if not values or not any(value.strip() for value in values):
                    continue
                row = OfferRow(position=f"line {line_number}")
                for index, field_name in indexed:
                    if index < len(values) and values[index]:
                        _set_value(row, field_name, values[index], list_split)
                yield row
        except UnicodeDecodeError as exc:
            raise FeedFormatError(f"not a {name} feed: the text is not UTF-8 near line {line_number} ({exc.reason})") from None
        except csv.Error as exc:
            raise FeedFormatError(f"not a {name} feed: line {line_number}: {exc}") from None
        finally:
            text.detach()


# --- Google Merchant / Meta catalog -------------------------------------------------------------

# Google's product attributes (and Meta's, which are the same names) -> row fields. In XML they
# are `g:`-prefixed (plain RSS / Atom `title`, `link`, `description` count too); delimited files
# name them in the header, with or without `g:`.
MERCHANT_FIELDS: dict[str, str] = {
    "id": "sku", "title": "title", "description": "description", "link": "url", "image_link": "picture",
    "price": "price", "sale_price": "sale_price", "availability": "available", "gtin": "barcode",
    "isbn": "isbn", "brand": "publisher", "author": "creators", "authors": "creators", "artist": "creators",
    "director": "creators", "product_type": "genres", "google_product_category": "product_category",
    "fb_product_category": "product_category", "content_language": "language", "language": "language",
    "age_rating": "age", "kind": "kind",
}
_MERCHANT_LIST_SPLIT = re.compile(r"\s*[|;>]\s*")  # product_type is a path: "Books > Fiction > Mystery"
# The characters each list pattern splits at (_split_list skips the regex when none is there).
_SEPARATORS = {_LIST_SPLIT: "|;", _CREATOR_SPLIT: ",;", _MERCHANT_LIST_SPLIT: "|;>"}


def _merchant_key(name: str) -> str:
    key = _key(name)
    return key[2:] if key.startswith("g:") else key


class MerchantParser(CsvParser):
    """Google Merchant Center and Meta (Facebook) catalog feeds, detected by their content:

    - XML: RSS 2.0 (`rss/channel/item`) or Atom (`feed/entry`) with the Google namespace's
      `g:` fields, parsed with defusedxml's expat parser as YML is (no entities, no DTD tricks);
    - delimited: a TSV or CSV file whose header names Google's attributes (`id`, `title`, `link`,
      `price`, ...), as Google's TSV template and Meta's CSV are.

    Prices come as "amount CODE" ("299 BDT", "15.00 USD"); validation splits them.
    """

    format = FeedFormat.MERCHANT
    format_name = "Google Merchant / Meta"
    list_split = _MERCHANT_LIST_SPLIT

    def field_of(self, name: str) -> str | None:
        key = _merchant_key(name)
        if key in self.column_map:
            return self.column_map[key] or None
        return MERCHANT_FIELDS.get(key) or _column_field(key)

    def rows(self, stream: BinaryIO) -> Iterator[OfferRow]:
        buffered = io.BufferedReader(stream, CHUNK_BYTES) if not hasattr(stream, "peek") else stream
        head = buffered.peek(64)[:64].lstrip(codecs.BOM_UTF8).lstrip()
        if head.startswith(b"<"):
            yield from self._xml(buffered)
        else:
            yield from super().rows(buffered)

    def _xml(self, stream: BinaryIO) -> Iterator[OfferRow]:
        return _xml_rows(stream, _MerchantTarget(self), what="a Google Merchant / Meta feed")


class _MerchantTarget:
    """expat events of an RSS 2.0 or Atom product feed -> rows (one per <item> / <entry>)."""

    def __init__(self, parser: MerchantParser):
        self.parser = parser
        self.expat = None
        self.depth = 0
        self.item_depth = 0  # 3 for rss/channel/item, 2 for feed/entry
        self.rows: list[OfferRow] = []
        self.count = 0
        self.row: OfferRow | None = None
        self._text: list[str] = []
        self._capturing = False
        self._child = ""

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        self.depth += 1
        local = tag.rpartition("}")[2]
        if self.depth == 1:
            if local == "rss":
                self.item_depth = 3
            elif local == "feed":
                self.item_depth = 2
            else:
                raise FeedFormatError(f"not a Google Merchant / Meta feed: the root element is <{local}>, "
                                      "expected <rss> or <feed> (Atom)")
        elif self.row is None and self.depth == self.item_depth and local in ("item", "entry"):
            self.count += 1
            self.row = OfferRow(position=f"item #{self.count} (line {self.expat.CurrentLineNumber})")
        elif self.row is not None and self.depth == self.item_depth + 1:
            self._child, self._text, self._capturing = local, [], True
            if local == "link" and attributes.get("href", ""):  # Atom: <link href="..."/>
                if attributes.get("rel", "alternate") == "alternate" and not self.row.url:
                    self.row.url = attributes.get("href", "").strip()
                self._capturing = False

    def data(self, text: str) -> None:
        if self._capturing:
            self._text.append(text)

    def end(self, tag: str) -> None:
        depth = self.depth
        self.depth -= 1
        if self.row is None:
            return
        if depth == self.item_depth + 1 and self._capturing:
            self._capturing = False
            name = self.parser.field_of(self._child)
            value = "".join(self._text).strip()
            if name and value and (name in LIST_FIELDS or name == "product_category" or not getattr(self.row, name)):
                _set_value(self.row, name, value, _MERCHANT_LIST_SPLIT)
        elif depth == self.item_depth:
            self.rows.append(self.row)
            self.row = None

    def close(self) -> None:
        return None


# --- JSON -------------------------------------------------------------------------------------

MAX_JSON_OBJECT_CHARS = 64 * 1024 * 1024


def _json_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value).strip()


def _json_list(value) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(text for text in (_json_text(item) for item in value) if text)
    return _split_list(_json_text(value))


def _row_from_object(obj, position: str, column_map: dict[str, str] | None = None) -> OfferRow:
    row = OfferRow(position=position)
    if not isinstance(obj, dict):
        row.extra["__not_an_object__"] = type(obj).__name__
        return row
    for key, value in obj.items():
        name = _column_field(str(key), column_map)
        if name is None:
            row.extra[str(key)] = value
        elif name in LIST_FIELDS:
            setattr(row, name, _json_list(value))
        else:
            setattr(row, name, _json_text(value))
    return row


class JsonParser:
    """A JSON array of offer objects, or JSON Lines (one object per line); UTF-8.

    Field names are the CSV column names. The array is read object by object with
    `raw_decode` over a sliding buffer, so the file is never held whole in memory.
    """

    format = FeedFormat.JSON

    def __init__(self, *, column_map: dict[str, str] | None = None):
        self.column_map = normalize_column_map(column_map)

    def rows(self, stream: BinaryIO) -> Iterator[OfferRow]:
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        reader = _TextChunks(stream, decoder)
        first = reader.peek_non_space()
        if first == "[":
            yield from self._array(reader)
        elif first == "{":
            yield from self._lines(reader)
        elif first == "":
            raise FeedFormatError("not a JSON feed: the file is empty")
        else:
            raise FeedFormatError(
                f"not a JSON feed: expected an array of offers or JSON Lines, found {first!r} at line 1"
            )

    def _array(self, reader: "_TextChunks") -> Iterator[OfferRow]:
        decoder = json.JSONDecoder(parse_float=Decimal)
        reader.expect("[")
        index = 0
        while True:
            char = reader.peek_non_space()
            if char == "]":
                reader.expect("]")
                if reader.peek_non_space():
                    raise FeedFormatError(f"not a JSON feed: extra data after the array at line {reader.line}")
                return
            if index:
                if char != ",":
                    raise reader.error("expected ',' or ']' between offers")
                reader.expect(",")
            index += 1
            reader.peek_non_space()  # moves to the offer, counting the lines before it
            line = reader.line
            obj = reader.decode_value(decoder)
            yield _row_from_object(obj, f"element #{index} (line {line})", self.column_map)

    def _lines(self, reader: "_TextChunks") -> Iterator[OfferRow]:
        decoder = json.JSONDecoder(parse_float=Decimal)
        for number, line in enumerate(reader.lines(), start=1):
            if not line.strip():
                continue
            try:
                obj = decoder.decode(line)
            except json.JSONDecodeError as exc:
                raise FeedFormatError(f"not a JSON feed: line {number}: {exc.msg} (column {exc.colno})") from None
            yield _row_from_object(obj, f"line {number}", self.column_map)


class _TextChunks:
    """A decoded text buffer over a binary stream, refilled on demand, tracking line numbers."""

    def __init__(self, stream: BinaryIO, decoder):
        self.stream = stream
        self.decoder = decoder
        self.buffer = ""
        self.pos = 0
        self.line = 1  # line number at self.pos
        self.eof = False

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.stream.read(CHUNK_BYTES)
        try:
            text = self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise FeedFormatError(f"not a JSON feed: the text is not UTF-8 near line {self.line} ({exc.reason})") from None
        if not chunk:
            self.eof = True
        # Drop what has been consumed so the buffer stays about one chunk long.
        self.buffer = self.buffer[self.pos:] + text
        self.pos = 0
        return True

    def _advance(self, new_pos: int) -> None:
        self.line += self.buffer.count("\n", self.pos, new_pos)
        self.pos = new_pos

    def pos_after_space(self) -> int:
        pos = self.pos
        while pos < len(self.buffer) and self.buffer[pos] in " \t\r\n":
            pos += 1
        return pos

    def peek_non_space(self) -> str:
        while True:
            pos = self.pos_after_space()
            self._advance(pos)
            if pos < len(self.buffer):
                return self.buffer[pos]
            if not self._fill():
                return ""

    def expect(self, char: str) -> None:
        if self.peek_non_space() != char:
            raise self.error(f"expected {char!r}")
        self._advance(self.pos + 1)

    def error(self, what: str) -> FeedFormatError:
        found = self.buffer[self.pos:self.pos + 20]
        return FeedFormatError(f"not a JSON feed: {what} at line {self.line}, found {found!r}" if found else
                               f"not a JSON feed: {what} at line {self.line}, but the file ends there")

    def decode_value(self, decoder: json.JSONDecoder):
        self.peek_non_space()
        while True:
            try:
                value, end = decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as exc:
                # Either the object continues in the next chunk or it is broken: read on to tell.
                if len(self.buffer) - self.pos > MAX_JSON_OBJECT_CHARS:
                    raise FeedFormatError(f"not a JSON feed: an offer at line {self.line} is not valid JSON "
                                          f"or larger than {MAX_JSON_OBJECT_CHARS} characters") from None
                if not self._fill():
                    raise FeedFormatError(f"not a JSON feed: line {exc.lineno + self.line - 1 if exc.lineno else self.line}: "
                                          f"{exc.msg}") from None
                continue
            if end == len(self.buffer) and not self.eof and not isinstance(value, (dict, list, str)):
                # A number at the very end of the buffer may go on in the next chunk.
                if self._fill():
                    continue
            self._advance(end)
            return value

    def lines(self) -> Iterator[str]:
        while True:
            newline = self.buffer.find("\n", self.pos)
            if newline >= 0:
                line = self.buffer[self.pos:newline]
                self._advance(newline + 1)
                yield line
            elif not self._fill():
                rest = self.buffer[self.pos:]
                self._advance(len(self.buffer))
                if rest:
                    yield rest
                return


PARSERS: dict[str, Callable[[], FeedParser]] = {
    FeedFormat.YML: YmlParser, FeedFormat.CSV: CsvParser, FeedFormat.JSON: JsonParser,
    FeedFormat.MERCHANT: MerchantParser,
}


class CountingReader:
    """A binary stream that counts the bytes handed to the parser (for the progress bar)."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.bytes_read += len(data)
        return data

    def readable(self) -> bool:
        return True

    def rewind(self) -> None:
        """Back to the file's start (a YML re-import reads a broken file again for its exact error)."""
        self.stream.seek(0)
        self.bytes_read = 0

    def readinto(self, buffer) -> int:
        count = self.stream.readinto(buffer)
        self.bytes_read += count or 0
        return count

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    @property
    def closed(self) -> bool:
        return self.stream.closed

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return False

    def flush(self) -> None:
        return None
