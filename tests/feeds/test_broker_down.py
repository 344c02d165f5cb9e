"""Issue 16 finding 7: with the broker down, a feed push answered 500 HTML and left a `pending`
import nobody would run. Now the push answers 503 JSON `queue_unavailable`, "Import feed now"
shows an error, and the import is recorded as failed with the reason.

The broker is a real unreachable Redis (a closed port on this machine), not a stand-in: the
Celery app is pointed at it for the test. The tests are transactional because the task is sent
when the import's row commits (`transaction.on_commit`), as in production.
"""

import socket

import pytest

from catalog.models import FeedImport
from catalog.services import partner_issue_api_token
from moodstream.celery import app

from .feeds import BOOKS, yml


@pytest.fixture
def broker_down():
    """Celery sends to redis://127.0.0.1:<closed port>: every publish is refused by the kernel."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]  # free again once closed: nothing listens there
    saved = app.conf.broker_url, app.conf.task_always_eager, app._pool, app.amqp._producer_pool
    app.conf.broker_url = f"redis://127.0.0.1:{port}/0"
    app.conf.task_always_eager = False
    app._pool = app.amqp._producer_pool = None  # built again from the URL above
    try:
        yield
    finally:
        if app._pool is not None:
            app._pool.force_close_all()
        app.conf.broker_url, app.conf.task_always_eager, app._pool, app.amqp._producer_pool = saved


@pytest.mark.django_db(transaction=True)
def test_a_push_with_the_broker_down_answers_503_json_and_leaves_nothing_pending(api_client, partner, broker_down):
    token = partner_issue_api_token(partner=partner)

    response = api_client.post("/api/v1/partner/feeds?format=yml", data=yml(BOOKS), content_type="application/xml",
                               HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "queue_unavailable" and body["field"] is None
    assert "queue is unavailable" in body["detail"]
    assert not FeedImport.objects.filter(status__in=["pending", "running"]).exists()
    failed = FeedImport.objects.get()
    assert failed.status == "failed" and failed.finished_at is not None
    assert failed.message.startswith("Not started: the task queue (Redis) is unreachable")


@pytest.mark.django_db(transaction=True)
def test_import_feed_now_with_the_broker_down_shows_an_error(admin_client, partner, broker_down):
    partner.feed_url = "https://shop.example/feed.xml"
    partner.save(update_fields=["feed_url"])

    response = admin_client.post("/admin/catalog/partner/", {
        "action": "import_feed_now", "_selected_action": [partner.pk]}, follow=True)

    assert response.status_code == 200
    text = response.content.decode()
    assert "The import queue (Redis) is unavailable: no import started for Book &amp; &lt;Shop&gt;." in text
    assert "Started" not in text
    assert FeedImport.objects.get().status == "failed"
