"""Issue 15: feeds as real shops write them (fixtures in tests/feeds/fixtures), imported end to end."""

from decimal import Decimal
from pathlib import Path

import pytest

from catalog.models import ContentItem, FeedImport, Genre, Offer, PartnerCategoryMapping, PartnerColumnMapping

from .helpers import run_import

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def offers_of(partner) -> dict:
    return {o.sku: o for o in Offer.objects.filter(partner=partner).select_related("item")}


def rejected(feed_import) -> dict:
    """sku -> [(field, reason), ...] for every rejected row kept in the report."""
    return {row["sku"]: [(p["field"], p["reason"]) for p in row["problems"]] for row in feed_import.rejected_rows}


def test_yml_with_every_offer_type_keeps_content_and_rejects_the_rest_by_name(partner):
    feed_import = run_import(partner, fixture("shop.yml"), is_full=False)

    assert feed_import.status == "succeeded", feed_import.message
    assert feed_import.format == "yml"
    assert (feed_import.rows_total, feed_import.created_count, feed_import.rejected_count) == (17, 7, 10)
    assert feed_import.message.startswith("Warning: 10 of 17 rows were rejected and are not listed (59%).")
    assert rejected(feed_import) == {
        "paper-1": [("downloadable", "a physical copy (downloadable=false) is not sold through MoodStream")],
        "audio-cd": [("media", "physical media (MP3-CD) is not sold through MoodStream")],
        "film-dvd": [("media", "physical media (DVD) is not sold through MoodStream")],
        "album-cd": [("media", "physical media (CD) is not sold through MoodStream")],
        "album-digital": [("kind", "an album of 11 tracks is not a single track: MoodStream recommends tracks, "
                                   "so list each track as an offer of its own")],
        "tour-1": [("type", "offer type 'tour' is not content MoodStream recommends")],
        "ticket-1": [("type", "offer type 'event-ticket' is not content MoodStream recommends")],
        "vm-1": [("type", "offer type 'vendor.model' is not content MoodStream recommends unless it says its kind "
                          '(<param name="kind">book</param>)')],
        "med-1": [("type", "offer type 'medicine' is not content MoodStream recommends")],
        "alco-1": [("type", "offer type 'alco' is not content MoodStream recommends")],
    }
    offers = offers_of(partner)
    assert set(offers) == {"ebook-1", "audio-1", "audio-2", "film-1", "track-1", "vm-film", "plain-1"}

    ebook = offers["ebook-1"].item
    assert (ebook.kind, ebook.title, ebook.isbn13, ebook.barcode) == ("book", "Азазель", "9785815900011", "9785815900011")
    assert (ebook.series, ebook.publisher, ebook.language, ebook.age_rating) == (
        "Приключения Эраста Фандорина", "Захаров", "ru", 16)
    assert ebook.credits == [{"name": "Борис Акунин", "role": "author"}]
    assert list(ebook.genres.values_list("code", flat=True)) == ["detective"]

    audio = offers["audio-1"].item
    assert (audio.kind, audio.creators, audio.language, audio.publisher) == ("book", ["Лев Толстой"], "ru", "Ардис")
    assert audio.credits == [{"name": "Лев Толстой", "role": "author"}, {"name": "Александр Клюквин", "role": "narrator"}]
    assert (audio.duration_seconds, audio.length_minutes) == (45 * 60 + 23, 46)
    audio2 = offers["audio-2"].item
    assert (audio2.duration_seconds, audio2.length_minutes, audio2.age_rating) == (3723, 63, 12)
    assert [c["name"] for c in audio2.credits if c["role"] == "narrator"] == ["Ирина Ерисанова", "Олег Исаев"]

    film = offers["film-1"].item
    assert (film.kind, film.original_title, film.country, film.age_rating, film.language) == (
        "film", "Stalker", "СССР", 12, "ru")
    assert film.creators == ["Андрей Тарковский"]
    assert [c["role"] for c in film.credits] == ["director", "cast", "cast", "cast"]

    track = offers["track-1"].item
    assert (track.kind, track.creators, track.duration_seconds) == ("track", ["Кино"], 286)
    assert track.credits == [{"name": "Кино", "role": "performer"}]
    assert list(track.genres.values_list("code", flat=True)) == ["rock"]

    vm_film = offers["vm-film"]
    assert (vm_film.item.kind, vm_film.item.length_minutes, vm_film.currency, vm_film.price) == (
        "film", 150, "USD", Decimal("3.99"))
    plain = offers["plain-1"].item
    assert (plain.kind, plain.series, plain.publisher, plain.language, plain.pages) == (
        "book", "Миры братьев Стругацких", "АСТ", "en", 224)

    # Categories that mapped to nothing, with their offer counts ("Видеофильмы", "Музыка",
    # "Художественная литература" and "Аудиокниги" say the kind, so they are not listed).
    assert feed_import.unmapped_categories == [
        {"name": "Прочее", "offers": 3}, {"name": "Путешествия", "offers": 1}, {"name": "Бытовая химия", "offers": 1}]


def test_the_same_yml_as_a_full_feed_fails_whole_and_changes_nothing(partner):
    run_import(partner, fixture("shop.yml"), is_full=False)
    before = sorted(Offer.objects.filter(partner=partner).values_list("sku", "available"))
    Offer.objects.filter(partner=partner, sku="film-1").update(row_hash="")  # must stay as it is

    feed_import = run_import(partner, fixture("shop.yml").replace(b"<price>199<", b"<price>1<"), is_full=True)

    assert feed_import.status == "failed"
    assert feed_import.message.startswith(
        "Failed: 10 of 17 rows were rejected (59%), more than FEED_MAX_REJECTED_SHARE (50%) of a full feed")
    assert ("Top reasons: downloadable: a physical copy (downloadable=false) is not sold through MoodStream × 1; "
            "media: physical media (MP3-CD) is not sold through MoodStream × 1; ") in feed_import.message
    assert feed_import.message.endswith("Nothing was changed; fix these rows and import the feed again.")
    assert (feed_import.rejected_count, feed_import.created_count, feed_import.rows_total) == (10, 0, 17)
    assert len(feed_import.rejected_rows) == 10 and feed_import.rejected_reasons
    assert sorted(Offer.objects.filter(partner=partner).values_list("sku", "available")) == before
    assert Offer.objects.get(partner=partner, sku="film-1").price == Decimal("199.00")


def test_google_merchant_rss(partner):
    feed_import = run_import(partner, fixture("google_merchant.xml"))

    assert feed_import.status == "succeeded", feed_import.message
    assert feed_import.format == "merchant"  # detected from the <rss> root
    assert (feed_import.rows_total, feed_import.created_count, feed_import.rejected_count) == (8, 4, 4)
    assert rejected(feed_import) == {
        "GM-SHIRT-1": [("google_product_category", "'Apparel & Accessories > Clothing > Shirts & Tops' is not content "
                                                   "MoodStream recommends")],
        "GM-WATCH-1": [("google_product_category", "'201' is not content MoodStream recommends")],
        "GM-CD-1": [("google_product_category", "physical media (CD) is not sold through MoodStream")],
        "GM-BAD-CUR": [("currency", "unknown currency 'ABC'; use an ISO 4217 code such as RUB, USD, EUR")],
    }
    offers = offers_of(partner)
    book = offers["GM-BOOK-1"]
    assert (book.price, book.currency, book.available, book.url) == (
        Decimal("7.49"), "USD", True, "https://media.example/p/dune-ebook")  # the sale price counts
    assert (book.item.kind, book.item.isbn13, book.item.publisher, book.item.cover_url) == (
        "book", "9780441013593", "Ace", "https://media.example/img/dune.jpg")
    assert list(book.item.genres.values_list("code", flat=True)) == ["science_fiction"]
    film = offers["GM-FILM-1"]
    assert (film.item.kind, film.currency, film.available, film.item.title) == ("film", "EUR", True, "Arrival")
    assert list(film.item.genres.values_list("code", flat=True)) == ["drama"]
    track = offers["GM-TRACK-1"]
    assert (track.item.kind, track.currency, track.available) == ("track", "GBP", False)
    assert offers["GM-BOOK-2"].currency == "KZT"
    assert list(offers["GM-BOOK-2"].item.genres.values_list("code", flat=True)) == ["science_fiction"]


def test_google_merchant_atom(partner):
    feed = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:g="http://base.google.com/ns/1.0">
<title>Store</title><link rel="self" href="https://media.example/feed"/>
<entry><g:id>A-1</g:id><title>Hyperion</title><link href="https://media.example/p/hyperion"/>
<g:price>5.00 USD</g:price><g:availability>in stock</g:availability>
<g:google_product_category>Media &gt; Books</g:google_product_category></entry>
</feed>"""
    feed_import = run_import(partner, feed)

    assert (feed_import.status, feed_import.format, feed_import.created_count) == ("succeeded", "merchant", 1)
    offer = Offer.objects.select_related("item").get(partner=partner, sku="A-1")
    assert (offer.url, offer.item.kind) == ("https://media.example/p/hyperion", "book")


def test_google_merchant_tsv(partner):
    feed_import = run_import(partner, fixture("google_merchant.tsv"))

    assert feed_import.status == "succeeded", feed_import.message
    assert feed_import.format == "merchant"  # detected from the header
    assert (feed_import.created_count, feed_import.rejected_count) == (2, 2)
    assert set(rejected(feed_import)) == {"GT-SOFT-1", "GT-BAG-1"}
    offers = offers_of(partner)
    assert (offers["GT-FILM-1"].price, offers["GT-FILM-1"].currency, offers["GT-FILM-1"].item.kind) == (
        Decimal("2.99"), "GBP", "film")
    assert list(offers["GT-FILM-1"].item.genres.values_list("code", flat=True)) == ["family"]
    assert offers["GT-BOOK-1"].item.isbn13 == "9780441478125"


def test_meta_catalog_csv(partner):
    feed_import = run_import(partner, fixture("meta_catalog.csv"))

    assert feed_import.status == "succeeded", feed_import.message
    assert (feed_import.format, feed_import.created_count, feed_import.rejected_count) == ("merchant", 3, 2)
    assert rejected(feed_import) == {
        "MB-4": [("google_product_category", "'Apparel & Accessories > Jewelry > Watches' is not content MoodStream "
                                             "recommends")],
        "MB-5": [("google_product_category", "\"clothing & accessories > clothing > women's clothing\" is not content "
                                             "MoodStream recommends")],
    }
    offers = offers_of(partner)
    assert (offers["MB-1"].price, offers["MB-1"].currency, offers["MB-1"].url) == (
        Decimal("249.00"), "BDT", "https://boi.example/p/gitanjali")
    assert [offers[sku].item.kind for sku in ("MB-1", "MB-2", "MB-3")] == ["book", "film", "track"]


def test_foreign_language_csv_through_a_column_mapping(partner):
    data = fixture("woocommerce_de.csv")
    unmapped = run_import(partner, data)
    assert unmapped.status == "failed"
    assert unmapped.message.startswith("Not a CSV feed: missing required columns sku, url, price")

    for column, field in {"Artikelnummer": "sku", "Name": "title", "Autor": "creators", "Kategorien": "genres",
                          "Regulärer Preis": "price", "Währung": "currency", "Link": "url", "Bild": "picture",
                          "Sprache": "language", "Seiten": "pages", "Erscheinungsjahr": "year",
                          "Lagerbestand": "available"}.items():
        PartnerColumnMapping.objects.create(partner=partner, column=column, field=field)
    feed_import = run_import(partner, data)

    assert feed_import.status == "succeeded", feed_import.message
    assert (feed_import.created_count, feed_import.rejected_count) == (3, 0)
    assert feed_import.unmapped_categories == [{"name": "Klassiker", "offers": 2}, {"name": "Romane", "offers": 1}]
    offers = offers_of(partner)
    steppenwolf = offers["DE-1"]
    assert (steppenwolf.price, steppenwolf.currency, steppenwolf.available) == (Decimal("9.99"), "EUR", True)
    assert (steppenwolf.item.kind, steppenwolf.item.language, steppenwolf.item.pages, steppenwolf.item.year) == (
        "book", "de", 256, 1927)
    assert offers["DE-2"].item.language == "de" and offers["DE-3"].available is False

    # The partner maps its category; the next import gives those offers' new items the genre.
    PartnerCategoryMapping.objects.create(partner=partner, category="klassiker",
                                          genre=Genre.objects.get(kind="book", code="classics"))
    ContentItem.objects.all().delete()
    again = run_import(partner, data + b"\n")
    assert again.unmapped_categories == [{"name": "Romane", "offers": 1}]
    assert list(Offer.objects.get(partner=partner, sku="DE-1").item.genres.values_list("code", flat=True)) == [
        "classics"]


def test_json_list_with_no_valid_row_fails_with_every_reason(partner):
    feed_import = run_import(partner, fixture("no_valid_rows.json"), is_full=False)

    assert feed_import.status == FeedImport.Status.FAILED
    assert feed_import.message.startswith("Failed: all 4 rows were rejected, none is valid. Top reasons: ")
    assert (feed_import.rows_total, feed_import.rejected_count, feed_import.created_count) == (4, 4, 0)
    assert rejected(feed_import) == {
        "J-1": [("url", "only http:// and https:// URLs are accepted"), ("price", "not a number")],
        "J-2": [("title", "missing"), ("price", "negative prices are not accepted"),
                ("currency", "unknown currency 'XYZ'; use an ISO 4217 code such as RUB, USD, EUR")],
        "J-3": [("kind", "use film, book, audiobook or track")],
        "J-4": [("price", "not a number"), ("kind", "missing: say film, book, audiobook or track")],
    }
    assert {"field": "price", "reason": "not a number", "count": 2} in feed_import.rejected_reasons
    assert not Offer.objects.exists() and not ContentItem.objects.exists()
