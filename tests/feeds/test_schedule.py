"""Scheduled imports: Celery beat runs catalog.schedule_feed_imports every minute; each partner
with a feed URL is imported every `import_interval_minutes`."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import FeedImport, Offer
from catalog.tasks import schedule_feed_imports
from tests.factories import PartnerFactory

from .feeds import BOOKS, yml

pytestmark = pytest.mark.django_db


def test_due_partners_are_imported_and_the_rest_wait(partner, feed_server, django_capture_on_commit_callbacks):
    url = feed_server.serve("/feed.xml", yml(BOOKS))
    partner.feed_url, partner.import_interval_minutes = url, 60
    partner.save()
    recent = PartnerFactory(code="recent", feed_url=url, import_interval_minutes=60,
                            last_import_started_at=timezone.now() - timedelta(minutes=10))
    PartnerFactory(code="manual", feed_url=url, import_interval_minutes=0)
    PartnerFactory(code="nourl", import_interval_minutes=5)
    PartnerFactory(code="inactive", feed_url=url, import_interval_minutes=5, is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        assert schedule_feed_imports.delay().get() == 1

    feed_import = FeedImport.objects.get()
    assert (feed_import.partner, feed_import.source, feed_import.status) == (partner, "schedule", "succeeded")
    assert Offer.objects.filter(partner=partner).count() == 4
    partner.refresh_from_db()
    assert partner.last_import_started_at is not None

    # A minute later nobody is due; once the interval has passed, the partner is imported again.
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule_feed_imports.delay().get() == 0
    later = timezone.now() + timedelta(minutes=61)
    from catalog.feeds.services import feed_imports_schedule_due

    with django_capture_on_commit_callbacks(execute=True):
        assert [fi.partner for fi in feed_imports_schedule_due(now=later)] == [partner, recent]
    # The same feed again: recognised and skipped.
    assert FeedImport.objects.filter(partner=partner, status="skipped").count() == 1
