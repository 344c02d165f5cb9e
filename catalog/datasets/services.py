"""Importing a public dataset into the catalogue: idempotent, batched, genres mapped by GenreAlias."""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from catalog.feeds.validation import ItemData
from catalog.models import ContentItem

from catalog.feeds.genres import GenreMapper
from catalog.feeds.items import ItemResolver
from catalog.feeds.services import genre_aliases_seed
from catalog.services import genres_ensure_defaults

from .readers import DATASETS, SkipRow

BATCH_SIZE = 1000
SKIPPED_ROWS_KEPT = 20


@dataclass
class DatasetReport:
    dataset: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    skipped_rows: list[str] = field(default_factory=list)


def dataset_import(*, name: str, path: Path, extended: Path | None = None, limit: int | None = None,
                   progress: Callable[[int], None] | None = None) -> DatasetReport:
    """Load one dataset: match each row to an item (external id, then title + year + first creator),
    update matched items from it, create the rest. Running it again changes nothing."""
    dataset = DATASETS[name]
    genres_ensure_defaults()
    genre_aliases_seed(source=dataset.genre_source)
    resolver = ItemResolver(genres=GenreMapper(dataset.genre_source), update_existing=True)
    report = DatasetReport(dataset=name)

    def flush(batch):
        result = resolver.resolve(batch)
        english_titles_fill(batch, result.item_ids)
        report.created += result.created
        report.updated += result.updated
        report.unchanged += len(batch) - result.created - result.updated
        if progress:
            progress(len(batch))

    with transaction.atomic():
        batch = []
        for line, item in dataset.read(Path(path), extended=extended):
            if limit is not None and report.rows >= limit:
                break
            report.rows += 1
            if isinstance(item, SkipRow):
                report.skipped += 1
                if len(report.skipped_rows) < SKIPPED_ROWS_KEPT:
                    report.skipped_rows.append(f"line {line}: {item}")
                continue
            batch.append(item)
            if len(batch) >= BATCH_SIZE:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
    return report


def english_titles_fill(batch: list[ItemData], item_ids: list[int | None]) -> int:
    """Give the batch's items their English title where they have none yet; returns how many got one.

    Every public dataset we read is English-language (IMDb, Wikidata's English labels, Goodreads,
    Spotify): its title is the English (release or edition) title, so English readers see it
    first; a title already set (the demo catalogue's, or staff's) is kept.
    """
    titles = {item_id: data.title for data, item_id in zip(batch, item_ids) if item_id is not None and data.title}
    missing = ContentItem.objects.filter(pk__in=list(titles), title_en="").values_list("pk", flat=True)
    items = [ContentItem(pk=pk, title_en=titles[pk][:500]) for pk in missing]
    ContentItem.objects.bulk_update(items, ["title_en"], batch_size=1000)
    return len(items)
