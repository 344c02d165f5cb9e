"""Writes for partner feeds: requesting an import, running it, scheduling, genre alias seeds.

Every way a feed arrives (admin upload, API push, command, schedule, "import now") calls
`feed_import_create`, which records a FeedImport and starts the Celery task
`catalog.import_partner_feed` after the transaction commits; the task calls `feed_import_run`.
The task is started by its name (`moodstream.celery.enqueue`): catalog/tasks.py imports this
module, never the other way round. When the broker is down the import is marked failed with the
reason and QueueUnavailable reaches the entry point (the API answers 503).
"""

import hashlib
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.files import File
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.dispatch import Signal
from django.utils import timezone

from catalog.models import FeedFormat, FeedImport, Genre, GenreAlias, Partner, PartnerColumnMapping
from catalog.services import normalize_title
from moodstream.celery import QueueUnavailable, enqueue

from .fetch import FeedFetchError, feed_fetch
from .genres import CategoryMapper, GenreMapper
from .importer import FeedReport, FeedRun
from .parsers import CountingReader, OfferSources, detect_format, parser_for
from .reader_process import FeedReader, feed_reader, use_reader_process
from .rows import FeedFormatError
from .validation import printable

logger = logging.getLogger(__name__)

IMPORT_TASK = "catalog.import_partner_feed"

# Sent after each batch with `feed_import_id`, `rows` (read so far), `bytes_read`, `bytes_total`;
# the import_feed command draws its progress bar from it.
feed_import_progress = Signal()


class FeedRequestError(ValueError):
    """The request for an import is unusable (no file, too large, unknown format)."""


class FeedRejected(Exception):
    """Too many rows were rejected (the failure rule, docs/feeds.md): the import fails, its
    transaction is rolled back, and the report says why."""

    def __init__(self, report: FeedReport, message: str):
        super().__init__(message)
        self.report = report


def feed_import_create(
    *,
    partner: Partner,
    source: str,
    feed_format: str = "",
    upload: BinaryIO | None = None,
    filename: str = "feed",
    url: str = "",
    is_full: bool | None = None,
    enqueue: bool = True,
) -> FeedImport:
    """Record an import of an uploaded file (`upload`) or of a URL, and start it after commit.

    The file is copied to the media storage so that any worker can read it.
    """
    if feed_format and feed_format not in FeedFormat.values:
        raise FeedRequestError(f"Unknown format {feed_format!r}: use one of {', '.join(FeedFormat.values)}.")
    if (upload is None) == (not url):
        raise FeedRequestError("Give either a feed file or a feed URL.")
    feed_import = FeedImport(
        partner=partner, source=source, format=feed_format, source_url=url,
        is_full=partner.feed_is_full if is_full is None else is_full,
    )
    if upload is not None:
        size = _size_of(upload)
        if size == 0:
            raise FeedRequestError("The feed file is empty.")
        if size > settings.FEED_MAX_BYTES:
            raise FeedRequestError(f"The feed file is {size:,} bytes; the limit is {settings.FEED_MAX_BYTES:,} bytes.")
        feed_import.size_bytes = size
        with transaction.atomic():
            feed_import.save()
            # Saved under the import's id, never under a name the partner chose.
            suffix = Path(filename).suffix.lower()[:10] if Path(filename).suffix[1:].isalnum() else ""
            feed_import.file.save(f"{feed_import.pk}{suffix}", File(upload), save=False)
            feed_import.save(update_fields=["file"])
    else:
        feed_import.save()
    if enqueue:
        transaction.on_commit(partial(feed_import_enqueue, feed_import_id=feed_import.pk))
    return feed_import


def feed_import_enqueue(*, feed_import_id) -> None:
    """Hand a recorded import to the workers; if the broker is down, fail it with the reason and raise.

    The import row is committed before its task is sent (a worker must find it), so a refused send
    would leave a *pending* import nobody will run: it is failed instead, and QueueUnavailable tells
    the caller (the API answers 503 queue_unavailable, the admin shows an error).
    """
    try:
        enqueue(IMPORT_TASK, str(feed_import_id))
    except QueueUnavailable as exc:
        FeedImport.objects.filter(pk=feed_import_id, status=FeedImport.Status.PENDING).update(
            status=FeedImport.Status.FAILED, finished_at=timezone.now(),
            message=f"Not started: {exc}. Nothing was changed; send the feed again.",
        )
        logger.error("Feed import %s not started: %s", feed_import_id, exc)
        raise


def _size_of(upload: BinaryIO) -> int:
    size = getattr(upload, "size", None)
    if size is None:
        position = upload.tell()
        size = upload.seek(0, os.SEEK_END)
        upload.seek(position)
    return size


def feed_import_run(*, feed_import_id, task_id: str = "") -> FeedImport:
    """Run a pending import to its end: succeeded, skipped (identical to the last one) or failed.

    The rows are written in one transaction with the partner row locked, so two imports of
    one partner never interleave and a failure changes nothing.

    A run first claims the import (pending → running), so a second run of it does nothing. One
    exception: the Celery task `task_id` that claimed it, delivered again, takes a *running* import
    over — that happens only when its worker died mid-import (acks_late + task_reject_on_worker_lost;
    the broker's visibility timeout is longer than any task may run), and the dead run's
    transaction was rolled back with its connection, so the import is simply run again.
    """
    now = timezone.now()
    claimable = Q(status=FeedImport.Status.PENDING)
    if task_id:
        claimable |= Q(status=FeedImport.Status.RUNNING, task_id=task_id)
    claimed = FeedImport.objects.filter(claimable, pk=feed_import_id).update(
        status=FeedImport.Status.RUNNING, started_at=now, heartbeat_at=now, task_id=task_id
    )
    feed_import = FeedImport.objects.select_related("partner").get(pk=feed_import_id)
    if not claimed:
        logger.info("Feed import %s is %s already; not run again.", feed_import.pk, feed_import.status)
        return feed_import
    with _heartbeat(feed_import.pk):
        return _run_claimed(feed_import)


@contextmanager
def _heartbeat(feed_import_id) -> Iterator[None]:
    """While the import runs, stamp its heartbeat_at every FEED_IMPORT_HEARTBEAT_SECONDS.

    The import writes in one long transaction, invisible to others until it ends, so the stamps come
    from a thread with its own connection (Django's connections are per thread), each committed at
    once. When the worker process dies, the stamps stop and housekeeping fails the import after
    FEED_IMPORT_STALE_MINUTES. Not on SQLite (the embedded single-process default): its one writer
    lock would make the stamps collide with the import's own transaction.
    """
    if connection.vendor == "sqlite":
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(settings.FEED_IMPORT_HEARTBEAT_SECONDS):
                try:
                    FeedImport.objects.filter(pk=feed_import_id, status=FeedImport.Status.RUNNING).update(
                        heartbeat_at=timezone.now())
                except DatabaseError:
                    logger.warning("Feed import %s: heartbeat not written", feed_import_id, exc_info=True)
        finally:
            connections.close_all()  # this thread's connection only

    thread = threading.Thread(target=beat, name=f"feed-import-heartbeat-{feed_import_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def _run_claimed(feed_import: FeedImport) -> FeedImport:
    report = FeedReport()
    try:
        with _feed_file(feed_import) as path:
            digest, size = _digest(path)
            feed_import.content_sha256, feed_import.size_bytes = digest, size
            if size > settings.FEED_MAX_BYTES:
                raise FeedFetchError(f"the feed is {size:,} bytes; the limit is {settings.FEED_MAX_BYTES:,} bytes")
            previous = _last_success(feed_import)
            if previous is not None and previous.content_sha256 == digest:
                return _finish(feed_import, FeedImport.Status.SKIPPED, report,
                               f"Skipped: byte-identical to the import of "
                               f"{timezone.localtime(previous.finished_at):%Y-%m-%d %H:%M} "
                               f"({previous.pk}); nothing changed.")
            with open(path, "rb") as stream:
                feed_format = feed_import.format or detect_format(stream.read(4096))
                feed_import.format = feed_format
                stream.seek(0)
                report = _import_rows(feed_import, stream, size)
    except FeedRejected as exc:
        return _finish(feed_import, FeedImport.Status.FAILED, exc.report, str(exc), keep_report=True)
    except (FeedFormatError, FeedFetchError) as exc:
        return _finish(feed_import, FeedImport.Status.FAILED, report, _sentence(str(exc)) + " Nothing was changed.")
    except Exception as exc:  # noqa: BLE001 — any fault fails this import, never the worker
        logger.exception("Feed import %s failed", feed_import.pk)
        return _finish(feed_import, FeedImport.Status.FAILED, report,
                       f"Internal error ({type(exc).__name__}); nothing was changed. The error is in the server log.")
    notes = []
    if report.rejected:
        # Said first: a partner must not read "succeeded" and miss that some offers are not listed.
        notes.append(f"Warning: {report.rejected:,} of {report.rows_total:,} rows were rejected and are not listed "
                     f"({_share(report)}). Top reasons: {_top_reasons(report)}.")
    notes.append(f"{report.rows_total:,} offers read.")
    if feed_import.is_full:
        notes.append(f"Full feed: {report.withdrawn:,} offers missing from it were marked unavailable.")
    else:
        notes.append("Partial feed: offers missing from it were left as they were.")
    if report.rejected:
        notes.append(f"The first {len(report.rejected_rows)} rejected rows are listed with every reason.")
    return _finish(feed_import, FeedImport.Status.SUCCEEDED, report, " ".join(notes))


def _import_rows(feed_import: FeedImport, stream: BinaryIO, size: int) -> FeedReport:
    if use_reader_process(size=size, vendor=connection.vendor):
        # A large feed is read, parsed and checked by a second process while this one writes.
        with feed_reader() as reader:
            logger.info("Feed import %s: read by the feed reader process %d", feed_import.pk, reader.process.pid)
            return _import_rows_with(feed_import, reader, size, reader=reader, path=stream.name)
    return _import_rows_with(feed_import, CountingReader(stream), size)


def _import_rows_with(feed_import: FeedImport, source, size: int, *, reader: FeedReader | None = None,
                      path: str = "") -> FeedReport:
    """`source` counts the bytes read: the stream the rows are parsed from here, or the reader process."""
    rows_read = 0

    def progress(rows: int) -> None:
        nonlocal rows_read
        rows_read += rows
        feed_import_progress.send(sender=FeedImport, feed_import_id=feed_import.pk, rows=rows_read,
                                  bytes_read=source.bytes_read, bytes_total=size)

    column_map = dict(PartnerColumnMapping.objects.filter(partner_id=feed_import.partner_id)
                      .values_list("column", "field"))
    genre_aliases_seed(source="feed")
    genres = GenreMapper("feed")
    categories = CategoryMapper(partner_id=feed_import.partner_id, genres=genres)
    context = source_context(feed_import.format, column_map, categories)
    with transaction.atomic():
        partner = Partner.objects.select_for_update().get(pk=feed_import.partner_id)
        run = FeedRun(partner=partner, is_full=feed_import.is_full, progress=progress, genres=genres)
        if reader is None:
            parser = parser_for(feed_import.format, column_map=column_map,
                                sources=OfferSources(context=context, stored=run.sources))
            report = run.run(categories.mapped(parser.rows(source)))
        else:
            # The reader gets the row hashes and source hashes stored: it sets unchanged rows aside
            # unvalidated (and unchanged offers unread) and sends only their SKUs.
            reader.start(path=path, feed_format=feed_import.format, column_map=column_map, categories=categories,
                         max_description_chars=run.max_description, stored=run.stored.packed(),
                         context=context, sources=run.sources.packed())
            report = run.run_prepared(reader.batches())
            categories.unmapped = reader.unmapped
        report.unmapped_categories = categories.report()
        if report.rows_total == 0:
            raise FeedFormatError(f"not a {feed_import.format.upper()} feed: it lists no offers")
        _check_rejected_share(report, is_full=feed_import.is_full)
    return report


def source_context(feed_format: str, column_map: dict[str, str], categories: CategoryMapper) -> bytes:
    """What shapes an offer's row besides its own bytes and the code that parses it (the parser adds
    that itself: parsers.PARSING_CODE): the format, the partner's column and category mappings and
    the genre table (parsers.OfferSources)."""
    settings_ = repr((str(feed_format), sorted(column_map.items()), sorted(categories.partner.items())))
    return hashlib.blake2b(settings_.encode("utf-8", "surrogatepass") + categories.genres.fingerprint(),
                           digest_size=32).digest()


def _check_rejected_share(report: FeedReport, *, is_full: bool) -> None:
    """The failure rule: no valid row, or (full feeds) more rejected rows than
    FEED_MAX_REJECTED_SHARE, fails the import; raising rolls its writes (and withdrawal) back."""
    valid = report.rows_total - report.rejected
    limit = settings.FEED_MAX_REJECTED_SHARE
    if valid > 0 and not (is_full and report.rejected > limit * report.rows_total):
        return
    if valid <= 0:
        why = f"all {report.rows_total:,} rows were rejected, none is valid"
    else:
        why = (f"{report.rejected:,} of {report.rows_total:,} rows were rejected ({_share(report)}), more than "
               f"FEED_MAX_REJECTED_SHARE ({limit:.0%}) of a full feed, which would withdraw the offers they describe")
    raise FeedRejected(report, f"Failed: {why}. Top reasons: {_top_reasons(report)}. Nothing was changed; "
                               "fix these rows and import the feed again.")


def _share(report: FeedReport) -> str:
    return f"{report.rejected / report.rows_total:.0%}" if report.rows_total else "0%"


def _top_reasons(report: FeedReport, limit: int = 3) -> str:
    return "; ".join(f"{field or 'row'}: {reason} × {count:,}" for (field, reason), count in
                     report.reasons.most_common(limit))


def _reasons_list(report: FeedReport, limit: int = 20) -> list[dict]:
    return [{"field": field, "reason": printable(reason), "count": count}
            for (field, reason), count in report.reasons.most_common(limit)]


def _finish(feed_import: FeedImport, status: str, report: FeedReport, message: str, *,
            keep_report: bool = False) -> FeedImport:
    """Record the end of an import. A failed import keeps its report (`keep_report`) when the failure
    rule failed it, so the partner sees the rejected rows; its written counts stay 0 (rolled back)."""
    feed_import.status = status
    feed_import.message = message
    feed_import.finished_at = timezone.now()
    if status == FeedImport.Status.SUCCEEDED:
        feed_import.created_count = report.created
        feed_import.updated_count = report.updated
        feed_import.unchanged_count = report.unchanged
        feed_import.withdrawn_count = report.withdrawn
        feed_import.items_created_count = report.items_created
    if status == FeedImport.Status.SUCCEEDED or keep_report:
        feed_import.rows_total = report.rows_total
        feed_import.rejected_count = report.rejected
        feed_import.rejected_rows = report.rejected_rows
        feed_import.rejected_reasons = _reasons_list(report)
        feed_import.unmapped_categories = [{"name": printable(entry["name"]), "offers": entry["offers"]}
                                           for entry in getattr(report, "unmapped_categories", [])]
    feed_import.save(update_fields=[
        "status", "message", "finished_at", "format", "content_sha256", "size_bytes", "rows_total", "created_count",
        "updated_count", "unchanged_count", "rejected_count", "withdrawn_count", "items_created_count",
        "rejected_rows", "rejected_reasons", "unmapped_categories",
    ])
    return feed_import


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def _last_success(feed_import: FeedImport) -> FeedImport | None:
    return (
        FeedImport.objects.filter(partner_id=feed_import.partner_id, status=FeedImport.Status.SUCCEEDED,
                                  is_full=feed_import.is_full)
        .exclude(pk=feed_import.pk)
        .order_by("-finished_at")
        .first()
    )


@contextmanager
def _feed_file(feed_import: FeedImport) -> Iterator[str]:
    """A local path to the feed's bytes: the stored upload, or the URL fetched to a temp file."""
    if feed_import.file:
        try:
            yield feed_import.file.path
            return
        except NotImplementedError:  # a remote storage: copy it down first
            pass
    with tempfile.NamedTemporaryFile(prefix="feed-", suffix=".tmp") as temp:
        if feed_import.file:
            with feed_import.file.open("rb") as stored:
                shutil.copyfileobj(stored, temp, 1024 * 1024)
        else:
            feed_fetch(feed_import.source_url, temp)
        temp.flush()
        yield temp.name


def _digest(path: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def feed_imports_schedule_due(*, now=None) -> list[FeedImport]:
    """Create an import for every partner whose feed URL is due by its own interval."""
    now = now or timezone.now()
    created = []
    with transaction.atomic():
        # Partners with a scheduled feed are few, so "is it due?" is decided here rather than in SQL
        # (interval arithmetic differs between PostgreSQL and the SQLite default).
        partners = [
            partner
            for partner in Partner.objects.select_for_update(skip_locked=True)
            .filter(is_active=True, import_interval_minutes__gt=0)
            .exclude(feed_url="")
            if partner.last_import_started_at is None
            or partner.last_import_started_at <= now - timedelta(minutes=partner.import_interval_minutes)
        ]
        busy = set(
            FeedImport.objects.filter(status__in=[FeedImport.Status.PENDING, FeedImport.Status.RUNNING],
                                      created_at__gte=now - timedelta(hours=6))
            .values_list("partner_id", flat=True)
        )
        for partner in partners:
            if partner.pk in busy:
                continue
            created.append(feed_import_create(partner=partner, source=FeedImport.Source.SCHEDULE,
                                              feed_format=partner.feed_format, url=partner.feed_url))
            partner.last_import_started_at = now
            partner.save(update_fields=["last_import_started_at"])
    return created


@dataclass(frozen=True)
class FeedHousekeeping:
    """What one housekeeping pass did."""

    requeued: int  # pending imports that no worker had picked up, sent again
    failed_stale: int  # running imports whose worker stopped, marked failed
    files_deleted: int  # stored feed files past FEED_FILES_KEEP_DAYS, deleted


# A pending import is sent to the workers again after this long (its message may have been lost).
PENDING_REQUEUE_AFTER = timedelta(minutes=10)


def feed_imports_housekeep(*, now=None) -> FeedHousekeeping:
    """Run by Celery beat: keep the import list truthful and the disk from filling up.

    - An import still *pending* after 10 minutes is sent to the workers again: running it is safe
      to repeat, because a run first claims the import (pending → running) and a second run of the
      same import does nothing.
    - An import *running* whose heartbeat (stamped every FEED_IMPORT_HEARTBEAT_SECONDS while its
      worker lives) is older than FEED_IMPORT_STALE_MINUTES lost its worker (killed, out of memory)
      and was not redelivered: its transaction was rolled back with the worker's connection, so
      it is marked failed and says so; the partner's next scheduled import is no longer held back.
    - A stored feed file (admin upload, API push) is deleted FEED_FILES_KEEP_DAYS after its import
      finished; the import's report stays.
    """
    now = now or timezone.now()
    stale_minutes = settings.FEED_IMPORT_STALE_MINUTES
    pending = list(FeedImport.objects.filter(status=FeedImport.Status.PENDING,
                                             created_at__lt=now - PENDING_REQUEUE_AFTER).values_list("pk", flat=True))
    for feed_import_id in pending:
        enqueue(IMPORT_TASK, str(feed_import_id))
    failed_stale = FeedImport.objects.alias(last_sign=Coalesce("heartbeat_at", "started_at")).filter(
        status=FeedImport.Status.RUNNING, last_sign__lt=now - timedelta(minutes=stale_minutes)
    ).update(
        status=FeedImport.Status.FAILED, finished_at=now,
        message=f"The worker running this import stopped without finishing it (no sign of life for "
                f"{stale_minutes} minutes); nothing was changed. Upload the feed again or wait for the next "
                f"scheduled import.",
    )
    files_deleted = 0
    expired = (FeedImport.objects.exclude(file="")
               .exclude(status__in=[FeedImport.Status.PENDING, FeedImport.Status.RUNNING])
               .filter(finished_at__lt=now - timedelta(days=settings.FEED_FILES_KEEP_DAYS)))
    for feed_import in expired.only("pk", "file"):
        feed_import.file.delete(save=False)
        FeedImport.objects.filter(pk=feed_import.pk).update(file="")
        files_deleted += 1
    if pending or failed_stale or files_deleted:
        logger.info("Feed housekeeping: %d pending imports sent again, %d stale imports failed, %d files deleted.",
                    len(pending), failed_stale, files_deleted)
    return FeedHousekeeping(requeued=len(pending), failed_stale=failed_stale, files_deleted=files_deleted)


def partner_import_feed_now(*, partner: Partner) -> FeedImport:
    """The admin's "Import feed now": fetch the partner's feed URL at once."""
    if not partner.feed_url:
        raise FeedRequestError(f"{partner.name} has no feed URL.")
    feed_import = feed_import_create(partner=partner, source=FeedImport.Source.URL, feed_format=partner.feed_format,
                                     url=partner.feed_url)
    return feed_import


def genre_aliases_seed(*, source: str) -> int:
    """Copy the default aliases of `source` into the GenreAlias table, once.

    Only a source with no aliases at all is seeded, so edits and deletions made in the
    admin are never undone. Aliases whose genre does not exist yet are skipped.
    """
    from catalog.datasets.genre_aliases import DEFAULT_ALIASES

    if GenreAlias.objects.filter(source=source).exists():
        return 0
    genres = {(kind, code): genre_id for genre_id, kind, code in Genre.objects.values_list("id", "kind", "code")}
    if not genres:
        return 0
    aliases = {}
    for kind, names in DEFAULT_ALIASES.get(source, {}).items():
        for name, code in names.items():
            if code is None or (kind, code) in genres:
                key = (kind, normalize_title(name))
                aliases[key] = GenreAlias(source=source, kind=kind, name=key[1],
                                          genre_id=genres.get((kind, code)) if code else None)
    GenreAlias.objects.bulk_create(aliases.values(), ignore_conflicts=True)
    return len(aliases)
