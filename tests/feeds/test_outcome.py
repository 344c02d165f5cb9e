"""Issue 15 items 1-2 and issue 16's control characters: an honest outcome and every reason of a row."""

import json

import pytest
from django.core.management import CommandError, call_command

from catalog.models import FeedImport, Offer

from .feeds import csv_feed, json_feed, offers
from .helpers import run_import

pytestmark = pytest.mark.django_db


def test_a_row_reports_every_field_at_fault(partner):
    rows = offers(3)
    rows[1].update(sku="", url="", price="", year="someday")
    feed_import = run_import(partner, csv_feed(rows))

    [row] = feed_import.rejected_rows
    assert (row["position"], row["field"], row["reason"]) == ("line 3", "sku", "missing: every offer needs its own id (SKU)")
    assert [(p["field"], p["reason"]) for p in row["problems"]] == [
        ("sku", "missing: every offer needs its own id (SKU)"), ("url", "missing"),
        ("price", "missing: every offer needs a price (0 for free offers)"), ("year", "not a year")]


@pytest.mark.parametrize("share, status", [(0.5, "failed"), (0.7, "succeeded")])
def test_a_full_feed_with_too_many_rejected_rows_fails_and_withdraws_nothing(partner, settings, share, status):
    settings.FEED_MAX_REJECTED_SHARE = share
    run_import(partner, json_feed(offers(10)))
    rows = offers(10)
    for row in rows[:6]:
        row["price"] = "n/a"
    rows = rows[:9]  # S-9 is missing: a successful full feed withdraws it

    feed_import = run_import(partner, json_feed(rows), is_full=True)

    assert feed_import.status == status, feed_import.message
    assert (feed_import.rows_total, feed_import.rejected_count) == (9, 6)
    assert feed_import.rejected_reasons == [{"field": "price", "reason": "not a number", "count": 6}]
    withdrawn = Offer.objects.get(partner=partner, sku="S-9").available is False
    if status == "failed":
        assert feed_import.message == (
            "Failed: 6 of 9 rows were rejected (67%), more than FEED_MAX_REJECTED_SHARE (50%) of a full feed, which "
            "would withdraw the offers they describe. Top reasons: price: not a number × 6. Nothing was changed; fix "
            "these rows and import the feed again.")
        assert (feed_import.created_count, feed_import.updated_count, feed_import.withdrawn_count) == (0, 0, 0)
        assert not withdrawn
    else:
        assert feed_import.message.startswith("Warning: 6 of 9 rows were rejected and are not listed (67%). "
                                              "Top reasons: price: not a number × 6.")
        assert withdrawn


def test_a_partial_feed_with_most_rows_rejected_still_imports_its_valid_rows(partner):
    rows = offers(10)
    for row in rows[:8]:
        row["url"] = "mailto:x@example.com"
    feed_import = run_import(partner, csv_feed(rows), is_full=False)

    assert (feed_import.status, feed_import.created_count, feed_import.rejected_count) == ("succeeded", 2, 8)


def test_import_feed_command_exits_non_zero_when_no_row_is_valid(partner, tmp_path, capsys):
    rows = offers(3)
    for row in rows:
        row["currency"] = "QQQ"
    path = tmp_path / "feed.json"
    path.write_bytes(json_feed(rows))

    with pytest.raises(CommandError, match=r"^Import failed: Failed: all 3 rows were rejected, none is valid"):
        call_command("import_feed", "--partner", partner.code, "--file", str(path))

    out = capsys.readouterr().out
    assert "3 × currency: unknown currency 'QQQ'" in out
    assert "rejected element #1 (line 2) sku='S-0': currency: unknown currency 'QQQ'" in out
    assert FeedImport.objects.get().status == "failed"


def test_import_feed_command_warns_about_rejected_rows(partner, tmp_path, capsys):
    rows = offers(4)
    rows[0]["price"] = "-1"
    path = tmp_path / "feed.csv"
    path.write_bytes(csv_feed(rows))

    call_command("import_feed", "--partner", partner.code, "--file", str(path))

    out, err = capsys.readouterr()
    assert "WARNING: 1 of 4 rows were rejected and are not listed." in err
    assert "1 × price: negative prices are not accepted" in out


def test_partner_api_status_says_failed_with_reasons(api_client, partner, django_capture_on_commit_callbacks):
    from catalog.services import partner_issue_api_token

    token = partner_issue_api_token(partner=partner)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post("/api/v1/partner/feeds?format=json", data=b'[{"sku": "A", "title": "T"}]',
                                   content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    data = api_client.get(response.json()["status_url"], HTTP_AUTHORIZATION=f"Bearer {token}").json()

    assert (data["status"], data["has_rejected_rows"], data["counts"]["rejected"]) == ("failed", True, 1)
    assert data["message"].startswith("Failed: all 1 rows were rejected")
    assert {"field": "url", "reason": "missing", "count": 1} in data["rejected_reasons"]
    assert [p["field"] for p in data["rejected_rows"][0]["problems"]] == ["url", "price", "kind"]


def test_admin_shows_a_succeeded_import_with_rejected_rows_prominently(admin_client, partner):
    rows = offers(4)
    rows[1]["price"] = "abc"
    rows[1]["url"] = "ftp://x"
    feed_import = run_import(partner, csv_feed(rows))

    listing = admin_client.get("/admin/catalog/feedimport/").content.decode()
    detail = admin_client.get(f"/admin/catalog/feedimport/{feed_import.pk}/change/").content.decode()

    assert "1 of 4 rows rejected" in listing
    assert "1 of 4 rows of this feed were rejected and are not listed" in detail  # the warning message
    assert "only http:// and https:// URLs are accepted" in detail and "not a number" in detail  # both problems


@pytest.mark.parametrize("field", ["sku", "title", "description", "creators", "url"])
@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x08"], ids=["nul", "esc", "backspace"])
def test_a_control_character_rejects_that_row_alone_naming_the_field(partner, field, char):
    rows = offers(4)
    value = rows[2].get(field, "Text")
    rows[2][field] = [value[0] + char] if isinstance(value, list) else f"{value}{char}x"
    rows[3]["description"] = "Line one\nLine two\tand a tab"  # tab and newline are text
    feed_import = run_import(partner, csv_feed(rows))

    assert feed_import.status == "succeeded", feed_import.message
    assert (feed_import.created_count, feed_import.rejected_count) == (3, 1)
    [row] = feed_import.rejected_rows
    assert row["problems"][0]["field"] == field
    assert row["problems"][0]["reason"] == f"contains the control character U+{ord(char):04X}"
    assert "\x00" not in str(row)
    assert Offer.objects.get(partner=partner, sku="S-3").item.description == "Line one\nLine two\tand a tab"


@pytest.mark.parametrize("field", ["sku", "title", "description", "creators"])
def test_a_lone_surrogate_in_a_json_feed_rejects_that_row_alone_naming_the_field(partner, field):
    # "\\ud800" is valid JSON but no character: it cannot be stored. Before, the whole import failed
    # with an internal error.
    rows = offers(4)
    rows[2][field] = ["Author \udc00"] if field == "creators" else f"{rows[2].get(field, 'Text')}\ud800x"
    feed = json.dumps(rows).encode()  # ASCII JSON: the surrogate travels as its escape
    assert b"\\ud800" in feed or b"\\udc00" in feed
    feed_import = run_import(partner, feed)

    assert feed_import.status == "succeeded", feed_import.message
    assert (feed_import.created_count, feed_import.rejected_count) == (3, 1)
    [row] = feed_import.rejected_rows
    assert row["problems"][0]["field"] == field
    assert row["problems"][0]["reason"] in ("contains the lone surrogate U+D800", "contains the lone surrogate U+DC00")
