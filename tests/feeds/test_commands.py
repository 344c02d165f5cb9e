"""The import_feed and partner_token commands."""

import pytest
from django.core.management import CommandError, call_command

from catalog.models import FeedImport, Offer
from tests.factories import PartnerFactory

from .feeds import BOOKS, csv_feed, offers, yml

pytestmark = pytest.mark.django_db


def test_import_feed_from_a_file_prints_a_summary(partner, tmp_path, capsys):
    path = tmp_path / "feed.csv"
    rows = offers(5)
    rows[0]["url"] = "javascript:void(0)"
    path.write_bytes(csv_feed(rows))

    call_command("import_feed", "--partner", partner.code, "--file", str(path), "--format", "csv")

    out, err = capsys.readouterr()
    feed_import = FeedImport.objects.get()
    assert (feed_import.source, feed_import.format, feed_import.status) == ("command", "csv", "succeeded")
    assert f"Import {feed_import.pk}: succeeded in" in out
    assert "offers: 5 read, 4 created, 0 updated, 0 unchanged, 1 rejected, 0 withdrawn; 4 new items" in out
    assert "rejected line 2 sku='S-0': url: only http:// and https:// URLs are accepted" in out
    assert "bookshop feed: 100%" in err  # the progress bar


def test_import_feed_from_a_url_partial(partner, feed_server, capsys):
    call_command("import_feed", "--partner", partner.code, "--url", feed_server.serve("/f", yml(BOOKS)), "--partial")

    feed_import = FeedImport.objects.get()
    assert (feed_import.is_full, feed_import.created_count) == (False, 4)
    assert "Partial feed" in capsys.readouterr().out


def test_import_feed_failure_is_a_command_error(partner, tmp_path):
    path = tmp_path / "feed.yml"
    path.write_bytes(b"<yml_catalog><shop><offers><offer id='1'>")

    with pytest.raises(CommandError, match="Import failed: Not a YML feed: no element found"):
        call_command("import_feed", "--partner", partner.code, "--file", str(path))
    assert not Offer.objects.exists()


@pytest.mark.parametrize("args, message", [
    (["--partner", "nobody", "--file", "x"], "No partner with the code 'nobody'."),
    (["--partner", "bookshop", "--file", "/no/such/file.xml"], "No such file: /no/such/file.xml"),
])
def test_import_feed_bad_arguments(partner, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("import_feed", *args)


def test_partner_token_is_printed_once_and_authenticates(api_client, partner, capsys):
    call_command("partner_token", partner.code)
    out, err = capsys.readouterr()
    token = out.strip()

    partner.refresh_from_db()
    assert token and token not in partner.api_token_hash  # only a hash is stored
    assert "shown only now" in err
    response = api_client.get("/api/v1/partner/feeds", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200

    call_command("partner_token", partner.code)
    assert "The previous token no longer works." in capsys.readouterr().err
    assert api_client.get("/api/v1/partner/feeds", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_partner_token_for_an_unknown_partner(db):
    PartnerFactory(code="real")
    with pytest.raises(CommandError, match="No partner with the code 'fake'."):
        call_command("partner_token", "fake")
