"""The web server's gunicorn settings: one file, used by the image, compose and the benchmark."""

import gc
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "moodstream" / "gunicorn.conf.py"


@pytest.fixture
def conf(monkeypatch):
    for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_BIND", "GUNICORN_ACCESS_LOG"):
        monkeypatch.delenv(name, raising=False)
    return runpy.run_path(str(CONF))


def test_threads_and_keep_alive(conf):
    assert conf["worker_class"] == "gthread"
    assert conf["threads"] >= 2
    assert conf["keepalive"] > 0
    assert conf["bind"] == "0.0.0.0:8000"


def test_a_started_worker_leaves_its_start_up_objects_out_of_garbage_collections(conf):
    try:
        conf["post_worker_init"](worker=None)
        # Everything loaded so far (views, numpy, pandas, ...) is frozen: a full collection skips it.
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("path", ["Dockerfile", "docker-compose.yml"])
def test_the_image_and_compose_start_gunicorn_with_these_settings(path):
    assert "--config moodstream/gunicorn.conf.py" in (ROOT / path).read_text().replace('", "', " ")
