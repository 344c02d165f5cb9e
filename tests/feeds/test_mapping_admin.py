"""Issue 15 item 6: a partner's category and column mappings in the admin, with a feed preview."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Genre, PartnerCategoryMapping, PartnerColumnMapping
from tests.factories import PartnerFactory
from users.models import User

from .helpers import run_import

pytestmark = pytest.mark.django_db
GERMAN_CSV = (Path(__file__).parent / "fixtures" / "woocommerce_de.csv").read_bytes()


@pytest.fixture
def partner_staff_client(client, partner):
    user = User.objects.create_user("shopkeeper", password="pw-shop-123", is_staff=True, partner=partner)
    client.force_login(user)
    return client


def test_an_unmapped_category_links_to_a_prefilled_mapping_form(admin_client, partner):
    PartnerColumnMapping.objects.bulk_create([
        PartnerColumnMapping(partner=partner, column=column, field=field) for column, field in {
            "Artikelnummer": "sku", "Kategorien": "genres", "Regulärer Preis": "price", "Link": "url", "Seiten": "pages",
        }.items()])
    feed_import = run_import(partner, GERMAN_CSV)
    detail = admin_client.get(f"/admin/catalog/feedimport/{feed_import.pk}/change/").content.decode()

    assert "Klassiker" in detail
    link = f"/admin/catalog/partnercategorymapping/add/?partner={partner.pk}&amp;category=Klassiker"
    assert link in detail
    form = admin_client.get(link.replace("&amp;", "&")).content.decode()
    assert 'value="Klassiker"' in form

    classics = Genre.objects.get(kind="book", code="classics")
    response = admin_client.post("/admin/catalog/partnercategorymapping/add/", {
        "partner": partner.pk, "category": "  Klassiker ", "kind": "book", "genre": classics.pk})
    assert response.status_code == 302
    mapping = PartnerCategoryMapping.objects.get()
    assert (mapping.category, mapping.kind, mapping.genre) == ("klassiker", "book", classics)


def test_a_genre_of_another_kind_than_the_mapping_is_refused(admin_client, partner):
    rock = Genre.objects.get(kind="track", code="rock")
    response = admin_client.post("/admin/catalog/partnercategorymapping/add/", {
        "partner": partner.pk, "category": "Rock books", "kind": "book", "genre": rock.pk})

    assert response.status_code == 200
    assert "is a track genre, and the kind chosen is book" in response.content.decode()
    assert not PartnerCategoryMapping.objects.exists()


def test_partner_staff_map_only_their_own_categories(partner_staff_client, partner):
    other = PartnerFactory(code="othershop", name="Other shop")
    PartnerCategoryMapping.objects.create(partner=other, category="secret")
    listing = partner_staff_client.get("/admin/catalog/partnercategorymapping/").content.decode()
    assert "secret" not in listing

    response = partner_staff_client.post("/admin/catalog/partnercategorymapping/add/", {
        "partner": other.pk, "category": "Hörbücher", "kind": "book"})
    assert response.status_code == 200  # the other partner is not a choice
    response = partner_staff_client.post("/admin/catalog/partnercategorymapping/add/", {
        "partner": partner.pk, "category": "Hörbücher", "kind": "book"})
    assert response.status_code == 302
    assert PartnerCategoryMapping.objects.get(category="horbucher").partner == partner


def test_preview_shows_the_columns_and_first_rows_as_the_importer_reads_them(admin_client, partner):
    PartnerColumnMapping.objects.bulk_create([
        PartnerColumnMapping(partner=partner, column="Artikelnummer", field="sku"),
        PartnerColumnMapping(partner=partner, column="Regulärer Preis", field="price"),
        PartnerColumnMapping(partner=partner, column="Lagerbestand", field=""),
    ])
    changelist = admin_client.get("/admin/catalog/partnercolumnmapping/").content.decode()
    assert "/admin/catalog/partnercolumnmapping/preview/" in changelist

    def preview() -> str:
        response = admin_client.post("/admin/catalog/partnercolumnmapping/preview/", {
            "partner": partner.pk, "format": "",
            "file": SimpleUploadedFile("export.csv", GERMAN_CSV, content_type="text/csv")})
        assert response.status_code == 200
        return response.content.decode()

    page = preview()
    # The mapped columns, a column that is ours by name ("Name"), an ignored one; no link column yet.
    for text in ("<td>Artikelnummer</td><td>sku</td>", "<td>Regulärer Preis</td><td>price</td>",
                 "<td>Name</td><td>title</td>", "<td>Lagerbestand</td><td><i>ignored</i></td>",
                 "Not a CSV feed: missing required columns url"):
        assert text in page, text

    PartnerColumnMapping.objects.create(partner=partner, column="Link", field="url")
    page = preview()
    assert "missing required columns" not in page
    assert "Der Steppenwolf" in page and "9,99" in page and "https://buch.example/verwandlung" in page
    assert page.count("kind: missing: say film, book, audiobook or track") == 3  # "Seiten" is not mapped yet


def test_preview_uses_the_latest_stored_feed_when_no_file_is_given(admin_client, partner):
    from .feeds import csv_feed, offers

    run_import(partner, csv_feed(offers(3)))
    page = admin_client.post("/admin/catalog/partnercolumnmapping/preview/", {"partner": partner.pk}).content.decode()

    assert "S Title 0" in page and "S Title 2" in page and page.count(">OK<") == 3
