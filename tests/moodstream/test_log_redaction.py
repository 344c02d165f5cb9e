"""Issue 16 finding 6: postback keys were written in clear into gunicorn's access log. The values
of `key` and `token` query parameters (any case) are now REDACTED there and in Django's request
loggers."""

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from moodstream.redaction import redact

ROOT = Path(__file__).resolve().parents[2]


def test_gunicorn_access_log_redacts_keys_and_tokens(tmp_path):
    """A real gunicorn, started with the project's config file, serving a request with secrets in its query."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
    access_log = tmp_path / "access.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "moodstream.settings_test",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "REDIS_URL": "", "WEB_CONCURRENCY": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "moodstream.wsgi:application", "--config", "moodstream/gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}", "--access-logfile", str(access_log)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = (f"http://127.0.0.1:{port}/healthz?click=7&key=pb-SECRET-1&Token=tk-SECRET-2&KEY=pb-SECRET-3"
           "&monkey=visible&token_type=visible")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                request = urllib.request.Request(url, headers={"Referer": "https://shop.example/?token=ref-SECRET-4"})
                with urllib.request.urlopen(request, timeout=30) as response:
                    assert response.status == 200
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError(f"gunicorn did not start: {server.stderr.read().decode()[-2000:]}") from None
                time.sleep(0.3)
        deadline = time.monotonic() + 10
        while "healthz" not in (access_log.read_text() if access_log.exists() else "") and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=30)

    [line] = [line for line in access_log.read_text().splitlines() if "healthz" in line]
    assert "SECRET" not in line, line
    assert ("GET /healthz?click=7&key=REDACTED&Token=REDACTED&KEY=REDACTED&monkey=visible&token_type=visible "
            "HTTP/1.1") in line
    assert '"https://shop.example/?token=REDACTED"' in line  # the Referer in the combined format


def test_django_request_loggers_redact_keys_and_tokens(caplog):
    caplog.set_level(logging.INFO)
    # What `runserver` writes for each request, and what Django writes for a failed one.
    logging.getLogger("django.server").info('"%s" %s %s', "GET /postback/kinoport?key=pb-SECRET&click_id=1 HTTP/1.1",
                                            200, 17)
    logging.getLogger("django.request").warning("Forbidden: %s", "/go/abc?TOKEN=tk-SECRET")

    messages = [record.getMessage() for record in caplog.records]
    assert messages == ['"GET /postback/kinoport?key=REDACTED&click_id=1 HTTP/1.1" 200 17',
                        "Forbidden: /go/abc?TOKEN=REDACTED"]


def test_redact_leaves_other_parameters_alone():
    assert redact("/x?keyword=a&api_key=b&key=&token=c#frag") == "/x?keyword=a&api_key=b&key=REDACTED&token=REDACTED#frag"
    assert redact("no query here") == "no query here"
