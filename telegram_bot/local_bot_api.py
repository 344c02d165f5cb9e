"""A local Telegram Bot API over real HTTP: `manage.py chat` talks to it at run time (no token, no network),
and the tests record and check every call through it. The webhook benchmark uses the lighter
`telegram_bot.benchmark_api` in its own process.

It listens on 127.0.0.1, records every method call (python-telegram-bot posts form-encoded
fields, other clients JSON or multipart; `reply_markup` arrives as a JSON string) and answers
like Telegram: messages get ids and are remembered so edits work, an edit that changes nothing
is refused with "message is not modified", and the limits Telegram enforces (callback data
≤ 64 bytes, text ≤ 4096 and captions ≤ 1024 characters after HTML parsing, well-formed HTML)
are enforced here too, so a test fails where Telegram would.

Faults can be injected: `fail_next("sendMessage", 429, retry_after=1)` and `block(chat_id)`
(every send to that chat answers 403 like a user who blocked the bot).
"""

import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

BOT_USER = {
    "id": 7000000001, "is_bot": True, "first_name": "MoodStream", "username": "moodstream_fake_bot",
    "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False,
}
_ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                 "tg-spoiler", "span", "blockquote", "tg-emoji"}
_SEND_METHODS = {"sendMessage", "sendPhoto"}
_EDIT_METHODS = {"editMessageText", "editMessageCaption", "editMessageReplyMarkup"}


@dataclass
class Call:
    """One Bot API request as the server received it."""

    method: str
    params: dict
    at: float = field(default_factory=time.monotonic)  # monotonic clock, for latency measurements
    wall: float = field(default_factory=time.time)

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value not in (None, "") else None

    @property
    def text(self) -> str:
        return self.params.get("text") or self.params.get("caption") or ""

    @property
    def reply_markup(self) -> dict | None:
        return self.params.get("reply_markup")

    def buttons(self) -> list[dict]:
        """The inline buttons of this call's keyboard, row by row flattened."""
        markup = self.reply_markup or {}
        return [button for row in markup.get("inline_keyboard", []) for button in row]


class BotApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after


class _EntityParser(HTMLParser):
    """Checks Telegram HTML: only its tags, properly nested; collects the visible text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.visible: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag not in _ALLOWED_TAGS:
            self.error = self.error or f"Unsupported start tag \"{tag}\""
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.error = self.error or f"Unexpected end tag \"{tag}\""
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.visible.append(data)


def visible_text(html: str) -> str:
    """The text a Telegram client shows for an HTML-formatted message."""
    parser = _EntityParser()
    parser.feed(html)
    parser.close()
    return "".join(parser.visible)


def _check_html(text: str, *, limit: int, what: str) -> None:
    parser = _EntityParser()
    parser.feed(text)
    parser.close()
    if parser.error or parser.stack:
        raise BotApiError(400, f"Bad Request: can't parse entities: {parser.error or 'unclosed tag'}")
    visible = "".join(parser.visible)
    if not visible.strip():
        raise BotApiError(400, f"Bad Request: {what} is empty")
    # Telegram counts UTF-16 code units.
    if len(visible.encode("utf-16-le")) // 2 > limit:
        raise BotApiError(400, f"Bad Request: {what} is too long")


def _check_markup(markup: dict | None) -> None:
    if not markup:
        return
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not button.get("text"):
                raise BotApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
            if "callback_data" in button:
                size = len(button["callback_data"].encode())
                if not 1 <= size <= 64:
                    raise BotApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            elif "url" in button:
                if not str(button["url"]).startswith(("http://", "https://", "tg://")):
                    raise BotApiError(400, "Bad Request: inline keyboard button URL is invalid")
            else:
                raise BotApiError(400, "Bad Request: can't find field \"callback_data\"")


def message_edited(message: dict | None, method: str, params: dict, markup: dict | None, *, date: int) -> dict:
    """An `editMessage*` call applied to a stored message as Telegram applies it: the edited copy, or
    BotApiError with Telegram's answer (gone, no text / caption to edit, nothing changed).
    Shared by this fake and the benchmark's (telegram_bot.benchmark_api)."""
    if message is None:
        raise BotApiError(400, "Bad Request: message to edit not found")
    updated = dict(message)
    if method == "editMessageText":
        if "text" not in message:
            raise BotApiError(400, "Bad Request: there is no text in the message to edit")
        updated["text"] = params.get("text", "")
    elif method == "editMessageCaption":
        if "photo" not in message:
            raise BotApiError(400, "Bad Request: there is no caption in the message to edit")
        updated["caption"] = params.get("caption", "")
    if markup and markup.get("inline_keyboard"):
        updated["reply_markup"] = markup
    else:
        updated.pop("reply_markup", None)
    if updated == message:
        raise BotApiError(400, "Bad Request: message is not modified: specified new message content and reply "
                               "markup are exactly the same as a current content and reply markup of the message")
    updated["edit_date"] = date
    return updated


class FakeBotApi:
    """The fake server. Use as a context manager or call start() / stop()."""

    def __init__(self, *, token: str = "123456:FAKE-token", host: str = "127.0.0.1", port: int = 0):
        self.token = token
        self._lock = threading.Lock()
        self._updates_ready = threading.Condition(self._lock)
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], dict] = {}
        self._chat_messages: dict[int, dict[int, dict]] = {}  # the same messages, per chat
        self.photo_urls: dict[tuple[int, int], str] = {}  # what sendPhoto was given, per message
        self._message_ids: dict[int, itertools.count] = {}
        self._failures: deque[tuple[str, int, str, int | None, int | None]] = deque()
        self._blocked: set[int] = set()
        self.deleted: set[tuple[int, int]] = set()  # (chat id, message id) of deleted messages
        self._updates: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Telegram; clients reuse connections
            disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs (40 ms a call)

            def do_POST(self):
                fake._serve(self)

            do_GET = do_POST

            def log_message(self, format, *args):  # quiet: tests print only failures
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """The value for TELEGRAM_API_BASE_URL (the token is appended, as python-telegram-bot does)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/bot"

    def start(self) -> "FakeBotApi":
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-bot-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- test helpers --------------------------------------------------------------------
    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def calls_of(self, *methods: str, chat_id: int | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if (not methods or c.method in methods)
                    and (chat_id is None or c.chat_id == chat_id)]

    def fail_next(self, method: str, status: int, description: str = "", *, retry_after: int | None = None,
                  chat_id: int | None = None) -> None:
        """Make the next call of `method` (to `chat_id`, if given) fail once."""
        if not description:
            description = {429: f"Too Many Requests: retry after {retry_after}",
                           403: "Forbidden: bot was blocked by the user"}.get(status, "Bad Request")
        with self._lock:
            self._failures.append((method, status, description, retry_after, chat_id))

    def block(self, chat_id: int) -> None:
        """From now on the user of `chat_id` has blocked the bot."""
        with self._lock:
            self._blocked.add(int(chat_id))

    def push_update(self, update: dict) -> None:
        """Queue an update for getUpdates (long polling)."""
        with self._updates_ready:
            self._updates.append(update)
            self._updates_ready.notify_all()

    def message(self, chat_id: int, message_id: int) -> dict | None:
        with self._lock:
            return self.messages.get((int(chat_id), int(message_id)))

    def chat_messages(self, chat_id: int) -> list[dict]:
        """The bot's messages in one chat as they are now (edits applied), oldest first."""
        with self._lock:
            messages = self._chat_messages.get(int(chat_id), {})
            return [messages[message_id] for message_id in sorted(messages)]

    # --- HTTP ------------------------------------------------------------------------------
    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        status, payload = self._answer(request.path, request.headers.get("Content-Type", ""), body)
        data = json.dumps(payload, ensure_ascii=False).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def _answer(self, path: str, content_type: str, body: bytes) -> tuple[int, dict]:
        path = path.split("?", 1)[0]
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[:2] == ["_fake", "messages"]:
            # Not Telegram: lets another process (a benchmark, a debugger) read a chat as it is now.
            return 200, {"ok": True, "result": self.chat_messages(int(parts[2]))}
        if len(parts) != 2 or not parts[0].startswith("bot"):
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        token, method = parts[0][3:], parts[1]
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        params = _parse_params(content_type, body)
        call = Call(method=method, params=params)
        self._record(call)
        try:
            self._injected_failure(call)
            result = self._result(call)
        except BotApiError as exc:
            answer = {"ok": False, "error_code": exc.status, "description": exc.description}
            if exc.retry_after is not None:
                answer["parameters"] = {"retry_after": exc.retry_after}
            return exc.status, answer
        return 200, {"ok": True, "result": result}

    def _record(self, call: Call) -> None:
        """Remember a call (a subclass may index calls further, e.g. per chat for a benchmark)."""
        with self._lock:
            self.calls.append(call)

    def _injected_failure(self, call: Call) -> None:
        with self._lock:
            if call.method in _SEND_METHODS | _EDIT_METHODS and call.chat_id in self._blocked:
                raise BotApiError(403, "Forbidden: bot was blocked by the user")
            for failure in list(self._failures):
                method, status, description, retry_after, chat_id = failure
                if method == call.method and (chat_id is None or chat_id == call.chat_id):
                    self._failures.remove(failure)
                    raise BotApiError(status, description, retry_after)

    def _result(self, call: Call):
        method, params = call.method, call.params
        if method == "getMe":
            return BOT_USER
        if method in {"answerCallbackQuery", "setWebhook", "deleteWebhook", "setMyCommands",
                      "deleteMyCommands", "sendChatAction", "setChatMenuButton"}:
            return True
        if method == "deleteMessage":
            return self._delete(params)
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        if method == "getUpdates":
            return self._get_updates(params)
        if method == "sendMessage":
            _check_html(params.get("text", ""), limit=4096, what="message text")
            _check_markup(params.get("reply_markup"))
            return self._store(params, text=params["text"])
        if method == "sendPhoto":
            if "caption" in params:
                _check_html(params["caption"], limit=1024, what="message caption")
            _check_markup(params.get("reply_markup"))
            return self._store(params, caption=params.get("caption", ""), photo=params.get("photo"))
        if method in _EDIT_METHODS:
            return self._edit(method, params)
        raise BotApiError(404, "Not Found: method not found")

    def _store(self, params: dict, **content) -> dict:
        chat_id = int(params["chat_id"])
        with self._lock:
            counter = self._message_ids.setdefault(chat_id, itertools.count(1))
            message_id = next(counter)
            message = {"message_id": message_id, "date": int(time.time()), "from": BOT_USER,
                       "chat": {"id": chat_id, "type": "private"}}
            if "photo" in content:
                message["photo"] = [{"file_id": f"photo-{chat_id}-{message_id}", "file_unique_id": f"u{message_id}",
                                     "width": 320, "height": 480}]
                message["caption"] = content["caption"]
                self.photo_urls[(chat_id, message_id)] = str(content["photo"])
            else:
                message["text"] = content["text"]
            if params.get("reply_markup"):
                message["reply_markup"] = params["reply_markup"]
            self.messages[(chat_id, message_id)] = message
            self._chat_messages.setdefault(chat_id, {})[message_id] = message
            return dict(message)

    def _edit(self, method: str, params: dict) -> dict:
        if "chat_id" not in params or "message_id" not in params:
            raise BotApiError(400, "Bad Request: message identifier is not specified")
        key = (int(params["chat_id"]), int(params["message_id"]))
        markup = params.get("reply_markup")
        _check_markup(markup)
        with self._lock:
            updated = message_edited(self.messages.get(key), method, params, markup, date=int(time.time()))
            if method == "editMessageText":
                _check_html(updated["text"], limit=4096, what="message text")
            elif method == "editMessageCaption":
                _check_html(updated["caption"], limit=1024, what="message caption")
            self.messages[key] = updated
            self._chat_messages[key[0]][key[1]] = updated
            return dict(updated)

    def _delete(self, params: dict) -> bool:
        key = (int(params.get("chat_id") or 0), int(params.get("message_id") or 0))
        with self._lock:
            if self.messages.pop(key, None) is None:
                raise BotApiError(400, "Bad Request: message to delete not found")
            self._chat_messages.get(key[0], {}).pop(key[1], None)
            self.deleted.add(key)
        return True

    def _get_updates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 30.0)
        deadline = time.monotonic() + timeout
        with self._updates_ready:
            # Confirmed updates (below the offset) are forgotten, as Telegram does.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and time.monotonic() < deadline:
                self._updates_ready.wait(deadline - time.monotonic())
            return list(self._updates[: int(params.get("limit") or 100)])


def _parse_params(content_type: str, body: bytes) -> dict:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        params = json.loads(body)
    elif content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        params = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            params[name] = payload.decode(errors="replace") if part.get_filename() is None else payload
    else:
        params = dict(parse_qsl(body.decode(), keep_blank_values=True))
    for name in ("reply_markup", "commands", "allowed_updates", "link_preview_options"):
        if isinstance(params.get(name), str):
            try:
                params[name] = json.loads(params[name])
            except ValueError:
                pass
    return params


def plain(html: str) -> str:
    """Telegram HTML as the reader sees it (tags dropped, entities decoded)."""
    return visible_text(html)
