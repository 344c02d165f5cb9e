"""Handled update ids are forgotten after TELEGRAM_PROCESSED_UPDATE_DAYS by an hourly Celery task."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from telegram_bot.models import ProcessedUpdate
from telegram_bot.services import processed_updates_prune
from telegram_bot.tasks import prune_processed_updates

from .conftest import TelegramUser


def _received(update_id: int, days_ago: float) -> None:
    ProcessedUpdate.objects.create(update_id=update_id)
    ProcessedUpdate.objects.filter(update_id=update_id).update(received_at=timezone.now() - timedelta(days=days_ago))


@pytest.mark.django_db
def test_the_task_deletes_ids_older_than_the_setting_and_keeps_the_rest(settings):
    settings.TELEGRAM_PROCESSED_UPDATE_DAYS = 7
    for update_id, days_ago in ((1, 30), (2, 7.1), (3, 6.9), (4, 1), (5, 0)):
        _received(update_id, days_ago)
    assert prune_processed_updates.delay().get() == 2
    assert sorted(ProcessedUpdate.objects.values_list("update_id", flat=True)) == [3, 4, 5]


@pytest.mark.django_db
def test_a_shorter_setting_deletes_more_in_batches(settings):
    for update_id in range(1, 26):
        _received(update_id, 3)
    _received(26, 0.5)
    assert processed_updates_prune(days=2, batch=10) == 25
    assert list(ProcessedUpdate.objects.values_list("update_id", flat=True)) == [26]


@pytest.mark.django_db
def test_ids_younger_than_a_day_are_never_deleted():
    # Telegram retries an update for up to 24 hours: a forgotten id could be handled twice.
    _received(1, 0.9)
    with pytest.raises(ValueError, match="at least 1 day"):
        processed_updates_prune(days=0)
    assert ProcessedUpdate.objects.filter(update_id=1).exists()


@pytest.mark.django_db
def test_a_repeat_within_the_kept_days_is_still_ignored(client, fake_api, catalogue, settings):
    user = TelegramUser(client, fake_api)
    update = user.message_update("/start")
    assert user.post(update).json()["outcome"] == "handled"
    prune_processed_updates()
    assert user.post(update).json()["outcome"] == "duplicate"


def test_beat_runs_the_task_every_hour():
    entry = next(e for e in django_settings.CELERY_BEAT_SCHEDULE.values()
                 if e["task"] == "telegram_bot.prune_processed_updates")
    assert entry["schedule"] == timedelta(hours=1)
    assert django_settings.TELEGRAM_PROCESSED_UPDATE_DAYS == 7  # the documented default (.env.example, README)
