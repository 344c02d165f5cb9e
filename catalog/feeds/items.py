"""Finding or creating the ContentItem a feed row or dataset row describes, a batch at a time.

Matching order (DESIGN §7): an external id (ISBN-13, IMDb id, ISRC) first; then the same kind
with the same normalised title, year and normalised first creator; otherwise a new item.
A batch costs a fixed handful of queries whatever its size.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.utils import timezone

from catalog.models import ContentItem, Kind
from catalog.services import item_refresh_derived_fields, normalize_title

from .genres import GenreMapper
from .validation import ItemData

EXTERNAL_IDS = ("isbn13", "imdb_id", "isrc")
# ItemData fields copied onto ContentItem as they are (when given).
_PLAIN_FIELDS = ("title", "original_title", "year", "description", "cover_url", "language", "album",
                 "tempo", "energy", "valence", "danceability", "acousticness", "mode", "rating", "votes",
                 "popularity")
UPDATABLE_FIELDS = (*_PLAIN_FIELDS, "creators", "pages", "duration_seconds", "length_minutes",
                    *EXTERNAL_IDS, "normalized_title", "primary_creator")
# Keeps INSERT parameters under PostgreSQL's 65,535 per statement (ContentItem has ~35 columns).
ITEM_INSERT_BATCH = 1000


def match_key(kind: str, title: str, year: int | None, creators) -> tuple:
    return (kind, normalize_title(title), year, normalize_title(creators[0]) if creators else "")


@dataclass
class ResolveResult:
    item_ids: list[int]
    created: int = 0
    updated: int = 0


class ItemResolver:
    """Resolves ItemData to item ids. `update_existing` (dataset imports) also refreshes matched
    items from the data and adds its genres; feeds leave matched items as they are."""

    def __init__(self, *, genres: GenreMapper, update_existing: bool = False):
        self.genres = genres
        self.update_existing = update_existing

    def resolve(self, batch: list[ItemData]) -> ResolveResult:
        ids: list[int | None] = [None] * len(batch)
        for field in EXTERNAL_IDS:
            wanted = {getattr(data, field) for data in batch if getattr(data, field)}
            if not wanted:
                continue
            # The explicit "<> ''" lets PostgreSQL use the partial unique index on the id.
            found = dict(
                ContentItem.objects.filter(**{f"{field}__in": wanted}).exclude(**{field: ""}).values_list(field, "id")
            )
            for index, data in enumerate(batch):
                if ids[index] is None and getattr(data, field) in found:
                    ids[index] = found[getattr(data, field)]
        pending = [index for index, item_id in enumerate(ids) if item_id is None]
        if pending:
            self._match_by_title(batch, ids, pending)
        matched = [index for index, item_id in enumerate(ids) if item_id is not None]
        result = ResolveResult(item_ids=ids)  # type: ignore[arg-type]
        pending = [index for index, item_id in enumerate(ids) if item_id is None]
        if pending:
            result.created = self._create(batch, ids, pending)
        if self.update_existing and matched:
            result.updated = self._update(batch, ids, matched)
        return result

    def _match_by_title(self, batch, ids, pending) -> None:
        keys = {index: match_key(batch[index].kind, batch[index].title, batch[index].year, batch[index].creators)
                for index in pending}
        titles = {key[1] for key in keys.values()}
        kinds = {key[0] for key in keys.values()}
        candidates: dict[tuple, list[tuple]] = defaultdict(list)
        rows = ContentItem.objects.filter(kind__in=kinds, normalized_title__in=titles).values_list(
            "id", "kind", "normalized_title", "year", "primary_creator", *EXTERNAL_IDS
        ).order_by("id")
        for item_id, kind, title, year, creator, *external in rows:
            candidates[(kind, title, year, normalize_title(creator))].append((item_id, external))
        for index in pending:
            data = batch[index]
            for item_id, external in candidates.get(keys[index], ()):
                # Same title, year and creator but a different ISBN/IMDb id/ISRC is another work.
                if not any(theirs and getattr(data, field) and theirs != getattr(data, field)
                           for field, theirs in zip(EXTERNAL_IDS, external)):
                    ids[index] = item_id
                    break

    def _create(self, batch, ids, pending) -> int:
        new_items: list[ContentItem] = []
        new_data: list[ItemData] = []
        owner: dict[tuple, int] = {}  # external id or title key → position in new_items
        positions: dict[int, int] = {}
        for index in pending:
            data = batch[index]
            keys = [(field, getattr(data, field)) for field in EXTERNAL_IDS if getattr(data, field)]
            title_key = ("title", *match_key(data.kind, data.title, data.year, data.creators))
            position = next((owner[key] for key in keys if key in owner), None)
            if position is None and title_key in owner and not self._conflicts(new_data[owner[title_key]], data):
                position = owner[title_key]
            if position is None:
                position = len(new_items)
                new_items.append(self._build(data))
                new_data.append(data)
            for key in (*keys, title_key):
                owner.setdefault(key, position)
            positions[index] = position
        ContentItem.objects.bulk_create(new_items, batch_size=ITEM_INSERT_BATCH)
        for index, position in positions.items():
            ids[index] = new_items[position].pk
        self._add_genres((item.pk, data) for item, data in zip(new_items, new_data))
        return len(new_items)

    @staticmethod
    def _conflicts(one: ItemData, other: ItemData) -> bool:
        return any(getattr(one, f) and getattr(other, f) and getattr(one, f) != getattr(other, f) for f in EXTERNAL_IDS)

    def _build(self, data: ItemData) -> ContentItem:
        item = ContentItem(kind=data.kind, creators=list(data.creators))
        self._fill(item, data)
        return item

    @staticmethod
    def _fill(item: ContentItem, data: ItemData, *, keep_external: bool = False) -> None:
        """Copy the given values onto the item, following the catalogue's conventions:
        length is the runtime for films, reading time from pages for books, duration for tracks."""
        for field in _PLAIN_FIELDS:
            value = getattr(data, field)
            if value is not None and value != "":
                setattr(item, field, value)
        if data.creators:
            item.creators = list(data.creators)
        for field in EXTERNAL_IDS:
            value = getattr(data, field)
            if value and not (keep_external and getattr(item, field)):
                setattr(item, field, value)
        if item.kind == Kind.BOOK and data.pages:
            item.pages = data.pages
        if item.kind == Kind.TRACK and data.duration_seconds:
            item.duration_seconds = data.duration_seconds
        if data.runtime_minutes and (item.kind == Kind.FILM or not item.length_minutes):
            item.length_minutes = data.runtime_minutes
        item_refresh_derived_fields(item=item)

    def _add_genres(self, pairs) -> None:
        through = ContentItem.genres.through
        links = [
            through(contentitem_id=item_id, genre_id=genre_id)
            for item_id, data in pairs
            for genre_id in self.genres.genre_ids(data.kind, data.genres)
        ]
        if links:
            through.objects.bulk_create(links, ignore_conflicts=True, batch_size=5000)

    def _update(self, batch, ids, matched) -> int:
        items = ContentItem.objects.in_bulk({ids[index] for index in matched})
        taken = {field: set() for field in EXTERNAL_IDS}
        changed: dict[int, ContentItem] = {}
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
            self._fill(item, data, keep_external=True)
            if any(getattr(item, field) != value for field, value in before.items()):
                changed[item.pk] = item
        if changed:
            now = timezone.now()
            for item in changed.values():
                item.updated_at = now
            ContentItem.objects.bulk_update(list(changed.values()), [*UPDATABLE_FIELDS, "updated_at"], batch_size=500)
        self._add_genres((ids[index], batch[index]) for index in matched if items[ids[index]].kind == batch[index].kind)
        return len(changed)
