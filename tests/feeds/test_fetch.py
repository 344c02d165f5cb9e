"""Fetching feed URLs: retries with backoff, size limit, timeouts, redirects, clear failure reasons."""

import pytest

from catalog.models import Offer

from .feeds import BOOKS, yml
from .helpers import run_url_import

pytestmark = pytest.mark.django_db


def test_transient_failures_are_retried_then_the_feed_imports(partner, feed_server):
    feed_server.routes["/feed"] = [(503, b"busy", {}, 0), (502, b"bad gateway", {}, 0), (200, yml(BOOKS), {}, 0)]

    feed_import = run_url_import(partner, feed_server.url("/feed"))

    assert feed_import.status == "succeeded", feed_import.message
    assert feed_server.hits["/feed"] == 3
    assert Offer.objects.filter(partner=partner).count() == 4


def test_persistent_failure_gives_up_after_the_retries_with_the_reason(partner, feed_server, settings):
    settings.FEED_FETCH_RETRIES = 2
    feed_server.serve("/feed", b"down", status=503)

    feed_import = run_url_import(partner, feed_server.url("/feed"))

    assert feed_import.status == "failed"
    assert feed_import.message == ("The feed URL answered 503 Service Unavailable (gave up after 3 attempts). "
                                   "Nothing was changed.")
    assert feed_server.hits["/feed"] == 3


def test_not_found_is_not_retried(partner, feed_server):
    feed_import = run_url_import(partner, feed_server.url("/missing"))

    assert feed_import.status == "failed"
    assert feed_import.message == "The feed URL answered 404 Not Found. Nothing was changed."
    assert feed_server.hits["/missing"] == 1


def test_a_server_that_does_not_answer_in_time_fails_with_the_timeout(partner, feed_server, settings):
    settings.FEED_FETCH_TIMEOUT = 0.3
    settings.FEED_FETCH_RETRIES = 1
    feed_server.serve("/slow", yml(BOOKS), delay=1.5)

    feed_import = run_url_import(partner, feed_server.url("/slow"))

    assert feed_import.status == "failed"
    assert feed_import.message.startswith("The feed URL did not answer within 0.3 s (gave up after 2 attempts)")


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "no-content-length"])
def test_a_feed_larger_than_the_limit_is_refused(partner, feed_server, settings, declare_length):
    settings.FEED_MAX_BYTES = 10_000
    body = yml(BOOKS * 40)
    assert len(body) > 10_000
    headers = {} if declare_length else {"Content-Length": None}
    feed_server.serve("/big", body, headers=headers)

    feed_import = run_url_import(partner, feed_server.url("/big"))

    assert feed_import.status == "failed"
    assert feed_import.message == (
        f"The feed is {len(body):,} bytes; the limit is 10,000 bytes. Nothing was changed." if declare_length
        else "The feed is larger than the limit of 10,000 bytes. Nothing was changed.")
    assert not Offer.objects.exists()


def test_redirects_are_followed_and_checked(partner, feed_server, settings):
    feed_server.serve("/feed", yml(BOOKS))
    feed_server.serve("/old", b"", status=301, headers={"Location": "/feed"})

    feed_import = run_url_import(partner, feed_server.url("/old"))

    assert feed_import.status == "succeeded", feed_import.message
    assert feed_server.hits["/feed"] == 1


def test_a_redirect_loop_fails(partner, feed_server):
    feed_server.serve("/loop", b"", status=302, headers={"Location": "/loop"})

    feed_import = run_url_import(partner, feed_server.url("/loop"))

    assert feed_import.status == "failed"
    assert feed_import.message == "The feed URL redirects more than 5 times. Nothing was changed."
