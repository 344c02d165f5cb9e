"""The feed reader process: a large feed is read, parsed, mapped and checked in a second process.

The importing process's Python CPU bounds a large import (one GIL for parsing, validation and
the database side). Above FEED_READER_PROCESS_MIN_BYTES the importing process starts
`python -m catalog.feeds.reader_process`, which reads the feed file, parses it, applies the
partner's category mapping and runs `RowPreparer` (duplicate SKUs, row hashes, the rows whose
hash the partner's offers already carry set aside, validation of the rest, or of none when a
batch has few rows left to check: the importing process checks those), and sends each
prepared batch back through a pipe. A YML re-import's offers stored as they are never reach
the parser at all (parsers.OfferSources). The importing process keeps everything that
needs the database (the lookups, matching, COPY, upserts, withdrawal) in its one transaction,
so a feed that breaks halfway still changes nothing.

A subprocess rather than `multiprocessing`: a Celery prefork worker's pool processes are
daemonic and may not have `multiprocessing` children, and a fresh interpreter shares nothing
with the parent (no database connection, no threads). The child configures Django with the
catalogue app only and no database at all, so it cannot run a query. Starting it costs ≈ 0.5 s
of CPU and the import waits for its first batch, so small feeds stay in the importing process:
at 30,000 offers (14 MB) both ways took the same time, at 100,000 the reader was ahead.

The child's stdin carries the pickled parameters, then the stored row hashes and source hashes as
raw bytes. The
pipe carries pickled tuples: ("batch", …), then ("done", unmapped categories, bytes read),
or ("format", message) for a broken feed (FeedFormatError, the same message as in-process), or
("error", exception type, traceback) for anything else. The parent kills and reaps the child on
any error of its own, and a child that dies is a failed import ("Internal error ..."). If the
importing process itself is killed, the pipe's read end closes with it and the child's next write
fails (BrokenPipeError): it exits instead of being left behind.
"""

import fcntl
import logging
import os
import pickle
import subprocess
import sys
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import cache
from operator import attrgetter
from pathlib import Path

from django.conf import settings

from .rows import ROW_VALUES, FeedFormatError, OfferRow

logger = logging.getLogger(__name__)

PIPE_BYTES = 1024 * 1024  # a batch or two in flight: the reader never runs far ahead
_F_SETPIPE_SZ = 1031  # Linux
# The settings the child's parsing and checking read, passed as the parent has them.
_CHILD_SETTINGS = ("FEED_MAX_BYTES",)
_VALID, _REJECTED = 0, 1


class FeedReaderFailed(RuntimeError):
    """The feed reader process failed or died (not a broken feed: that is FeedFormatError)."""


def use_reader_process(*, size: int, vendor: str) -> bool:
    """A large feed, on a database where it was measured to pay. A re-import too: the reader gets the
    stored row hashes and sends only the new and changed rows whole (docs/feeds.md, "Fifth round")."""
    threshold = settings.FEED_READER_PROCESS_MIN_BYTES.get(vendor)
    return threshold is not None and size >= threshold


# --- the importing process's side --------------------------------------------------------------

class FeedReader:
    """The parent's handle on one reader process: `batches()` yields PreparedBatch objects in
    file order; `bytes_read` is the file position of the last batch received (progress bar)."""

    def __init__(self, process: subprocess.Popen, pipe):
        self.process = process
        self.pipe = pipe
        self.bytes_read = 0
        self.unmapped: Counter = Counter()
        self.finished = False  # 'done' received: the child exits by itself

    def start(self, *, path: str, feed_format: str, column_map: dict, categories, max_description_chars: int,
              stored: memoryview, context: bytes, sources: memoryview) -> None:
        """Send the import's parameters, then the stored row hashes and source hashes as they are
        (16 bytes an offer each, not copied into the pickle); the child has been importing Django
        meanwhile."""
        config = {
            "settings": {name: getattr(settings, name) for name in _CHILD_SETTINGS},
            "path": os.path.abspath(path), "format": feed_format, "column_map": column_map,
            "categories": categories, "max_description_chars": max_description_chars,
            "stored_bytes": stored.nbytes, "context": context, "sources_bytes": sources.nbytes,
        }
        try:
            self.process.stdin.write(pickle.dumps(config, protocol=pickle.HIGHEST_PROTOCOL))
            self.process.stdin.write(stored)
            self.process.stdin.write(sources)
            self.process.stdin.close()
        except OSError:
            raise self._died() from None

    def batches(self) -> Iterator:
        from .importer import PreparedBatch

        while True:
            try:
                message = pickle.load(self.pipe)
            except (EOFError, pickle.UnpicklingError, OSError):
                raise self._died() from None
            tag = message[0]
            if tag == "batch":
                (_tag, rows, early, skus, digests, sources, outcomes, unchecked, seen_extra, unchanged, resourced,
                 bytes_read) = message
                self.bytes_read = bytes_read
                yield PreparedBatch(rows=rows, early=early, skus=skus, digests=digests, sources=sources,
                                    outcomes=_decode_outcomes(outcomes), seen_extra=seen_extra, unchanged=unchanged,
                                    resourced=resourced, unchecked=_decode_rows(unchecked), bytes_read=bytes_read)
            elif tag == "done":
                self.unmapped = Counter(message[1])
                self.bytes_read = message[2]
                self.finished = True
                return
            elif tag == "format":
                raise FeedFormatError(message[1])
            else:
                logger.error("The feed reader process failed:\n%s", message[2])
                raise FeedReaderFailed(f"the feed reader process failed ({message[1]})")

    def _died(self) -> FeedReaderFailed:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        return FeedReaderFailed(f"the feed reader process stopped unexpectedly (exit code {code})")


@contextmanager
def feed_reader() -> Iterator[FeedReader]:
    """Start a reader process; on leaving, it has exited or is killed, and is reaped either way."""
    read_end, write_end = os.pipe()
    try:
        fcntl.fcntl(write_end, _F_SETPIPE_SZ, PIPE_BYTES)
    except OSError:
        pass  # the default pipe size only means less read-ahead
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "catalog.feeds.reader_process", str(write_end)],
            stdin=subprocess.PIPE, pass_fds=(write_end,), close_fds=True,
            cwd=str(Path(__file__).resolve().parents[2]),
        )
    except BaseException:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)  # the child holds its own copy: EOF here when it exits
    pipe = os.fdopen(read_end, "rb", buffering=PIPE_BYTES)
    reader = FeedReader(process, pipe)
    try:
        yield reader
    finally:
        if not reader.finished:
            process.kill()  # the import failed (or the child did): never leave it running
        try:
            process.wait(timeout=10)  # after "done" the child only closes its pipe and exits
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdin, pipe):
            try:
                stream.close()
            except OSError:
                pass


# --- transfer: compact tuples, not pickled dataclasses ---------------------------------------------

@cache
def _codec() -> tuple:
    """What encoding and decoding need, imported late: the child imports the catalogue's models
    only after configuring Django."""
    from catalog.models import Kind, OfferType

    from .validation import ItemData, ValidOffer

    return (attrgetter(*ItemData.__dataclass_fields__), ValidOffer, ItemData,
            {kind.value: kind for kind in Kind}, {kind.value: kind for kind in OfferType})


# Pickling an enum member or a Decimal costs a call at loading (Kind("book"), Decimal("99.00")):
# 6.7 µs a row against 1.9 µs when the kind, the offer type and the price travel as plain text
# (measured on the benchmark's rows). They are turned back into the same objects on arrival.

def _encode_outcomes(outcomes: list) -> list:
    item_values, valid_offer, _item_data, _kinds, _offer_types = _codec()
    encoded = []
    for outcome in outcomes:
        if outcome.__class__ is valid_offer:
            item = item_values(outcome.item)
            encoded.append((_VALID, outcome.sku, outcome.url, str(outcome.price), outcome.currency,
                            str.__str__(outcome.offer_type), outcome.available, str.__str__(item[0]), item[1:]))
        else:
            encoded.append((_REJECTED, outcome))
    return encoded


def _decode_outcomes(encoded: list) -> list:
    _item_values, valid_offer, item_data, kinds, offer_types = _codec()
    outcomes = []
    for values in encoded:
        tag = values[0]
        if tag == _VALID:
            _tag, sku, url, price, currency, offer_type, available, kind, item = values
            outcomes.append(valid_offer(sku, url, Decimal(price), currency, offer_types.get(offer_type, offer_type), available,
                                        item_data(kinds.get(kind, kind), *item)))
        else:
            outcomes.append(values[1])
    return outcomes


def _encode_rows(rows: list | None) -> list | None:
    """Rows as tuples of their values (position first, then ROW_FIELDS, then extra)."""
    if rows is None:
        return None
    return [(row.position, *ROW_VALUES(row), row.extra) for row in rows]


def _decode_rows(encoded: list | None) -> list | None:
    if encoded is None:
        return None
    return [OfferRow(*values) for values in encoded]


# --- the reader process -----------------------------------------------------------------------------

def _child(write_fd: int) -> None:
    import django

    # Only the catalogue app, and no database: the child cannot open a connection, let alone use
    # the parent's. Importing Django and the feed modules overlaps the parent's own preparations.
    settings.configure(INSTALLED_APPS=["catalog"], DATABASES={})
    django.setup()
    from .importer import RowPreparer, StoredDigests, collected_per_batch
    from .parsers import CountingReader, OfferSources, parser_for

    out = os.fdopen(write_fd, "wb", buffering=PIPE_BYTES)

    def send(message: tuple) -> None:
        pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    try:
        config = pickle.load(sys.stdin.buffer)
        stored = sys.stdin.buffer.read(config["stored_bytes"])
        sources = StoredDigests.from_packed(sys.stdin.buffer.read(config["sources_bytes"]))
        for name, value in config["settings"].items():
            setattr(settings, name, value)
        categories = config["categories"]
        # The importing process checks the rows of a batch that has few to check (importer.CHECKS_LEFT_SHARE).
        preparer = RowPreparer(max_description_chars=config["max_description_chars"],
                               stored=StoredDigests.from_packed(stored), sources=sources, leave_checks=True)
        with open(config["path"], "rb") as stream, collected_per_batch() as collect:
            counting = CountingReader(stream)
            parser = parser_for(config["format"], column_map=config["column_map"],
                                sources=OfferSources(context=config["context"], stored=sources))
            for batch in preparer.batches(categories.mapped(parser.rows(counting))):
                send(("batch", batch.rows, batch.early, batch.skus, batch.digests, batch.sources,
                      _encode_outcomes(batch.outcomes), _encode_rows(batch.unchecked), batch.seen_extra,
                      batch.unchanged, batch.resourced, counting.bytes_read))
                collect()
        send(("done", dict(categories.unmapped), counting.bytes_read))
    except FeedFormatError as exc:
        send(("format", str(exc)))
    except BrokenPipeError:
        pass  # the parent stopped reading (its import failed): nothing to say
    except BaseException as exc:  # noqa: BLE001 — reported to the parent, which fails the import
        try:
            send(("error", type(exc).__name__, traceback.format_exc()))
        except OSError:
            pass
    finally:
        try:
            out.close()
        except BrokenPipeError:
            pass


if __name__ == "__main__":
    _child(int(sys.argv[1]))
