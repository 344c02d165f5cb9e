"""The value rules of feed rows: durations, languages, ages, prices with their currency, format detection."""

from decimal import Decimal

import pytest

from catalog.feeds.languages import iso_639_1
from catalog.feeds.parsers import detect_format
from catalog.feeds.rows import OfferRow
from catalog.feeds.validation import RowRejected, parse_age, parse_duration, split_amount, validate_row


@pytest.mark.parametrize("text, seconds", [
    ("45m23s", 2723), ("1:02:03", 3723), ("45:23", 2723), ("PT1H2M3S", 3723), ("1 ч 30 мин", 5400),
    ("2h 49m", 10140), ("169 min", 10140), ("169", 10140), ("90 сек", 90), ("1.5 h", 5400),
])
def test_durations(text, seconds):
    assert parse_duration(text, "length") == seconds


@pytest.mark.parametrize("text", ["soon", "1:xx", "0", "45 parsecs"])
def test_a_bad_duration_is_rejected(text):
    with pytest.raises(RowRejected, match="length: "):
        parse_duration(text, "length")


@pytest.mark.parametrize("text, code", [
    ("rus", "ru"), ("RU", "ru"), ("ru-RU", "ru"), ("ru_RU", "ru"), ("Русский", "ru"), ("eng", "en"),
    ("English", "en"), ("ger", "de"), ("deu", "de"), ("Deutsch", "de"), ("fre", "fr"), ("jpn", "ja"), ("zh-Hans", "zh"),
    ("ukr", "uk"), ("kk", "kk"),
])
def test_languages_become_iso_639_1(text, code):
    assert iso_639_1(text) == code


def test_an_unknown_language_is_none():
    assert iso_639_1("klingonese") is None


@pytest.mark.parametrize("text, age", [("16+", 16), ("6", 6), ("18 лет", 18), ("0+", 0), ("6 month", 0), ("12 year", 12)])
def test_ages(text, age):
    assert parse_age(text) == age


@pytest.mark.parametrize("text, parts", [("299 BDT", ("299", "BDT")), ("USD 15.00", ("15.00", "USD")),
                                          ("15.00", ("15.00", "")), ("1 299,00 RUB", ("1 299,00", "RUB"))])
def test_amount_and_code(text, parts):
    assert split_amount(text) == parts


def test_price_code_and_currency_column_must_agree():
    row = OfferRow(position="line 2", sku="A", title="T", url="https://s.example/a", price="10 EUR", currency="USD",
                   kind="book")
    with pytest.raises(RowRejected) as caught:
        validate_row(row, max_description_chars=100)
    assert (caught.value.field, caught.value.reason) == ("currency", "the price is in EUR but the currency says USD")


def test_any_iso_4217_currency_is_kept():
    row = OfferRow(position="line 2", sku="A", title="T", url="https://s.example/a", price="1500", currency="isk",
                   kind="film")
    offer = validate_row(row, max_description_chars=100)
    assert (offer.currency, offer.price) == ("ISK", Decimal("1500.00"))


@pytest.mark.parametrize("head, fmt", [
    (b'<?xml version="1.0"?>\n<!DOCTYPE yml_catalog SYSTEM "shops.dtd">\n<yml_catalog>', "yml"),
    (b'<?xml version="1.0"?><!-- made by a shop --><rss xmlns:g="http://base.google.com/ns/1.0" version="2.0">',
     "merchant"),
    (b'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:g="http://base.google.com/ns/1.0">', "merchant"),
    (b"id\ttitle\tdescription\tlink\timage_link\tprice\n", "merchant"),
    (b"g:id,g:title,g:link,g:price,g:availability\n", "merchant"),
    (b"sku,title,url,price\n", "csv"),
    (b"[{", "json"),
])
def test_format_detection(head, fmt):
    assert detect_format(head) == fmt


def _fixture_rows():
    from pathlib import Path

    from catalog.feeds.parsers import parser_for
    from catalog.feeds.rows import FeedFormatError

    rows = []
    for path in sorted((Path(__file__).parent / "fixtures").iterdir()):
        with path.open("rb") as stream:
            parser = parser_for(detect_format(stream.read(4096)))
            stream.seek(0)
            try:
                rows += list(parser.rows(stream))
            except FeedFormatError:
                pass  # a fixture of a broken file adds no rows
    return rows


_HAND_ROWS = [
    OfferRow("1", sku="a", title="T", url="https://x.example/a", price="300 USD", sale_price="250 USD", kind="book",
             pages="12", creators=("A", " "), genres=("x", ""), isbn="0-306-40615-2"),
    OfferRow("2", sku="b", title="T", url="https://x.example/b", price="300", sale_price="250 USD", kind="film"),
    OfferRow("3", sku="c", title="T", url="https://x.example/c", price="3", kind="film", pages="100"),
    OfferRow("4", sku="d", title="T", url="https://x.example/d", price="3", kind="track", length="3:20", tempo="120",
             isrc="US-UM7-17-03861", mode="minor", age="16+", barcode="4006381333931"),
    OfferRow("5", sku="e", title="T\x00", url="https://x.example/e", price="3", kind="film"),
    OfferRow("6", sku="f", title="T", url="https://x.example/f", price="3", offer_type="lease", kind="film"),
    OfferRow("7", sku="g", title="T", url="", price="3", kind="film", description="x" * 50),
]


@pytest.mark.parametrize("row", _fixture_rows() + _HAND_ROWS, ids=lambda row: row.position)
def test_the_straight_pass_agrees_with_the_full_one(row):
    # validate_row tries a straight pass first and takes the full pass on any problem: for a
    # row the straight pass accepts, both must give the same offer.
    from catalog.feeds.validation import _every_problem, _valid_row

    try:
        fast = _valid_row(row, 40)
    except RowRejected:
        fast = None
    try:
        full = _every_problem(row, max_description_chars=40)
    except RowRejected:
        full = None
    if fast is not None:
        assert fast == full
    assert (validate_row(row, max_description_chars=40) if full is not None else None) == full
