"""The bot's writes: Telegram's side of it (the webhook registration, the command menu), the ratings its
buttons record, and the housekeeping of the update ids it has handled."""

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from catalog.models import ContentItem
from users.models import Profile, Rating

from . import texts
from .bot_api import BotApi
from .models import ProcessedUpdate

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]


def webhook_register(*, bot: BotApi, url: str, secret: str, max_connections: int = 40,
                     drop_pending_updates: bool = False) -> None:
    """Point Telegram at our webhook; it will send `secret` in X-Telegram-Bot-Api-Secret-Token."""
    bot.call("setWebhook", url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES,
             max_connections=max_connections, drop_pending_updates=drop_pending_updates)


def commands_menu_set(*, bot: BotApi) -> None:
    """The command menu in Russian (the default for every language) and in English."""
    for language, code in (("ru", None), ("en", "en")):
        commands = [{"command": name, "description": texts.t(language, f"cmd_{name}")} for name in texts.COMMANDS]
        bot.call("setMyCommands", commands=commands, language_code=code)


def rating_record(*, profile: Profile, item_id: int, value: int, source: str) -> bool:
    """Record (or change) what the user thinks of an item; False when there is no such item (an old button).

    The same write as `users.services.rating_set`, in one statement instead of up to seven
    (`update_or_create` takes savepoints, a SELECT … FOR UPDATE and an INSERT): an INSERT … SELECT
    from the item's row, so a missing item writes nothing, ON CONFLICT DO UPDATE for a second
    press. A rating button is the bot's commonest update.
    """
    if value not in Rating.Value.values:
        raise ValueError(f"value must be one of {Rating.Value.values}")
    quote = connection.ops.quote_name
    ratings, items = quote(Rating._meta.db_table), quote(ContentItem._meta.db_table)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ratings} (profile_id, item_id, value, source, created_at, updated_at) "
            f"SELECT %s, id, %s, %s, %s, %s FROM {items} WHERE id = %s "
            "ON CONFLICT (profile_id, item_id) DO UPDATE "
            "SET value = EXCLUDED.value, source = EXCLUDED.source, updated_at = EXCLUDED.updated_at",
            [profile.pk, value, source, now, now, item_id])
        return cursor.rowcount == 1


def processed_updates_prune(*, days: int, batch: int = 10_000) -> int:
    """Forget the update ids received more than `days` days ago; returns how many were deleted.

    Telegram retries an update for at most 24 hours, so an id older than a day can never come back;
    `days` below 1 is refused. Rows go in batches of `batch` so that no statement holds many locks.
    """
    if days < 1:
        raise ValueError("keep processed updates for at least 1 day: Telegram retries an update for up to 24 hours")
    cutoff = timezone.now() - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(ProcessedUpdate.objects.filter(received_at__lt=cutoff).order_by()
                   .values_list("update_id", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += ProcessedUpdate.objects.filter(update_id__in=ids).delete()[0]
