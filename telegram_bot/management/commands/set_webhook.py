import re

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from telegram_bot.bot_api import BotApi, BotApiError
from telegram_bot.services import commands_menu_set, webhook_register

# The Bot API's limits for setWebhook: secret_token is 1-256 of A-Z a-z 0-9 _ -; max_connections 1-100.
# Checked here so that a bad value is named before Telegram is called, not answered with its 400.
SECRET_ALPHABET = re.compile(r"[A-Za-z0-9_-]{1,256}")
MAX_CONNECTIONS = range(1, 101)


class Command(BaseCommand):
    help = "Register the webhook URL and its secret with Telegram and set the bot's command menu (ru and en)."

    def add_arguments(self, parser):
        parser.add_argument("--url", help="Webhook URL (default: PUBLIC_BASE_URL + /telegram/webhook/).")
        parser.add_argument("--max-connections", type=int, default=40,
                            help="Parallel webhook requests Telegram may make (1-100).")
        parser.add_argument("--drop-pending-updates", action="store_true",
                            help="Forget the updates Telegram queued while no webhook was set.")

    def handle(self, *args, **options):
        if not settings.TELEGRAM_BOT_TOKEN:
            raise CommandError("Set TELEGRAM_BOT_TOKEN (the token @BotFather gave you).")
        secret = settings.TELEGRAM_WEBHOOK_SECRET
        if len(secret) < 16:
            raise CommandError("Set TELEGRAM_WEBHOOK_SECRET to a random string of 16+ characters "
                               "(letters, digits, _ and -).")
        if not SECRET_ALPHABET.fullmatch(secret):
            wrong = sorted({char for char in secret if not SECRET_ALPHABET.fullmatch(char)})
            raise CommandError(
                "TELEGRAM_WEBHOOK_SECRET may hold only letters A-Z a-z, digits, _ and -, at most 256 characters"
                + (f"; it contains {''.join(wrong)!r}." if wrong else f"; it has {len(secret)}."))
        if options["max_connections"] not in MAX_CONNECTIONS:
            raise CommandError(f"--max-connections must be between 1 and 100, not {options['max_connections']}.")
        url = options["url"] or settings.PUBLIC_BASE_URL + reverse("telegram_bot:webhook")
        if not url.startswith("https://"):
            self.stderr.write(self.style.WARNING(f"Telegram only delivers to https:// URLs; {url} will be refused."))
        bot = BotApi()
        try:
            webhook_register(bot=bot, url=url, secret=settings.TELEGRAM_WEBHOOK_SECRET,
                             max_connections=options["max_connections"],
                             drop_pending_updates=options["drop_pending_updates"])
            commands_menu_set(bot=bot)
        except BotApiError as exc:
            raise CommandError(f"Telegram refused: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Webhook set to {url}; command menu set in Russian and English."))
