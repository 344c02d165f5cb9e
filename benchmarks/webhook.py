"""Webhook benchmark (issue 5, item 8): 5,000 updates from 500 users through gunicorn against a fake Bot API.

    .venv/bin/python benchmarks/webhook.py [--updates 5000] [--users 500] [--workers 2] [--concurrency 8]

It uses a *dedicated* PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/ms_bot_bench; created, migrated and loaded with `load_demo`
when missing), starts the fake Bot API (telegram_bot.testing) in this process and
`gunicorn moodstream.wsgi` with `--workers` sync workers pointed at it, registers `--users`
users (profile, genres, finished onboarding — set up directly, not measured), and lets them
use the bot: each user, in turn, does a realistic session of ten updates —

    /search → mood button → time button (every third user types the minutes) → Like on card 1 →
    Dislike on card 2 → "More options" → Like on a new card → /settings → Films → a genre toggle

— so 20% of the updates are searches (recommender included), 60% button presses, 20% commands.
`--concurrency` users are active at once. Every button pressed is a real button of a message
the fake Bot API received. 2% of the updates are delivered a second time right after the first
(as Telegram does when it retries); they must change nothing.

Printed: updates/s over the whole run; p50 / p99 from an update's arrival (the POST) to the last
Bot API call it caused, for searches, button presses and commands; and the count of lost
updates (non-200, or no Bot API call at all, or no ProcessedUpdate row) and doubled ones (a
callback query answered twice, or any Bot API call caused by a repeated delivery).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/ms_bot_bench"
SECRET = "bench-webhook-secret-0123456789"
TOKEN = "424242:BENCH-token"
FIRST_USER_ID = 9_000_000_001


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=5000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per worker (1 = gunicorn's sync workers; more = gthread workers)")
    parser.add_argument("--concurrency", type=int, default=8, help="users active at the same time")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    env = dict(os.environ, DATABASE_URL=database_url, DEBUG="false", REDIS_URL="",
               SECRET_KEY="bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
               ALLOWED_HOSTS="127.0.0.1,localhost", SECURE_SSL_REDIRECT="false",
               PUBLIC_BASE_URL="https://moodstream.example", LOG_LEVEL="WARNING",
               TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_WEBHOOK_SECRET=SECRET)
    os.environ.update(env)
    _prepare_database(database_url, env)

    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "moodstream.settings"
    django.setup()
    from telegram_bot.testing import FakeBotApi

    class RecordingApi(FakeBotApi):
        """Indexes calls per chat and per callback query, so each update's calls are found at once."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.by_chat: dict[int, list] = defaultdict(list)
            self.by_query: dict[str, list] = defaultdict(list)

        def _record(self, call):
            super()._record(call)
            with self._lock:
                if call.method == "answerCallbackQuery":
                    self.by_query[str(call.params.get("callback_query_id"))].append(call)
                elif call.chat_id is not None:
                    self.by_chat[call.chat_id].append(call)

    users = _register_users(args.users)
    sessions_needed = -(-args.updates // 10)
    with RecordingApi(token=TOKEN) as api:
        env["TELEGRAM_API_BASE_URL"] = api.base_url
        server = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "moodstream.wsgi", "--workers", str(args.workers),
             "--threads", str(args.threads), "--bind", f"127.0.0.1:{args.port}", "--log-level", "warning",
             "--timeout", "60"],
            cwd=ROOT, env=env)
        try:
            url = f"http://127.0.0.1:{args.port}/telegram/webhook/"
            _wait_for(f"http://127.0.0.1:{args.port}/healthz")
            _warm_up(url, api, args.workers)
            kind = "sync workers" if args.threads == 1 else f"gthread workers x {args.threads} threads"
            print(f"gunicorn: {args.workers} {kind}; fake Bot API at {api.base_url}; "
                  f"{len(users)} users, {args.concurrency} active at once; database {database_url.rsplit('/', 1)[1]}")
            run = Run(url, api, users, random.Random(args.seed), total=args.updates)
            workers_before = _cpu_seconds(_children(server.pid))
            started = time.perf_counter()
            run.go(concurrency=args.concurrency, sessions=sessions_needed)
            elapsed = time.perf_counter() - started
            run.worker_cpu = _cpu_seconds(_children(server.pid)) - workers_before
        finally:
            server.terminate()
            server.wait(timeout=30)
    _report(run, elapsed)


def _prepare_database(database_url: str, env: dict) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
    manage = [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "manage.py")]
    subprocess.run(manage + ["migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run(manage + ["load_demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def _register_users(count: int) -> list[int]:
    """Users who finished registration, with a few genres each; earlier benchmark state is wiped."""
    from django.db import transaction

    from catalog.models import Genre
    from recommender.models import Recommendation
    from telegram_bot.models import ChatState, ProcessedUpdate
    from users.models import Profile

    ids = [FIRST_USER_ID + n for n in range(count)]
    rng = random.Random(1)
    genres = list(Genre.objects.all())
    with transaction.atomic():
        Recommendation.objects.filter(profile__telegram_id__in=ids).delete()
        Profile.objects.filter(telegram_id__in=ids).delete()
        ProcessedUpdate.objects.all().delete()
        profiles = Profile.objects.bulk_create(
            Profile(telegram_id=i, first_name=f"Bench {i}", language="en" if i % 4 == 0 else "ru",
                    onboarding=Profile.Onboarding.DONE) for i in ids)
        through = Profile.genres.through
        through.objects.bulk_create(through(profile_id=p.pk, genre_id=g.pk)
                                    for p in profiles for g in rng.sample(genres, 6))
        ChatState.objects.bulk_create(ChatState(chat_id=p.telegram_id, profile=p, screen="main") for p in profiles)
    return ids


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes (Linux /proc), to show the cost per update apart from contention."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def _wait_for(url: str) -> None:
    for _ in range(100):
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not start at {url}")


def _warm_up(url: str, api, workers: int) -> None:
    """Each worker imports its code and builds the recommender's index before the clock starts."""
    user = FIRST_USER_ID - 1
    from users.models import Profile

    Profile.objects.filter(telegram_id=user).delete()
    client = httpx.Client()
    for n in range(workers * 4):
        update = {"update_id": 10**9 + n, "message": _message(user, "/search")}
        client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})


def _message(user_id: int, text: str) -> dict:
    chat = {"id": user_id, "type": "private", "first_name": "Bench"}
    sender = {"id": user_id, "is_bot": False, "first_name": "Bench", "language_code": "ru"}
    message = {"message_id": 1, "date": int(time.time()), "chat": chat, "from": sender, "text": text}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return message


class Run:
    def __init__(self, url: str, api, users: list[int], rng: random.Random, *, total: int):
        self.url, self.api, self.users, self.rng, self.total = url, api, users, rng, total
        self.lock = threading.Lock()
        self.next_update_id = 1
        self.sent = 0
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.lost: list[str] = []
        self.doubled: list[str] = []
        self.repeats = 0
        self.update_ids: list[int] = []
        self.worker_cpu = 0.0

    def go(self, *, concurrency: int, sessions: int) -> None:
        queue = [self.users[n % len(self.users)] for n in range(sessions)]
        threads = [threading.Thread(target=self._worker, args=(queue,)) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _worker(self, queue: list[int]) -> None:
        client = httpx.Client(timeout=60)
        while True:
            with self.lock:
                if not queue:
                    return
                user = queue.pop(0)
            self._session(client, user)

    def _session(self, client: httpx.Client, user: int) -> None:
        """One user's ten updates, each pressing a button the bot really sent."""
        steps = [
            ("command", lambda: self._text(user, "/search")),
            ("button", lambda: self._press(user, lambda b: b.startswith("sm:"), pick="random")),
            ("search", lambda: self._text(user, "45") if user % 3 == 0
             else self._press(user, lambda b: b.startswith("st:"), pick="random")),
            ("button", lambda: self._press(user, lambda b: b.startswith("rt:") and b.endswith(":1"), pick="first",
                                           card=True)),
            ("button", lambda: self._press(user, lambda b: b.startswith("rt:") and b.endswith(":-1"), pick="second",
                                           card=True)),
            ("search", lambda: self._press(user, lambda b: b.startswith("mo:"), pick="last")),
            ("button", lambda: self._press(user, lambda b: b.startswith("rt:") and b.endswith(":1"), pick="last",
                                           card=True)),
            ("command", lambda: self._text(user, "/settings")),
            ("button", lambda: self._press(user, lambda b: b == "sk:film", pick="last")),
            ("button", lambda: self._press(user, lambda b: b.startswith("sg:"), pick="random")),
        ]
        for kind, build in steps:
            with self.lock:
                if self.sent >= self.total:
                    return
                self.sent += 1
            update = build()
            if update is None:  # the button is not there (e.g. no more options): send /search instead
                update = self._text(user, "/search")
            self._deliver(client, user, kind, update)

    def _new_id(self) -> int:
        with self.lock:
            self.next_update_id += 1
            self.update_ids.append(self.next_update_id)
            return self.next_update_id

    def _text(self, user: int, text: str) -> dict:
        return {"update_id": self._new_id(), "message": _message(user, text)}

    def _press(self, user: int, wanted, *, pick: str, card: bool = False) -> dict | None:
        messages = self.api.chat_messages(user)
        candidates = []
        for message in messages[-12:]:
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if wanted(button.get("callback_data", "")):
                        candidates.append((message, button["callback_data"]))
        if not candidates:
            return None
        if pick == "random":
            message, data = self.rng.choice(candidates)
        elif pick == "second" and len(candidates) > 1:
            message, data = candidates[1]
        elif pick == "first":
            message, data = candidates[0]
        else:
            message, data = candidates[-1]
        sender = {"id": user, "is_bot": False, "first_name": "Bench", "language_code": "ru"}
        return {"update_id": self._new_id(), "callback_query": {
            "id": f"q{user}-{time.monotonic_ns()}", "from": sender, "chat_instance": str(user),
            "message": message, "data": data}}

    def _deliver(self, client: httpx.Client, user: int, kind: str, update: dict) -> None:
        query = update.get("callback_query", {}).get("id")
        with self.api._lock:
            before = len(self.api.by_chat[user])
        arrived = time.time()
        response = client.post(self.url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
        with self.api._lock:
            caused = self.api.by_chat[user][before:] + (list(self.api.by_query.get(query, [])) if query else [])
        label = f"update {update['update_id']} ({kind})"
        if response.status_code != 200 or not caused:
            self.lost.append(f"{label}: HTTP {response.status_code}, {len(caused)} calls")
            return
        with self.lock:
            self.latencies[kind].append(max(call.wall for call in caused) - arrived)
        if query and len(self.api.by_query.get(query, [])) != 1:
            self.doubled.append(f"{label}: callback answered {len(self.api.by_query[query])} times")
        if self.rng.random() < 0.02:  # Telegram retrying a delivery
            with self.api._lock:
                before = len(self.api.by_chat[user])
            again = client.post(self.url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
            with self.lock:
                self.repeats += 1
            with self.api._lock:
                extra = len(self.api.by_chat[user]) - before + len(self.api.by_query.get(query, [])) - (1 if query else 0)
            if again.status_code != 200 or again.json().get("outcome") != "duplicate" or extra:
                self.doubled.append(f"{label}: the repeat caused {extra} calls ({again.status_code})")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] if ordered else float("nan")


def _report(run: Run, elapsed: float) -> None:
    from telegram_bot.models import ProcessedUpdate

    processed = set(ProcessedUpdate.objects.filter(update_id__in=run.update_ids).values_list("update_id", flat=True))
    missing = [u for u in run.update_ids if u not in processed]
    count = len(run.update_ids)
    print(f"\n{count} updates ({run.repeats} delivered twice) in {elapsed:.1f} s: {count / elapsed:.0f} updates/s")
    print("arrival → last Bot API call it caused (ms):")
    everything = [v for values in run.latencies.values() for v in values]
    for kind in ("search", "button", "command"):
        values = run.latencies.get(kind, [])
        print(f"  {kind:8} n={len(values):5}  p50 {_percentile(values, .5) * 1000:6.1f}  "
              f"p99 {_percentile(values, .99) * 1000:6.1f}  max {max(values, default=0) * 1000:6.1f}")
    print(f"  {'all':8} n={len(everything):5}  p50 {_percentile(everything, .5) * 1000:6.1f}  "
          f"p99 {_percentile(everything, .99) * 1000:6.1f}  mean {statistics.fmean(everything) * 1000:6.1f}")
    print(f"lost: {len(run.lost) + len(missing)}   doubled: {len(run.doubled)}")
    for line in (run.lost + [f"update {u}: no ProcessedUpdate row" for u in missing] + run.doubled)[:20]:
        print("  " + line)
    calls = len(run.api.calls)
    print(f"Bot API calls: {calls} ({calls / max(count, 1):.1f} per update)")
    print(f"gunicorn workers' CPU: {run.worker_cpu:.1f} s, {run.worker_cpu / max(count, 1) * 1000:.1f} ms per update; "
          f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    summary = {"updates": count, "seconds": round(elapsed, 2), "updates_per_second": round(count / elapsed, 1),
               "latency_ms": {kind: {"p50": round(_percentile(v, .5) * 1000, 1), "p99": round(_percentile(v, .99) * 1000, 1)}
                              for kind, v in run.latencies.items()},
               "lost": len(run.lost) + len(missing), "doubled": len(run.doubled),
               "worker_cpu_ms_per_update": round(run.worker_cpu / max(count, 1) * 1000, 1)}
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    (out / "webhook.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
