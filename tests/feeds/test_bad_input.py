"""Issue 3, "Bad input": each line is a test here. A bad row is rejected with its reason and the
rest imports; a bad file fails the import and leaves the catalogue untouched."""

import tracemalloc

import pytest

from catalog.models import ContentItem, FeedImport, Offer

from .feeds import BOOKS, csv_feed, json_feed, offers, yml
from .helpers import run_import, run_url_import

pytestmark = pytest.mark.django_db


def snapshot(partner) -> tuple:
    return (
        ContentItem.objects.count(),
        sorted(Offer.objects.filter(partner=partner).values_list("sku", "price", "available", "row_hash")),
    )


@pytest.fixture
def stocked(partner):
    """A partner with offers already imported, to show a failed import changes none of them."""
    assert run_import(partner, json_feed(offers(5))).status == "succeeded"
    return partner


@pytest.mark.parametrize("fmt, data, expected", [
    ("yml", b"sku,title,url,price\n1,Dune,https://s.example/1,10\n", "Not a YML feed: syntax error: line 1, column 0"),
    ("yml", b"<html><body>Not found</body></html>", "Not a YML feed: the root element is <html>, expected <yml_catalog>"),
    ("csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "Not a CSV feed: "),
    ("csv", yml(BOOKS), "Not a CSV feed: missing required columns"),
    ("json", b"<?xml version='1.0'?><yml_catalog/>", "Not a JSON feed: expected an array of offers or JSON Lines"),
    ("json", b'[{"sku": "A", "price": 1}, {"sku": ', "Not a JSON feed: "),
    ("json", b'{"sku": "A"}\n{"sku": "B", oops}\n', "Not a JSON feed: line 2: "),
], ids=["csv-as-yml", "html-as-yml", "binary-as-csv", "yml-as-csv", "xml-as-json", "truncated-json", "bad-json-line"])
def test_not_a_feed_of_the_format_fails_and_changes_nothing(stocked, fmt, data, expected):
    before = snapshot(stocked)
    feed_import = run_import(stocked, data, fmt)

    assert feed_import.status == FeedImport.Status.FAILED
    assert feed_import.message.startswith(expected), feed_import.message
    assert feed_import.message.endswith("Nothing was changed.")
    assert snapshot(stocked) == before


def test_truncated_xml_fails_and_commits_nothing_from_it(stocked):
    before = snapshot(stocked)
    # 5,000 offers with new SKUs cut in the middle: the first write batch (2,000) is sent first.
    data = yml(offers(5000, prefix="NEW"))
    feed_import = run_import(stocked, data[: len(data) // 2], "yml")

    assert feed_import.status == "failed"
    assert feed_import.message.startswith("Not a YML feed: ")
    assert ": line 2" in feed_import.message  # where it broke off
    # Nothing from the first (already written) batch survived, and the withdrawal did not run.
    assert snapshot(stocked) == before
    assert not Offer.objects.filter(sku__startswith="NEW").exists()


@pytest.mark.parametrize("change, field, reason", [
    ({"price": ""}, "price", "missing: every offer needs a price (0 for free offers)"),
    ({"price": "-10"}, "price", "negative prices are not accepted"),
    ({"currency": "DOGE"}, "currency", "unknown currency 'DOGE'; use an ISO 4217 code such as RUB, USD, EUR"),
    ({"url": "javascript:alert(document.cookie)"}, "url", "only http:// and https:// URLs are accepted"),
    ({"url": "ftp://bookshop.example/1"}, "url", "only http:// and https:// URLs are accepted"),
    ({"description": "x" * (10 * 1024 * 1024)}, "description", "10,485,760 characters, at most 20,000 are allowed"),
], ids=["no-price", "negative-price", "unknown-currency", "javascript-url", "ftp-url", "10mb-description"])
@pytest.mark.parametrize("build", [yml, csv_feed, json_feed], ids=["yml", "csv", "json"])
def test_bad_row_is_rejected_with_its_reason_and_the_rest_imported(partner, build, change, field, reason):
    rows = offers(4)
    rows[2].update(change)
    feed_import = run_import(partner, build(rows))

    assert feed_import.status == "succeeded", feed_import.message
    assert (feed_import.created_count, feed_import.rejected_count) == (3, 1)
    [rejected] = feed_import.rejected_rows
    assert (rejected["sku"], rejected["field"], rejected["reason"]) == ("S-2", field, reason)
    assert rejected["position"].startswith({yml: "offer #3", csv_feed: "line 4", json_feed: "element #3"}[build])
    assert len(rejected["value"]) <= 200
    assert sorted(Offer.objects.filter(partner=partner).values_list("sku", flat=True)) == ["S-0", "S-1", "S-3"]
    assert not Offer.objects.filter(url__startswith="javascript").exists()


@pytest.mark.parametrize("build", [yml, csv_feed, json_feed], ids=["yml", "csv", "json"])
def test_duplicate_sku_inside_one_feed_is_rejected(partner, build):
    rows = offers(3)
    rows.append({**rows[0], "price": "999"})
    feed_import = run_import(partner, build(rows))

    assert (feed_import.created_count, feed_import.rejected_count) == (3, 1)
    assert feed_import.rejected_rows[0]["field"] == "sku"
    assert feed_import.rejected_rows[0]["reason"] == "duplicate: an earlier offer in this feed has the same SKU"
    assert Offer.objects.get(partner=partner, sku="S-0").price == 100  # the first one counts


def test_xml_bomb_is_refused_quickly_with_bounded_memory(stocked):
    lol = "".join(f'<!ENTITY lol{i} "{"&lol%d;" % (i - 1) * 10}">' for i in range(1, 10))
    bomb = (f'<?xml version="1.0"?><!DOCTYPE yml_catalog [<!ENTITY lol0 "lol">{lol}]>'
            "<yml_catalog><shop><offers><offer id=\"1\"><name>&lol9;</name></offer></offers></shop></yml_catalog>")
    before = snapshot(stocked)
    tracemalloc.start()
    try:
        feed_import = run_import(stocked, bomb.encode(), "yml")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert feed_import.status == "failed"
    assert "entity declarations and external entities are refused" in feed_import.message
    assert peak < 20 * 1024 * 1024  # the expansion would be 10^9 × "lol"
    assert snapshot(stocked) == before


def test_external_entity_is_refused(partner):
    feed = (b'<?xml version="1.0"?><!DOCTYPE yml_catalog [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b'<yml_catalog><shop><offers><offer id="1"><name>&xxe;</name></offer></offers></shop></yml_catalog>')
    feed_import = run_import(partner, feed, "yml")

    assert feed_import.status == "failed"
    assert "refused" in feed_import.message
    assert not Offer.objects.exists()


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "[::1]", "localhost"])
def test_feed_url_on_a_private_address_is_refused_when_the_setting_is_off(stocked, settings, feed_server, host):
    settings.FEED_ALLOW_PRIVATE_ADDRESSES = False
    feed_server.serve("/feed.yml", yml(BOOKS))
    port = feed_server.httpd.server_address[1]
    before = snapshot(stocked)

    feed_import = run_url_import(stocked, f"http://{host}:{port}/feed.yml")

    assert feed_import.status == "failed"
    assert feed_import.message.startswith(f"Refused to fetch the feed from {host.strip('[]')} (")
    assert "set FEED_ALLOW_PRIVATE_ADDRESSES=true to allow" in feed_import.message
    assert feed_server.hits["/feed.yml"] == 0
    assert snapshot(stocked) == before


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/feed.yml", "gopher://x/"])
def test_only_http_and_https_feed_urls_are_fetched(partner, url):
    feed_import = run_url_import(partner, url)

    assert feed_import.status == "failed"
    assert feed_import.message.startswith("Only http:// and https:// feed URLs are fetched")


def test_titles_with_markup_stay_text_in_the_admin(admin_client, partner):
    rows = [{**BOOKS[0], "title": "Tom & Jerry <script>alert(1)</script>"},
            {**BOOKS[1], "sku": "<script>x</script>", "price": "-1"}]
    feed_import = run_import(partner, yml(rows))
    item = Offer.objects.get(partner=partner, sku="B-1").item

    detail = admin_client.get(f"/admin/catalog/feedimport/{feed_import.pk}/change/").content.decode()
    listing = admin_client.get("/admin/catalog/contentitem/?q=Jerry").content.decode()
    item_page = admin_client.get(f"/admin/catalog/contentitem/{item.pk}/change/").content.decode()

    assert "&lt;script&gt;x&lt;/script&gt;" in detail and "<script>x</script>" not in detail
    assert "Book &amp; &lt;Shop&gt;" in detail
    for page in (listing, item_page):
        assert "Tom &amp; Jerry &lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<script>alert(1)</script>" not in page
