"""Mapping a source's genre and category names onto MoodStream's genres and kinds."""

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from catalog.models import Genre, GenreAlias, Kind, PartnerCategoryMapping
from catalog.services import normalize_title

_IGNORED = 0  # a name known to say nothing about mood ("Книги", "Fiction")

# Category names that say what kind an offer is (YML <categories>, CSV / JSON "genres", Google /
# Meta product_type), normalised: used when the offer does not say its kind itself.
CATEGORY_KINDS: dict[str, str] = {
    normalize_title(name): kind
    for kind, names in {
        Kind.BOOK: ["Книги", "Книга", "Электронные книги", "Художественная литература", "Литература",
                    "Нехудожественная литература", "Аудиокниги", "Аудиокнига", "Books", "Book", "eBooks", "E-books",
                    "Fiction", "Nonfiction", "Non-fiction", "Literature", "Audiobooks", "Audio books", "Audiobook"],
        Kind.FILM: ["Фильмы", "Фильм", "Кино", "Видеофильмы", "Видео", "Кино и сериалы", "Сериалы", "Movies", "Movie",
                    "Films", "Film", "Movies & TV", "Movies and TV", "TV series", "TV shows", "Video"],
        Kind.TRACK: ["Музыка", "Треки", "Песни", "Синглы", "Music", "Tracks", "Songs", "Singles",
                     "Digital music"],
    }.items()
    for name in names
}


class GenreMapper:
    """Resolves names for one source, in this order:

    1. the GenreAlias table for (source, kind, name) — an alias without a genre ignores the name;
    2. MoodStream's default aliases of the source (catalog/datasets/genre_aliases.py), so names
       added there work without re-seeding;
    3. a genre of that kind whose code, English or Russian name equals the name;
    4. a genre whose code or name appears as whole words inside the name ("album rock" → rock),
       the longest such genre first.

    Loaded once per import (two queries); answers are cached per name.
    """

    def __init__(self, source: str):
        from catalog.datasets.genre_aliases import DEFAULT_ALIASES

        self.source = source
        self._exact: dict[tuple[str, str], int] = {}
        self._words: dict[str, list[tuple[re.Pattern, int]]] = {}
        by_code: dict[tuple[str, str], int] = {}
        for genre_id, kind, code, name_en, name_ru in Genre.objects.values_list("id", "kind", "code", "name_en", "name_ru"):
            by_code[(kind, code)] = genre_id
            for name in {normalize_title(code), normalize_title(name_en), normalize_title(name_ru)} - {""}:
                self._exact.setdefault((kind, name), genre_id)
                self._words.setdefault(kind, []).append((re.compile(rf"(?:^| ){re.escape(name)}(?: |$)"), genre_id, len(name)))
        for patterns in self._words.values():
            patterns.sort(key=lambda entry: -entry[2])
        self._defaults = {
            (kind, normalize_title(name)): by_code.get((kind, code)) if code else _IGNORED
            for kind, names in DEFAULT_ALIASES.get(source, {}).items()
            for name, code in names.items()
            if code is None or (kind, code) in by_code
        }
        self._aliases = {
            (kind, name): genre_id or _IGNORED
            for kind, name, genre_id in GenreAlias.objects.filter(source=source).values_list("kind", "name", "genre_id")
        }
        self._cache: dict[tuple[str, str], int | None] = {}

    def fingerprint(self) -> bytes:
        """The digest of every name this mapper resolves and how (parsers.OfferSources)."""
        tables = repr((sorted(self._exact.items()), sorted(self._defaults.items(), key=repr),
                       sorted(self._aliases.items(), key=repr)))
        return hashlib.blake2b(tables.encode("utf-8", "surrogatepass"), digest_size=32).digest()

    def genre_ids(self, kind: str, names) -> list[int]:
        found: list[int] = []
        for name in names:
            genre_id = self.genre_id(kind, name)
            if genre_id and genre_id not in found:
                found.append(genre_id)
        return found

    def genre_id(self, kind: str, name: str) -> int:
        return self._lookup(kind, name) or _IGNORED

    def is_known(self, kind: str, name: str) -> bool:
        """Whether the name maps to a genre of the kind or is known to say nothing (ignored)."""
        kinds = (kind,) if kind else Kind.values
        return any(self._lookup(each, name) is not None for each in kinds)

    def _lookup(self, kind: str, name: str) -> int | None:
        key = (kind, name)
        if key not in self._cache:
            self._cache[key] = self._resolve(kind, normalize_title(name))
        return self._cache[key]

    def _resolve(self, kind: str, name: str) -> int | None:
        if not name:
            return _IGNORED
        for table in (self._aliases, self._defaults, self._exact):
            if (kind, name) in table:
                return table[(kind, name)]
        for pattern, genre_id, _length in self._words.get(kind, ()):
            if pattern.search(name):
                return genre_id
        return None


class CategoryMapper:
    """A partner's categories -> kinds and genres, applied to each row before it is checked.

    Order: the partner's own mapping (admin: Partner category mappings), then the built-in
    kind names (CATEGORY_KINDS), then the GenreMapper. Counts the offers whose categories
    gave them nothing (`unmapped`), for the import report.
    """

    def __init__(self, *, partner_id: int, genres: GenreMapper):
        from .validation import guess_kind

        self._guess_kind = guess_kind
        self.genres = genres
        self.partner = {
            category: (kind, (genre_kind, genre_code) if genre_code else None)
            for category, kind, genre_kind, genre_code in PartnerCategoryMapping.objects.filter(
                partner_id=partner_id).values_list("category", "kind", "genre__kind", "genre__code")
        }
        self.unmapped: Counter = Counter()
        self._cache: dict[tuple, tuple[str, tuple[str, ...], str]] = {}

    def mapped(self, rows):
        """The rows with the mapping applied (kinds and genres from categories)."""
        apply = self.apply
        for row in rows:
            if row.genres:
                apply(row)
            yield row

    def apply(self, row) -> None:
        if not row.genres:
            return
        kind = self._guess_kind(row)
        key = (kind, row.genres)
        if key not in self._cache:
            self._cache[key] = self._map(kind, row.genres)
        kind_hint, names, unmapped = self._cache[key]
        if kind_hint and not row.kind.strip():
            row.kind = kind_hint
        row.genres = names
        if unmapped:
            self.unmapped[unmapped] += 1
            # Counted in every import's report, so never set aside unparsed (parsers.OfferSources).
            row.source_digest = b""

    def _map(self, kind: str, names: tuple[str, ...]) -> tuple[str, tuple[str, ...], str]:
        kind_hint, mapped, known = "", [], False
        for name in names:
            normal = normalize_title(name)
            if normal in self.partner:
                mapping_kind, genre = self.partner[normal]
                kind_hint = kind_hint or mapping_kind
                # The genre's code is what the GenreMapper resolves exactly, for that kind.
                mapped.append(genre[1] if genre and genre[0] == (kind or mapping_kind or genre[0]) else name)
                known = True
                continue
            mapped.append(name)
            if normal in CATEGORY_KINDS:
                kind_hint = kind_hint or CATEGORY_KINDS[normal]
                known = True
        effective = kind or kind_hint
        if not known:
            known = any(self.genres.is_known(effective, name) for name in names)
        return kind_hint, tuple(mapped), "" if known else names[0].strip()[:200]

    def report(self, limit: int = 100) -> list[dict]:
        return [{"name": name, "offers": count} for name, count in self.unmapped.most_common(limit)]


# --- Google / Meta product categories -----------------------------------------------------------

@dataclass(frozen=True)
class MerchantCategory:
    kind: str = ""  # film | book | track, or "" when the category does not say
    is_content: bool = True
    physical: str = ""  # the carrier, when the category is one of physical media


# Google product taxonomy ids (https://www.google.com/basepages/producttype/taxonomy-with-ids.en-US.txt)
# that matter here; other ids say nothing and leave the decision to the offer's other fields.
_TAXONOMY_IDS = {
    "783": MerchantCategory(), "784": MerchantCategory(Kind.BOOK), "839": MerchantCategory(Kind.FILM),
    "855": MerchantCategory(Kind.TRACK), "5032": MerchantCategory(),
    "166": MerchantCategory(is_content=False), "1604": MerchantCategory(is_content=False),
    "187": MerchantCategory(is_content=False), "201": MerchantCategory(is_content=False),
}
_MEDIA = {"media", "медиа", "мультимедиа"}
_MEDIA_KINDS = {
    "books": Kind.BOOK, "книги": Kind.BOOK, "dvds & videos": Kind.FILM, "dvds and videos": Kind.FILM,
    "dvd и видео": Kind.FILM, "dvd и видеозаписи": Kind.FILM, "music & sound recordings": Kind.TRACK,
    "music and sound recordings": Kind.TRACK, "музыка и звукозаписи": Kind.TRACK,
}
_PHYSICAL_SUBCATEGORIES = {
    "music cds": "CD", "records & lps": "vinyl", "music cassette tapes": "cassette", "vinyl": "vinyl",
    "компакт-диски": "CD", "виниловые пластинки": "vinyl", "аудиокассеты": "cassette",
}
_DIGITAL_GOODS = {"digital goods & currency", "digital goods and currency", "цифровые товары и валюта"}


@lru_cache(maxsize=4096)
def merchant_category(value: str) -> MerchantCategory:
    """What a google_product_category / fb_product_category says: "Media > Books", "784"."""
    text = value.strip()
    if text.isdigit():
        return _TAXONOMY_IDS.get(text, MerchantCategory())
    parts = [part.strip().casefold() for part in re.split(r"\s*>\s*", text) if part.strip()]
    if not parts:
        return MerchantCategory()
    if parts[0] in _MEDIA:
        if len(parts) == 1:
            return MerchantCategory()
        kind = _MEDIA_KINDS.get(parts[1])
        if kind is None:
            return MerchantCategory(is_content=False)  # magazines, manuals, sheet music
        physical = next((_PHYSICAL_SUBCATEGORIES[part] for part in parts[2:] if part in _PHYSICAL_SUBCATEGORIES), "")
        return MerchantCategory(kind, physical=physical)
    if parts[0] in ("software", "программное обеспечение") and len(parts) > 1 and parts[1] in _DIGITAL_GOODS:
        return MerchantCategory()
    return MerchantCategory(is_content=False)
