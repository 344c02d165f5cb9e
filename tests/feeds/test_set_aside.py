"""A YML re-import sets the offers stored as they are aside before expat reads them
(catalog/feeds/parsers.py, OfferSources): whatever it sets aside, the partner sees exactly what
reading the whole file gives, and an offer whose row would change is read."""

import pytest

from catalog.feeds import parsers
from catalog.feeds.importer import StoredDigests
from catalog.feeds.parsers import UnchangedOffer
from catalog.feeds.rows import FeedFormatError
from catalog.models import Genre, Offer, PartnerCategoryMapping
from tests.factories import PartnerFactory

from .feeds import offers, yml
from .helpers import rows_with_sources, run_import


@pytest.fixture(autouse=True, params=["chunks of 256 KiB", "chunks of 700 bytes"])
def _chunk_bytes(request, monkeypatch):
    """Each test with the parser's own chunks (a small feed is one chunk), then with chunks shorter
    than an offer, so offers and tags straddle every chunk boundary (the parser in this process:
    test_reader_process runs these tests again with the reader's own chunks)."""
    if request.param == "chunks of 700 bytes":
        monkeypatch.setattr(parsers, "CHUNK_BYTES", 700)
    return request.param


# The export's date changes with each export, so the file's own hash never skips it.
LATER = b'date="2026-11-29 10:00"'


def _later(data: bytes) -> bytes:
    return data.replace(b'date="2026-11-28 10:00"', LATER)


def _read_with_sources(partner, data: bytes) -> list:
    return list(rows_with_sources(partner, data))


def _report(feed_import) -> tuple:
    return (feed_import.status, feed_import.rows_total, feed_import.created_count, feed_import.updated_count,
            feed_import.unchanged_count, feed_import.rejected_count, feed_import.withdrawn_count)


def test_a_reimport_sets_the_stored_offers_aside_and_reads_the_changed_one(partner):
    rows = offers(50)
    assert run_import(partner, yml(rows), "yml").status == "succeeded"
    rows[20]["price"] = "150"
    data = _later(yml(rows))

    read = _read_with_sources(partner, data)
    assert [row.sku for row in read if not isinstance(row, UnchangedOffer)] == ["S-20"]
    assert len(read) == 50

    again = run_import(partner, data, "yml")
    assert _report(again) == ("succeeded", 50, 0, 1, 49, 0, 0)
    assert str(Offer.objects.get(sku="S-20").price) == "150.00"


def test_a_windows_1251_feed_is_set_aside_and_read_the_same(partner):
    rows = offers(12)
    rows[4]["title"] = "Мастер и Маргарита"
    first = yml(rows, encoding="windows-1251")
    assert run_import(partner, first, "yml").status == "succeeded"
    rows[9]["price"] = "120"
    second = _later(yml(rows, encoding="windows-1251"))
    assert sum(isinstance(row, UnchangedOffer) for row in _read_with_sources(partner, second)) == 11

    again = run_import(partner, second, "yml")
    assert _report(again) == ("succeeded", 12, 0, 1, 11, 0, 0)
    assert Offer.objects.get(sku="S-4").item.title == "Мастер и Маргарита"
    # The same bytes declared in another encoding read differently: every offer is read again.
    assert not any(isinstance(row, UnchangedOffer) for row in _read_with_sources(
        partner, second.replace(b'encoding="windows-1251"', b'encoding="koi8-r"')))


def _in_category(rows: list[dict], count: int, category: str) -> list[dict]:
    """The rows, the first `count` of them in `category`."""
    for row in rows[:count]:
        row["genres"] = [category]
    return rows


def _bad(rows: list[dict]) -> list[dict]:
    rows[3]["price"] = "-5"
    rows[7]["url"] = "javascript:alert(1)"
    return rows


@pytest.mark.parametrize("layout", ["an offer a line", "pretty-printed"])
def test_rejections_after_offers_set_aside_keep_their_positions(partner, layout):
    def laid_out(data: bytes) -> bytes:
        return data.replace(b"><", b">\n    <") if layout == "pretty-printed" else data

    rows = offers(30)
    first = laid_out(yml(rows))
    rows = _bad(rows)
    rows.append({**offers(31)[30], "price": "free"})
    second = laid_out(_later(yml(rows)))
    assert run_import(partner, first, "yml").status == "succeeded"
    assert sum(isinstance(row, UnchangedOffer) for row in _read_with_sources(partner, second)) == 28

    again = run_import(partner, second, "yml")
    fresh = run_import(PartnerFactory(code="fresh"), second, "yml")
    assert _report(again) == ("succeeded", 31, 0, 0, 28, 3, 0)
    assert again.rejected_rows == fresh.rejected_rows
    lines = [second[:second.index(f'<offer id="{sku}"'.encode())].count(b"\n") + 1 for sku in ("S-3", "S-7", "S-30")]
    assert [row["position"] for row in again.rejected_rows] == [
        f"offer #4 (line {lines[0]})", f"offer #8 (line {lines[1]})", f"offer #31 (line {lines[2]})"]


def test_a_feed_on_one_line_keeps_its_positions_too(partner):
    rows = offers(30)
    first = yml(rows).replace(b">\n<", b"><")
    rows = _bad(rows)
    rows.append({**offers(31)[30], "price": "free"})
    second = _later(yml(rows)).replace(b">\n<", b"><")
    assert run_import(partner, first, "yml").status == "succeeded"
    assert sum(isinstance(row, UnchangedOffer) for row in _read_with_sources(partner, second)) == 28
    again = run_import(partner, second, "yml")
    fresh = run_import(PartnerFactory(code="fresh"), second, "yml")
    assert again.rejected_rows == fresh.rejected_rows
    assert [row["position"] for row in again.rejected_rows] == [
        "offer #4 (line 1)", "offer #8 (line 1)", "offer #31 (line 1)"]


def _set_aside_before_the_error(partner, data: bytes) -> int:
    read = []
    with pytest.raises(FeedFormatError):
        for row in rows_with_sources(partner, data):
            read.append(row)
    return sum(isinstance(row, UnchangedOffer) for row in read)


def test_a_file_broken_after_offers_set_aside_fails_with_a_first_reads_message(partner):
    rows = offers(30)
    first = yml(rows)
    assert run_import(partner, first, "yml").status == "succeeded"
    for index, second in enumerate([_later(first).replace(b"</offers>", b"<offer id='late'><price>1</offer></offers>"),
                                    _later(first).replace(b"</offers>", b"").replace(b">\n<", b"><")]):
        if parsers.CHUNK_BYTES < len(second):  # rows are handed on chunk by chunk
            assert _set_aside_before_the_error(partner, second) >= 25
        again = run_import(partner, second, "yml")
        fresh = run_import(PartnerFactory(code=f"fresh-{index}"), second, "yml")
        assert again.status == fresh.status == "failed"
        assert again.message == fresh.message
        assert "line" in again.message and "column" in again.message
    assert Offer.objects.filter(partner=partner, available=True).count() == 30


def test_a_renamed_category_rereads_the_offers_it_names(partner):
    first = yml(_in_category(offers(6), 4, "Фантастика"))
    assert run_import(partner, first, "yml").status == "succeeded"
    second = _later(first).replace("Фантастика".encode(), "Детективы".encode())
    assert second.count("Детективы".encode()) == 1  # only the <category> changed: the offers' bytes did not

    again = run_import(partner, second, "yml")
    assert _report(again) == ("succeeded", 6, 0, 4, 2, 0, 0)


def test_a_changed_category_mapping_rereads_the_offers_it_maps(partner):
    first = yml(_in_category(offers(6), 3, "Полка 7"))
    books = Genre.objects.filter(kind="book").order_by("code")
    mapping = PartnerCategoryMapping.objects.create(partner=partner, category="полка 7", kind="book", genre=books[0])
    assert run_import(partner, first, "yml").status == "succeeded"
    mapping.genre = books[1]
    mapping.save()

    again = run_import(partner, _later(first), "yml")
    assert _report(again) == ("succeeded", 6, 0, 3, 3, 0, 0)


def test_unmapped_categories_are_counted_on_every_import(partner):
    first = yml(_in_category(offers(8), 5, "Всякое разное"))
    counted = run_import(partner, first, "yml").unmapped_categories
    assert counted == [{"name": "Всякое разное", "offers": 5}]
    again = run_import(partner, _later(first), "yml")
    assert again.unchanged_count == 8
    assert again.unmapped_categories == counted


def test_a_copy_of_a_stored_offer_in_a_comment_is_not_an_offer(partner):
    first = yml(offers(10))
    assert run_import(partner, first, "yml").status == "succeeded"
    third = first[first.index(b"<offer id=\"S-3\""):first.index(b"</offer>", first.index(b"<offer id=\"S-3\"")) + 8]
    second = _later(first).replace(b"\n</offers>", b"\n<!-- " + third + b" -->\n</offers>")

    again = run_import(partner, second, "yml")
    assert _report(again) == ("succeeded", 10, 0, 0, 10, 0, 0)


def test_a_stored_offer_listed_twice_is_a_duplicate_where_it_stands(partner):
    first = yml(offers(10))
    assert run_import(partner, first, "yml").status == "succeeded"
    third = first[first.index(b"<offer id=\"S-3\""):first.index(b"</offer>", first.index(b"<offer id=\"S-3\"")) + 8]
    second = _later(first).replace(b"\n</offers>", b"\n" + third + b"\n</offers>")
    assert sum(isinstance(row, UnchangedOffer) for row in _read_with_sources(partner, second)) == 11

    again = run_import(partner, second, "yml")
    assert _report(again) == ("succeeded", 11, 0, 0, 10, 1, 0)
    assert again.rejected_rows[0]["position"] == "offer #11 (line 14)"
    assert again.rejected_rows[0]["reason"].startswith("duplicate")


def test_a_withdrawn_offer_listed_again_as_it_was_comes_back(partner):
    rows = offers(5)
    first = yml(rows)
    assert run_import(partner, first, "yml").status == "succeeded"
    assert run_import(partner, yml(rows[:4]), "yml").withdrawn_count == 1

    again = run_import(partner, _later(first), "yml")
    assert _report(again) == ("succeeded", 5, 0, 1, 4, 0, 0)
    assert Offer.objects.get(sku="S-4").available


def test_offers_read_differently_are_read_in_full(partner):
    first = yml(offers(5))
    assert run_import(partner, first, "yml").status == "succeeded"
    with_subset = _later(first).replace(b'"shops.dtd">', b'"shops.dtd" [<!ATTLIST offer available CDATA "true">]>')
    with_namespace = _later(first).replace(b"<yml_catalog ", b'<yml_catalog xmlns:x="urn:x" ')
    for data in (with_subset, with_namespace):
        assert not any(isinstance(row, UnchangedOffer) for row in _read_with_sources(partner, data))
    # Once set aside, offers rewritten with other white space are read, and stored as written.
    spaced = _later(first).replace(b"><price>", b">\n  <price>")
    assert not any(isinstance(row, UnchangedOffer) for row in _read_with_sources(partner, spaced))
    assert _report(run_import(partner, spaced, "yml")) == ("succeeded", 5, 0, 0, 5, 0, 0)
    assert sum(isinstance(row, UnchangedOffer) for row in _read_with_sources(partner, spaced.replace(
        LATER, b'date="2026-11-30 10:00"'))) == 5


def test_stored_hashes_are_found_whatever_their_first_bytes():
    """The partner's stored hashes are searched by their first 8 bytes: hashes that share them,
    or end in zero bytes, are each found, and nothing else is."""
    import random

    rng = random.Random(7)
    stored = [rng.randbytes(16) for _ in range(3000)]
    stored += [stored[0][:8] + rng.randbytes(8) for _ in range(4)]  # the same first 8 bytes
    stored += [bytes(8) + rng.randbytes(8), rng.randbytes(8) + bytes(8)]
    rows, sources = StoredDigests.gather(len(stored), [b"".join(digest + digest for digest in stored)])
    wanted = stored[::5] + stored[-6:] + [rng.randbytes(16) for _ in range(50)] + [stored[0][:8] + b"elsewise"]
    expected = [digest in set(stored) for digest in wanted]
    assert sum(expected) == len(stored[::5]) + 6
    assert rows.contains(wanted) == sources.contains(wanted) == expected
    assert StoredDigests.from_packed(rows.packed()).contains(wanted) == expected


def test_a_release_that_changes_the_parsing_code_reads_every_offer_again(partner, monkeypatch):
    first = yml(offers(8))
    assert run_import(partner, first, "yml").status == "succeeded"
    assert sum(isinstance(row, UnchangedOffer) for row in _read_with_sources(partner, _later(first))) == 8

    monkeypatch.setattr(parsers, "PARSING_CODE", bytes(32))
    assert not any(isinstance(row, UnchangedOffer) for row in _read_with_sources(partner, _later(first)))
