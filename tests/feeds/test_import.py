"""Importing feeds in each format: what a partner sees in the catalogue and in the import report."""

import gc
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.feeds.services import feed_import_progress
from catalog.models import ContentItem, FeedImport, Offer
from tests.factories import ContentItemFactory, OfferFactory, PartnerFactory

from .feeds import BOOKS, csv_feed, json_feed, json_lines, offers, yml
from .helpers import run_import

pytestmark = pytest.mark.django_db


def catalogue(partner) -> dict:
    return {o.sku: o for o in Offer.objects.filter(partner=partner).select_related("item")}


@pytest.mark.parametrize("build, fmt", [(yml, "yml"), (csv_feed, "csv"), (json_feed, "json"), (json_lines, "json")],
                         ids=["yml", "csv", "json-array", "json-lines"])
def test_each_format_imports_offers_and_creates_items(partner, build, fmt):
    feed_import = run_import(partner, build(BOOKS))

    assert feed_import.status == FeedImport.Status.SUCCEEDED, feed_import.message
    assert feed_import.format == fmt  # detected from the content
    assert (feed_import.rows_total, feed_import.created_count, feed_import.rejected_count) == (4, 4, 0)
    assert feed_import.items_created_count == 4
    offers_ = catalogue(partner)
    book = offers_["B-1"]
    assert (book.price, book.currency, book.offer_type, book.available) == (Decimal("399.00"), "RUB", "buy", True)
    assert book.item.kind == "book" and book.item.isbn13 == "9780141180144"
    assert book.item.primary_creator == "Mikhail Bulgakov" and book.item.year == 1967
    assert book.item.pages == 412 and book.item.length_minutes == 495  # ceil(412 × 1.2)
    assert list(book.item.genres.values_list("code", flat=True)) == ["classics"]
    film = offers_["F-1"].item
    assert (film.kind, film.imdb_id, film.length_minutes, offers_["F-1"].offer_type) == ("film", "tt0816692", 169, "rent")
    assert set(film.genres.values_list("code", flat=True)) == {"sci_fi", "drama"}
    track = offers_["T-1"]
    assert (track.item.kind, track.item.duration_seconds, track.item.length_minutes) == ("track", 355, 6)
    assert (track.price, track.offer_type, track.item.tempo) == (Decimal("0.00"), "free", 72.0)
    assert offers_["B-2"].item.creators == ["Arkady Strugatsky", "Boris Strugatsky"]


def test_yml_in_windows_1251(partner):
    rows = [{**BOOKS[1], "title": "Пикник на обочине", "creators": ["Аркадий Стругацкий"]}]
    feed_import = run_import(partner, yml(rows, encoding="windows-1251"))

    assert feed_import.status == "succeeded", feed_import.message
    item = Offer.objects.get(partner=partner, sku="B-2").item
    assert (item.title, item.primary_creator) == ("Пикник на обочине", "Аркадий Стругацкий")


def test_yml_plain_offer_with_params(partner):
    feed = b"""<?xml version="1.0" encoding="UTF-8"?>
<yml_catalog><shop><offers>
<offer id="P-1" available="false"><url>https://s.example/p1</url><price>150</price><currencyId>USD</currencyId>
<name>Solaris</name><param name="kind">film</param><param name="Year">1972</param>
<param name="director">Andrei Tarkovsky</param><param name="Duration" unit="min">167</param>
<param name="offer_type">subscription</param><param name="colour">yes</param></offer>
</offers></shop></yml_catalog>"""
    feed_import = run_import(partner, feed)

    assert feed_import.status == "succeeded", feed_import.message
    offer = Offer.objects.select_related("item").get(partner=partner, sku="P-1")
    assert (offer.currency, offer.offer_type, offer.available) == ("USD", "subscription", False)
    assert (offer.item.kind, offer.item.year, offer.item.length_minutes, offer.item.primary_creator) == (
        "film", 1972, 167, "Andrei Tarkovsky")


def test_csv_ignores_unknown_columns_and_accepts_semicolons(partner):
    columns = ["SKU", "Title", "URL", "Price", "kind", "warehouse", "colour"]
    feed = csv_feed([{"SKU": "C-1", "Title": "Dune", "URL": "https://s.example/c1", "Price": "10,50", "kind": "book",
                      "warehouse": "B7", "colour": "red"}], columns=columns, delimiter=";")
    feed_import = run_import(partner, feed, "csv")

    assert feed_import.status == "succeeded", feed_import.message
    assert Offer.objects.get(partner=partner, sku="C-1").price == Decimal("10.50")


def test_csv_without_required_columns_is_not_a_feed(partner):
    feed = b"sku,title,colour\nA,Dune,red\n"
    feed_import = run_import(partner, feed, "csv")

    assert feed_import.status == "failed"
    assert feed_import.message.startswith("Not a CSV feed: missing required columns url, price")


def test_match_by_external_id_then_title_year_creator_else_create(partner):
    by_isbn = ContentItemFactory(kind="book", title="Мастер и Маргарита", isbn13="9780141180144", year=1967)
    by_title = ContentItemFactory(kind="book", title="Roadside picnic!", year=1972, creators=["Arkady Strugatsky"])
    same_title_other_year = ContentItemFactory(kind="film", title="Interstellar", year=2013,
                                               creators=["Christopher Nolan"])

    feed_import = run_import(partner, yml(BOOKS))

    offers_ = catalogue(partner)
    assert offers_["B-1"].item == by_isbn
    assert offers_["B-2"].item == by_title
    assert offers_["F-1"].item != same_title_other_year
    assert feed_import.items_created_count == 2  # the film and the track
    # Feeds never overwrite a matched item's catalogue data.
    by_isbn.refresh_from_db()
    assert by_isbn.title == "Мастер и Маргарита"


def test_a_new_item_is_stamped_with_the_time_of_its_import(partner):
    before = timezone.now()
    run_import(partner, yml(BOOKS[:2]))
    after = timezone.now()

    stamps = list(ContentItem.objects.values_list("created_at", "updated_at"))
    assert len(stamps) == 2
    assert all(before <= created <= updated <= after for created, updated in stamps), (before, stamps, after)


def test_reimport_counts_unchanged_and_updated_rows(partner):
    rows = offers(50)
    first = run_import(partner, json_feed(rows))
    rows[3]["price"] = "120"
    rows[7]["title"] = "A new title"
    second = run_import(partner, json_feed(rows))

    assert (first.created_count, first.unchanged_count) == (50, 0)
    assert (second.status, second.created_count, second.updated_count, second.unchanged_count) == (
        "succeeded", 0, 2, 48)
    assert Offer.objects.get(partner=partner, sku="S-3").price == Decimal("120.00")
    assert Offer.objects.get(partner=partner, sku="S-7").item.title == "A new title"


def test_reimport_reads_the_stored_row_hashes_in_chunks(partner, monkeypatch):
    from catalog.feeds import writers

    monkeypatch.setattr(writers, "DIGEST_CHUNK", 7)  # 50 offers: eight chunks, the last one short
    rows = offers(50)
    run_import(partner, json_feed(rows))
    for index in (0, 6, 7, 49):  # either side of a chunk's edge, in SKU order or not
        rows[index]["price"] = "130"
    second = run_import(partner, json_feed(rows))

    assert (second.status, second.updated_count, second.unchanged_count) == ("succeeded", 4, 46)


def test_another_partners_identical_offers_do_not_count_as_unchanged(partner):
    other = PartnerFactory(code="othershop")
    data = json_feed(offers(20))
    run_import(other, data)
    mine = run_import(partner, data)

    assert (mine.created_count, mine.unchanged_count) == (20, 0)
    assert Offer.objects.filter(partner=partner).count() == 20


def test_full_feed_withdraws_missing_offers_and_partial_feed_does_not(partner):
    other_partner_offer = OfferFactory(sku="S-9")
    run_import(partner, json_feed(offers(10)))

    partial = run_import(partner, json_feed(offers(10)[:5]), is_full=False)
    assert partial.withdrawn_count == 0
    assert Offer.objects.filter(partner=partner, available=True).count() == 10

    full = run_import(partner, json_feed(offers(10)[:6]), is_full=True)
    assert full.withdrawn_count == 4
    assert set(Offer.objects.filter(partner=partner, available=False).values_list("sku", flat=True)) == {
        "S-6", "S-7", "S-8", "S-9"}
    assert Offer.objects.filter(partner=partner).count() == 10  # withdrawn, never deleted
    other_partner_offer.refresh_from_db()
    assert other_partner_offer.available

    back = run_import(partner, json_feed(offers(10)), is_full=True)
    assert (back.updated_count, back.unchanged_count) == (4, 6)
    assert Offer.objects.filter(partner=partner, available=True).count() == 10


def test_a_partner_whose_every_offer_is_withdrawn_gets_them_back_as_updates_not_duplicates(partner):
    # Withdrawn offers carry no row hash, so only the offers themselves say the partner has any:
    # the import must still look their SKUs up rather than take every row for a new offer.
    withdrawn = OfferFactory(partner=partner, sku="S-0", available=False, row_hash="")

    back = run_import(partner, json_feed(offers(2)))

    assert back.status == FeedImport.Status.SUCCEEDED, back.message
    assert (back.created_count, back.updated_count, back.unchanged_count) == (1, 1, 0)
    withdrawn.refresh_from_db()
    assert withdrawn.available and withdrawn.price == Decimal("100.00")
    assert Offer.objects.filter(partner=partner).count() == 2


def test_full_feed_keeps_offers_of_rejected_rows_and_withdraws_the_rest(partner):
    run_import(partner, json_feed(offers(4)))
    rows = offers(4)
    rows[1]["price"] = "-5"  # rejected, but its SKU is listed: its offer stays as it was
    rows[2]["sku"] = ""  # no SKU: it cannot keep an offer
    # S-3 is listed too, so 2 of 4 rows are rejected: not more than FEED_MAX_REJECTED_SHARE (issue 15).
    full = run_import(partner, json_feed([rows[0], rows[1], rows[2], rows[3]]), is_full=True)

    assert (full.status, full.rejected_count, full.withdrawn_count) == ("succeeded", 2, 1)
    assert set(Offer.objects.filter(partner=partner, available=True).values_list("sku", flat=True)) == {
        "S-0", "S-1", "S-3"}

    # A feed with no valid row fails whole (issue 15, the failure rule): it withdraws nothing.
    nothing_usable = run_import(partner, json_feed([{**row, "sku": ""} for row in offers(2)]), is_full=True)
    assert (nothing_usable.status, nothing_usable.rejected_count, nothing_usable.withdrawn_count) == ("failed", 2, 0)
    assert set(Offer.objects.filter(partner=partner, available=True).values_list("sku", flat=True)) == {
        "S-0", "S-1", "S-3"}


def test_byte_identical_feed_is_skipped(partner):
    data = yml(BOOKS)
    first = run_import(partner, data)
    Offer.objects.filter(partner=partner, sku="B-1").update(price=Decimal("1.00"))
    second = run_import(partner, data)

    assert first.status == "succeeded"
    assert second.status == "skipped"
    assert str(first.pk) in second.message
    assert second.content_sha256 == first.content_sha256
    assert Offer.objects.get(partner=partner, sku="B-1").price == Decimal("1.00")  # untouched: skipped
    # A different feed afterwards imports again; and the same bytes as an older (not the last) import too.
    third = run_import(partner, yml(BOOKS[:3]))
    fourth = run_import(partner, data)
    assert (third.status, fourth.status) == ("succeeded", "succeeded")


def test_first_100_rejected_rows_are_kept_with_position_field_and_reason(partner):
    rows = offers(130)
    for row in rows[:120]:
        row["currency"] = "XXX"
    # Partial: a full feed with 120 of 130 rows rejected now fails whole (test_outcome.py).
    feed_import = run_import(partner, csv_feed(rows), is_full=False)

    assert (feed_import.rejected_count, feed_import.created_count) == (120, 10)
    assert len(feed_import.rejected_rows) == 100
    reason = "unknown currency 'XXX'; use an ISO 4217 code such as RUB, USD, EUR"
    assert feed_import.rejected_rows[0] == {
        "position": "line 2", "sku": "S-0", "field": "currency", "reason": reason, "value": "XXX",
        "problems": [{"field": "currency", "reason": reason, "value": "XXX"}]}
    assert feed_import.rejected_rows[99]["position"] == "line 101"


def test_a_rejected_row_leaves_nothing_behind_and_collection_is_restored(partner):
    # Automatic garbage collection is off during an import, with a young collection only every ten
    # batches (docs/feeds.md, "Seventh round"): a rejected row must leave no reference cycle behind
    # (an exception listing itself among its problems, or keeping the traceback whose frames hold
    # that list: about 40 objects a row), or the objects pile up batch after batch.
    held = []

    def count_objects(sender, **kwargs):
        held.append(len(gc.get_objects()))

    rows = offers(8000)  # four batches, every row rejected
    for row in rows:
        row["currency"] = "XXX"
    feed_import_progress.connect(count_objects)
    try:
        feed_import = run_import(partner, csv_feed(rows))
    finally:
        feed_import_progress.disconnect(count_objects)

    assert feed_import.status == "failed" and feed_import.rejected_count == 8000
    assert len(held) == 4 and held[-1] - held[0] < 20_000, held  # with a cycle a rejected row: +40,000 a batch
    assert gc.isenabled()  # back on, after a failed import too
    gc.disable()
    try:
        assert run_import(partner, csv_feed(offers(3))).status == "succeeded"
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()


def test_empty_feed_fails_and_withdraws_nothing(partner):
    run_import(partner, json_feed(offers(3)))
    feed_import = run_import(partner, b"[]", "json")

    assert feed_import.status == "failed"
    assert "lists no offers" in feed_import.message
    assert Offer.objects.filter(partner=partner, available=True).count() == 3


def test_feed_text_is_stored_as_plain_text(partner):
    rows = [{**BOOKS[0], "title": "Tom & Jerry <script>alert(1)</script>", "description": "<b>bold</b> & more"}]
    run_import(partner, yml(rows))

    item = Offer.objects.get(partner=partner, sku="B-1").item
    assert item.title == "Tom & Jerry <script>alert(1)</script>"
    assert item.description == "<b>bold</b> & more"
    assert ContentItem.objects.filter(normalized_title="tom jerry script alert 1 script").exists()


@pytest.mark.parametrize("build", [yml, csv_feed, json_feed], ids=["yml", "csv", "json"])
def test_creator_names_are_stored_exactly_as_written(partner, build):
    names = ['Jean "Le Grand" O\'Brien', "Back\\slash Ñúñez", "Фёдор Достоевский 😀"]
    run_import(partner, build([{**BOOKS[0], "creators": names}]))

    item = Offer.objects.get(partner=partner, sku="B-1").item
    assert item.creators == names
    assert item.credits == [{"name": name, "role": "author"} for name in names]
    assert item.primary_creator == names[0]


def test_url_feed_is_fetched_and_imported(partner, feed_server):
    url = feed_server.serve("/feed.xml", yml(BOOKS))
    from .helpers import run_url_import

    feed_import = run_url_import(partner, url)

    assert feed_import.status == "succeeded", feed_import.message
    assert feed_import.source_url == url and feed_import.size_bytes == len(yml(BOOKS))
    assert feed_import.created_count == 4
