import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from telegram_bot.bot_api import BotApi, BotApiError
from telegram_bot.dispatcher import InvalidUpdate, update_process
from telegram_bot.services import ALLOWED_UPDATES, commands_menu_set

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = ("Run the bot with long polling (no public URL needed): the same handlers as the webhook. "
            "Removes the webhook while it runs; `set_webhook` puts it back.")

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=int, default=30, help="Long-polling timeout, seconds.")
        parser.add_argument("--once", action="store_true", help="Handle one batch of updates and stop.")

    def handle(self, *args, **options):
        if not settings.TELEGRAM_BOT_TOKEN:
            raise CommandError("Set TELEGRAM_BOT_TOKEN (the token @BotFather gave you); "
                               "to try the bot without one, run `python manage.py chat`.")
        bot = BotApi()
        try:
            me = bot.call("getMe")
            bot.call("deleteWebhook")  # Telegram refuses getUpdates while a webhook is set
            commands_menu_set(bot=bot)
        except BotApiError as exc:
            raise CommandError(f"Telegram refused: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"@{me.get('username')} is polling for updates. Ctrl+C stops."))
        offset = None
        try:
            while True:
                try:
                    updates = bot.call("getUpdates", offset=offset, timeout=0 if options["once"] else options["timeout"],
                                       allowed_updates=ALLOWED_UPDATES)
                except BotApiError as exc:
                    logger.warning("getUpdates failed: %s; retrying in 3 s", exc)
                    time.sleep(3)
                    continue
                for update in updates:
                    self._handle(update)
                    offset = update["update_id"] + 1
                if options["once"]:
                    if offset is not None:  # confirm the batch, as the next poll would
                        bot.call("getUpdates", offset=offset, timeout=0)
                    return
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")

    def _handle(self, update: dict) -> None:
        # A database outage should not lose the update: retry it a few times before moving on.
        for attempt in range(3):
            try:
                update_process(payload=update)
                return
            except InvalidUpdate as exc:
                logger.warning("Skipping update %s: %s", update.get("update_id"), exc)
                return
            except Exception:
                logger.exception("Update %s failed (attempt %d)", update.get("update_id"), attempt + 1)
                time.sleep(1 + attempt)
