"""Synchronous Bot API calls for Django code.

Django views, the ORM and gunicorn's sync workers are synchronous, while python-telegram-bot's
`Bot` is asyncio-only. Driving it from a sync worker means a private event loop thread and a
thread hand-off per call (about 5 ms a call against the fake Bot API). So the bot uses
python-telegram-bot for what it is best at — parsing updates (`Update.de_json`) and building
keyboards (`InlineKeyboardMarkup`) — and posts the Bot API methods itself, JSON-encoded, to
`settings.TELEGRAM_API_BASE_URL + token + "/" + method`, exactly the URL PTB's `base_url` forms.

The requests go over keep-alive connections of the standard library's `http.client`, pooled per
process (created after gunicorn forks) and reused across calls and updates: about 0.14 ms of
CPU a call, against 0.48 ms for `httpx.Client` (its URL and header models cost more than the
request itself; a search makes about ten calls). When an HTTP(S) proxy for the Bot API's host is
set in the environment (`HTTPS_PROXY`, `NO_PROXY`, …), the calls go through `httpx`, which
honours it.

Telegram's answers that a handler must react to become plain exceptions or results:
- 429 → wait `retry_after` and try again (up to MAX_RETRY_WAIT seconds for one call);
- 403 → BotBlocked (the user blocked the bot; the dispatcher marks the profile inactive);
- "message is not modified" on an edit → ignored (a double tap);
- an edit of a message that is gone or too old → EditFailed (the caller sends a new one).
"""

import functools
import http.client
import json
import logging
import os
import select
import ssl
import threading
import time
import urllib.request
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from telegram import InlineKeyboardMarkup

logger = logging.getLogger(__name__)
# httpx logs every request URL at INFO, and a Bot API URL contains the bot's token.
logging.getLogger("httpx").setLevel(logging.WARNING)

MAX_RETRY_WAIT = 30.0  # seconds one call may spend waiting out 429s before giving up
CONNECT_TIMEOUT, READ_TIMEOUT = 5.0, 10.0
MAX_IDLE_CONNECTIONS = 8


class BotApiError(Exception):
    """The Bot API refused a call (or could not be reached)."""

    def __init__(self, description: str, *, status: int = 0, retry_after: float | None = None):
        super().__init__(description)
        self.description, self.status, self.retry_after = description, status, retry_after


class BotBlocked(BotApiError):
    """The user blocked the bot (or deleted their account): Telegram answered 403."""


class EditFailed(BotApiError):
    """The message cannot be edited any more (deleted, too old, not ours)."""


class ConnectionPool:
    """Idle keep-alive connections to one Bot API host, taken by one call at a time (threads may share it)."""

    def __init__(self, scheme: str, host: str, port: int | None):
        self.scheme, self.host, self.port = scheme, host, port
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def post(self, path: str, body: bytes, *, timeout: float) -> tuple[int, bytes]:
        """POST `body` (JSON) to `path`; the status and the answer's bytes. OSError or HTTPException on failure."""
        connection = self._take()
        try:
            if connection.sock is None:
                connection.connect()
            connection.sock.settimeout(timeout)
            connection.request("POST", path, body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            data = response.read()
        except BaseException:
            connection.close()
            raise
        if response.will_close:
            connection.close()
        else:
            self._give_back(connection)
        return response.status, data

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _take(self) -> http.client.HTTPConnection:
        with self._lock:
            while self._idle:
                connection = self._idle.pop()
                if _still_open(connection):
                    return connection
                connection.close()
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=CONNECT_TIMEOUT,
                                               context=_tls_context())
        return http.client.HTTPConnection(self.host, self.port, timeout=CONNECT_TIMEOUT)

    def _give_back(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < MAX_IDLE_CONNECTIONS:
                self._idle.append(connection)
                return
        connection.close()


def _still_open(connection: http.client.HTTPConnection) -> bool:
    """An idle keep-alive connection has nothing to read; if it has, the server closed it (EOF)."""
    if connection.sock is None:
        return False
    poller = select.poll()
    poller.register(connection.sock, select.POLLIN)
    return not poller.poll(0)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    try:
        import certifi
    except ImportError:  # the system's CA store then
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


_pools: dict[tuple, ConnectionPool] = {}
_httpx_clients: dict[int, httpx.Client] = {}
_transport_lock = threading.Lock()


def connection_pool(base_url: str) -> ConnectionPool:
    """This process's pool for the host of `base_url` (created after gunicorn forks, never shared across forks)."""
    parts = urlsplit(base_url)
    key = (os.getpid(), parts.scheme, parts.hostname, parts.port)
    pool = _pools.get(key)
    if pool is None:
        with _transport_lock:
            pool = _pools.get(key)
            if pool is None:
                # The bot talks to one host; a pool for another (a test's fake Bot API that is gone) is
                # closed, and one inherited from the parent process across a fork is only forgotten.
                for stale_key in list(_pools):
                    stale = _pools.pop(stale_key)
                    if stale_key[0] == key[0]:
                        stale.close()
                pool = _pools[key] = ConnectionPool(parts.scheme, parts.hostname, parts.port)
    return pool


def _httpx_client() -> httpx.Client:
    pid = os.getpid()
    client = _httpx_clients.get(pid)
    if client is None:
        with _transport_lock:
            client = _httpx_clients.get(pid) or httpx.Client(
                timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
                limits=httpx.Limits(max_keepalive_connections=MAX_IDLE_CONNECTIONS))
            _httpx_clients[pid] = client
    return client


@functools.lru_cache(maxsize=16)
def _proxied(base_url: str) -> bool:
    """Whether the environment sets a proxy for the Bot API's host (then httpx, which honours it, is used)."""
    parts = urlsplit(base_url)
    proxies = urllib.request.getproxies_environment()
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass_environment(parts.netloc, proxies)


def _post(url: str, body: bytes, *, base_url: str, timeout: float) -> tuple[int, bytes]:
    if _proxied(base_url):
        response = _httpx_client().post(url, content=body, headers={"Content-Type": "application/json"},
                                        timeout=httpx.Timeout(timeout, connect=CONNECT_TIMEOUT))
        return response.status_code, response.content
    parts = urlsplit(url)
    return connection_pool(base_url).post(parts.path + (f"?{parts.query}" if parts.query else ""), body,
                                          timeout=timeout)


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

    def call(self, method: str, *, max_retry_wait: float = MAX_RETRY_WAIT, **params):
        """Call one Bot API method and return its `result`; parameters that are None are left out.

        429s are waited out for at most `max_retry_wait` seconds in all.
        """
        payload = {name: _encode(value) for name, value in params.items() if value is not None}
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        url = f"{self.base_url}{self.token}/{method}"
        timeout = READ_TIMEOUT if method != "getUpdates" else float(params.get("timeout") or 0) + READ_TIMEOUT
        waited = 0.0
        while True:
            try:
                status, data = _post(url, body, base_url=self.base_url, timeout=timeout)
                answer = json.loads(data)
            except (OSError, http.client.HTTPException, httpx.HTTPError, ValueError) as exc:
                raise BotApiError(f"{method}: Bot API unreachable or answered garbage: {exc!r}") from exc
            if answer.get("ok"):
                return answer.get("result")
            status = int(answer.get("error_code") or status)
            description = str(answer.get("description") or f"HTTP {status}")
            retry_after = (answer.get("parameters") or {}).get("retry_after")
            if status == 429 and retry_after is not None:
                delay = float(retry_after)
                if waited + delay > max_retry_wait:
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
        """Stop the button's spinner (and show `text` as a toast). Never raises: the toast is a nicety,
        and a refusal (a query older than ~15 minutes, a 429, Telegram unreachable) must not abort the
        handler that answers. A 429 is not waited out either: a toast seconds late is no use."""
        try:
            self.call("answerCallbackQuery", max_retry_wait=0, callback_query_id=callback_query_id, text=text)
        except BotApiError as exc:
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

