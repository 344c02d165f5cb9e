"""Health probes: /healthz says the process is up; /readyz checks the database and Redis."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import django, json
django.setup()
from django.test import Client
response = Client().get("/readyz")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def probe_readyz(**env_overrides):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "moodstream.settings_test", **env_overrides}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_healthz_answers_without_touching_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ready_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_readyz_names_the_database_when_it_is_down():
    outcome = probe_readyz(DATABASE_URL="postgres://postgres@127.0.0.1:1/moodstream", REDIS_URL="")
    assert outcome["status"] == 503
    assert list(outcome["body"]["failing"]) == ["database"]


def test_readyz_names_redis_when_it_is_down(tmp_path):
    outcome = probe_readyz(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", REDIS_URL="redis://127.0.0.1:1/0")
    assert outcome["status"] == 503
    assert list(outcome["body"]["failing"]) == ["redis"]
