"""Fixtures for the feed tests: a partner, the genre table, feed builders, a local HTTP server."""

import json
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from catalog.models import Genre
from tests.factories import PartnerFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def genres(db):
    """MoodStream's genre table as shipped in fixtures/genres.json."""
    for kind, rows in json.loads((ROOT / "fixtures" / "genres.json").read_text()).items():
        for row in rows:
            Genre.objects.get_or_create(kind=kind, code=row["code"], defaults={"name_ru": row["ru"], "name_en": row["en"]})
    return Genre.objects.all()


@pytest.fixture
def partner(db, genres):
    return PartnerFactory(code="bookshop", name="Book & <Shop>")


@pytest.fixture(autouse=True)
def _feed_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FEED_FETCH_BACKOFF_SECONDS = 0.01
    settings.FEED_FETCH_TIMEOUT = 2.0


class FeedServer:
    """An HTTP server on 127.0.0.1 in a thread. `routes[path]` is a list of responses served in
    turn (the last one repeats): (status, body bytes, headers dict, delay seconds)."""

    def __init__(self):
        self.routes: dict[str, list[tuple]] = {}
        self.hits: dict[str, int] = defaultdict(int)
        self.host_headers: dict[str, list[str]] = defaultdict(list)  # the Host header of each request, per path
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 — http.server's naming
                server.hits[self.path] += 1
                server.host_headers[self.path].append(self.headers.get("Host", ""))
                responses = server.routes.get(self.path) or [(404, b"not found", {}, 0)]
                status, body, headers, delay = responses[min(server.hits[self.path], len(responses)) - 1]
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    if value is not None:  # None leaves the header out (a close-delimited body)
                        self.send_header(name, value)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def serve(self, path: str, body: bytes, status: int = 200, headers: dict | None = None, delay: float = 0) -> str:
        self.routes[path] = [(status, body, headers or {}, delay)]
        return self.url(path)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feed_server():
    server = FeedServer()
    yield server
    server.close()
