from pathlib import Path

import pytest
from rest_framework.test import APIClient

LOCALE = Path(__file__).resolve().parents[1] / "locale"


def pytest_configure(config):
    """Compile the Russian catalogue when it is missing or older than its .po (`make test` does it too),
    so a bare `pytest` run tests the admin's Russian, not silently English."""
    from babel.messages.frontend import CommandLineInterface

    for po in LOCALE.glob("*/LC_MESSAGES/django.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            CommandLineInterface().run(["pybabel", "-q", "compile", "-d", str(LOCALE), "-D", "django"])
            break


@pytest.fixture
def api_client():
    return APIClient()
