"""Finding or creating the ContentItem a feed row or dataset row describes, a batch at a time.

Matching order (DESIGN §7): an external id (ISBN-13, IMDb id, ISRC) first; then the same kind
with the same normalised title, year and normalised first creator; otherwise a new item.
A batch costs a fixed handful of queries whatever its size.
"""

import re
from collections import defaultdict
from dataclasses import dataclass
from math import ceil
from operator import attrgetter

from django.utils import timezone

from catalog.models import ContentItem, Kind
from catalog.services import book_reading_minutes, item_refresh_derived_fields, normalize_title

from .genres import GenreMapper
from .validation import MAIN_ROLES, ItemData
from .writers import OrmWriter, writer_for_connection

EXTERNAL_IDS = ("isbn13", "imdb_id", "isrc")
# ItemData fields copied onto ContentItem as they are (when given).
_PLAIN_FIELDS = ("title", "original_title", "year", "description", "cover_url", "language", "album",
                 "tempo", "energy", "valence", "danceability", "acousticness", "mode", "rating", "votes",
                 "popularity", "series", "publisher", "country", "age_rating", "barcode")
UPDATABLE_FIELDS = (*_PLAIN_FIELDS, "creators", "credits", "pages", "duration_seconds", "length_minutes",
                    *EXTERNAL_IDS, "normalized_title", "primary_creator")
_ASCII_NON_WORD = re.compile(r"[\W_]+")
_plain_values = attrgetter(*_PLAIN_FIELDS)
_external_ids = attrgetter(*EXTERNAL_IDS)


def fast_normalize_title(title: str) -> str:
    """catalog.services.normalize_title, with a shortcut for ASCII text (no accents to strip)
    that gives the same result several times faster; the importers call it per row."""
    if title.isascii():
        return _ASCII_NON_WORD.sub(" ", title.lower()).strip()
    return normalize_title(title)


def match_key(kind: str, title: str, year: int | None, creators) -> tuple:
    return (kind, fast_normalize_title(title), year, fast_normalize_title(creators[0]) if creators else "")


def item_fields(data: ItemData, normalized_title: str | None = None) -> dict:
    """The ContentItem field values of a new item, with the derived fields computed as
    catalog.services.item_refresh_derived_fields does (length: runtime for films, reading time
    from pages for books, duration for tracks)."""
    credits = list(data.credits) or [{"name": name, "role": MAIN_ROLES.get(data.kind, "creator")} for name in data.creators]
    fields = {"kind": data.kind, "creators": list(data.creators), "credits": credits}
    for name, value in zip(_PLAIN_FIELDS, _plain_values(data)):
        if value is not None and value != "":
            fields[name] = value
    for name, value in zip(EXTERNAL_IDS, _external_ids(data)):
        if value:
            fields[name] = value
    if data.runtime_minutes and data.kind != Kind.BOOK:  # a book's length is its reading time
        fields["length_minutes"] = data.runtime_minutes
    if data.kind == Kind.BOOK and data.pages:
        fields["pages"] = data.pages
        fields["length_minutes"] = book_reading_minutes(data.pages)
    elif data.kind in (Kind.TRACK, Kind.BOOK) and data.duration_seconds:
        # A track's duration; an audiobook's listening time (a book with pages keeps its reading time).
        fields["duration_seconds"] = data.duration_seconds
        fields["length_minutes"] = ceil(data.duration_seconds / 60)
    # The caller may pass it when it has it (the match key holds it).
    fields["normalized_title"] = fast_normalize_title(data.title) if normalized_title is None else normalized_title
    fields["primary_creator"] = (data.creators[0] if data.creators else "")[:300]
    return fields


@dataclass
class ResolveResult:
    item_ids: list[int]
    created: int = 0
    updated: int = 0


class ItemResolver:
    """Resolves ItemData to item ids. `update_existing` (dataset imports) also refreshes matched
    items from the data and adds its genres; feeds leave matched items as they are."""

    def __init__(self, *, genres: GenreMapper, update_existing: bool = False, writer: OrmWriter | None = None):
        self.genres = genres
        self.update_existing = update_existing
        self.writer = writer or writer_for_connection()

    def resolve(self, batch: list[ItemData]) -> ResolveResult:
        ids: list[int | None] = [None] * len(batch)
        for field in EXTERNAL_IDS:
            wanted = {getattr(data, field) for data in batch if getattr(data, field)}
            if not wanted:
                continue
            found = dict(self.writer.items_by_external_id(field, list(wanted)))
            for index, data in enumerate(batch):
                if ids[index] is None and getattr(data, field) in found:
                    ids[index] = found[getattr(data, field)]
        pending = [index for index, item_id in enumerate(ids) if item_id is None]
        # Each row's match key, computed once: the title match and the creation both use it.
        keys = {index: match_key(batch[index].kind, batch[index].title, batch[index].year, batch[index].creators)
                for index in pending}
        if pending:
            self._match_by_title(batch, ids, pending, keys)
        matched = [index for index, item_id in enumerate(ids) if item_id is not None]
        result = ResolveResult(item_ids=ids)  # type: ignore[arg-type]
        pending = [index for index, item_id in enumerate(ids) if item_id is None]
        if pending:
            result.created = self._create(batch, ids, pending, keys)
        if self.update_existing and matched:
            result.updated = self._update(batch, ids, matched)
        return result

    def _match_by_title(self, batch, ids, pending, keys) -> None:
        pairs = list({(key[0], key[1]) for key in keys.values()})
        candidates: dict[tuple, list[tuple]] = defaultdict(list)
        rows = self.writer.items_by_title(
            pairs, ("id", "kind", "normalized_title", "year", "primary_creator", *EXTERNAL_IDS))
        for item_id, kind, title, year, creator, *external in rows:
            candidates[(kind, title, year, fast_normalize_title(creator))].append((item_id, external))
        for index in pending:
            data = batch[index]
            for item_id, external in candidates.get(keys[index], ()):
                # Same title, year and creator but a different ISBN/IMDb id/ISRC is another work.
                if not any(theirs and getattr(data, field) and theirs != getattr(data, field)
                           for field, theirs in zip(EXTERNAL_IDS, external)):
                    ids[index] = item_id
                    break

    def _create(self, batch, ids, pending, match_keys) -> int:
        new_data: list[ItemData] = []
        normalized: list[str] = []  # each new item's normalised title (from its match key)
        owner: dict[tuple, int] = {}  # external id or title key → position in new_data
        positions: dict[int, int] = {}
        for index in pending:
            data = batch[index]
            keys = [(field, getattr(data, field)) for field in EXTERNAL_IDS if getattr(data, field)]
            title_key = ("title", *match_keys[index])
            position = next((owner[key] for key in keys if key in owner), None)
            if position is None and title_key in owner and not self._conflicts(new_data[owner[title_key]], data):
                position = owner[title_key]
            if position is None:
                position = len(new_data)
                new_data.append(data)
                normalized.append(match_keys[index][1])
            for key in (*keys, title_key):
                owner.setdefault(key, position)
            positions[index] = position
        new_ids = self.writer.insert_items([item_fields(data, title) for data, title in zip(new_data, normalized)],
                                           timezone.now())
        for index, position in positions.items():
            ids[index] = new_ids[position]
        self._add_genres(zip(new_ids, new_data), fresh=True)
        return len(new_data)

    @staticmethod
    def _conflicts(one: ItemData, other: ItemData) -> bool:
        return any(getattr(one, f) and getattr(other, f) and getattr(one, f) != getattr(other, f) for f in EXTERNAL_IDS)

    @staticmethod
    def _fill_empty(item: ContentItem, data: ItemData) -> None:
        """Give a matched item the values it lacks (dataset imports). Values it has are kept, so
        staff edits survive and importing several overlapping datasets, in any order and as often
        as you like, settles on one result."""
        fields = item_fields(data)
        for name, value in fields.items():
            if name in ("kind", "normalized_title", "primary_creator") or value in (None, "", []):
                continue
            if name == "pages" and item.kind != Kind.BOOK:
                continue
            current = getattr(item, name)
            if current in (None, "", []) or (current == 0 and name in ("votes", "popularity")):
                setattr(item, name, value)
        item_refresh_derived_fields(item=item)

    def _add_genres(self, pairs, *, fresh: bool = False) -> None:
        links = list({
            (item_id, genre_id): None
            for item_id, data in pairs
            for genre_id in self.genres.genre_ids(data.kind, data.genres)
        })
        if not links:
            return
        if fresh:
            self.writer.insert_item_genres(links)
        else:
            OrmWriter().insert_item_genres(links)  # may exist already: ON CONFLICT DO NOTHING

    def _update(self, batch, ids, matched) -> int:
        items = ContentItem.objects.in_bulk({ids[index] for index in matched})
        taken = {field: set() for field in EXTERNAL_IDS}
        changed: dict[int, tuple[ContentItem, set]] = {}
        for index in matched:
            item, data = items[ids[index]], batch[index]
            if item.kind != data.kind:
                continue
            before = {field: getattr(item, field) for field in UPDATABLE_FIELDS}
            # An external id goes only to an item that has none yet, and only once per batch.
            for field in EXTERNAL_IDS:
                value = getattr(data, field)
                if value and (getattr(item, field) or value in taken[field]):
                    setattr(data, field, "")
                elif value:
                    taken[field].add(value)
            self._fill_empty(item, data)
            changed_fields = {field for field, value in before.items() if getattr(item, field) != value}
            if changed_fields:
                changed.setdefault(item.pk, (item, set()))[1].update(changed_fields)
        # Items changed in the same fields are written together, naming only those fields:
        # a bulk UPDATE over every column costs far more than the few that differ.
        groups: dict[frozenset, list[ContentItem]] = defaultdict(list)
        now = timezone.now()
        for item, fields in changed.values():
            item.updated_at = now
            groups[frozenset(fields)].append(item)
        for fields, items_ in groups.items():
            ContentItem.objects.bulk_update(items_, [*sorted(fields), "updated_at"], batch_size=500)
        self._add_genres((ids[index], batch[index]) for index in matched if items[ids[index]].kind == batch[index].kind)
        return len(changed)
