"""Feed housekeeping (Celery beat, every 2 minutes): lost imports are sent again, imports whose
worker died are failed with a clear message, old feed files are deleted while their reports stay."""

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from catalog.feeds.services import feed_import_create, feed_imports_schedule_due
from catalog.models import FeedImport, Offer
from catalog.tasks import feed_housekeeping

from .feeds import BOOKS, yml
from .helpers import run_import

pytestmark = pytest.mark.django_db


def _age(feed_import: FeedImport, **fields) -> None:
    FeedImport.objects.filter(pk=feed_import.pk).update(**fields)


def test_an_import_whose_worker_died_is_failed_and_no_longer_blocks_the_schedule(partner, settings, feed_server,
                                                                                  django_capture_on_commit_callbacks):
    settings.FEED_IMPORT_STALE_MINUTES = 60
    url = feed_server.serve("/feed.xml", yml(BOOKS))
    partner.feed_url, partner.import_interval_minutes = url, 30
    partner.save()
    dead = feed_import_create(partner=partner, source=FeedImport.Source.SCHEDULE, url=url, enqueue=False)
    now = timezone.now()
    _age(dead, status=FeedImport.Status.RUNNING, created_at=now - timedelta(minutes=90),
         started_at=now - timedelta(minutes=89))
    busy = feed_import_create(partner=partner, source=FeedImport.Source.URL, url=url, enqueue=False)
    _age(busy, status=FeedImport.Status.RUNNING, started_at=now - timedelta(minutes=5))
    partner.last_import_started_at = now - timedelta(hours=2)
    partner.save(update_fields=["last_import_started_at"])

    assert feed_housekeeping.delay().get() == {"requeued": 0, "failed_stale": 1, "files_deleted": 0}

    dead.refresh_from_db()
    assert dead.status == "failed"
    assert "worker running this import stopped" in dead.message and "nothing was changed" in dead.message
    assert dead.finished_at is not None
    busy.refresh_from_db()
    assert busy.status == "running"  # five minutes in: still working

    # Once the live one finishes too, the partner's schedule goes on.
    _age(busy, status=FeedImport.Status.SUCCEEDED, finished_at=now)
    with django_capture_on_commit_callbacks(execute=True):
        assert [fi.partner for fi in feed_imports_schedule_due()] == [partner]
    assert Offer.objects.filter(partner=partner).count() == len(BOOKS)


def test_a_pending_import_nobody_picked_up_is_sent_again_and_runs_once(partner):
    lost = feed_import_create(partner=partner, source=FeedImport.Source.UPLOAD, upload=io.BytesIO(yml(BOOKS)),
                              filename="feed.xml", enqueue=False)  # as if the broker had lost the message
    fresh = feed_import_create(partner=partner, source=FeedImport.Source.UPLOAD, upload=io.BytesIO(yml(BOOKS[:1])),
                               filename="feed.xml", enqueue=False)
    _age(lost, created_at=timezone.now() - timedelta(minutes=11))

    assert feed_housekeeping.delay().get()["requeued"] == 1

    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.status == "succeeded" and lost.created_count == len(BOOKS)
    assert fresh.status == "pending"  # two minutes old at most: its own message is still on the way
    # A second pass finds nothing to do: a finished import is never run again.
    assert feed_housekeeping.delay().get() == {"requeued": 0, "failed_stale": 0, "files_deleted": 0}


def test_old_feed_files_are_deleted_and_their_reports_kept(partner, settings):
    settings.FEED_FILES_KEEP_DAYS = 30
    old = run_import(partner, yml(BOOKS), "yml")
    recent = run_import(partner, yml(BOOKS[:2]), "yml")
    old_path, recent_path = Path(old.file.path), Path(recent.file.path)
    assert old_path.exists() and recent_path.exists()
    _age(old, finished_at=timezone.now() - timedelta(days=31))

    assert feed_housekeeping.delay().get() == {"requeued": 0, "failed_stale": 0, "files_deleted": 1}

    old.refresh_from_db()
    assert not old_path.exists() and not old.file
    assert (old.status, old.created_count, old.rows_total) == ("succeeded", len(BOOKS), len(BOOKS))
    assert recent_path.exists()
    recent.refresh_from_db()
    assert recent.file


def test_an_import_is_failed_minutes_after_its_heartbeat_stops_not_an_hour(partner, settings):
    """Issue 16 finding 7: a killed worker's import stayed `running` until the 60-minute check."""
    assert settings.FEED_IMPORT_STALE_MINUTES <= 5  # the default: minutes, not an hour
    settings.FEED_IMPORT_STALE_MINUTES = 5
    now = timezone.now()
    lost = feed_import_create(partner=partner, source=FeedImport.Source.URL, url="https://shop.example/a.xml",
                              enqueue=False)
    _age(lost, status=FeedImport.Status.RUNNING, started_at=now - timedelta(minutes=7),
         heartbeat_at=now - timedelta(minutes=6))
    long_alive = feed_import_create(partner=partner, source=FeedImport.Source.URL, url="https://shop.example/b.xml",
                                    enqueue=False)
    _age(long_alive, status=FeedImport.Status.RUNNING, started_at=now - timedelta(minutes=50),
         heartbeat_at=now - timedelta(seconds=30))

    assert feed_housekeeping.delay().get()["failed_stale"] == 1

    lost.refresh_from_db()
    long_alive.refresh_from_db()
    assert lost.status == "failed" and "no sign of life for 5 minutes" in lost.message
    assert long_alive.status == "running"  # a long import whose worker still beats is left alone


def test_a_redelivered_task_takes_over_its_own_running_import_and_no_other_run_does(partner):
    """The same task id, delivered again after its worker died, runs the import; any other run does not."""
    from catalog.feeds.services import feed_import_run

    feed_import = feed_import_create(partner=partner, source=FeedImport.Source.UPLOAD, upload=io.BytesIO(yml(BOOKS)),
                                     filename="feed.xml", enqueue=False)
    _age(feed_import, status=FeedImport.Status.RUNNING, started_at=timezone.now(), task_id="task-1")

    assert feed_import_run(feed_import_id=feed_import.pk, task_id="task-2").status == "running"
    assert feed_import_run(feed_import_id=feed_import.pk).status == "running"
    assert Offer.objects.filter(partner=partner).count() == 0

    done = feed_import_run(feed_import_id=feed_import.pk, task_id="task-1")
    assert done.status == "succeeded" and done.created_count == len(BOOKS)
    # Finished: the same task delivered once more changes nothing.
    assert feed_import_run(feed_import_id=feed_import.pk, task_id="task-1").created_count == len(BOOKS)
    assert Offer.objects.filter(partner=partner).count() == len(BOOKS)
