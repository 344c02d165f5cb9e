"""A light recording Bot API for the webhook benchmark: its own process, one asyncio loop, no validation.

    python -m telegram_bot.benchmark_api --token TOKEN [--port 0]   # prints "port N", then serves

Real Telegram costs the bot's machine no CPU. The strict `FakeBotApi` of `telegram_bot.local_bot_api`
(a thread per connection, the HTML of every text parsed and checked) runs inside the caller's
process and, in the benchmark, took CPU from the same two cores as gunicorn and PostgreSQL. This
server does only what the benchmark needs, as cheaply as Python can:

- it answers the methods the bot uses as Telegram does for valid input — message ids per chat,
  `editMessage*` of a stored message ("message is not modified", "message to edit not found",
  "there is no text in the message to edit"), `answerCallbackQuery`, anything else `true`;
- it records every call with its arrival time (`time.time()` when the whole request was read),
  per chat and per callback query id, so the benchmark computes latency, losses and duplicates
  exactly as before;
- `POST /_bench/chat` with `{"chat_id", "since", "query"}` returns that chat's calls from index
  `since` on (`[method, arrival]`), its call count, the arrival times of the answers to callback
  query `query`, and the chat's last 12 messages as they are now (edits applied) — the buttons a
  benchmark user presses. `GET /_bench/stats` returns the number of calls.

Texts are not checked against Telegram's limits or HTML rules here: the tests do that with
`FakeBotApi`, and the benchmark's purpose is speed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from urllib.parse import parse_qsl

from telegram_bot.local_bot_api import BotApiError, message_edited

RECENT_MESSAGES = 12
_EDIT_METHODS = {"editMessageText", "editMessageCaption", "editMessageReplyMarkup"}
_TRUE_METHODS = {"answerCallbackQuery", "setWebhook", "deleteWebhook", "setMyCommands", "deleteMyCommands",
                 "sendChatAction", "setChatMenuButton", "deleteMessage"}
_BOT_USER = {"id": 7000000001, "is_bot": True, "first_name": "MoodStream", "username": "moodstream_bench_bot"}
_REASONS = {200: b"OK", 400: b"Bad Request", 401: b"Unauthorized", 404: b"Not Found"}


class BenchmarkBotApi:
    """What the server knows: every chat's calls and messages, every callback query's answers."""

    def __init__(self, token: str):
        self.token = token
        self.calls = 0
        self.chat_calls: dict[int, list[tuple[str, float]]] = {}
        self.answers: dict[str, list[float]] = {}
        self.messages: dict[int, dict[int, dict]] = {}

    # --- the Bot API -----------------------------------------------------------------------
    def bot_call(self, token: str, method: str, params: dict, arrived: float):
        if token != self.token:
            raise BotApiError(401, "Unauthorized")
        self.calls += 1
        if method == "answerCallbackQuery":
            self.answers.setdefault(str(params.get("callback_query_id")), []).append(arrived)
            return True
        chat_id = params.get("chat_id")
        if chat_id is not None:
            chat_id = int(chat_id)
            self.chat_calls.setdefault(chat_id, []).append((method, arrived))
        if method in ("sendMessage", "sendPhoto"):
            return self._store(chat_id, params, arrived)
        if method in _EDIT_METHODS:
            return self._edit(chat_id, method, params, arrived)
        if method in _TRUE_METHODS:
            return True
        if method == "getMe":
            return _BOT_USER
        raise BotApiError(404, "Not Found: method not found")

    def _store(self, chat_id: int, params: dict, arrived: float) -> dict:
        chat = self.messages.setdefault(chat_id, {})
        message_id = len(chat) + 1
        message = {"message_id": message_id, "date": int(arrived), "from": _BOT_USER,
                   "chat": {"id": chat_id, "type": "private"}}
        if "photo" in params:
            message["photo"] = [{"file_id": f"p{chat_id}-{message_id}", "file_unique_id": f"u{message_id}",
                                 "width": 320, "height": 480}]
            message["caption"] = params.get("caption", "")
        else:
            message["text"] = params.get("text", "")
        markup = _markup(params)
        if markup:
            message["reply_markup"] = markup
        chat[message_id] = message
        return message

    def _edit(self, chat_id, method: str, params: dict, arrived: float) -> dict:
        message = self.messages.get(chat_id, {}).get(int(params.get("message_id") or 0))
        updated = message_edited(message, method, params, _markup(params), date=int(arrived))
        self.messages[chat_id][message["message_id"]] = updated
        return updated

    # --- what the benchmark reads ------------------------------------------------------------
    def chat_report(self, chat_id: int, since: int, query: str | None) -> dict:
        calls = self.chat_calls.get(chat_id, [])
        messages = self.messages.get(chat_id, {})
        recent = sorted(messages)[-RECENT_MESSAGES:]
        return {"count": len(calls), "calls": calls[since:],
                "answers": self.answers.get(query, []) if query else [],
                "messages": [messages[message_id] for message_id in recent]}

    def answer(self, method: str, path: str, content_type: str, body: bytes, arrived: float) -> tuple[int, dict]:
        parts = path.split("?", 1)[0].strip("/").split("/")
        if parts == ["_bench", "chat"]:
            ask = json.loads(body)
            return 200, self.chat_report(int(ask["chat_id"]), int(ask.get("since") or 0), ask.get("query"))
        if parts == ["_bench", "stats"]:
            return 200, {"calls": self.calls}
        if len(parts) != 2 or not parts[0].startswith("bot"):
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        try:
            result = self.bot_call(parts[0][3:], parts[1], _params(content_type, body), arrived)
        except BotApiError as exc:
            return exc.status, {"ok": False, "error_code": exc.status, "description": exc.description}
        return 200, {"ok": True, "result": result}


def _params(content_type: str, body: bytes) -> dict:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        return json.loads(body)
    return dict(parse_qsl(body.decode(), keep_blank_values=True))


def _markup(params: dict) -> dict | None:
    markup = params.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    return markup if markup and markup.get("inline_keyboard") else None


class _Connection(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, just enough for JSON POSTs with Content-Length."""

    def __init__(self, api: BenchmarkBotApi):
        self.api = api
        self.buffer = b""
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buffer[:end].decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length") or 0)
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4:end + 4 + length]
            self.buffer = self.buffer[end + 4 + length:]
            method, path, _version = (lines[0].split(" ") + ["", ""])[:3]
            status, payload = self.api.answer(method, path, headers.get("content-type", ""), body, time.time())
            data = json.dumps(payload, ensure_ascii=False).encode()
            self.transport.write(b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                                 % (status, _REASONS.get(status, b"Error"), len(data)) + data)
            if headers.get("connection", "").lower() == "close":
                self.transport.close()
                self.transport = None

    def connection_lost(self, exc):
        self.transport = None


async def serve(api: BenchmarkBotApi, host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(api), host, port, backlog=256)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--token", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(BenchmarkBotApi(args.token), args.host, args.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
