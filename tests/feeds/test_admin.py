"""The feed admin: imports list and detail, upload, "Import feed now", partner staff isolation."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import FeedImport, GenreAlias, Offer
from tests.factories import PartnerFactory
from users.models import User

from .feeds import BOOKS, offers, json_feed, yml
from .helpers import run_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def other(genres):
    return PartnerFactory(code="othershop", name="Other shop")


@pytest.fixture
def partner_staff_client(client, partner):
    user = User.objects.create_user("shopkeeper", password="pw-shop-123", is_staff=True, partner=partner)
    client.force_login(user)
    return client


def test_staff_see_imports_with_counts_timings_and_rejected_rows(admin_client, partner):
    rows = offers(3)
    rows[1]["currency"] = "ZZZ"
    feed_import = run_import(partner, json_feed(rows))

    listing = admin_client.get("/admin/catalog/feedimport/").content.decode()
    detail = admin_client.get(f"/admin/catalog/feedimport/{feed_import.pk}/change/").content.decode()

    assert "Succeeded" in listing and "Book &amp; &lt;Shop&gt;" in listing
    for text in ("Rows total", "Created count", "Rejected count", "Withdrawn count", "Started at", "Finished at",
                 "Duration", "element #2 (line", "unknown currency &#x27;ZZZ&#x27;; use an ISO 4217 code such as RUB, USD, EUR", "ZZZ"):
        assert text in detail, text


def test_upload_in_the_admin_runs_the_import(admin_client, partner, django_capture_on_commit_callbacks):
    form = admin_client.get("/admin/catalog/feedimport/add/")
    assert form.status_code == 200 and b"Upload and import" in form.content

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/catalog/feedimport/add/", {
            "partner": partner.pk, "file": SimpleUploadedFile("feed.xml", yml(BOOKS)), "format": "", "fullness": "",
        })

    feed_import = FeedImport.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/feedimport/{feed_import.pk}/change/")
    assert (feed_import.source, feed_import.status, feed_import.created_count) == ("upload", "succeeded", 4)


def test_import_feed_now_action_on_partners(admin_client, partner, other, feed_server,
                                            django_capture_on_commit_callbacks):
    partner.feed_url = feed_server.serve("/feed.xml", yml(BOOKS))
    partner.save(update_fields=["feed_url"])

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/catalog/partner/", {
            "action": "import_feed_now", "_selected_action": [partner.pk, other.pk]}, follow=True)

    text = response.content.decode()
    assert "Started 1 feed import;" in text
    assert "No feed URL set for: Other shop." in text
    feed_import = FeedImport.objects.get()
    assert (feed_import.partner, feed_import.source, feed_import.status) == (partner, "url", "succeeded")
    assert Offer.objects.filter(partner=partner).count() == 4


def test_partner_staff_see_only_their_own_imports(partner_staff_client, partner, other):
    mine = run_import(partner, json_feed(offers(2)))
    theirs = run_import(other, json_feed(offers(2, prefix="O")))

    listing = partner_staff_client.get("/admin/catalog/feedimport/")
    assert listing.status_code == 200
    assert str(mine.pk) in listing.content.decode() and str(theirs.pk) not in listing.content.decode()
    assert partner_staff_client.get(f"/admin/catalog/feedimport/{mine.pk}/change/").status_code == 200
    assert partner_staff_client.get(f"/admin/catalog/feedimport/{theirs.pk}/change/").status_code == 404
    assert partner_staff_client.get(f"/admin/catalog/feedimport/{theirs.pk}/delete/").status_code in (403, 404)
    # Genre aliases are MoodStream's internal data.
    assert partner_staff_client.get("/admin/catalog/genrealias/").status_code == 403


def test_partner_staff_upload_only_for_their_own_partner(partner_staff_client, partner, other,
                                                         django_capture_on_commit_callbacks):
    form = partner_staff_client.get("/admin/catalog/feedimport/add/").content.decode()
    assert "Book &amp; &lt;Shop&gt;" in form and "Other shop" not in form

    refused = partner_staff_client.post("/admin/catalog/feedimport/add/", {
        "partner": other.pk, "file": SimpleUploadedFile("feed.xml", yml(BOOKS))})
    assert refused.status_code == 200 and "partner" in refused.context["form"].errors
    assert not FeedImport.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        partner_staff_client.post("/admin/catalog/feedimport/add/", {
            "partner": partner.pk, "file": SimpleUploadedFile("feed.xml", yml(BOOKS))})
    assert FeedImport.objects.get().partner == partner


def test_genre_aliases_are_editable_and_used_by_the_next_import(admin_client, partner, genres):
    run_import(partner, yml(BOOKS[:1]))  # seeds the "feed" aliases
    alias = GenreAlias.objects.get(source="feed", kind="book", name="классика")
    assert alias.genre.code == "classics"

    poetry = genres.get(kind="book", code="poetry")
    response = admin_client.post(f"/admin/catalog/genrealias/{alias.pk}/change/", {
        "source": "feed", "kind": "book", "name": "Классика", "genre": poetry.pk})
    assert response.status_code == 302
    run_import(partner, yml([{**BOOKS[0], "sku": "B-9", "isbn": "9780140449136", "title": "Crime and Punishment"}]))

    item = Offer.objects.get(partner=partner, sku="B-9").item
    assert list(item.genres.values_list("code", flat=True)) == ["poetry"]
