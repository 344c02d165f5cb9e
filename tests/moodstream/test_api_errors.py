"""The API's error contract: JSON {code, detail, field} for every error, in the request's language,
control characters and out-of-range numbers refused by name — never a 500, never an HTML page."""

import pytest
from rest_framework.test import APIClient

from catalog.services import partner_issue_api_token, partner_issue_postback_key
from tests.factories import MoodFactory, PartnerFactory
from users.models import Profile
from users.services import api_key_issue

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"code", "detail", "field"}


def assert_error(response, status: int, code: str | None = None, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    body = response.json()
    assert ERROR_KEYS <= set(body), body
    if code is not None:
        assert body["code"] == code, body
    assert body["field"] == field, body
    return body


@pytest.fixture
def api_key_client():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_issue(name='app')[1]}")
    return client


@pytest.fixture
def partner():
    return PartnerFactory(code="kinoport")


@pytest.fixture
def partner_client(partner):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {partner_issue_api_token(partner=partner)}")
    return client


# --- telegram_id out of the database's range (was a 500: bigint out of range) -----------------

@pytest.mark.parametrize("telegram_id", [2**63, 2**64 + 7, 10**30])
def test_telegram_id_beyond_bigint_is_a_400_on_profile_and_ratings(api_key_client, telegram_id):
    for response in (
        api_key_client.get(f"/api/v1/users/{telegram_id}/profile"),
        api_key_client.put(f"/api/v1/users/{telegram_id}/profile", {"genres": {}}, format="json"),
        api_key_client.post(f"/api/v1/users/{telegram_id}/ratings", {"item": 1, "value": "like"}, format="json"),
    ):
        assert_error(response, 400, "max_value", "telegram_id")
    assert not Profile.objects.exists()


def test_the_largest_bigint_telegram_id_works(api_key_client):
    response = api_key_client.put(f"/api/v1/users/{2**63 - 1}/profile", {"genres": {}}, format="json")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("body, field", [
    ({"mood": "calm", "minutes": 60, "telegram_id": 2**63}, "telegram_id"),
    ({"mood": "calm", "minutes": 60, "user_id": 2**64}, "user_id"),
    ({"mood": "calm", "minutes": 60, "exclude": [1, 2**63]}, "exclude.1"),
])
def test_integer_body_fields_beyond_bigint_are_a_400(api_key_client, body, field):
    MoodFactory(code="calm")
    assert_error(api_key_client.post("/api/v1/recommendations", body, format="json"), 400, "max_value", field)


def test_rating_item_beyond_bigint_is_a_400(api_key_client):
    response = api_key_client.post("/api/v1/users/5/ratings", {"item": 2**63, "value": "like"}, format="json")
    assert_error(response, 400, "max_value", "item")


# --- control characters -------------------------------------------------------------------------

@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x1f", "\x0b"])
def test_control_characters_in_json_bodies_are_a_400_naming_the_field(api_key_client, char):
    MoodFactory(code="calm")
    cases = [
        ("/api/v1/recommendations", "post", {"mood": f"ca{char}lm", "minutes": 60}, "mood"),
        ("/api/v1/recommendations", "post", {"mood": "calm", "minutes": 60, "kinds": ["film", f"bo{char}ok"]},
         "kinds.1"),
        ("/api/v1/users/5/profile", "put", {"genres": {"film": [f"dra{char}ma"]}}, "genres.film.0"),
        ("/api/v1/users/5/profile", "put", {"genres": {f"fi{char}lm": []}}, f"genres.fi{char}lm"),
        ("/api/v1/users/5/ratings", "post", {"item": 1, "value": "like", "source": f"api{char}"}, "source"),
    ]
    for path, method, body, field in cases:
        response = getattr(api_key_client, method)(path, body, format="json")
        detail = assert_error(response, 400, "control_characters", field)["detail"]
        assert "control character" in detail


def test_tab_and_newline_are_not_control_characters_here(api_key_client):
    MoodFactory(code="calm")
    response = api_key_client.post("/api/v1/recommendations", {"mood": "\tcalm\n", "minutes": 60}, format="json")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("field", ["click_id", "event_id", "event", "currency"])
def test_nul_in_a_rest_conversion_is_a_400_naming_the_field(partner_client, field):
    body = {"click_id": "abc", "event": "registration", "event_id": "e-1", "currency": "RUB"}
    body[field] = body[field][:1] + "\x00" + body[field][1:]
    response = partner_client.post("/api/v1/partner/conversions", body, format="json")
    assert_error(response, 400, "control_characters", field)


@pytest.mark.parametrize("field", ["click_id", "event_id"])
def test_a_lone_surrogate_in_a_rest_conversion_is_a_400_naming_the_field(partner_client, field):
    # "\ud800" is valid JSON and decodes to a lone surrogate, which cannot be encoded for the database.
    body = {"click_id": "abc", "event": "registration", "event_id": "e-1"}
    body[field] = "a\\ud800b"
    raw = "{" + ", ".join(f'"{name}": "{value}"' for name, value in body.items()) + "}"
    response = partner_client.post("/api/v1/partner/conversions", raw, content_type="application/json")
    assert "surrogate" in assert_error(response, 400, "lone_surrogate", field)["detail"]


@pytest.mark.parametrize("field", ["click_id", "event_id"])
def test_nul_in_a_postback_is_a_400_naming_the_field(client, partner, field):
    key = partner_issue_postback_key(partner=partner)
    params = {"key": key, "click_id": "abc", "event": "registration", "event_id": "e-1"}
    params[field] = "a\x00b"
    response = client.get("/postback/kinoport", params)
    assert_error(response, 400, "control_characters", field)


@pytest.mark.parametrize("path", ["/api/v1/genres", "/api/v1/partner/stats", "/api/v1/partner/feeds"])
def test_control_characters_in_query_parameters_are_a_400(partner_client, path):
    assert_error(partner_client.get(path, {"kind": "fi\x00lm", "from": "2025-01-01\x01"}), 400,
                 "control_characters", "kind")


def test_nul_in_the_partner_feed_push_parameters_is_a_400(partner_client):
    response = partner_client.post("/api/v1/partner/feeds?format=c%00sv", b"sku,title\n", content_type="text/csv")
    assert_error(response, 400, "control_characters", "format")


def test_nul_in_a_multipart_text_field_of_the_feed_push_is_a_400(partner_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    feed = SimpleUploadedFile("feed.csv", b"sku,title\n", content_type="text/csv")
    response = partner_client.post("/api/v1/partner/feeds", {"file": feed, "note": "a\x00b"}, format="multipart")
    assert_error(response, 400, "control_characters", "note")


def test_nul_in_a_credential_is_a_401_not_a_500(client):
    response = client.get("/api/v1/partner/stats", HTTP_AUTHORIZATION="Bearer abc\x00defghijklmnop")
    assert_error(response, 401)
    response = client.get("/api/v1/users/5/profile", HTTP_AUTHORIZATION="Api-Key abc\x00defghijklmnop")
    assert_error(response, 401)


# --- the error body everywhere ------------------------------------------------------------------

@pytest.mark.parametrize("body", [b"{not json", b'{"click_id": ', b"\xff\xfe"])
def test_malformed_json_on_the_conversion_endpoints_is_the_error_body(partner_client, body):
    response = partner_client.post("/api/v1/partner/conversions", body, content_type="application/json")
    assert_error(response, 400, "parse_error")
    response = partner_client.patch("/api/v1/partner/conversions/1", body, content_type="application/json")
    assert response.status_code in (400, 404)
    assert_error(response, response.status_code)


def test_unsupported_media_type_is_the_error_body(partner_client):
    response = partner_client.post("/api/v1/partner/conversions", b"click_id=a", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("path", ["/api/v1/users/null,null/profile", "/api/v1/nothing", "/api/", "/api/v1/users/"])
def test_unknown_paths_under_api_are_a_json_404(client, path):
    assert_error(client.get(path), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v1/users/"])
def test_unknown_paths_under_api_are_a_json_404_under_debug_too(client, settings, path):
    # `make run` serves with DEBUG on, where Django answers a missing page with its HTML technical page.
    settings.DEBUG = True
    assert_error(client.get(path), 404, "not_found")
    assert_error(client.get(path, HTTP_ACCEPT_LANGUAGE="ru"), 404, "not_found")


def test_unknown_paths_elsewhere_keep_the_html_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_wrong_method_under_api_is_a_json_405(api_key_client, partner_client):
    assert_error(api_key_client.delete("/api/v1/recommendations"), 405, "method_not_allowed")
    assert_error(partner_client.put("/api/v1/partner/stats"), 405, "method_not_allowed")


def test_missing_credentials_are_the_error_body(client):
    body = assert_error(client.post("/api/v1/recommendations", {}, content_type="application/json"), 401,
                        "not_authenticated")
    assert "Api-Key" in body["detail"]
    assert_error(client.get("/api/v1/partner/stats"), 401)


def test_validation_errors_list_every_field(api_key_client):
    body = assert_error(api_key_client.post("/api/v1/recommendations", {}, format="json"), 400, "required", "mood")
    assert set(body["errors"]) == {"mood", "minutes"}


def test_kpi_with_a_valid_api_key_or_partner_token_is_a_403_saying_so(api_key_client, partner_client):
    for client in (api_key_client, partner_client):
        body = assert_error(client.get("/api/v1/kpi"), 403, "permission_denied")
        assert "KPI permission" in body["detail"] and "API keys and partner tokens do not grant it" in body["detail"]
        assert "credentials were not provided" not in body["detail"]


def test_kpi_with_a_bad_date_is_a_400_naming_it(client, django_user_model):
    staff = django_user_model.objects.create_superuser(username="boss", password="x" * 12, email="")
    client.force_login(staff)
    assert_error(client.get("/api/v1/kpi", {"to": "0001-01-01"}), 400, "invalid_parameter", "to")
    assert_error(client.get("/api/v1/kpi", {"from": "yesterday"}), 400, "invalid_parameter", "from")


# --- the request's language ---------------------------------------------------------------------

def test_drf_messages_are_english_by_default(client):
    response = client.post("/api/v1/recommendations", {}, content_type="application/json",
                           HTTP_AUTHORIZATION="Api-Key " + api_key_issue(name="x")[1])
    assert response.json()["errors"]["minutes"][0] == "minutes is required: an integer from 5 to 1440."
    assert client.get("/api/v1/users/null,null/profile").json()["detail"] == "Not found."
    assert client.get("/api/v1/nothing")["Content-Language"] == "en"


def test_drf_messages_are_russian_when_asked(partner_client):
    response = partner_client.put("/api/v1/partner/stats", HTTP_ACCEPT_LANGUAGE="ru-RU,ru;q=0.9,en;q=0.8")
    body = assert_error(response, 405, "method_not_allowed")
    assert body["detail"] == 'Метод "PUT" не разрешен.'
    assert response["Content-Language"] == "ru"
    english = partner_client.put("/api/v1/partner/stats", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9,ru;q=0.5")
    assert english.json()["detail"] == 'Method "PUT" not allowed.'
    unknown = partner_client.put("/api/v1/partner/stats", HTTP_ACCEPT_LANGUAGE="de-DE")
    assert unknown.json()["detail"] == 'Method "PUT" not allowed.'


def test_our_own_messages_are_russian_when_asked_and_english_otherwise(client, partner, partner_client):
    russian = {"HTTP_ACCEPT_LANGUAGE": "ru-RU,ru;q=0.9"}
    api_key = "Api-Key " + api_key_issue(name="x")[1]
    body = client.post("/api/v1/recommendations", {"mood": "no-such-mood", "minutes": 3}, content_type="application/json",
                       HTTP_AUTHORIZATION=api_key, **russian).json()
    assert body["errors"]["minutes"] == ["minutes должно быть целым числом от 5 до 1440."]
    assert body["errors"]["mood"][0].startswith("Неизвестное настроение 'no-such-mood'.")
    english = client.post("/api/v1/recommendations", {"mood": "calm", "minutes": 3}, content_type="application/json",
                          HTTP_AUTHORIZATION=api_key).json()
    assert english["errors"]["minutes"] == ["minutes must be an integer from 5 to 1440."]
    body = assert_error(client.post("/api/v1/recommendations", {}, content_type="application/json", **russian), 401)
    assert body["detail"].startswith("Нужен API-ключ")
    body = assert_error(client.post("/api/v1/recommendations", {}, content_type="application/json",
                                    HTTP_AUTHORIZATION="Api-Key nope", **russian), 401)
    assert body["detail"] == "API-ключ неверен или отозван (заголовок 'Authorization: Api-Key <ключ>')."
    body = assert_error(partner_client.get("/api/v1/partner/feeds/00000000-0000-0000-0000-000000000000", **russian), 404)
    assert body["detail"] == "Среди ваших импортов такого нет."
    body = assert_error(partner_client.get("/api/v1/partner/stats", {"from": "yesterday"}, **russian), 400,
                        "invalid_parameter", "from")
    assert body["detail"] == "from должно быть датой в виде ГГГГ-ММ-ДД."
    # The postback follows the same rule as the API: the caller's language, English when none is asked.
    key = partner_issue_postback_key(partner=partner)
    query = {"key": key, "click_id": "nope", "event": "registration", "event_id": "e"}
    body = assert_error(client.get("/postback/kinoport", query, **russian), 400, "unknown_click", "click_id")
    assert body["detail"] == "click_id — не клик MoodStream."
    body = assert_error(client.get("/postback/kinoport", query), 400, "unknown_click", "click_id")
    assert body["detail"] == "click_id is not a MoodStream click."


def test_conversion_errors_keep_their_field_on_the_postback_and_rest(client, partner, partner_client):
    key = partner_issue_postback_key(partner=partner)
    body = assert_error(client.get("/postback/kinoport", {"key": key, "click_id": "nope", "event": "registration",
                                                          "event_id": "e"}), 400, "unknown_click", "click_id")
    assert body["detail"] == "click_id is not a MoodStream click."
    assert_error(partner_client.post("/api/v1/partner/conversions", [1, 2], format="json"), 400, "invalid_body")
