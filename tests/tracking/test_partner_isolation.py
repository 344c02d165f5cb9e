"""Partner staff reach only their own partner's data in the admin and the APIs, and never a Telegram id."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin as django_admin
from django.utils import timezone

from catalog.models import FeedImport, Offer
from tests.factories import OfferFactory, ProfileFactory
from tracking.models import Conversion
from tracking.services import kpi_refresh_recent

pytestmark = pytest.mark.django_db

TELEGRAM_ID = "987654321"  # the `profile` fixture's id: must never reach a partner's page


@pytest.fixture
def world(partner, other_partner, offer, other_offer, profile, experiment, make_recommendation, click_on):
    """Each partner has an offer, a click by the same Telegram user and a conversion on it."""
    rec = make_recommendation(profile=profile, experiment=experiment, variant="control")
    own_click = click_on(offer, recommendation=rec, ago=timedelta(minutes=2))
    other_click = click_on(other_offer, recommendation=rec, ago=timedelta(minutes=2))
    own_conversion = Conversion.objects.create(partner=partner, click=own_click, event="registration",
                                               event_id="own-ev", payout=Decimal("50"), occurred_at=timezone.now())
    other_conversion = Conversion.objects.create(partner=other_partner, click=other_click, event="purchase",
                                                 event_id="other-ev", payout=Decimal("70"),
                                                 occurred_at=timezone.now())
    extra_other_offer = OfferFactory(partner=other_partner, sku="CHITAI-SECRET-SKU")
    kpi_refresh_recent()
    return {"own_click": own_click, "other_click": other_click, "own_conversion": own_conversion,
            "other_conversion": other_conversion, "other_offer2": extra_other_offer}


@pytest.fixture
def as_partner(client, partner_staff):
    client.force_login(partner_staff)
    return client


def page(client, url, status=200, **params):
    response = client.get(url, params)
    assert response.status_code == status, (url, response.status_code)
    html = response.content.decode()
    assert TELEGRAM_ID not in html, f"Telegram id leaked on {url}"
    return html


def test_offers_only_own(as_partner, offer, other_offer, world):
    html = page(as_partner, "/admin/catalog/offer/")
    assert offer.sku in html
    assert other_offer.sku not in html and "CHITAI-SECRET-SKU" not in html and "Chitai" not in html
    page(as_partner, f"/admin/catalog/offer/{offer.pk}/change/")
    page(as_partner, f"/admin/catalog/offer/{other_offer.pk}/change/", status=404)
    page(as_partner, f"/admin/catalog/offer/{other_offer.pk}/history/", status=404)
    page(as_partner, f"/admin/catalog/offer/{other_offer.pk}/delete/", status=404)
    # Filtering by the other partner through the URL shows nothing of theirs.
    html = page(as_partner, "/admin/catalog/offer/", partner__id__exact=other_offer.partner_id)
    assert other_offer.sku not in html


def test_partner_staff_can_edit_own_offer_but_not_move_it(as_partner, offer, other_partner, world):
    response = as_partner.post(f"/admin/catalog/offer/{offer.pk}/change/", {
        "url": "https://kinoport.example/new", "price": "199.00", "currency": "RUB", "offer_type": "buy",
        "available": "on", "partner": other_partner.pk, "sku": "HIJACK",
    })
    assert response.status_code == 302
    offer.refresh_from_db()
    assert (offer.url, offer.partner.code, offer.sku) == ("https://kinoport.example/new", "kinoport", offer.sku)
    assert offer.sku != "HIJACK"


def test_partners_only_own(as_partner, partner, other_partner, world):
    html = page(as_partner, "/admin/catalog/partner/")
    assert "Kinoport" in html and "Chitai" not in html
    page(as_partner, f"/admin/catalog/partner/{other_partner.pk}/change/", status=404)
    # The related-object autocomplete does not list other partners either.
    response = as_partner.get("/admin/autocomplete/", {"app_label": "catalog", "model_name": "offer",
                                                        "field_name": "partner", "term": ""})
    assert "Chitai" not in response.content.decode()


def test_imports_only_own(as_partner, partner, other_partner, world):
    assert FeedImport in django_admin.site._registry
    own = FeedImport.objects.create(partner=partner, source="upload", message="own import")
    other = FeedImport.objects.create(partner=other_partner, source="upload", message="other import")
    page(as_partner, "/admin/catalog/feedimport/")
    listed = as_partner.get("/admin/catalog/feedimport/").context["cl"].result_list
    assert [i.pk for i in listed] == [own.pk]
    assert "own import" in page(as_partner, f"/admin/catalog/feedimport/{own.pk}/change/")
    page(as_partner, f"/admin/catalog/feedimport/{other.pk}/change/", status=404)
    # The upload form offers only their own partner.
    upload = page(as_partner, "/admin/catalog/feedimport/add/")
    assert "Kinoport" in upload and "Chitai" not in upload


def test_clicks_only_own_and_no_telegram_ids(as_partner, world):
    html = page(as_partner, "/admin/tracking/click/")
    assert world["own_click"].click_id in html
    assert world["other_click"].click_id not in html
    html = page(as_partner, f"/admin/tracking/click/{world['own_click'].pk}/change/")
    assert world["own_click"].click_id in html and "Profile" not in html
    page(as_partner, f"/admin/tracking/click/{world['other_click'].pk}/change/", status=404)
    # Searching by a Telegram id finds nothing for a partner (the search field is not offered to them).
    # (The search box echoes the typed text back; what matters is that no click matches.)
    html = as_partner.get("/admin/tracking/click/", {"q": TELEGRAM_ID}).content.decode()
    assert world["own_click"].click_id not in html


@pytest.mark.parametrize("lookup", ["profile__telegram_id", "profile__id__exact", "profile", "recommendation__id"])
def test_no_probing_users_through_url_filters(as_partner, profile, world, lookup):
    value = TELEGRAM_ID if "telegram" in lookup else str(profile.pk)
    response = as_partner.get("/admin/tracking/click/", {lookup: value})
    # Django answers a disallowed lookup by dropping it (redirect with ?e=1) or refusing it.
    assert response.status_code in (302, 400)


def test_moodstream_staff_may_filter_clicks_by_profile(client, staff_user, profile, world):
    client.force_login(staff_user)
    response = client.get("/admin/tracking/click/", {"profile__id__exact": profile.pk})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 2


def test_conversions_only_own(as_partner, world):
    html = page(as_partner, "/admin/tracking/conversion/")
    assert "own-ev" in html and "other-ev" not in html
    page(as_partner, f"/admin/tracking/conversion/{world['own_conversion'].pk}/change/")
    page(as_partner, f"/admin/tracking/conversion/{world['other_conversion'].pk}/change/", status=404)


def test_partner_staff_cannot_judge_another_partners_conversion(as_partner, world):
    response = as_partner.post("/admin/tracking/conversion/", {
        "action": "approve_selected", "_selected_action": [world["other_conversion"].pk, world["own_conversion"].pk],
    })
    assert response.status_code == 302
    statuses = dict(Conversion.objects.values_list("event_id", "status"))
    assert statuses == {"own-ev": "approved", "other-ev": "pending"}


def test_reject_action_asks_for_a_reason(as_partner, world):
    own = world["own_conversion"].pk
    form = as_partner.post("/admin/tracking/conversion/", {"action": "reject_selected", "_selected_action": [own]})
    assert form.status_code == 200 and b"Reason" in form.content
    done = as_partner.post("/admin/tracking/conversion/", {"action": "reject_selected", "_selected_action": [own],
                                                            "apply": "1", "reason": "duplicate order"})
    assert done.status_code == 302
    assert Conversion.objects.get(pk=own).status_reason == "duplicate order"


def test_kpi_page_shows_only_own_statistics(as_partner, world):
    html = page(as_partner, "/admin/tracking/dailykpi/")
    assert "Statistics of Kinoport" in html
    assert "ranker-v2" not in html and "Chitai" not in html
    csv_text = page(as_partner, "/admin/tracking/dailykpi/", format="csv")
    today = timezone.localdate().isoformat()
    row = next(line for line in csv_text.splitlines() if line.startswith(today))
    # One click and one registration: the other partner's click and purchase are not there.
    assert row.split(",")[1:5] == ["1", "1", "0", "0"]


def test_kpi_api_and_refresh_are_closed_to_partner_staff(as_partner, world):
    assert as_partner.get("/api/v1/kpi").status_code == 403
    as_partner.post("/admin/tracking/dailykpi/")  # the refresh button is for MoodStream staff only
    assert page(as_partner, "/admin/tracking/dailykpi/")


def test_people_and_internal_admins_are_closed(as_partner, profile, world):
    html = page(as_partner, "/admin/")
    for hidden in ("Profiles", "Users", "Ratings", "API keys", "Content items"):
        assert hidden not in html
    for url in ("/admin/users/profile/", f"/admin/users/profile/{profile.pk}/change/", "/admin/users/user/",
                "/admin/users/rating/", "/admin/catalog/contentitem/", "/admin/recommender/"):
        assert as_partner.get(url).status_code in (403, 404), url


def test_partner_staff_of_the_other_shop_sees_the_mirror_image(client, other_partner_staff, world):
    client.force_login(other_partner_staff)
    html = page(client, "/admin/tracking/click/")
    assert world["other_click"].click_id in html and world["own_click"].click_id not in html
    page(client, f"/admin/tracking/conversion/{world['own_conversion'].pk}/change/", status=404)


def test_moodstream_staff_see_everything(client, staff_user, world):
    client.force_login(staff_user)
    html = client.get("/admin/tracking/click/").content.decode()
    assert world["own_click"].click_id in html and world["other_click"].click_id in html
    html = client.get("/admin/tracking/conversion/").content.decode()
    assert "own-ev" in html and "other-ev" in html
    assert "ranker-v2 / control" in client.get("/admin/tracking/dailykpi/").content.decode()


def test_partner_api_token_reaches_only_own_rows(partner_api, world):
    response = partner_api.patch(f"/api/v1/partner/conversions/{world['other_conversion'].pk}",
                                 {"status": "approved"}, format="json")
    assert response.status_code == 404
    body = partner_api.get("/api/v1/partner/stats").json()
    assert body["totals"]["clicks"] == 1 and body["totals"]["conversions"] == 1
    assert TELEGRAM_ID not in str(body)


def test_offer_unaffected_count(world):
    # Sanity: the world has two partners' rows to leak in the first place.
    assert Offer.objects.values("partner").distinct().count() == 2
    assert ProfileFactory._meta.model.objects.filter(telegram_id=int(TELEGRAM_ID)).exists()
