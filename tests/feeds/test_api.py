"""The partner feed API: push a feed (202 with the import id), read its status and counts."""

import pytest

from catalog.models import FeedImport, Offer
from catalog.services import partner_issue_api_token
from tests.factories import PartnerFactory

from .feeds import BOOKS, csv_feed, json_lines, offers, yml

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(partner):
    return partner_issue_api_token(partner=partner)


def push(api_client, token, body: bytes, content_type="application/xml", query="", capture=None):
    return api_client.post(f"/api/v1/partner/feeds{query}", data=body, content_type=content_type,
                           HTTP_AUTHORIZATION=f"Bearer {token}")


def test_push_answers_202_with_the_import_id_and_the_import_runs(api_client, partner, token,
                                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = push(api_client, token, yml(BOOKS))

    assert response.status_code == 202
    body = response.json()
    assert response["Location"] == body["status_url"] == f"/api/v1/partner/feeds/{body['id']}"
    status = api_client.get(body["status_url"], HTTP_AUTHORIZATION=f"Bearer {token}")
    assert status.status_code == 200
    data = status.json()
    assert (data["status"], data["source"], data["format"], data["is_full"]) == ("succeeded", "api", "yml", True)
    assert data["counts"] == {"rows": 4, "created": 4, "updated": 0, "unchanged": 0, "rejected": 0, "withdrawn": 0,
                              "items_created": 4}
    assert data["started_at"] and data["finished_at"] and data["duration_seconds"] is not None
    assert Offer.objects.filter(partner=partner).count() == 4


def test_push_with_format_and_partial_flag_reports_rejected_rows(api_client, partner, token,
                                                                 django_capture_on_commit_callbacks):
    rows = offers(3)
    rows[1]["price"] = "-3"
    with django_capture_on_commit_callbacks(execute=True):
        response = push(api_client, token, json_lines(rows), "application/x-ndjson", "?format=json&full=false")

    data = api_client.get(response.json()["status_url"], HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert (data["format"], data["is_full"], data["counts"]["created"], data["counts"]["rejected"]) == (
        "json", False, 2, 1)
    problem = {"field": "price", "reason": "negative prices are not accepted", "value": "-3"}
    assert data["rejected_rows"] == [{"position": "line 2", "sku": "S-1", **problem, "problems": [problem]}]


def test_push_as_multipart_file(api_client, partner, token, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("offers.csv", csv_feed(offers(2)), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post("/api/v1/partner/feeds", {"file": upload}, format="multipart",
                                   HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 202, response.content
    assert FeedImport.objects.get(pk=response.json()["id"]).created_count == 2


def test_a_broken_feed_is_accepted_then_fails_with_the_reason(api_client, partner, token,
                                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = push(api_client, token, b"this is not xml", query="?format=yml")

    data = api_client.get(response.json()["status_url"], HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert data["status"] == "failed"
    assert data["message"].startswith("Not a YML feed: syntax error")


@pytest.mark.parametrize("query, body, status, code", [
    ("?format=xlsx", b"<x/>", 400, "invalid_format"),
    ("?full=maybe", b"<x/>", 400, "invalid_full"),
    ("", b"", 400, "empty_feed"),
])
def test_push_bad_requests_are_refused_with_a_clear_error(api_client, token, query, body, status, code):
    response = push(api_client, token, body, query=query)

    assert response.status_code == status
    assert response.json()["code"] == code
    assert not FeedImport.objects.exists()


def test_push_larger_than_the_limit_is_refused(api_client, token, settings):
    settings.FEED_MAX_BYTES = 1000
    response = push(api_client, token, b"<" + b"x" * 200_000)

    assert response.status_code == 413
    assert response.json()["detail"] == "The feed is larger than the limit of 1,000 bytes."
    assert not FeedImport.objects.exists()


def test_without_a_valid_token_nothing_is_accepted(api_client, partner, token):
    assert api_client.post("/api/v1/partner/feeds", data=b"<x/>", content_type="application/xml").status_code == 401
    assert push(api_client, "wrong-token-123456", b"<x/>").status_code == 401
    assert not FeedImport.objects.exists()


def test_a_partner_reads_only_its_own_imports(api_client, partner, token, django_capture_on_commit_callbacks):
    other = PartnerFactory(code="othershop")
    other_token = partner_issue_api_token(partner=other)
    with django_capture_on_commit_callbacks(execute=True):
        mine = push(api_client, token, yml(BOOKS)).json()

    response = api_client.get(mine["status_url"], HTTP_AUTHORIZATION=f"Bearer {other_token}")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "No such import among yours.", "field": None}
    assert api_client.get("/api/v1/partner/feeds", HTTP_AUTHORIZATION=f"Bearer {other_token}").json() == []
    listing = api_client.get("/api/v1/partner/feeds", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert [entry["id"] for entry in listing] == [mine["id"]]


def test_the_schema_documents_the_feed_endpoints(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    push_op = schema["paths"]["/api/v1/partner/feeds"]["post"]
    assert set(push_op["responses"]) >= {"202", "400", "413"}
    assert "application/xml" in push_op["requestBody"]["content"]
    assert "200" in schema["paths"]["/api/v1/partner/feeds/{id}"]["get"]["responses"]
    assert "partnerToken" in schema["components"]["securitySchemes"]
