"""`make run PORT=…`: tracked links follow the port; a denied admin page is one log line."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


def public_base_url(**env) -> str:
    clean = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}
    clean.update({"DEBUG": "true", "DJANGO_SETTINGS_MODULE": "moodstream.settings", **env})
    result = subprocess.run([sys.executable, "-c", "import django; django.setup(); from django.conf import settings;"
                             " print(settings.PUBLIC_BASE_URL)"], cwd=ROOT, env=clean, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.skipif((ROOT / ".env").exists(), reason="a local .env would change what the settings read")
def test_public_base_url_follows_the_port_unless_set():
    assert public_base_url(PORT="8010") == "http://127.0.0.1:8010"
    assert public_base_url() == "http://127.0.0.1:8000"
    assert public_base_url(PORT="8010", PUBLIC_BASE_URL="https://ms.example/") == "https://ms.example"


def test_makefile_serves_on_the_port():
    makefile = (ROOT / "Makefile").read_text()
    assert "runserver 127.0.0.1:$(PORT)" in makefile and "PORT ?= 8000" in makefile


class Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(self.format(record))


def test_a_denied_admin_page_logs_one_line(db, django_user_model):
    from tests.factories import PartnerFactory

    staff = django_user_model.objects.create_user(username="shop", password="x-password-123", is_staff=True,
                                                  partner=PartnerFactory())
    request_logger = logging.getLogger("django.request")
    capture = Lines()
    request_logger.addHandler(capture)
    try:
        client = Client()
        client.force_login(staff)
        assert client.get("/admin/users/user/").status_code == 403
    finally:
        request_logger.removeHandler(capture)
    assert len(capture.records) == 1 and "Forbidden (Permission denied): /admin/users/user/" in capture.records[0]
    assert "Traceback" not in capture.records[0]
    # One handler prints django.request records: nothing propagates to the root's handler too.
    assert not request_logger.propagate and not logging.getLogger("django").propagate


def test_the_filter_keeps_other_tracebacks():
    from moodstream.log_filters import PermissionDeniedOneLine

    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Internal Server Error", None,
                                   sys.exc_info())
    assert PermissionDeniedOneLine().filter(record) and record.exc_info is not None
    try:
        raise PermissionDenied
    except PermissionDenied:
        record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Forbidden", None, sys.exc_info())
    assert PermissionDeniedOneLine().filter(record) and record.exc_info is None
