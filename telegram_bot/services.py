"""Writes to Telegram's side of the bot: the webhook registration and the command menu."""

from . import texts
from .bot_api import BotApi

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
