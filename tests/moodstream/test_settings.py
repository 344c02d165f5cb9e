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


@pytest.mark.parametrize("value", [None, "http://moodstream.example.com", "http://127.0.0.1:8000", "moodstream.example"])
def test_production_refuses_a_missing_or_non_https_public_base_url(value):
    """Telegram refuses shop buttons that are not https links: production must not start with one."""
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "PUBLIC_BASE_URL"}
    if value is not None:
        env["PUBLIC_BASE_URL"] = value
    result = run_manage("check", env_overrides=env, drop=("PUBLIC_BASE_URL",))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "PUBLIC_BASE_URL" in lines[0]
    if value is not None:
        assert lines[0] == (f"Configuration error: PUBLIC_BASE_URL must be the https:// address users reach this "
                            f"service at when DEBUG is off, not {value!r}.")


def test_http_public_base_url_only_when_explicitly_allowed():
    env = {**PRODUCTION_ENV, "PUBLIC_BASE_URL": "http://127.0.0.1:8000", "PUBLIC_BASE_URL_ALLOW_HTTP": "true"}
    assert run_manage("check", env_overrides=env).returncode == 0


SHOW_PROXY = ("shell", "-c", "from django.conf import settings; "
              "print(getattr(settings, 'SECURE_PROXY_SSL_HEADER', None), settings.TRUSTED_PROXY)")


def test_x_forwarded_proto_is_trusted_only_behind_a_declared_proxy():
    plain = run_manage(*SHOW_PROXY, env_overrides=PRODUCTION_ENV)
    assert plain.stdout.strip().splitlines()[-1] == "None False", plain.stderr
    proxied = run_manage(*SHOW_PROXY, env_overrides={**PRODUCTION_ENV, "TRUSTED_PROXY": "true"})
    assert proxied.stdout.strip().splitlines()[-1] == "('HTTP_X_FORWARDED_PROTO', 'https') True", proxied.stderr


def test_proxy_networks_are_read_and_a_malformed_one_stops_start_up():
    show = ("shell", "-c", "from django.conf import settings; print(*settings.TRUSTED_PROXY_NETWORKS)")
    default = run_manage(*show, env_overrides=PRODUCTION_ENV)
    assert "127.0.0.0/8" in default.stdout and "10.0.0.0/8" in default.stdout, default.stderr
    named = run_manage(*show, env_overrides={**PRODUCTION_ENV, "TRUSTED_PROXY_NETWORKS": "203.0.113.5, 2001:db8::/48"})
    assert named.stdout.strip().splitlines()[-1] == "203.0.113.5/32 2001:db8::/48", named.stderr
    broken = run_manage("check", env_overrides={**PRODUCTION_ENV, "TRUSTED_PROXY_NETWORKS": "10.0.0.0/8, proxy.local"})
    assert broken.returncode != 0
    assert ("TRUSTED_PROXY_NETWORKS is not valid: 'proxy.local' is not an IP address or network such as "
            "10.0.0.0/8.") in broken.stderr


def test_compose_publishes_gunicorn_directly_and_so_trusts_no_proxy_header():
    compose = (ROOT / "docker-compose.yml").read_text()
    assert '"8000:8000"' in compose
    assert "TRUSTED_PROXY: ${TRUSTED_PROXY:-false}" in compose


def test_a_process_starts_without_loading_scipy_stats():
    # scipy.stats costs every process ≈ 0.6 s and 60 MB at start (a web or Celery worker, each
    # manage.py command); only the KPI's confidence interval needs it, and imports it there.
    result = run_manage("shell", "-c", "import sys; print('scipy.stats' in sys.modules)", env_overrides=PRODUCTION_ENV)
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr
