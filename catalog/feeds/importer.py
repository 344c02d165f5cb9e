"""The core of one feed import: rows in, offers and items upserted in batches, a report out.

`FeedRun.run()` is called by `services.feed_import_run` inside one database transaction, so
a file that breaks halfway leaves the catalogue exactly as it was.
"""

import gc
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.utils import timezone

from catalog.models import Offer, Partner
from moodstream.control_characters import LONE_SURROGATES

from .genres import GenreMapper
from .items import ItemResolver
from .writers import writer_for_connection
from .parsers import UnchangedOffer
from .rows import OfferRow
from .validation import RowRejected, ValidOffer, printable, validate_row

BATCH_SIZE = 2000
WITHDRAW_CHUNK = 5000
# A feed reader process leaves the checks of a batch's new and changed rows to the importing
# process when they are at most this share of the batch. The reader's cost a row is ≈ 5 µs set
# aside unread and ≈ 55 µs read and checked (≈ 18 of them the checks); the importing process's is
# ≈ 30 µs a new or changed row and next to nothing otherwise. With a share f of such rows the
# reader takes 5 + 50f µs a row and the importer 30f; moving the checks gives 5 + 32f and 48f,
# even at f ≈ 0.3: below it the reader is the longer and the idle importer takes the checks
# (docs/feeds.md, eighth round).
CHECKS_LEFT_SHARE = 0.3
DUPLICATE_SKU = "duplicate: an earlier offer in this feed has the same SKU"


# How often, in batches, collected_per_batch's callable runs a young collection.
COLLECT_EVERY = 10


@contextmanager
def collected_per_batch() -> Iterator[Callable[[], None]]:
    """Python's automatic garbage collection off for an import; the callable it gives is called once
    a batch and collects the young generations every COLLECT_EVERY batches (docs/feeds.md, "Seventh
    round").

    An import allocates millions of short-lived containers (rows, tuples, dicts), all freed by
    reference counting: a rejected row's exception was the one reference cycle, and is no longer
    one (validation.RowRejected). Left automatic, the collector still ran a young collection every
    700 of them and a full one each time the heap grew by a quarter, walking every object of the
    process (Django's and Celery's included): 1.5–2.5 s of a 100k first import's 4.6–6.2 s of
    importer CPU. The young collection every 20,000 rows (≈ 4 ms) frees any cycle that code yet
    to come may leave, so memory stays flat; collection is switched back on (if it was on) when the
    import ends. The switch is process-wide: another thread's cycles (an eager import in a web
    process) wait for the next young collection too.
    """
    enabled = gc.isenabled()
    gc.disable()
    batches = 0

    def collect() -> None:
        nonlocal batches
        batches += 1
        if batches % COLLECT_EVERY == 0:
            gc.collect(1)

    try:
        yield collect
    finally:
        if enabled:
            gc.enable()


def sku_hash(sku: str) -> int:
    """A SKU's 64-bit hash: Python's own string hash (SipHash), many times cheaper than a digest.
    It differs between processes, which is fine: the hashes are compared within one import only."""
    return hash(sku) & 0xFFFF_FFFF_FFFF_FFFF


def row_digest(row: OfferRow) -> bytes:
    """The row's 16-byte content hash; Offer.row_hash stores it as hex."""
    # surrogatepass: a row holding a lone surrogate is hashed like any other, then rejected by validation.
    return hashlib.blake2b(row.content_key().encode("utf-8", "surrogatepass"), digest_size=16).digest()


class StoredDigests:
    """The row hashes the partner's offers carry, as a sorted array of 16-byte values (16 bytes an
    offer), read once at the start of an import.

    A row whose hash is among them is unchanged: the hash covers the SKU as written, so it can only
    be its own offer's (barring a 128-bit collision), and a withdrawn offer's hash is empty. Such a
    row needs no lookup, no validation and no write, and the reader process need not send it.
    """

    def __init__(self, digests: np.ndarray | None = None):
        self._sorted = np.empty(0, dtype="S16") if digests is None else digests  # sorted
        # Their first 8 bytes as integers, in the same order: numpy searches a million of them for
        # random values in 0.39 s, the 16-byte strings themselves in 1.06 s (docs/feeds.md, eighth round).
        self._heads = np.ascontiguousarray(self._sorted).view(">u8")[0::2].astype(np.uint64)

    @classmethod
    def from_packed(cls, packed: bytes) -> "StoredDigests":
        """Read back what `packed()` gave (the reader process gets the digests this way)."""
        return cls(np.frombuffer(packed, dtype="S16"))

    @classmethod
    def gather(cls, count: int, chunks: Iterable[bytes]) -> tuple["StoredDigests", "StoredDigests"]:
        """The row hashes and the source hashes of `count` offers or fewer, given in chunks of
        32-byte pairs end to end (the row hash, then the source hash or 16 zero bytes for none),
        each chunk copied into place: the memory held is the hashes' own (16 bytes an offer each)
        and one chunk."""
        rows = np.empty(count, dtype="S16")
        sources = np.empty(count, dtype="S16")
        filled = 0
        for chunk in chunks:
            part = np.frombuffer(chunk, dtype=_PAIR)
            rows[filled:filled + len(part)] = part["row"]
            sources[filled:filled + len(part)] = part["source"]
            filled += len(part)
        rows, sources = rows[:filled], sources[:filled]
        # numpy strips trailing zero bytes of an S16 value: "none" reads back as b"".
        sources = sources[sources != b""]
        rows.sort()
        sources.sort()
        return cls(rows), cls(sources)

    def __len__(self) -> int:
        return len(self._sorted)

    def packed(self) -> memoryview:
        """The sorted digests end to end, without a copy (`from_packed` reads them back)."""
        return memoryview(self._sorted.view(np.uint8))

    def contains(self, digests: list[bytes]) -> list[bool]:
        if not len(self._sorted) or not digests:
            return [False] * len(digests)
        batch = np.array(digests, dtype="S16")
        heads = batch.view(">u8")[0::2].astype(np.uint64)
        last = len(self._sorted) - 1
        where = np.minimum(np.searchsorted(self._heads, heads), last)
        found = self._sorted[where] == batch
        # Stored digests sharing their first 8 bytes (one pair in 10^7 at a million offers): the
        # one wanted may come after the first of them.
        for index in np.flatnonzero(~found & (self._heads[where] == heads)).tolist():
            position = int(where[index]) + 1
            while position <= last and self._heads[position] == heads[index]:
                if self._sorted[position] == batch[index]:
                    found[index] = True
                    break
                position += 1
        return found.tolist()


# A stored offer's two hashes, as writers' stored_digests give them.
_PAIR = np.dtype([("row", "S16"), ("source", "S16")])


class SeenSkus:
    """The SKUs met so far in this feed, as a sorted array of 64-bit hashes (8 bytes a SKU).

    A Python set of a million SKU strings would cost ~100 MB; this costs 8 MB. Two different
    SKUs share a hash with probability ~1e-8 in a million-offer feed (the later one would be
    reported as a duplicate).
    """

    def __init__(self):
        self._sorted = np.empty(0, dtype=np.uint64)

    def __len__(self) -> int:
        return len(self._sorted)

    def add(self, hashes: list[int]) -> list[bool]:
        """Add a batch; returns for each whether it was already seen (earlier, or earlier in the batch)."""
        if not hashes:
            return []
        batch = np.array(hashes, dtype=np.uint64)
        # The batch's distinct hashes, sorted (searching sorted values reads the array in order).
        unique, first, inverse = np.unique(batch, return_index=True, return_inverse=True)
        where = np.searchsorted(self._sorted, unique)
        seen_before = (where < len(self._sorted)) & (self._sorted[np.minimum(where, len(self._sorted) - 1)] == unique) \
            if len(self._sorted) else np.zeros(len(unique), dtype=bool)
        duplicate = np.ones(len(batch), dtype=bool)
        duplicate[first] = False  # each hash's first row in the batch, unless seen before it
        duplicate |= seen_before[inverse]
        fresh = ~seen_before
        self._sorted = np.insert(self._sorted, where[fresh], unique[fresh])
        return duplicate.tolist()

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        if not len(self._sorted):
            return np.zeros(len(hashes), dtype=bool)
        where = np.minimum(np.searchsorted(self._sorted, hashes), len(self._sorted) - 1)
        return self._sorted[where] == hashes


@dataclass
class FeedReport:
    rows_total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    withdrawn: int = 0
    items_created: int = 0
    rejected_rows: list[dict] = field(default_factory=list)
    # (field, reason) -> how many rows had that problem (a row counts once for each of its problems).
    reasons: Counter = field(default_factory=Counter)
    withdrawal_ran: bool = False


# A rejected row as the report keeps it: (position, the SKU as written, field, reason, value,
# every problem as (field, reason, value)).
Rejection = tuple[str, str, str, str, str, tuple[tuple[str, str, str], ...]]


def rejection(row: OfferRow, field_name: str, reason: str, value: str = "",
              problems: list[RowRejected] | None = None) -> Rejection:
    problems_ = tuple((p.field, p.reason, p.value) for p in problems) if problems else ((field_name, reason, value),)
    return (row.position, row.sku, field_name, reason, value, problems_)


@dataclass(slots=True)
class PreparedBatch:
    """One batch of rows with the work that needs no database done: SKUs de-duplicated, rows
    without a usable SKU rejected, each candidate's row hash, and (`RowPreparer(validate=True)`)
    its validation. FeedRun does the rest: the lookups, matching and writes."""

    rows: int  # rows read in this batch
    early: list[Rejection]  # rows without a usable SKU, or with a duplicate one, in file order
    skus: list[str]  # each candidate (new or changed) row's SKU
    digests: list[str]  # each candidate row's row hash
    sources: list[str]  # each candidate row's source hash (the digest of its bytes; "" if none)
    outcomes: list  # each candidate's validation: a ValidOffer or a Rejection
    seen_extra: list[str]  # SKUs of rows rejected early that still count as listed (withdrawal)
    unchanged: list[str] = field(default_factory=list)  # SKUs of rows whose offer is stored as they are
    # (SKU, source hash) of unchanged rows whose offer does not carry their bytes' digest yet (the
    # file was written or read differently since): stored, so the next import sets them aside.
    resourced: list[tuple[str, str]] = field(default_factory=list)
    # The candidate rows themselves when the importing process is to check them (`outcomes` is
    # then empty): RowPreparer(leave_checks=True), for a batch of few candidates.
    unchecked: list[OfferRow] | None = None
    bytes_read: int = 0  # of the feed file, when this batch was complete


class RowPreparer:
    """The per-row work of an import that needs no database, batch by batch, in file order.

    Runs in the importing process, or in the feed reader process (`reader_process.py`): either
    way it is the same code and FeedRun gets the same batches.
    """

    def __init__(self, *, max_description_chars: int, stored: StoredDigests | None = None,
                 sources: StoredDigests | None = None, leave_checks: bool = False):
        self.max_description = max_description_chars
        self.stored = stored or StoredDigests()
        self.sources = sources or StoredDigests()
        self.seen = SeenSkus()
        self.leave_checks = leave_checks

    def batches(self, rows: Iterable[OfferRow], size: int = BATCH_SIZE) -> Iterator[PreparedBatch]:
        batch: list[OfferRow] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= size:
                yield self.prepare(batch)
                batch = []
        if batch:
            yield self.prepare(batch)

    def prepare(self, rows: list[OfferRow]) -> PreparedBatch:
        skus = [row.sku.strip() for row in rows]
        # Every SKU present counts as seen, even if its row is rejected below: a broken row
        # must not withdraw the offer it describes.
        with_sku = [index for index, sku in enumerate(skus) if sku]
        duplicates = dict(zip(with_sku, self.seen.add([sku_hash(skus[index]) for index in with_sku])))
        early: list[Rejection] = []
        seen_extra: list[str] = []
        candidates: list[int] = []
        unchanged: list[str] = []
        for index, row in enumerate(rows):
            sku = skus[index]
            if row.__class__ is UnchangedOffer:
                # Its bytes are its offer's as stored (parsers.OfferSources): listed, or a duplicate.
                if duplicates[index]:
                    early.append(rejection(row, "sku", DUPLICATE_SKU, sku))
                else:
                    unchanged.append(sku)
            elif not sku or printable(sku) != sku:
                # No SKU, or one with a control character (PostgreSQL refuses a NUL in any text value):
                # rejected before the database sees it, with every other problem of the row too.
                try:
                    validate_row(row, max_description_chars=self.max_description)
                    early.append(rejection(row, "sku", "missing: every offer needs its own id (SKU)"))
                except RowRejected as exc:
                    early.append(rejection(row, exc.field, exc.reason, exc.value, exc.problems))
                # A SKU with a NUL or a lone surrogate cannot be stored (nor be an offer's).
                if sku and not duplicates[index] and "\x00" not in sku and not LONE_SURROGATES.search(sku):
                    seen_extra.append(sku)
            elif duplicates[index]:
                early.append(rejection(row, "sku", DUPLICATE_SKU, sku))
            else:
                candidates.append(index)
        digests = [row_digest(rows[index]) for index in candidates]
        resourced: list[tuple[str, str]] = []
        if len(self.stored):
            kept: list[int] = []
            kept_digests: list[bytes] = []
            sourced: list[int] = []
            for index, digest, stored in zip(candidates, digests, self.stored.contains(digests)):
                if stored:
                    unchanged.append(skus[index])
                    if rows[index].source_digest:
                        sourced.append(index)
                else:
                    kept.append(index)
                    kept_digests.append(digest)
            candidates, digests = kept, kept_digests
            known = self.sources.contains([rows[index].source_digest for index in sourced])
            resourced = [(skus[index], rows[index].source_digest.hex())
                         for index, is_known in zip(sourced, known) if not is_known]
        checking = [rows[index] for index in candidates]
        unchecked = None
        if self.leave_checks and len(candidates) <= CHECKS_LEFT_SHARE * len(rows):
            checking, unchecked = [], checking
        outcomes = check_rows(checking, max_description_chars=self.max_description)
        return PreparedBatch(rows=len(rows), early=early, skus=[skus[index] for index in candidates],
                             digests=[digest.hex() for digest in digests],
                             sources=[rows[index].source_digest.hex() for index in candidates], outcomes=outcomes,
                             seen_extra=seen_extra, unchanged=unchanged, resourced=resourced, unchecked=unchecked)


def check_rows(rows: list[OfferRow], *, max_description_chars: int) -> list:
    """Each row's validation: a ValidOffer, or its Rejection with every problem."""
    outcomes: list = []
    for row in rows:
        try:
            outcomes.append(validate_row(row, max_description_chars=max_description_chars))
        except RowRejected as exc:
            outcomes.append(rejection(row, exc.field, exc.reason, exc.value, exc.problems))
    return outcomes


class FeedRun:
    def __init__(self, *, partner: Partner, is_full: bool, progress: Callable[[int], None] | None = None,
                 fast_writes: bool = True, genres: GenreMapper | None = None):
        self.partner = partner
        self.is_full = is_full
        self.progress = progress
        self.report = FeedReport()
        self.keep_rejected = settings.FEED_REJECTED_ROWS_KEPT
        self.max_description = settings.FEED_MAX_DESCRIPTION_CHARS
        self.writer = writer_for_connection(fast=fast_writes)
        # Read inside the import's transaction, after the partner's row is locked: no other import
        # of this partner can change them until this one ends.
        self.stored, self.sources = StoredDigests.gather(*self.writer.stored_digests(partner.pk))
        # A partner with no offer yet (a first import) has none to find: every row's SKU is new,
        # since a SKU listed twice is rejected, so the per-batch SKU lookups are skipped.
        self.had_offers = self.writer.has_offers(partner.pk)
        # A full feed withdraws the offers it leaves out, so it keeps the SKUs it lists; a partner with
        # no offer yet has nothing to withdraw.
        self.lists_skus = is_full and self.had_offers
        # The SKUs listed, for a withdrawal done in Python (not PostgreSQL's set-based one).
        self.seen = SeenSkus() if self.lists_skus and not self.writer.set_based_withdrawal else None
        # The caller's mapper when it has one (the import's category mapping loaded it already).
        self.items = ItemResolver(genres=genres or GenreMapper("feed"), writer=self.writer)
        self._background: ThreadPoolExecutor | None = None
        self._writing: Future | None = None

    def run(self, rows: Iterable[OfferRow]) -> FeedReport:
        """Import plain rows, preparing them in this process."""
        preparer = RowPreparer(max_description_chars=self.max_description, stored=self.stored, sources=self.sources)
        return self.run_prepared(preparer.batches(rows))

    def run_prepared(self, batches: Iterable[PreparedBatch]) -> FeedReport:
        """Import batches prepared here or by the feed reader process."""
        if self.writer.background_writes:
            # One writer thread: batch N is written (items resolved and created, offers upserted)
            # while this thread parses and validates batch N+1, so the CPU work of one overlaps
            # the database's work for the other. Batches are still written one after the other,
            # in order, on this thread's connection (the writer shares it: one transaction).
            self.writer.connection.inc_thread_sharing()
            self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feed-writer")
        try:
            with collected_per_batch() as collect, self.writer.foreign_keys_checked_per_batch():
                for batch in batches:
                    self._batch(batch)
                    collect()
                self._written()
            if self.is_full:
                self._withdraw_missing()
        finally:
            if self._background is not None:
                # Never leave a write running: the caller's transaction is rolled back or committed next.
                self._background.shutdown(wait=True)
                self._background = None
                self.writer.connection.dec_thread_sharing()
        return self.report

    def _written(self) -> None:
        """Wait for the batch being written; its error, if any, is raised here, failing the import."""
        if self._writing is not None:
            writing, self._writing = self._writing, None
            writing.result()

    def reject(self, rejected: Rejection) -> None:
        """Count a rejected row; keep the first ones with every problem (the first also at the top
        level, as reports before every problem was listed had it)."""
        position, sku, field_name, reason, value, problems = rejected
        self.report.rejected += 1
        for problem_field, problem_reason, _value in problems:
            self.report.reasons[(problem_field, problem_reason)] += 1
        if len(self.report.rejected_rows) < self.keep_rejected:
            # Stored as JSON: control characters (a NUL cannot be stored in PostgreSQL) are shown as U+FFFD.
            self.report.rejected_rows.append({
                "position": position, "sku": printable(sku.strip()[:200]), "field": field_name,
                "reason": reason, "value": printable(value[:200]),
                "problems": [{"field": f, "reason": r, "value": printable(v[:200])} for f, r, v in problems],
            })

    def _batch(self, batch: PreparedBatch) -> None:
        report = self.report
        report.rows_total += batch.rows
        report.unchanged += len(batch.unchanged)
        if self.lists_skus:
            listed = [*batch.skus, *batch.unchanged, *batch.seen_extra]
            if self.seen is not None:
                self.seen.add([sku_hash(sku) for sku in listed])
            self.writer.note_seen_skus(listed)
        for rejected in batch.early:
            self.reject(rejected)
        # The candidates are new or changed (RowPreparer set the unchanged ones aside): which have an offer?
        existing = set(self.writer.offer_skus(self.partner.pk, batch.skus)) if batch.skus and self.had_offers else set()
        outcomes = batch.outcomes if batch.unchecked is None else check_rows(
            batch.unchecked, max_description_chars=self.max_description)
        valid: list[tuple[ValidOffer, str, str, bool]] = []
        for sku, digest, source, outcome in zip(batch.skus, batch.digests, batch.sources, outcomes):
            if outcome.__class__ is ValidOffer:
                valid.append((outcome, digest, source, sku in existing))
            else:
                self.reject(outcome)
        if batch.resourced:
            self.writer.set_source_hashes(self.partner.pk, batch.resourced)
        # The next batch's items are matched against this one's, so batches are written in order.
        self._written()
        if valid:
            if self._background is not None:
                self._writing = self._background.submit(self._write, valid)
            else:
                self._write(valid)
        if self.progress:
            self.progress(batch.rows)

    def _write(self, valid: list[tuple[ValidOffer, str, str, bool]]) -> None:
        resolved = self.items.resolve([offer.item for offer, _digest, _source, _exists in valid])
        self.report.items_created += resolved.created
        # Offers are upserted on (partner, SKU): one INSERT ... ON CONFLICT DO UPDATE per batch.
        self.writer.upsert_offers(self.partner.pk, [
            (offer.sku, item_id, offer.url, offer.price, offer.currency, offer.offer_type, offer.available, digest,
             source)
            for (offer, digest, source, _exists), item_id in zip(valid, resolved.item_ids)
        ], timezone.now(), all_new=not self.had_offers)
        updated = sum(1 for _offer, _digest, _source, exists in valid if exists)
        self.report.updated += updated
        self.report.created += len(valid) - updated

    def _withdraw_missing(self) -> None:
        """Mark this partner's available offers that the full feed did not list as unavailable."""
        if self.report.rows_total == 0:
            return
        self.report.withdrawal_ran = True
        if not self.lists_skus:
            return  # the partner had no offer when the import began: every offer it has now, the feed listed
        if self.writer.set_based_withdrawal:
            self.report.withdrawn = self.writer.withdraw_missing(self.partner.pk, timezone.now())
            return
        missing: list[int] = []
        ids: list[int] = []
        hashes: list[int] = []

        def flush():
            if ids:
                present = self.seen.contains(np.array(hashes, dtype=np.uint64))
                missing.extend(offer_id for offer_id, keep in zip(ids, present.tolist()) if not keep)
                ids.clear()
                hashes.clear()

        available = Offer.objects.filter(partner_id=self.partner.pk, available=True).values_list("id", "sku")
        for offer_id, sku in available.iterator(chunk_size=20_000):
            ids.append(offer_id)
            hashes.append(sku_hash(sku))
            if len(ids) >= 20_000:
                flush()
        flush()
        now = timezone.now()
        for start in range(0, len(missing), WITHDRAW_CHUNK):
            # Clearing row_hash makes the offer count as changed when it comes back.
            self.report.withdrawn += Offer.objects.filter(id__in=missing[start:start + WITHDRAW_CHUNK]).update(
                available=False, row_hash="", source_hash="", updated_at=now
            )
