"""MoodStream settings, read from the environment (and an optional `.env` file).

Every variable is documented in `.env.example`. With nothing set, the service runs on its
embedded defaults: a SQLite file, Celery tasks executed in-process, a local-memory cache.
With DEBUG off, a real SECRET_KEY is required and start-up stops with one line naming it.
"""

import ipaddress
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")


def _setting(read, name, *args, **kwargs):
    """Read one variable; a malformed value stops start-up with a line naming it."""
    try:
        return read(name, *args, **kwargs)
    except ImproperlyConfigured:
        raise ImproperlyConfigured(f"Set the {name} environment variable.") from None
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{name} is not valid: {exc}") from None


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


def _bool(name: str, default: bool) -> bool:
    """A strict boolean: a typo such as DEBUG=ture stops start-up instead of reading as False."""
    raw = env.str(name, default=str(default)).strip().lower()
    if raw not in _TRUE | _FALSE:
        raise ImproperlyConfigured(f"{name} is not valid: use true or false, not {raw!r}.")
    return raw in _TRUE


DEBUG = _bool("DEBUG", default=False)

_INSECURE_KEY = "django-insecure-moodstream-local-development-only"
SECRET_KEY = _setting(env.str, "SECRET_KEY", default=_INSECURE_KEY if DEBUG else environ.Env.NOTSET)
if not DEBUG and (SECRET_KEY == _INSECURE_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured("SECRET_KEY must be a random string of at least 50 characters when DEBUG is off.")

ALLOWED_HOSTS = _setting(env.list, "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = _setting(env.list, "CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "users",
    "catalog",
    "recommender",
    "tracking",
    "telegram_bot",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The admin and the pages speak the signed-in person's chosen language (else Accept-Language);
    # API and machine endpoints are left to their own rule.
    "moodstream.language.PersonLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Under /api/ only: the answer's language from Accept-Language (English by default) and control characters
    # in the query refused. Last, so that its language wins over any site-wide locale middleware above it.
    "moodstream.api_input.ApiRequestMiddleware",
]

ROOT_URLCONF = "moodstream.urls"
WSGI_APPLICATION = "moodstream.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": _setting(env.db_url, "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if not DATABASES["default"].get("ENGINE", "").startswith("django.db.backends."):
    raise ImproperlyConfigured("DATABASE_URL is not valid: use postgres://… or sqlite:///….")
DATABASES["default"].setdefault("CONN_MAX_AGE", _setting(env.int, "CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default is used by one developer at a time; WAL lets the bot and the
    # web server read while an import writes.
    DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"

# --- Redis: Celery broker and cache -----------------------------------------------------
REDIS_URL = _setting(env.str, "REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "moodstream",
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = None
    # Without Redis every task runs in-process, the same code as in production.
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True

CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis re-delivers a message nobody acknowledged after the visibility timeout. With acks_late a task
# is acknowledged when it ends, so the timeout must be longer than any task may run (the time limit
# above): otherwise a long import would be handed to a second worker while the first still runs.
# A worker that dies mid-task has its task re-delivered at once (task_reject_on_worker_lost), or
# after this timeout when the whole worker host vanished. Connecting to a dead broker fails fast.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * CELERY_TASK_TIME_LIMIT, "socket_connect_timeout": 5}
CELERY_BEAT_SCHEDULE = {
    "import-due-partner-feeds": {"task": "catalog.schedule_feed_imports", "schedule": timedelta(minutes=1)},
    "feed-housekeeping": {"task": "catalog.feed_housekeeping", "schedule": timedelta(minutes=2)},
    "retrain-recommender": {"task": "recommender.train_recommender", "schedule": timedelta(hours=24)},
    "refresh-kpi": {"task": "tracking.refresh_daily_kpi", "schedule": timedelta(minutes=5)},
    "prune-telegram-updates": {"task": "telegram_bot.prune_processed_updates", "schedule": timedelta(hours=1)},
}

# --- Auth, i18n, static -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", "Русский"), ("en", "English")]
TIME_ZONE = _setting(env.str, "TIME_ZONE", default="Europe/Moscow")
USE_I18N = True
# The Russian catalogue of MoodStream's own strings (Django's are shipped with Django); compiled
# by `make messages` (Babel, no system gettext needed).
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(_setting(env.str, "MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Security (production) ----------------------------------------------------------------
# On only when a reverse proxy that sets X-Forwarded-Proto and X-Forwarded-For stands in front of
# gunicorn (and clients cannot reach gunicorn directly): then its word on HTTPS and the client's
# address is believed. docker-compose.yml publishes gunicorn itself, so it is off there.
TRUSTED_PROXY = _bool("TRUSTED_PROXY", default=False)


def _networks(name: str, default: str) -> tuple:
    """Comma-separated addresses or CIDR networks; a malformed entry stops start-up naming it."""
    raw = env.str(name, default="").strip() or default
    networks = []
    for entry in raw.split(","):
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} is not valid: {entry.strip()!r} is not an IP address or network such as 10.0.0.0/8."
            ) from None
    return tuple(networks)


# Where the proxy connects from: X-Forwarded-For is believed only from a peer in these networks, so a
# client that reaches gunicorn directly past the proxy still cannot name its own address (and bill an
# anonymous link again, or dodge the login lockout, with each made-up one). Default: loopback and the
# private ranges a proxy on the same host or network (a compose network, a VPC) connects from.
TRUSTED_PROXY_NETWORKS = _networks(
    "TRUSTED_PROXY_NETWORKS", "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7")
if TRUSTED_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = _setting(env.int, "SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts, styles, fonts and connections only from this site.
# The admin, the KPI chart (Chart.js vendored) and the API docs (Swagger UI from the sidecar) load
# everything from /static/. Styles allow inline attributes (the admin and its badges use style=""),
# images any https source (covers and posters live on the shops' servers) and data: (Swagger's icons).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "https:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],  # ReDoc (/api/redoc/) searches in a worker it builds from a blob
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware")

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT failed logins of one username from one
# client, even the right password is refused (HTTP 429) for LOGIN_COOLOFF_MINUTES. Attempts and
# lockouts are listed in the admin (Axes → Access attempts), where staff may also delete a lockout.
INSTALLED_APPS.append("axes")
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# After authentication (axes' docs: at the end); it only swaps a locked-out login's response.
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AXES_FAILURE_LIMIT = _setting(env.int, "LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=_setting(env.float, "LOGIN_COOLOFF_MINUTES", default=15))
# Username and client together: a stranger guessing cannot lock the real admin out everywhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "moodstream.proxy.client_ip"
AXES_VERBOSE = False  # no start-up banner in every process; failures and lockouts are still logged
if AXES_FAILURE_LIMIT < 1 or AXES_COOLOFF_TIME <= timedelta(0):
    raise ImproperlyConfigured("LOGIN_FAILURE_LIMIT and LOGIN_COOLOFF_MINUTES must be positive.")

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["moodstream.api_input.CleanJSONParser"],
    "EXCEPTION_HANDLER": "moodstream.api_errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MoodStream API",
    "DESCRIPTION": "Recommendations by mood and free time; partner feeds, conversions and statistics.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "moodstream.api_errors.document_error_responses"],
}

# --- Product settings -------------------------------------------------------------------------
# `make run PORT=…` passes the port it serves on, so tracked links follow it when PUBLIC_BASE_URL is unset.
PUBLIC_BASE_URL = _setting(
    env.str, "PUBLIC_BASE_URL",
    default=f"http://127.0.0.1:{_setting(env.int, 'PORT', default=8000)}" if DEBUG else environ.Env.NOTSET,
).rstrip("/")
# Shop buttons in Telegram are built on PUBLIC_BASE_URL, and Telegram refuses button URLs that are not
# public https addresses, so production needs one. A local production-like run (benchmarks, tests)
# may allow http explicitly.
PUBLIC_BASE_URL_ALLOW_HTTP = _bool("PUBLIC_BASE_URL_ALLOW_HTTP", default=False)
if not DEBUG and not PUBLIC_BASE_URL_ALLOW_HTTP and not PUBLIC_BASE_URL.startswith("https://"):
    raise ImproperlyConfigured(
        f"PUBLIC_BASE_URL must be the https:// address users reach this service at when DEBUG is off, "
        f"not {PUBLIC_BASE_URL!r}."
    )

TELEGRAM_BOT_TOKEN = _setting(env.str, "TELEGRAM_BOT_TOKEN", default="")
TELEGRAM_WEBHOOK_SECRET = _setting(env.str, "TELEGRAM_WEBHOOK_SECRET", default="")
# The bot's public username (without @), for the t.me link on the landing page.
TELEGRAM_BOT_USERNAME = _setting(env.str, "TELEGRAM_BOT_USERNAME", default="").lstrip("@")
TELEGRAM_API_BASE_URL = _setting(env.str, "TELEGRAM_API_BASE_URL", default="https://api.telegram.org/bot")
TELEGRAM_API_FILE_URL = _setting(env.str, "TELEGRAM_API_FILE_URL", default="https://api.telegram.org/file/bot")
# Handled update ids are kept this many days (Telegram retries an update for at most 24 hours).
TELEGRAM_PROCESSED_UPDATE_DAYS = _setting(env.int, "TELEGRAM_PROCESSED_UPDATE_DAYS", default=7)
if not DEBUG and TELEGRAM_BOT_TOKEN and len(TELEGRAM_WEBHOOK_SECRET) < 16:
    raise ImproperlyConfigured("TELEGRAM_WEBHOOK_SECRET must be set (16+ characters) when the bot runs in production.")

# Partner feeds
FEED_MAX_BYTES = _setting(env.int, "FEED_MAX_BYTES", default=200 * 1024 * 1024)
FEED_FETCH_TIMEOUT = _setting(env.float, "FEED_FETCH_TIMEOUT", default=30.0)
FEED_ALLOW_PRIVATE_ADDRESSES = _bool("FEED_ALLOW_PRIVATE_ADDRESSES", default=False)
FEED_REJECTED_ROWS_KEPT = 100
# A transient fetch failure (connection error, timeout, 5xx, 429) is retried this many times,
# waiting FEED_FETCH_BACKOFF_SECONDS, then twice that, and so on.
FEED_FETCH_RETRIES = _setting(env.int, "FEED_FETCH_RETRIES", default=3)
FEED_FETCH_BACKOFF_SECONDS = _setting(env.float, "FEED_FETCH_BACKOFF_SECONDS", default=2.0)
# A longer description rejects the row (it is a broken export, not a catalogue text).
FEED_MAX_DESCRIPTION_CHARS = _setting(env.int, "FEED_MAX_DESCRIPTION_CHARS", default=20_000)
# A full feed with more rejected rows than this share fails whole (and withdraws nothing).
FEED_MAX_REJECTED_SHARE = _setting(env.float, "FEED_MAX_REJECTED_SHARE", default=0.5)
# A running import whose heartbeat is older than this lost its worker and is marked failed.
FEED_IMPORT_STALE_MINUTES = _setting(env.int, "FEED_IMPORT_STALE_MINUTES", default=5)
# How often a running import stamps its heartbeat (FEED_IMPORT_STALE_MINUTES must be several times this).
FEED_IMPORT_HEARTBEAT_SECONDS = _setting(env.float, "FEED_IMPORT_HEARTBEAT_SECONDS", default=30.0)
if FEED_IMPORT_HEARTBEAT_SECONDS * 3 > FEED_IMPORT_STALE_MINUTES * 60:
    raise ImproperlyConfigured("FEED_IMPORT_STALE_MINUTES must be at least three FEED_IMPORT_HEARTBEAT_SECONDS.")
# A feed of at least this many bytes is read, parsed and checked by a second process (the feed
# reader, docs/feeds.md "Speed") while the importing process writes; per database vendor: on
# SQLite (the embedded default) imports stay in one process. 0 turns the reader process off.
_FEED_READER_MIN = _setting(env.int, "FEED_READER_PROCESS_MIN_BYTES", default=16 * 1024 * 1024)
FEED_READER_PROCESS_MIN_BYTES = {"postgresql": _FEED_READER_MIN} if _FEED_READER_MIN > 0 else {}
# Uploaded / pushed feed files are deleted this many days after their import finished.
FEED_FILES_KEEP_DAYS = _setting(env.int, "FEED_FILES_KEEP_DAYS", default=30)
# Minutes of reading per printed page (about 250 words a page at 200-250 words a minute).
BOOK_MINUTES_PER_PAGE = Decimal(_setting(env.str, "BOOK_MINUTES_PER_PAGE", default="1.2"))

# Tracking
ATTRIBUTION_WINDOW_DAYS = _setting(env.int, "ATTRIBUTION_WINDOW_DAYS", default=30)
# A day: a person's repeated clicks on one offer are billed once a day (docs/tracking.md, "What is billed").
CLICK_DEDUP_SECONDS = _setting(env.int, "CLICK_DEDUP_SECONDS", default=86400)

# Recommender
RECOMMENDER_INDEX_REFRESH_SECONDS = _setting(env.int, "RECOMMENDER_INDEX_REFRESH_SECONDS", default=30)
# Opinions a kind needs before the collaborative signals switch on.
RECOMMENDER_COLLAB_MIN_RATINGS = _setting(env.int, "RECOMMENDER_COLLAB_MIN_RATINGS", default=500)

# Demo data: `load_demo` creates this superuser outside production only.
DEMO_ADMIN_USERNAME = _setting(env.str, "DEMO_ADMIN_USERNAME", default="admin")
DEMO_ADMIN_PASSWORD = _setting(env.str, "DEMO_ADMIN_PASSWORD", default="moodstream")

LOG_LEVEL = _setting(env.str, "LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Request lines carry postback keys and tokens (?key=…): written as REDACTED.
    "filters": {"redact_secrets": {"()": "moodstream.redaction.RedactSecretsFilter"},
                "denied_one_line": {"()": "moodstream.log_filters.PermissionDeniedOneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Django's own console handler (under DEBUG) and the root's printed each record twice: one handler.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.request": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False,
                           "filters": ["redact_secrets", "denied_one_line"]},
        "django.server": {"filters": ["redact_secrets"]},
    },
}
