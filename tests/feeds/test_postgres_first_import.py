"""A first import on PostgreSQL copies its offers straight into the offers table and has their
foreign keys checked batch by batch (catalog/feeds/writers.py, PostgresCopyWriter): faster, and
still nothing billed to a missing item, no offer twice, and the caller's transaction left as it was."""

from decimal import Decimal

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalog.feeds.writers import PostgresCopyWriter
from catalog.models import Offer
from tests.factories import ContentItemFactory, OfferFactory

from .feeds import offers, yml
from .helpers import run_import

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's COPY writer")


def _row(sku: str, item_id: int, price: str) -> tuple:
    return (sku, item_id, f"https://bookshop.example/{sku}", Decimal(price), "RUB", "buy", True, "a" * 32, "")


def test_a_first_import_then_a_re_import_keep_one_offer_a_sku(partner):
    first = run_import(partner, yml(offers(2500)), "yml")
    again = run_import(partner, yml(offers(2500, price="120")), "yml")

    assert (first.status, first.created_count) == ("succeeded", 2500), first.message
    assert (again.status, again.updated_count, again.created_count) == ("succeeded", 2500, 0), again.message
    assert Offer.objects.filter(partner=partner).count() == 2500
    assert set(Offer.objects.filter(partner=partner).values_list("price", flat=True)) == {Decimal("120")}


def test_an_offer_added_during_a_first_import_is_updated_not_doubled(partner):
    # The import found no offer of the partner when it began; meanwhile someone (the admin) added one.
    item = ContentItemFactory()
    OfferFactory(partner=partner, item=item, sku="S-1", price=Decimal("99.00"))

    PostgresCopyWriter().upsert_offers(partner.pk, [_row("S-1", item.pk, "150"), _row("S-2", item.pk, "160")],
                                       timezone.now(), all_new=True)

    assert dict(Offer.objects.filter(partner=partner).values_list("sku", "price")) == {
        "S-1": Decimal("150.00"), "S-2": Decimal("160.00")}


def test_an_offer_of_a_missing_item_fails_its_batch_at_once(partner):
    writer = PostgresCopyWriter()
    with pytest.raises(psycopg.IntegrityError), transaction.atomic(), writer.foreign_keys_checked_per_batch():
        writer.upsert_offers(partner.pk, [_row("S-1", 10**12, "150")], timezone.now(), all_new=True)
    assert not Offer.objects.filter(partner=partner).exists()


def test_after_the_import_the_foreign_keys_are_deferred_again(partner):
    writer = PostgresCopyWriter()
    with writer.foreign_keys_checked_per_batch():
        pass
    # Deferred, as Django declares them: a row pointing nowhere is refused only when the transaction
    # checks its constraints, not by the statement that wrote it.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {Offer._meta.db_table} (partner_id, item_id, sku, url, price, currency, "
                       "offer_type, available, row_hash, source_hash, created_at, updated_at) "
                       "VALUES (%s, %s, 'S-9', 'https://x.example/', 1, 'RUB', 'buy', true, '', '', now(), now())",
                       [partner.pk, 10**12])
        with pytest.raises(IntegrityError), transaction.atomic():
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute(f"DELETE FROM {Offer._meta.db_table} WHERE sku = 'S-9'")
