"""Start-up configuration: bad or missing variables stop the service with one line naming them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "k8Zq3vN1xR7pL0sW5yT2mB9cF4hJ6dG8aE1uI3oP7nQ-x4Vb2Ls9Kd0Wm",
    "ALLOWED_HOSTS": "moodstream.example.com",
    "DATABASE_URL": "sqlite:////tmp/moodstream-settings-test.sqlite3",
    "PUBLIC_BASE_URL": "https://moodstream.example.com",
}


def run_manage(*args, env_overrides, drop=()):
    # Only what the process needs to run: the variables under test come from the overrides.
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"} and k not in drop}
    env.update(env_overrides)
    env["DJANGO_SETTINGS_MODULE"] = "moodstream.settings"
    # Keep a developer's .env out of these checks.
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture(autouse=True)
def no_dotenv():
    if (ROOT / ".env").exists():
        pytest.skip("a local .env file would change what these start-up checks see")


def test_production_without_secret_key_stops_naming_it():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = run_manage("check", env_overrides=env, drop=("SECRET_KEY",))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == ["Configuration error: Set the SECRET_KEY environment variable."]


def test_short_secret_key_is_refused():
    result = run_manage("check", env_overrides={**PRODUCTION_ENV, "SECRET_KEY": "short"})
    assert result.returncode != 0
    assert "SECRET_KEY must be a random string of at least 50 characters" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("variable", "value"),
    [("DEBUG", "maybe"), ("DATABASE_URL", "nosuchdb://x"), ("FEED_MAX_BYTES", "lots"), ("CONN_MAX_AGE", "soon")],
)
def test_invalid_value_names_the_variable(variable, value):
    result = run_manage("check", env_overrides={**PRODUCTION_ENV, variable: value})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]


def test_deploy_check_is_clean_with_production_values():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_development_defaults_need_no_configuration():
    result = run_manage(
        "check", env_overrides={"DEBUG": "true"}, drop=("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS")
    )
    assert result.returncode == 0, result.stderr


def test_production_bot_requires_a_webhook_secret():
    result = run_manage("check", env_overrides={**PRODUCTION_ENV, "TELEGRAM_BOT_TOKEN": "123:abc"},
                        drop=("TELEGRAM_WEBHOOK_SECRET",))
    assert result.returncode != 0
    assert "TELEGRAM_WEBHOOK_SECRET" in result.stderr
