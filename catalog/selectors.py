"""Reads of the catalogue and the marketplace."""

from django.core.exceptions import ValidationError

from .models import FeedImport, Partner


def feed_import_for_partner(*, partner: Partner, feed_import_id) -> FeedImport | None:
    """One of the partner's own imports; another partner's import is as good as missing."""
    try:
        return FeedImport.objects.filter(partner=partner, pk=feed_import_id).first()
    except (ValidationError, ValueError):
        return None


def feed_imports_recent(*, partner: Partner, limit: int = 50) -> list[FeedImport]:
    return list(FeedImport.objects.filter(partner=partner).order_by("-created_at")[:limit])


def partner_by_code(*, code: str) -> Partner | None:
    return Partner.objects.filter(code=code).first()
