"""gunicorn settings for the web service (Dockerfile, docker-compose.yml and benchmarks/tracking.py use them).

Command-line options override these, e.g. `--workers 2 --bind 127.0.0.1:8001`.
"""

import gc
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# About one worker per core; each serves `threads` requests at once.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# Threads: while one request waits for PostgreSQL, another runs. Keep-alive: a proxy or a partner's
# postback client reuses its connection instead of opening one per request.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = 30
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# Postback keys and tokens in query strings are written as REDACTED (moodstream/redaction.py).
logger_class = "moodstream.redaction.RedactingAccessLogger"


def post_worker_init(worker):
    """Import every view now, then keep what start-up loaded out of the garbage collector's sight.

    The URLconf pulls in numpy, pandas, scikit-learn and scipy (the recommender): about 200,000
    objects that live as long as the worker. Python's full collection walks all of them, ~100 ms on
    this hardware, during which the worker answers nothing — the slowest requests of the tracked
    redirect were exactly those pauses. Frozen, they are never scanned again: a full collection then
    walks only what requests created (under a millisecond).
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  (evaluated for its imports)
    gc.collect()
    gc.freeze()
