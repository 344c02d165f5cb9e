"""Celery tasks of the catalogue: they take ids, and each calls one service."""

from celery import shared_task

from catalog.feeds.services import feed_import_run, feed_imports_housekeep, feed_imports_schedule_due


@shared_task(name="catalog.import_partner_feed")
def import_partner_feed(feed_import_id: str) -> str:
    """Run one FeedImport (any source: URL, schedule, upload, API push, command)."""
    return feed_import_run(feed_import_id=feed_import_id).status


@shared_task(name="catalog.schedule_feed_imports")
def schedule_feed_imports() -> int:
    """Run by Celery beat every minute: start the imports whose partner interval has passed."""
    return len(feed_imports_schedule_due())


@shared_task(name="catalog.feed_housekeeping")
def feed_housekeeping() -> dict:
    """Run by Celery beat every 10 minutes: re-send lost imports, fail dead ones, delete old feed files."""
    done = feed_imports_housekeep()
    return {"requeued": done.requeued, "failed_stale": done.failed_stale, "files_deleted": done.files_deleted}
