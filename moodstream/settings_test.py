"""Settings for the test suite: production settings with test-safe overrides.

DATABASE_URL and REDIS_URL come from the environment as usual (CI points them at the local
PostgreSQL and Redis). Celery runs tasks eagerly unless a test starts a real worker.
"""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("PUBLIC_BASE_URL", "http://testserver")
os.environ.setdefault("PUBLIC_BASE_URL_ALLOW_HTTP", "true")  # the test client's host has no https

from .settings import *  # noqa: E402,F403
from .settings import DATABASES, MEDIA_ROOT  # noqa: E402

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

MEDIA_ROOT = MEDIA_ROOT.parent / "media-test" if MEDIA_ROOT.name == "media" else MEDIA_ROOT

# Tests talk only to servers on this machine: let feed fetching reach loopback.
FEED_ALLOW_PRIVATE_ADDRESSES = True

# Each developer (or parallel run) may point TEST_DATABASE_NAME elsewhere.
if os.environ.get("TEST_DATABASE_NAME"):
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ["TEST_DATABASE_NAME"]

# Serve static files from the apps' folders (no collectstatic in tests).
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# A request with neither a chosen language nor Accept-Language gets English in tests, so the
# assertions read the English texts; the Russian admin is tested with Accept-Language / a choice.
LANGUAGE_CODE = "en"
