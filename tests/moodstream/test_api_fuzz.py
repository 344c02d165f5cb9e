"""Schemathesis against the published schema: every operation, as a client app (API key), a partner
(token) and staff (KPI), a bounded, seeded number of examples. Whatever it sends, the API answers
no 5xx, only statuses the schema documents, the documented content type and a body that matches.
"""

import base64
import json
import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from catalog.services import partner_issue_api_token
from tests.factories import ContentItemFactory, GenreFactory, MoodFactory, OfferFactory, PartnerFactory
from users.models import User
from users.services import api_key_issue

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# 15 per operation keeps the whole fuzz well under a minute on two cores; derandomize makes CI repeatable.
# A longer hunt, random each run: API_FUZZ_EXAMPLES=500 .venv/bin/python -m pytest tests/moodstream/test_api_fuzz.py
EXAMPLES_PER_OPERATION = int(os.environ.get("API_FUZZ_EXAMPLES", 15))
REPEATABLE = "API_FUZZ_EXAMPLES" not in os.environ


# A feed pushed as JSON Lines: schemathesis has no generator for the media type, so without this the push's
# NDJSON body would never be sent. Lines of offer-like objects (any field may be missing, mistyped or odd),
# stray lines, and plain bytes.
_json_value = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                        max_size=3), max_leaves=6)
_offer_line = st.fixed_dictionaries({}, optional={
    name: _json_value | st.text(max_size=40) for name in ("id", "title", "kind", "url", "price", "currency", "year",
                                                           "genres", "isbn", "duration_minutes", "available")
}).map(lambda offer: json.dumps(offer, ensure_ascii=False))
_ndjson_line = _offer_line | st.text(max_size=40).filter(lambda line: "\n" not in line)
schemathesis.openapi.media_type("application/x-ndjson", st.one_of(
    st.lists(_ndjson_line, max_size=6).map(lambda lines: "\n".join(lines).encode()),
    st.binary(max_size=200),
))

# The schema the app serves (the same as docs/openapi.yaml, which test_api_schema keeps in step).
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def test_transaction_kept():
    """Requests go through the WSGI app, not Django's test client: like the test client, keep the app from
    closing the test's database connection (and with it the test's transaction) after each request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def credentials(db, test_transaction_kept):
    """One header per kind of caller, and a catalogue small enough for every operation to find something."""
    partner = PartnerFactory(code="kinoport")
    mood = MoodFactory(code="calm")
    genre = GenreFactory(kind="film", code="drama")
    item = ContentItemFactory(length_minutes=90)
    item.genres.add(genre)
    OfferFactory(item=item, partner=partner)
    User.objects.create_superuser(username="staff", password="staff-password-123", email="")
    assert mood
    basic = base64.b64encode(b"staff:staff-password-123").decode()
    return {
        "partner": f"Bearer {partner_issue_api_token(partner=partner)}",
        "kpi": f"Basic {basic}",
        "app": f"Api-Key {api_key_issue(name='fuzz')[1]}",
    }


def _authorization(path: str, credentials: dict) -> str:
    if path.startswith("/api/v1/partner/"):
        return credentials["partner"]
    if path == "/api/v1/kpi":
        return credentials["kpi"]
    return credentials["app"]


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=REPEATABLE, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_its_schema_says(case, credentials):
    case.call_and_validate(headers={"Authorization": _authorization(case.path, credentials)}, checks=CHECKS)
