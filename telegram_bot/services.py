"""The bot's writes: Telegram's side of it (the webhook registration, the command menu) and the
housekeeping of the update ids it has handled. Ratings are `users.services.rating_record`."""

from datetime import timedelta

from django.utils import timezone

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


def commands_menu_set_for_chat(*, bot: BotApi, chat_id: int, language: str) -> None:
    """The command menu of one chat in the language its user chose (over the client-language menus)."""
    commands = [{"command": name, "description": texts.t(language, f"cmd_{name}")} for name in texts.COMMANDS]
    bot.call("setMyCommands", commands=commands, scope={"type": "chat", "chat_id": chat_id})


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
