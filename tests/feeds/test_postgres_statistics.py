"""On PostgreSQL an import that outgrows the tables' statistics gathers fresh ones inside its
transaction (catalog/feeds/writers.py, PostgresCopyWriter._grew): without them the batch lookups
scan whole tables and a large first import slows down as it goes. It never waits long for another
transaction's lock to do so."""

import threading

import psycopg
import pytest
from django.db import connection

from catalog.feeds import writers
from catalog.models import ContentItem, Offer

from .feeds import offers, yml
from .helpers import run_import

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner statistics")


def _described_empty(*models) -> None:
    """Statistics that describe the tables as this test's transaction sees them: empty. (ANALYZE
    writes the row estimate in place, so an earlier run's would survive its rollback.) ANALYZE
    holds its lock until the test's transaction ends."""
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {model._meta.db_table}")
            assert _estimated_rows(model) == 0


def _estimated_rows(model) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
        return cursor.fetchone()[0]


def test_an_import_that_outgrows_the_statistics_refreshes_them(partner, monkeypatch):
    monkeypatch.setattr(writers, "ANALYZE_AFTER_ROWS", 500)
    _described_empty(Offer, ContentItem)

    feed_import = run_import(partner, yml(offers(2000)), "yml")

    assert feed_import.status == "succeeded", feed_import.message
    # Autovacuum cannot see rows the import has not committed: only its own ANALYZE counts them
    # (on tables this small ANALYZE reads every page, so the estimate is the count).
    assert _estimated_rows(Offer) == Offer.objects.count() == 2000
    assert _estimated_rows(ContentItem) == ContentItem.objects.count() == 2000


def test_an_import_does_not_queue_behind_another_transaction_for_its_statistics(partner, monkeypatch):
    monkeypatch.setattr(writers, "ANALYZE_AFTER_ROWS", 500)
    locked, release = threading.Event(), threading.Event()
    params = connection.get_connection_params()

    def analyse_the_items_elsewhere():
        # Another transaction analyses the items (it sees none) and holds ANALYZE's lock until it ends.
        with psycopg.connect(**params) as other, other.transaction():
            other.execute(f"ANALYZE {ContentItem._meta.db_table}")
            locked.set()
            release.wait(timeout=30)

    _described_empty(Offer)
    holder = threading.Thread(target=analyse_the_items_elsewhere)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        feed_import = run_import(partner, yml(offers(2000)), "yml")
    finally:
        release.set()
        holder.join()

    assert feed_import.status == "succeeded", feed_import.message
    assert feed_import.created_count == 2000
    # The items' statistics were left to the other transaction; the offers' were refreshed.
    assert _estimated_rows(ContentItem) == 0
    assert _estimated_rows(Offer) == Offer.objects.count() == 2000
