"""A real Celery worker (a `celery -A moodstream worker` process) runs a feed import via Redis;
a worker process killed mid-import has its import redelivered and completed exactly once."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from catalog.feeds.services import feed_import_create
from catalog.models import FeedImport, Offer
from catalog.tasks import import_partner_feed
from moodstream.celery import app

from .feeds import BOOKS, yml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path, request):
    """Start a worker on a queue of its own, pointed at this test database; stop it afterwards.

    Indirect parameters: extra worker options (default `--pool=solo`) and extra environment.
    """
    options, extra_env = getattr(request, "param", (["--pool=solo"], {}))
    if not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is not set: no broker for a real worker")
    if connection.vendor == "sqlite":
        pytest.skip("the test database must be one a second process can open (PostgreSQL)")
    database_url = urlsplit(os.environ["DATABASE_URL"])
    test_database_url = urlunsplit(database_url._replace(path="/" + connection.settings_dict["NAME"]))
    queue = f"feeds-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": test_database_url, "DJANGO_SETTINGS_MODULE": "moodstream.settings_test",
           "CONN_MAX_AGE": "0", **extra_env}
    log = (tmp_path / "worker.log").open("w")  # a file, not a pipe: a full pipe would stall the worker
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "moodstream", "worker", *options, "-Q", queue,
         "--without-mingle", "--without-gossip", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    worker.log_path = log.name
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False  # this process only sends; the worker runs the task
    try:
        yield queue, worker
    finally:
        app.conf.task_always_eager = eager
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
        connection.close()


@pytest.mark.celery_worker
def test_a_real_worker_runs_a_feed_import(celery_worker_process, genres, feed_server):
    feed_import, worker = _import_books_through(celery_worker_process, feed_server, partner_code="workershop")

    if worker.poll() is not None:
        pytest.fail(f"the worker exited: {Path(worker.log_path).read_text()[-3000:]}")
    assert feed_import.status == FeedImport.Status.SUCCEEDED, feed_import.message
    assert feed_import.created_count == 4
    assert Offer.objects.filter(partner=feed_import.partner).count() == 4
    assert feed_server.hits["/feed.xml"] == 1


def _import_books_through(celery_worker_process, feed_server, *, partner_code: str) -> tuple[FeedImport, subprocess.Popen]:
    """A new partner's import of the BOOKS feed, sent to the test's worker; back when it ended (or the worker did)."""
    from tests.factories import PartnerFactory

    queue, worker = celery_worker_process
    feed_import = feed_import_create(partner=PartnerFactory(code=partner_code), source=FeedImport.Source.URL,
                                     url=feed_server.serve("/feed.xml", yml(BOOKS)), enqueue=False)
    import_partner_feed.apply_async(args=[str(feed_import.pk)], queue=queue)
    _wait_for_outcome(feed_import, worker, deadline=time.monotonic() + 90)
    return feed_import, worker


def _wait_for_outcome(feed_import: FeedImport, worker: subprocess.Popen, deadline: float) -> None:
    """Until the import succeeded or failed, the worker exited, or the deadline passed."""
    while time.monotonic() < deadline and worker.poll() is None:
        feed_import.refresh_from_db()
        if feed_import.status in (FeedImport.Status.SUCCEEDED, FeedImport.Status.FAILED):
            return
        time.sleep(0.3)


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


# A prefork worker with one child process: the child runs the task, the parent survives its death.
# Heartbeats twice a second so the test can see them.
@pytest.mark.celery_worker
@pytest.mark.parametrize("celery_worker_process",
                         [(["--pool=prefork", "--concurrency=1"], {"FEED_IMPORT_HEARTBEAT_SECONDS": "0.5"})],
                         indirect=True)
def test_an_import_whose_worker_process_is_killed_is_redelivered_and_completes_once(
        celery_worker_process, genres, feed_server):
    from tests.factories import PartnerFactory

    queue, worker = celery_worker_process
    partner = PartnerFactory(code="killedshop")
    # The first fetch hangs long enough to kill the worker in the middle of the import; the second is quick.
    body = yml(BOOKS)
    feed_server.routes["/slow.xml"] = [(200, body, {}, 8), (200, body, {}, 0)]
    feed_import = feed_import_create(partner=partner, source=FeedImport.Source.URL, url=feed_server.url("/slow.xml"),
                                     enqueue=False)

    import_partner_feed.apply_async(args=[str(feed_import.pk)], queue=queue)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and feed_server.hits["/slow.xml"] == 0 and worker.poll() is None:
        time.sleep(0.1)
    time.sleep(1.5)  # in the middle of the slow fetch; a heartbeat or two written
    feed_import.refresh_from_db()
    assert feed_import.status == FeedImport.Status.RUNNING and feed_import.task_id
    assert feed_import.heartbeat_at > feed_import.started_at  # the heartbeat thread is alive
    [child] = _children(worker.pid)
    os.kill(child, signal.SIGKILL)

    _wait_for_outcome(feed_import, worker, deadline)
    if worker.poll() is not None:
        pytest.fail(f"the worker exited: {Path(worker.log_path).read_text()[-3000:]}")
    log = Path(worker.log_path).read_text()
    assert "WorkerLostError" in log or "exited prematurely" in log, log[-3000:]
    assert feed_import.status == FeedImport.Status.SUCCEEDED, feed_import.message
    assert feed_import.created_count == 4
    assert Offer.objects.filter(partner=partner).count() == 4
    assert FeedImport.objects.filter(partner=partner).count() == 1
    assert feed_server.hits["/slow.xml"] == 2  # the killed attempt and the redelivered one, no third


# A prefork pool process is daemonic: it may not start multiprocessing children. The feed reader
# is a plain subprocess, so a large feed (here: any feed, by the setting) is read by it there too.
@pytest.mark.celery_worker
@pytest.mark.parametrize("celery_worker_process",
                         [(["--pool=prefork", "--concurrency=1"], {"FEED_READER_PROCESS_MIN_BYTES": "1"})],
                         indirect=True)
def test_a_prefork_worker_reads_a_large_feed_in_the_reader_process(celery_worker_process, genres, feed_server):
    feed_import, worker = _import_books_through(celery_worker_process, feed_server, partner_code="preforkshop")

    log = Path(worker.log_path).read_text()
    assert feed_import.status == FeedImport.Status.SUCCEEDED, feed_import.message + log[-3000:]
    assert feed_import.created_count == 4
    assert f"Feed import {feed_import.pk}: read by the feed reader process" in log, log[-3000:]
