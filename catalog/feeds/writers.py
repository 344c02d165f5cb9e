"""Batch writes of new items, their genres and upserted offers.

On PostgreSQL rows go through COPY (a first import's offers straight into the table, others
through a temporary staging table plus one INSERT ... ON CONFLICT (partner, sku) DO UPDATE; ids
reserved from the sequence for items): building Django model instances and SQL for a 2,000-row
batch costs more than the database's work. Elsewhere (the SQLite default) the same rows go through bulk_create.
"""

import json
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from itertools import islice

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections

from catalog.models import ContentItem, Offer

OFFER_COLUMNS = ("sku", "item_id", "url", "price", "currency", "offer_type", "available", "row_hash", "source_hash")
OFFER_UPDATE_FIELDS = ["item", "url", "price", "currency", "offer_type", "available", "row_hash", "source_hash",
                       "updated_at"]
# Keeps INSERT parameters under PostgreSQL's 65,535 per statement (ContentItem has ~35 columns).
ITEM_INSERT_BATCH = 1000
_ITEM_FIELDS = [field for field in ContentItem._meta.concrete_fields if not field.primary_key]
_ITEM_DEFAULTS = {field.attname: field.get_default() for field in _ITEM_FIELDS}
# PostgresCopyWriter.insert_items: the COPY's columns, each value's name and default, and where
# the JSON columns (creators, credits: sent as JSON text) and the timestamps are.
_COPY_NAMES = ["id", *(field.column for field in _ITEM_FIELDS)]
_COPY_PLAN = [(field.attname, _ITEM_DEFAULTS[field.attname]) for field in _ITEM_FIELDS]
_JSON_AT = [1 + index for index, field in enumerate(_ITEM_FIELDS) if field.get_internal_type() == "JSONField"]
# json.dumps(value, ensure_ascii=False) without building an encoder for each value. Also how the batch
# lookups pass their values (a list of strings, or of tuples of strings) as one jsonb parameter: psycopg
# turns a Python list into a PostgreSQL array value by value in Python, 3.4 ms of CPU for 2,000 titles
# (0.23 s of the importing process's CPU in a 100k first import); json does it in C, 0.3 ms for the same
# titles (docs/feeds.md, twelfth session). The values are checked ones (no NUL, no lone surrogate).
_to_json = json.JSONEncoder(ensure_ascii=False).encode
_STAMPS_AT = [1 + index for index, (name, _default) in enumerate(_COPY_PLAN) if name in ("created_at", "updated_at")]
# Where each column the rows may give goes (the timestamps are the write's own).
_COPY_AT = {name: 1 + index for index, (name, _default) in enumerate(_COPY_PLAN) if 1 + index not in _STAMPS_AT}
_json_string = json.encoder.encode_basestring  # one JSON string literal, non-ASCII kept (C)
# A table an import has grown by this many rows, and to ANALYZE_GROWTH times the rows its statistics
# last described, is analysed inside the import (PostgresCopyWriter._grew).
ANALYZE_AFTER_ROWS = 20_000
ANALYZE_GROWTH = 10
# OrmWriter reads the stored row and source hashes this many offers at a time (StoredDigests.gather).
DIGEST_CHUNK = 100_000
_NO_HASH = "0" * 32  # an offer without a source hash, in stored_digests

logger = logging.getLogger(__name__)


def _json_names(values) -> str:
    """The JSON text of a list of strings (creators) or of {"name", "role"} credits: the common
    shapes written directly (the columns are jsonb: only the value counts), anything else by json."""
    parts = []
    for value in values:
        if value.__class__ is str:
            parts.append(_json_string(value))
        elif value.__class__ is dict and len(value) == 2 and value.get("name").__class__ is str \
                and value.get("role").__class__ is str:
            parts.append(f'{{"name": {_json_string(value["name"])}, "role": {_json_string(value["role"])}}}')
        else:
            return _to_json(values)
    return f"[{', '.join(parts)}]"


def _copy_records(ids: list[int], rows: list[dict], now: datetime) -> list[list]:
    """Each new item's COPY row: its id, then every column, the defaults where the row says nothing."""
    template = [None, *[default for _name, default in _COPY_PLAN]]
    # As ISO 8601 text, which PostgreSQL reads into the same timestamptz: psycopg formats a
    # datetime for COPY in ≈ 1 µs, a string in 0.05 µs (two of them a new item).
    stamp = now.isoformat()
    for index in _STAMPS_AT:
        template[index] = stamp
    records = []
    for item_id, row in zip(ids, rows):
        values = template.copy()
        values[0] = item_id
        for name, value in row.items():
            index = _COPY_AT.get(name)
            if index is not None:
                values[index] = value
        for index in _JSON_AT:
            value = values[index]
            values[index] = _json_names(value) if value.__class__ is list else _to_json(value)
        records.append(values)
    return records


class OrmWriter:
    # Whether FeedRun may call the writes from a second thread (see PostgresCopyWriter).
    background_writes = False

    # Reads of a batch's existing rows (here with the writes: PostgreSQL answers both faster
    # with one array parameter than with thousands of IN (...) placeholders).
    def offer_skus(self, partner_id: int, skus: list[str]) -> list[str]:
        return list(Offer.objects.filter(partner_id=partner_id, sku__in=skus).values_list("sku", flat=True))

    def stored_digests(self, partner_id: int) -> tuple[int, Iterator[bytes]]:
        """How many offers of the partner have a row hash (withdrawn ones have none), and their row
        and source hashes in chunks of 32-byte pairs end to end (StoredDigests.gather)."""
        offers = Offer.objects.filter(partner_id=partner_id).exclude(row_hash="")

        def chunks() -> Iterator[bytes]:
            hashes = offers.values_list("row_hash", "source_hash").iterator(chunk_size=DIGEST_CHUNK)
            while chunk := list(islice(hashes, DIGEST_CHUNK)):
                yield bytes.fromhex("".join(row_hash + (source_hash if len(source_hash) == 32 else _NO_HASH)
                                            for row_hash, source_hash in chunk if len(row_hash) == 32))

        return offers.count(), chunks()

    def set_source_hashes(self, partner_id: int, pairs: list[tuple[str, str]]) -> None:
        """Store the source hash of offers found unchanged (SKU, hash): nothing else of them changes."""
        ids = dict(Offer.objects.filter(partner_id=partner_id, sku__in=[sku for sku, _hash in pairs])
                   .values_list("sku", "id"))
        Offer.objects.bulk_update([Offer(id=ids[sku], source_hash=value) for sku, value in pairs if sku in ids],
                                  ["source_hash"], batch_size=1000)

    def items_by_external_id(self, field: str, values: list[str]) -> list[tuple]:
        # The explicit "<> ''" lets PostgreSQL use the partial unique index on the id.
        return list(ContentItem.objects.filter(**{f"{field}__in": values}).exclude(**{field: ""})
                    .values_list(field, "id"))

    def has_offers(self, partner_id: int) -> bool:
        return Offer.objects.filter(partner_id=partner_id).exists()

    def items_by_title(self, pairs: list[tuple[str, str]], columns: tuple[str, ...]) -> list[tuple]:
        """The items of these (kind, normalised title) pairs, by id; a few others of the same kinds and
        titles may come too (the caller keys what it gets by the whole match key)."""
        return list(ContentItem.objects.filter(kind__in={kind for kind, _title in pairs},
                                               normalized_title__in={title for _kind, title in pairs})
                    .values_list(*columns).order_by("id"))

    def insert_items(self, rows: list[dict], now: datetime) -> list[int]:
        items = [ContentItem(**row) for row in rows]
        ContentItem.objects.bulk_create(items, batch_size=ITEM_INSERT_BATCH)
        return [item.pk for item in items]

    def insert_item_genres(self, pairs: list[tuple[int, int]]) -> None:
        through = ContentItem.genres.through
        through.objects.bulk_create([through(contentitem_id=item_id, genre_id=genre_id) for item_id, genre_id in pairs],
                                    ignore_conflicts=True, batch_size=5000)

    # Withdrawal of offers a full feed no longer lists. Here the importer keeps the SKUs it met
    # (as hashes) and compares them with the partner's offers in Python; see PostgresCopyWriter.
    set_based_withdrawal = False

    def note_seen_skus(self, skus: list[str]) -> None:
        return None

    @contextmanager
    def foreign_keys_checked_per_batch(self):
        """Elsewhere (SQLite) foreign keys are checked as each row is written already."""
        yield

    def upsert_offers(self, partner_id: int, rows: list[tuple], now: datetime, *, all_new: bool = False) -> None:
        """Insert or update the partner's offers of these rows (OFFER_COLUMNS), keyed by SKU. `all_new`:
        the caller knows no row has an offer yet (PostgresCopyWriter then skips the upsert)."""
        offers = [Offer(partner_id=partner_id, created_at=now, updated_at=now, **dict(zip(OFFER_COLUMNS, row)))
                  for row in rows]
        Offer.objects.bulk_create(offers, update_conflicts=True, unique_fields=["partner", "sku"],
                                  update_fields=OFFER_UPDATE_FIELDS, batch_size=2000)


class PostgresCopyWriter(OrmWriter):
    set_based_withdrawal = True
    # FeedRun writes a batch from a second thread while it parses and validates the next one
    # (the thread waits on PostgreSQL with the GIL released). Both threads use the importing
    # thread's connection, so everything stays in the import's one transaction; the lock keeps
    # them to one statement (or COPY) at a time on it, as the protocol requires.
    background_writes = True

    def __init__(self):
        self._staged = False
        self._seen_staged = False
        self._item_sequence: str | None = None
        self.connection = connections[DEFAULT_DB_ALIAS]  # the creating thread's: see background_writes
        self.lock = threading.Lock()
        self._described: dict[str, float] = {}  # table → the rows its statistics describe
        self._added: Counter = Counter()  # table → rows added since

    def _grew(self, table: str, rows: int) -> None:
        """Gather fresh statistics for a table this import has outgrown.

        The planner's choice for the batch lookups (`= ANY(array)` of 2,000 SKUs or external ids)
        rests on the column statistics. A first import into a young catalogue grows the tables from
        almost nothing inside one transaction, so autovacuum never sees them: without statistics
        PostgreSQL takes each lookup to match most of the table and scans all of it, and a batch's
        lookups grow with the import (measured at 1M offers: 186 ms and 102 ms a batch at the end,
        93 s and 51 s in all). ANALYZE inside the transaction counts the rows it has written.

        ANALYZE holds its lock until the import commits, so another import that wants it skips
        its own after a short wait rather than queueing behind this one.
        """
        if table not in self._described:
            with self._cursor() as cursor:
                cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
                self._described[table] = max(cursor.fetchone()[0], 0)
        self._added[table] += rows
        if self._added[table] < max(ANALYZE_AFTER_ROWS, (ANALYZE_GROWTH - 1) * self._described[table]):
            return
        with self._cursor() as cursor:
            cursor.execute("SELECT current_setting('lock_timeout')")
            lock_timeout = cursor.fetchone()[0]
            cursor.execute("SAVEPOINT feed_analyze")
            try:
                cursor.execute("SELECT set_config('lock_timeout', '200ms', true)")
                cursor.execute(f"ANALYZE {table}")
            except DatabaseError as exc:  # its lock is taken (another import, autovacuum): carry on without
                cursor.execute("ROLLBACK TO SAVEPOINT feed_analyze")
                logger.info("Feed import: %s not analysed (%s)", table, str(exc).strip())
            cursor.execute("RELEASE SAVEPOINT feed_analyze")
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [lock_timeout])
        self._described[table] += self._added[table]
        self._added[table] = 0

    @contextmanager
    def _cursor(self):
        with self.lock, self.connection.cursor() as cursor:
            yield cursor

    def _fetch(self, sql: str, params: list) -> list[tuple]:
        with self._cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    @contextmanager
    def foreign_keys_checked_per_batch(self):
        """Check the foreign keys of the rows this import writes as each statement ends, not at COMMIT.

        Django declares every foreign key DEFERRABLE INITIALLY DEFERRED, so PostgreSQL queues a check
        for each offer (its item, its partner) and each genre link and runs them all when the import
        commits: 0.73 s of a 100k first import, spent after the last batch, while nothing else runs
        (docs/feeds.md, twelfth session). Made IMMEDIATE for the import, the same checks run with
        each batch's statement, while the reader prepares the next batch. A violation still fails the
        import and rolls everything back. The constraints go back to deferred when the import ends
        well (an import that fails rolls its transaction back anyway).
        """
        tables = [Offer._meta.db_table, ContentItem.genres.through._meta.db_table]
        rows = self._fetch("SELECT conname FROM pg_constraint WHERE contype = 'f' AND condeferrable AND condeferred "
                           "AND conrelid = ANY(%s::regclass[]) ORDER BY conname", [tables])
        names = ", ".join(self.connection.ops.quote_name(name) for (name,) in rows)
        if not names:
            yield
            return
        with self._cursor() as cursor:
            cursor.execute(f"SET CONSTRAINTS {names} IMMEDIATE")
        yield
        with self._cursor() as cursor:
            cursor.execute(f"SET CONSTRAINTS {names} DEFERRED")

    def offer_skus(self, partner_id: int, skus: list[str]) -> list[str]:
        # ARRAY(…) is computed once, so the SKUs are still probed in the (partner, sku) index.
        rows = self._fetch(f"SELECT sku FROM {Offer._meta.db_table} WHERE partner_id = %s "
                           "AND sku = ANY(ARRAY(SELECT jsonb_array_elements_text(%s::jsonb)))",
                           [partner_id, _to_json(skus)])
        return [sku for (sku,) in rows]

    def stored_digests(self, partner_id: int) -> tuple[int, Iterator[bytes]]:
        # Joined and decoded by PostgreSQL, one value for each 65,536 offer ids, read through a
        # server-side cursor one value at a time: 0.6–0.8 s for a million offers, where reading each
        # column in chunks of 100,000 along the (partner, sku) index took 2.8 s, and a COPY of a line
        # an offer 0.9 s (docs/feeds.md, eighth round).
        table = Offer._meta.db_table
        (count,), = self._fetch(f"SELECT count(*) FROM {table} WHERE partner_id = %s AND length(row_hash) = 32",
                                [partner_id])

        def chunks() -> Iterator[bytes]:
            with self.lock, self.connection.connection.cursor(name="feed_stored_digests") as cursor:
                cursor.itersize = 1  # a value holds up to 2 MB of hashes
                cursor.execute(
                    f"SELECT decode(string_agg(row_hash || CASE WHEN length(source_hash) = 32 THEN source_hash "
                    f"ELSE '{_NO_HASH}' END, ''), 'hex') FROM {table} WHERE partner_id = %s AND length(row_hash) = 32 "
                    "GROUP BY id >> 16", [partner_id])
                for (packed,) in cursor:
                    yield packed

        return count, chunks()

    def items_by_external_id(self, field: str, values: list[str]) -> list[tuple]:
        column = ContentItem._meta.get_field(field).column
        # The explicit "<> ''" lets each probe use the partial unique index on the id.
        return self._probe_items({column: list(values)}, (column, "id"), also=f"item.{column} <> ''")

    def items_by_title(self, pairs: list[tuple[str, str]], columns: tuple[str, ...]) -> list[tuple]:
        return self._probe_items({"kind": [kind for kind, _title in pairs],
                                  "normalized_title": [title for _kind, title in pairs]},
                                 tuple(ContentItem._meta.get_field(name).column for name in columns))

    def _probe_items(self, wanted: dict[str, list[str]], columns: tuple[str, ...], also: str = "") -> list[tuple]:
        """`columns` of the items whose `wanted` columns equal each row of values (the lists zipped),
        by id: one index probe a row, whatever the table's size.

        The LATERAL subquery with OFFSET 0 is not flattened into a join, so the planner cannot swap
        the probes for a read of the whole table, which it preferred while the table was small
        enough. With "kind = ANY(…) AND normalized_title = ANY(…)" a batch of 2,000 titles took
        22–26 ms at 100k items (every row read) and 25–27 ms at 1M; a plain join with the pairs
        hashed the whole table (42–84 ms a batch late in a 100k first import); probing, 14 ms at
        100k (docs/feeds.md, sixth round). With "isbn13 = ANY(…)" of ≈ 700 values it read the whole
        table until it held ≈ 75,000 rows, statistics or not: 10–22 ms a batch late in a 100k first
        import, 1 ms probing (seventh round).
        """
        names = ", ".join(f"value->>{index} AS {name}" for index, name in enumerate(wanted))
        match = " AND ".join([*(f"item.{name} = wanted.{name}" for name in wanted), *([also] if also else [])])
        return self._fetch(f"SELECT {', '.join(f'found.{column}' for column in columns)} "
                           f"FROM (SELECT {names} FROM jsonb_array_elements(%s::jsonb)) AS wanted "
                           f"CROSS JOIN LATERAL (SELECT * FROM {ContentItem._meta.db_table} AS item "
                           f"WHERE {match} OFFSET 0) AS found ORDER BY found.id",
                           [_to_json(list(zip(*wanted.values())))])

    def insert_items(self, rows: list[dict], now: datetime) -> list[int]:
        table = ContentItem._meta.db_table
        with self._cursor() as cursor:
            if self._item_sequence is None:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                (self._item_sequence,), = cursor.fetchall()
            # The sequence named once: pg_get_serial_sequence() in the select list looks it up for every
            # id (0.26 s for 100,000 ids against 0.03 s; docs/feeds.md, twelfth session).
            cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [self._item_sequence, len(rows)])
            ids = [row[0] for row in cursor.fetchall()]
        # The COPY rows are built before taking the connection again: the importing thread may
        # need it meanwhile (see background_writes).
        records = _copy_records(ids, rows, now)
        with self._cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(_COPY_NAMES)}) FROM STDIN") as copy:
            for values in records:
                copy.write_row(values)
        self._grew(table, len(ids))
        return ids

    def insert_item_genres(self, pairs: list[tuple[int, int]]) -> None:
        if not pairs:
            return
        table = ContentItem.genres.through._meta.db_table
        with self._cursor() as cursor, cursor.cursor.copy(
            f"COPY {table} (contentitem_id, genre_id) FROM STDIN"
        ) as copy:
            for pair in pairs:
                copy.write_row(pair)

    def upsert_offers(self, partner_id: int, rows: list[tuple], now: datetime, *, all_new: bool = False) -> None:
        table = Offer._meta.db_table
        if all_new and self._insert_new_offers(partner_id, rows, now):
            self._grew(table, len(rows))
            return
        with self._cursor() as cursor:
            if not self._staged:
                # Dropped when the import's transaction commits.
                cursor.execute(
                    "CREATE TEMPORARY TABLE IF NOT EXISTS feed_offer_stage (sku text, item_id bigint, url text, "
                    "price numeric, currency text, offer_type text, available boolean, row_hash text, "
                    "source_hash text) ON COMMIT DROP"
                )
                self._staged = True
            cursor.execute("TRUNCATE feed_offer_stage")
            with cursor.cursor.copy(f"COPY feed_offer_stage ({', '.join(OFFER_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                f"INSERT INTO {table} (partner_id, {', '.join(OFFER_COLUMNS)}, created_at, updated_at) "
                f"SELECT %s, {', '.join(OFFER_COLUMNS)}, %s, %s FROM feed_offer_stage "
                "ON CONFLICT (partner_id, sku) DO UPDATE SET item_id = EXCLUDED.item_id, url = EXCLUDED.url, "
                "price = EXCLUDED.price, currency = EXCLUDED.currency, offer_type = EXCLUDED.offer_type, "
                "available = EXCLUDED.available, row_hash = EXCLUDED.row_hash, source_hash = EXCLUDED.source_hash, "
                "updated_at = EXCLUDED.updated_at",
                [partner_id, now, now],
            )
        self._grew(table, len(rows))

    def _insert_new_offers(self, partner_id: int, rows: list[tuple], now: datetime) -> bool:
        """COPY the rows straight into the offers table; False (nothing written) if one has an offer after all.

        A first import's offers are all new (the partner had none, its row is locked, a SKU listed
        twice is rejected), so the staging table and the upsert's conflict checks are work for
        nothing: 1.7 s of PostgreSQL's time in a 100k first import against 1.5 s this way, the
        foreign-key checks included in both (docs/feeds.md, twelfth session). An offer added meanwhile by other means (the admin) makes
        the COPY fail on the unique (partner, SKU) index; the batch then goes the upsert's way.
        """
        # Here, not at the top: the feed reader process imports this module and never needs psycopg
        # (importing it costs that process 0.06 s before its first batch).
        from psycopg.errors import UniqueViolation

        stamp = now.isoformat()
        with self._cursor() as cursor:
            cursor.execute("SAVEPOINT feed_new_offers")
            try:
                with cursor.cursor.copy(f"COPY {Offer._meta.db_table} (partner_id, {', '.join(OFFER_COLUMNS)}, "
                                        "created_at, updated_at) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row((partner_id, *row, stamp, stamp))
            except UniqueViolation:  # psycopg's own: COPY goes through the driver's cursor
                cursor.execute("ROLLBACK TO SAVEPOINT feed_new_offers")
                cursor.execute("RELEASE SAVEPOINT feed_new_offers")
                return False
            cursor.execute("RELEASE SAVEPOINT feed_new_offers")
        return True

    def set_source_hashes(self, partner_id: int, pairs: list[tuple[str, str]]) -> None:
        table = Offer._meta.db_table
        with self._cursor() as cursor:
            cursor.execute(f"UPDATE {table} AS offer SET source_hash = given.source_hash "
                           "FROM (SELECT value->>0 AS sku, value->>1 AS source_hash "
                           "FROM jsonb_array_elements(%s::jsonb)) AS given "
                           "WHERE offer.partner_id = %s AND offer.sku = given.sku", [_to_json(pairs), partner_id])

    def note_seen_skus(self, skus: list[str]) -> None:
        """Stream every SKU the feed lists (rejected rows too) into a temporary table, so the
        withdrawal is one anti-join in the database instead of reading the partner's whole
        catalogue back into Python: its cost no longer grows with the catalogue, and memory stays flat."""
        if not skus:
            return
        with self._cursor() as cursor:
            self._stage_seen_table(cursor)
            with cursor.cursor.copy("COPY feed_seen_sku (sku) FROM STDIN") as copy:
                for sku in skus:
                    copy.write_row((sku,))

    def _stage_seen_table(self, cursor) -> None:
        if not self._seen_staged:
            # Dropped when the import's transaction commits; emptied first because an outer
            # transaction (tests) may hold several imports.
            cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS feed_seen_sku (sku text) ON COMMIT DROP")
            cursor.execute("TRUNCATE feed_seen_sku")
            self._seen_staged = True

    def withdraw_missing(self, partner_id: int, now: datetime) -> int:
        table = Offer._meta.db_table
        with self._cursor() as cursor:
            self._stage_seen_table(cursor)  # a feed whose rows all lacked a SKU withdraws everything
            # Autovacuum never analyses temporary tables: without ANALYZE the planner would guess
            # the number of SKUs instead of knowing it when it chooses the anti-join's plan.
            cursor.execute("ANALYZE feed_seen_sku")
            # Clearing row_hash makes the offer count as changed when it comes back.
            cursor.execute(
                f"UPDATE {table} AS offer SET available = false, row_hash = '', source_hash = '', updated_at = %s "
                "WHERE offer.partner_id = %s AND offer.available "
                "AND NOT EXISTS (SELECT 1 FROM feed_seen_sku AS seen WHERE seen.sku = offer.sku)",
                [now, partner_id],
            )
            return cursor.rowcount


def writer_for_connection(*, fast: bool = True) -> OrmWriter:
    return PostgresCopyWriter() if fast and connection.vendor == "postgresql" else OrmWriter()
