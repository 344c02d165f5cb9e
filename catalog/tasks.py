"""Celery tasks of the catalogue: they take ids, and each calls one service."""

from celery import shared_task

from catalog.feeds.services import feed_import_run, feed_imports_housekeep, feed_imports_schedule_due


# acks_late + reject_on_worker_lost: a worker that dies mid-import (killed, out of memory) leaves
# the message on the queue, and another worker runs the import again (the service lets the same
# task id take over its own running import; see feed_import_run). The FeedImport row is the
# result, so none is stored.
@shared_task(name="catalog.import_partner_feed", bind=True, acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def import_partner_feed(self, feed_import_id: str) -> str:
    """Run one FeedImport (any source: URL, schedule, upload, API push, command)."""
    return feed_import_run(feed_import_id=feed_import_id, task_id=self.request.id or "").status


@shared_task(name="catalog.schedule_feed_imports")
def schedule_feed_imports() -> int:
    """Run by Celery beat every minute: start the imports whose partner interval has passed."""
    return len(feed_imports_schedule_due())


@shared_task(name="catalog.feed_housekeeping")
def feed_housekeeping() -> dict:
    """Run by Celery beat every 2 minutes: re-send lost imports, fail dead ones, delete old feed files."""
    done = feed_imports_housekeep()
    return {"requeued": done.requeued, "failed_stale": done.failed_stale, "files_deleted": done.files_deleted}
