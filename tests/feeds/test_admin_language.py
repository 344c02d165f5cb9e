"""Issue 12 item 1: the feed admin pages (issue 15) speak one language per person.

A Russian-speaking admin sees Russian chrome — headers, messages, help texts — on the import
detail and the column-mapping preview, while the partner's data (category names, stored
rejection reasons, feed values) is shown as sent.
"""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Genre, PartnerColumnMapping

from .feeds import csv_feed, offers
from .helpers import run_import

pytestmark = pytest.mark.django_db
GERMAN_CSV = (Path(__file__).parent / "fixtures" / "woocommerce_de.csv").read_bytes()
GERMAN_COLUMNS = {"Artikelnummer": "sku", "Kategorien": "genres", "Regulärer Preis": "price", "Link": "url",
                  "Seiten": "pages"}


def _get(client, url: str, language: str) -> str:
    return client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()


def test_import_details_with_rejected_rows_and_unmapped_categories_in_russian(admin_client, partner):
    rows = offers(4)
    rows[1]["price"] = "abc"
    rejected = run_import(partner, csv_feed(rows))
    PartnerColumnMapping.objects.bulk_create([PartnerColumnMapping(partner=partner, column=column, field=field)
                                              for column, field in GERMAN_COLUMNS.items()])
    unmapped = run_import(partner, GERMAN_CSV)
    assert rejected.rejected_count and unmapped.unmapped_categories  # both tables have rows

    russian = (_get(admin_client, f"/admin/catalog/feedimport/{rejected.pk}/change/", "ru")
               + _get(admin_client, f"/admin/catalog/feedimport/{unmapped.pk}/change/", "ru"))
    for text in ("строк этого фида", "<th>Строк</th><th>Поле</th><th>Причина</th>",
                 "<th>Категория</th><th>Предложения</th>", "Сопоставить</a>", "Категории без жанра"):
        assert text in russian, text
    for english in ("rows of this feed were rejected", "<th>Rows</th>", "<th>Reason</th>", "<th>Category</th>",
                    ">Map it<", "Categories with no genre", "rows rejected"):
        assert english not in russian, english
    assert f"импорт {partner.code} от" in russian and "(Успешно)" in russian  # the title and breadcrumbs
    # The partner's data and the stored reasons stay as sent.
    assert "Klassiker" in russian
    assert rejected.rejected_reasons[0]["reason"] in russian

    english = (_get(admin_client, f"/admin/catalog/feedimport/{rejected.pk}/change/", "en")
               + _get(admin_client, f"/admin/catalog/feedimport/{unmapped.pk}/change/", "en"))
    assert "<th>Rows</th><th>Field</th><th>Reason</th>" in english and ">Map it<" in english
    assert "Сопоставить" not in english and "Причина" not in english


def test_import_list_badge_in_russian(admin_client, partner):
    rows = offers(4)
    rows[1]["price"] = "abc"
    run_import(partner, csv_feed(rows))

    listing = _get(admin_client, "/admin/catalog/feedimport/", "ru")
    assert "отклонено строк: 1 из 4" in listing and "rows rejected" not in listing


def test_column_mapping_preview_in_russian(admin_client, partner):
    PartnerColumnMapping.objects.bulk_create([PartnerColumnMapping(partner=partner, column=column, field=field)
                                              for column, field in {**GERMAN_COLUMNS, "Lagerbestand": ""}.items()])
    assert "Просмотреть фид с этим сопоставлением" in _get(admin_client, "/admin/catalog/partnercolumnmapping/", "ru")

    empty_form = _get(admin_client, "/admin/catalog/partnercolumnmapping/preview/", "ru")
    assert "Образец фида" in empty_form and "A sample of the feed" not in empty_form

    page = admin_client.post("/admin/catalog/partnercolumnmapping/preview/", {
        "partner": partner.pk, "file": SimpleUploadedFile("export.csv", GERMAN_CSV, content_type="text/csv")},
        HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    for text in ("Столбец партнёра", "Наше поле", "<i>не используется</i>", "Первые строки", "Ошибки",
                 "Просмотр фида с сопоставлением столбцов"):
        assert text in page, text
    for english in ("Their column", "Our field", ">ignored<", "First rows", "Problems", "Nothing is imported"):
        assert english not in page, english
    assert "Lagerbestand" in page  # the partner's column names as sent

    add_form = _get(admin_client, "/admin/catalog/partnercolumnmapping/add/", "ru")
    assert "(не использовать столбец)" in add_form and "ignore this column" not in add_form


def test_mapping_a_genre_of_another_kind_is_refused_in_russian(admin_client, partner):
    rock = Genre.objects.get(kind="track", code="rock")
    response = admin_client.post("/admin/catalog/partnercategorymapping/add/", {
        "partner": partner.pk, "category": "Rock books", "kind": "book", "genre": rock.pk}, HTTP_ACCEPT_LANGUAGE="ru")

    assert response.status_code == 200
    assert "— жанр вида «трек», а выбран вид «книга»." in response.content.decode()
