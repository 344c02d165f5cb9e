"""The Bot API client: keep-alive connections reused across calls, a connection the server closed not reused,
Telegram's errors, and the environment's proxy honoured."""

import json
import socket
import threading

import pytest

from telegram_bot import bot_api
from telegram_bot.bot_api import BotApi, BotApiError, EditFailed, connection_pool


def test_calls_reuse_one_keep_alive_connection(fake_api):
    bot = BotApi()
    bot.call("getMe")
    pool = connection_pool(bot.base_url)
    [connection] = pool._idle
    first_socket = connection.sock
    for _ in range(3):
        bot.send_message(42, "hello")
    assert pool._idle == [connection] and connection.sock is first_socket
    assert [c.method for c in fake_api.calls] == ["getMe", "sendMessage", "sendMessage", "sendMessage"]


class OneAnswerPerConnection:
    """An HTTP server that answers one request per connection and then closes it, without saying so
    beforehand — as a server does with a keep-alive connection that stayed idle too long."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.closed = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _address = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            request = b""
            while b"\r\n\r\n" not in request:
                request += connection.recv(65536)
            head, _, body = request.partition(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            while len(body) < length:
                body += connection.recv(65536)
            answer = json.dumps({"ok": True, "result": self.connections}).encode()
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                               % (len(answer), answer))
            connection.close()
            self.closed.set()

    def stop(self):
        self.listener.close()


def test_a_connection_the_server_closed_is_not_reused():
    server = OneAnswerPerConnection()
    try:
        bot = BotApi(token="1:T", base_url=f"http://127.0.0.1:{server.port}/bot")
        assert bot.call("getMe") == 1
        assert server.closed.wait(5)
        # Without the check the second call would be written into the dead connection and fail.
        assert bot.call("getMe") == 2
    finally:
        server.stop()


def test_an_unreachable_bot_api_is_a_bot_api_error():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
    with pytest.raises(BotApiError, match="unreachable"):
        BotApi(token="1:T", base_url=f"http://127.0.0.1:{port}/bot").call("getMe")


def test_telegram_errors_become_exceptions(fake_api):
    bot = BotApi()
    with pytest.raises(EditFailed):
        bot.edit_text(42, 999, "gone")
    with pytest.raises(BotApiError) as error:
        BotApi(token="999:WRONG").call("getMe")
    assert error.value.status == 401


@pytest.mark.parametrize("environment, proxied", [
    ({}, False),
    ({"HTTPS_PROXY": "http://proxy.example:3128"}, True),
    ({"ALL_PROXY": "http://proxy.example:3128"}, True),
    ({"HTTPS_PROXY": "http://proxy.example:3128", "NO_PROXY": "api.telegram.org"}, False),
    ({"HTTP_PROXY": "http://proxy.example:3128"}, False),  # a proxy for http:// only
])
def test_a_proxy_in_the_environment_sends_the_calls_through_httpx(monkeypatch, environment, proxied):
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "all_proxy",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    bot_api._proxied.cache_clear()
    try:
        assert bot_api._proxied("https://api.telegram.org/bot") is proxied
    finally:
        bot_api._proxied.cache_clear()
