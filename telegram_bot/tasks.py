from celery import shared_task
from django.conf import settings

from .services import processed_updates_prune


@shared_task(name="telegram_bot.prune_processed_updates")
def prune_processed_updates() -> int:
    """Delete the update ids older than TELEGRAM_PROCESSED_UPDATE_DAYS; returns how many."""
    return processed_updates_prune(days=settings.TELEGRAM_PROCESSED_UPDATE_DAYS)
