"""gunicorn settings for the web service (Dockerfile, docker-compose.yml and benchmarks/tracking.py use them).

Command-line options override these, e.g. `--workers 2 --bind 127.0.0.1:8001`.
"""

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
