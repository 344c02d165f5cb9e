"""The feed reader process (catalog/feeds/reader_process.py) held to the same expectations as the
in-process import: the import, bad-input, outcome, real-world-feed and command tests run again
here with every feed read, parsed and checked in a second process. Then what only that path can
do wrong: a reader that dies, an importing process that fails while the reader runs."""

import os
import signal
from contextlib import contextmanager

import pytest

from catalog.feeds import reader_process
from catalog.feeds.services import feed_import_progress
from catalog.models import ContentItem, FeedImport, Offer

from .feeds import offers, yml
from .helpers import run_import
from .test_bad_input import *  # noqa: F401,F403 — the same tests, through the reader process
from .test_commands import *  # noqa: F401,F403
from .test_import import *  # noqa: F401,F403
from .test_outcome import *  # noqa: F401,F403
from .test_real_world_feeds import *  # noqa: F401,F403
from .test_set_aside import *  # noqa: F401,F403


@pytest.fixture(autouse=True)
def readers(settings, monkeypatch):
    """Every feed of any size goes through a reader process; the processes started are listed."""
    settings.FEED_READER_PROCESS_MIN_BYTES = {"postgresql": 1, "sqlite": 1}
    started = []
    popen = reader_process.subprocess.Popen

    def recording_popen(*args, **kwargs):
        process = popen(*args, **kwargs)
        started.append(process)
        return process

    monkeypatch.setattr(reader_process.subprocess, "Popen", recording_popen)
    yield started
    # Whatever happened, no reader process is left running or unreaped.
    for process in started:
        assert process.returncode is not None
        assert not os.path.exists(f"/proc/{process.pid}") or _state(process.pid) not in ("R", "S", "D", "Z")


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return ""


def test_a_feed_is_read_in_a_reader_process(partner, readers):
    feed_import = run_import(partner, yml(offers(5000)), "yml")

    assert feed_import.status == "succeeded", feed_import.message
    assert (feed_import.rows_total, feed_import.created_count, feed_import.items_created_count) == (5000, 5000, 5000)
    assert len(readers) == 1 and readers[0].returncode == 0


def test_a_reimport_through_the_reader_counts_unchanged_and_updated_rows(partner, readers):
    run_import(partner, yml(offers(4500)), "yml")
    rows = offers(4500)
    for row in rows[:450]:
        row["price"] = "150"
    rows[7]["url"] = "ftp://bookshop.example/7"  # changed and now invalid: rejected, its offer kept
    feed_import = run_import(partner, yml(rows), "yml")

    assert (feed_import.status, feed_import.updated_count, feed_import.unchanged_count,
            feed_import.rejected_count, feed_import.withdrawn_count) == ("succeeded", 449, 4050, 1, 0)
    assert feed_import.rejected_rows[0]["position"] == "offer #8 (line 11)"
    assert Offer.objects.get(partner=partner, sku="S-7").url == "https://bookshop.example/S/7"


@contextmanager
def _on_progress(receiver):
    """`receiver` hears every progress signal of the imports run inside the block."""
    feed_import_progress.connect(receiver)
    try:
        yield
    finally:
        feed_import_progress.disconnect(receiver)


def test_a_reader_that_dies_fails_the_import_and_changes_nothing(partner, readers):
    def kill_reader(sender, **kwargs):
        os.kill(readers[-1].pid, signal.SIGKILL)

    with _on_progress(kill_reader):
        feed_import = run_import(partner, yml(offers(9000)), "yml")

    assert feed_import.status == "failed"
    assert feed_import.message == ("Internal error (FeedReaderFailed); nothing was changed. "
                                   "The error is in the server log.")
    assert not Offer.objects.exists() and not ContentItem.objects.exists()
    assert readers[-1].returncode == -signal.SIGKILL


def test_an_import_that_fails_while_the_reader_runs_stops_and_reaps_it(partner, readers):
    def fail(sender, **kwargs):
        raise RuntimeError("the database went away")

    with _on_progress(fail):
        feed_import = run_import(partner, yml(offers(20_000)), "yml")

    assert feed_import.status == "failed"
    assert feed_import.message.startswith("Internal error (RuntimeError); nothing was changed.")
    assert not Offer.objects.exists()
    # Killed while it still had rows to send, and reaped.
    assert readers[-1].returncode == -signal.SIGKILL
    assert FeedImport.objects.get().rows_total == 0


def test_only_a_feed_of_the_threshold_size_goes_through_the_reader(partner, readers, settings):
    large = yml(offers(3000))
    threshold = len(large) // 2
    settings.FEED_READER_PROCESS_MIN_BYTES = {"postgresql": threshold, "sqlite": threshold}
    first = run_import(partner, large, "yml")
    rows = offers(3000)
    rows[0]["price"] = "150"
    again = run_import(partner, yml(rows), "yml")
    partial = run_import(partner, yml(rows[:300]), "yml", is_full=False)

    assert (first.created_count, again.updated_count, again.unchanged_count) == (3000, 1, 2999)
    assert (partial.status, partial.unchanged_count) == ("succeeded", 300)
    assert len(readers) == 2  # the first import and the re-import; the small feed was read here
