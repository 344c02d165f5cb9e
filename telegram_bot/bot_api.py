"""Synchronous Bot API calls for Django code.

Django views, the ORM and gunicorn's sync workers are synchronous, while python-telegram-bot's
`Bot` is asyncio-only. Driving it from a sync worker means a private event loop thread and a
thread hand-off per call; measured against the fake Bot API that costs about 5 ms a call against
1.4 ms for a plain keep-alive `httpx.Client` (a search sends about ten messages). So the bot
uses python-telegram-bot for what it is best at — parsing updates (`Update.de_json`) and
building keyboards (`InlineKeyboardMarkup`) — and posts the Bot API methods itself, JSON-encoded,
to `settings.TELEGRAM_API_BASE_URL + token + "/" + method`, exactly the URL PTB's `base_url` forms.

Telegram's answers that a handler must react to become plain exceptions or results:
- 429 → wait `retry_after` and try again (up to MAX_RETRY_WAIT seconds for one call);
- 403 → BotBlocked (the user blocked the bot; the dispatcher marks the profile inactive);
- "message is not modified" on an edit → ignored (a double tap);
- an edit of a message that is gone or too old → EditFailed (the caller sends a new one).
"""

import logging
import os
import threading
import time

import httpx
from django.conf import settings
from telegram import InlineKeyboardMarkup

logger = logging.getLogger(__name__)
# httpx logs every request URL at INFO, and a Bot API URL contains the bot's token.
logging.getLogger("httpx").setLevel(logging.WARNING)

MAX_RETRY_WAIT = 30.0  # seconds one call may spend waiting out 429s before giving up
_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class BotApiError(Exception):
    """The Bot API refused a call (or could not be reached)."""

    def __init__(self, description: str, *, status: int = 0, retry_after: float | None = None):
        super().__init__(description)
        self.description, self.status, self.retry_after = description, status, retry_after


class BotBlocked(BotApiError):
    """The user blocked the bot (or deleted their account): Telegram answered 403."""


class EditFailed(BotApiError):
    """The message cannot be edited any more (deleted, too old, not ours)."""


_clients: dict[int, httpx.Client] = {}
_clients_lock = threading.Lock()


def _client() -> httpx.Client:
    # One keep-alive pool per process: created after gunicorn forks, never shared across forks.
    pid = os.getpid()
    client = _clients.get(pid)
    if client is None:
        with _clients_lock:
            client = _clients.get(pid) or httpx.Client(timeout=_TIMEOUT, limits=httpx.Limits(max_keepalive_connections=8))
            _clients[pid] = client
    return client


def _encode(value):
    if isinstance(value, InlineKeyboardMarkup):
        # PTB's generic to_dict() costs ~2 ms for a ten-button keyboard; the bot only uses
        # callback and URL buttons, so they are written out directly.
        return {"inline_keyboard": [[_button(button) for button in row] for row in value.inline_keyboard]}
    return value


def _button(button) -> dict:
    if button.url is not None:
        return {"text": button.text, "url": button.url}
    if button.callback_data is not None:
        return {"text": button.text, "callback_data": button.callback_data}
    return button.to_dict()


class BotApi:
    """The Bot API of the configured bot (settings.TELEGRAM_BOT_TOKEN at settings.TELEGRAM_API_BASE_URL)."""

    def __init__(self, *, token: str | None = None, base_url: str | None = None):
        self.token = token if token is not None else settings.TELEGRAM_BOT_TOKEN
        self.base_url = base_url if base_url is not None else settings.TELEGRAM_API_BASE_URL

    def call(self, method: str, **params):
        """Call one Bot API method and return its `result`; parameters that are None are left out."""
        payload = {name: _encode(value) for name, value in params.items() if value is not None}
        url = f"{self.base_url}{self.token}/{method}"
        waited = 0.0
        while True:
            try:
                response = _client().post(url, json=payload, timeout=_TIMEOUT if method != "getUpdates"
                                          else httpx.Timeout(float(params.get("timeout") or 0) + 10.0, connect=5.0))
                answer = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise BotApiError(f"{method}: Bot API unreachable or answered garbage: {exc}") from exc
            if answer.get("ok"):
                return answer.get("result")
            status = int(answer.get("error_code") or response.status_code)
            description = str(answer.get("description") or f"HTTP {status}")
            retry_after = (answer.get("parameters") or {}).get("retry_after")
            if status == 429 and retry_after is not None:
                delay = float(retry_after)
                if waited + delay > MAX_RETRY_WAIT:
                    logger.warning("Bot API %s: flood control asks for %ss more; giving up", method, delay)
                    raise BotApiError(description, status=status, retry_after=delay)
                logger.info("Bot API %s: 429, retrying in %ss", method, delay)
                time.sleep(delay)
                waited += delay
                continue
            if status == 403:
                raise BotBlocked(description, status=status)
            raise BotApiError(f"{method}: {description}", status=status)

    # --- the methods the screens use -------------------------------------------------------
    def send_message(self, chat_id: int, text: str, reply_markup: InlineKeyboardMarkup | None = None) -> dict:
        return self.call("sendMessage", chat_id=chat_id, text=text, parse_mode="HTML", reply_markup=reply_markup,
                         link_preview_options={"is_disabled": True})

    def send_photo(self, chat_id: int, photo: str, caption: str,
                   reply_markup: InlineKeyboardMarkup | None = None) -> dict:
        return self.call("sendPhoto", chat_id=chat_id, photo=photo, caption=caption, parse_mode="HTML",
                         reply_markup=reply_markup)

    def edit_text(self, chat_id: int, message_id: int, text: str,
                  reply_markup: InlineKeyboardMarkup | None = None) -> None:
        self._edit("editMessageText", chat_id=chat_id, message_id=message_id, text=text, parse_mode="HTML",
                   reply_markup=reply_markup, link_preview_options={"is_disabled": True})

    def edit_markup(self, chat_id: int, message_id: int, reply_markup: InlineKeyboardMarkup | None) -> None:
        self._edit("editMessageReplyMarkup", chat_id=chat_id, message_id=message_id,
                   reply_markup=reply_markup or InlineKeyboardMarkup([]))

    def answer_callback(self, callback_query_id: str, text: str | None = None) -> None:
        try:
            self.call("answerCallbackQuery", callback_query_id=callback_query_id, text=text)
        except BotApiError as exc:
            if isinstance(exc, BotBlocked) or exc.status != 400:
                raise
            # A query older than ~15 minutes cannot be answered any more; nothing to do about it.
            logger.info("answerCallbackQuery refused: %s", exc)

    def _edit(self, method: str, **params) -> None:
        try:
            self.call(method, **params)
        except BotApiError as exc:
            if isinstance(exc, BotBlocked) or exc.status != 400:
                raise
            message = exc.description.lower()
            if "not modified" in message:
                return
            raise EditFailed(exc.description, status=exc.status) from exc

