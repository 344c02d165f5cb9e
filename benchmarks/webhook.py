"""Webhook benchmark (issue 5, item 8): 5,000 updates from 500 users through gunicorn against a fake Bot API.

    .venv/bin/python benchmarks/webhook.py [--updates 5000] [--users 500] [--workers 2] [--threads 4 | --sync]
                                           [--mode both|paced|saturate] [--rate 100] [--concurrency 8]

It uses a *dedicated* PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/ms_bot_bench; created, migrated and loaded with `load_demo`
when missing), starts the benchmark's Bot API (`telegram_bot.benchmark_api`: its own process, one
asyncio loop, every call recorded with its arrival time, no HTML validation — the tests keep the
strict `FakeBotApi`) and gunicorn with the production configuration (moodstream/gunicorn.conf.py:
gthread workers, 4 threads each, start-up objects frozen for the garbage collector) and
`--workers` workers pointed at it,
registers `--users` users (profile, genres, finished onboarding — set up directly, not measured),
and lets them use the bot: each user, in turn, does a realistic session of ten updates —

    /search → mood button → time button (every third user types the minutes) → Like on card 1 →
    Dislike on card 2 → "More options" → Like on a new card → /settings → Films → a genre toggle

— so 20% of the updates are searches (recommender included), 60% button presses, 20% commands.
Every button pressed is a real button of a message the Bot API received. 2% of the updates are
delivered a second time right after the first (as Telegram does when it retries); they must
change nothing.

Two runs of `--updates` updates each (`--mode both`, the default):

- **paced**: updates arrive at `--rate` a second (the issue's 100) whatever the server does, as
  Telegram delivers them — open loop, at most `--connections` (40, Telegram's default
  `max_connections`) in flight. A user's next update comes after the bot answered the previous
  one. The latencies are what users see at that load; the server sustains the rate when the run
  keeps pace (achieved rate = offered rate, no backlog).
- **saturate**: `--concurrency` users (8) send their next update as soon as the previous one is
  answered — closed loop: the server's maximum throughput. Its latencies are queueing, not
  handling: by Little's law their mean is `concurrency / throughput`.

Printed per run: updates/s; p50 / p99 from an update's arrival (in the paced run its scheduled
time, so a wait for a free connection counts) to the last Bot API call it caused, for searches,
button presses and commands; lost updates (non-200, or no Bot API call at all, or no
ProcessedUpdate row) and doubled ones (a callback query answered twice, or any Bot API call
caused by a repeated delivery); CPU per update of the gunicorn workers, PostgreSQL (this
database's backends), the Bot API process and the load generator (this process), from /proc.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._database import ensure_database  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/ms_bot_bench"
SECRET = "bench-webhook-secret-0123456789"
TOKEN = "424242:BENCH-token"
FIRST_USER_ID = 9_000_000_001
WARM_UP_USER = FIRST_USER_ID - 1
SESSION_LENGTH = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=5000, help="updates per run")
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per gthread worker (default: the production configuration's)")
    parser.add_argument("--sync", action="store_true", help="gunicorn's sync workers instead of gthread")
    parser.add_argument("--mode", choices=("both", "paced", "saturate"), default="both")
    parser.add_argument("--rate", type=float, default=100.0, help="paced run: updates offered per second")
    parser.add_argument("--connections", type=int, default=40, help="paced run: most updates in flight")
    parser.add_argument("--concurrency", type=int, default=8, help="saturating run: users active at the same time")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--timeline", metavar="PATH",
                        help="write [arrival, kind, latency] of every update to PATH.<run>.json")
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

    users = _register_users(args.users)
    api = BotApiProcess(TOKEN)
    env["TELEGRAM_API_BASE_URL"] = api.base_url
    # The production configuration (Dockerfile, docker-compose.yml) with --workers workers; the access
    # log is still written (its cost counts), to /dev/null instead of the terminal.
    workers = (["--worker-class", "sync", "--threads", "1"] if args.sync
               else ["--threads", str(args.threads)] if args.threads else [])
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "moodstream.wsgi:application",
         "--config", str(ROOT / "moodstream" / "gunicorn.conf.py"), "--workers", str(args.workers), *workers,
         "--bind", f"127.0.0.1:{args.port}", "--log-level", "warning", "--access-logfile", "/dev/null",
         "--timeout", "60"],
        cwd=ROOT, env=env)
    results = {}
    try:
        _wait_for(args.port)
        _warm_up(args.port, args.workers)
        kind = "sync workers" if args.sync else f"gthread workers x {args.threads or 'the configured'} threads"
        print(f"gunicorn (moodstream/gunicorn.conf.py): {args.workers} {kind}; Bot API process at {api.base_url}; {len(users)} users; "
              f"database {database_url.rsplit('/', 1)[1]}")
        bench = Bench(args.port, api, users, random.Random(args.seed))
        modes = ("paced", "saturate") if args.mode == "both" else (args.mode,)
        for mode in modes:
            if mode == "paced":
                bench.stagger()
            meters = Meters(server.pid, api.pid, database_url)
            if mode == "paced":
                run = bench.paced(total=args.updates, rate=args.rate, connections=args.connections)
                title = f"paced: {args.rate:g} updates/s offered, up to {args.connections} in flight"
            else:
                run = bench.saturate(total=args.updates, concurrency=args.concurrency)
                title = f"saturate: {args.concurrency} users active at once, each sending as soon as answered"
            run.cpu = meters.read()
            results[mode] = _report(title, run)
            if args.timeline:
                Path(f"{args.timeline}.{mode}.json").write_text(json.dumps(sorted(run.samples)))
    finally:
        server.terminate()
        server.wait(timeout=30)
        api.stop()
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    (out / "webhook.json").write_text(json.dumps(results, indent=2))


def _prepare_database(database_url: str, env: dict) -> None:
    ensure_database(database_url)
    manage = [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "manage.py")]
    subprocess.run(manage + ["migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run(manage + ["load_demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def _register_users(count: int) -> list[int]:
    """Users who finished registration, with a few genres each (and one more for the warm-up);
    earlier benchmark state is wiped."""
    from django.db import transaction

    from catalog.models import Genre
    from recommender.models import Recommendation
    from telegram_bot.models import ChatState, ProcessedUpdate
    from users.models import Profile

    ids = [WARM_UP_USER] + [FIRST_USER_ID + n for n in range(count)]
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
    return ids[1:]


class BotApiProcess:
    """`python -m telegram_bot.benchmark_api` in its own process (its CPU is measured apart)."""

    def __init__(self, token: str):
        self.process = subprocess.Popen([sys.executable, "-m", "telegram_bot.benchmark_api", "--token", token],
                                        cwd=ROOT, stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline().split()[1])
        self.pid = self.process.pid
        self.base_url = f"http://127.0.0.1:{self.port}/bot"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


# --- measuring CPU ------------------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of one process (Linux /proc); 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _database_backends(database: str) -> list[int]:
    """PostgreSQL's processes serving `database` (their title is "postgres: … user database host(port) …")."""
    marker = f" {database} ".encode()
    pids = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                title = Path(entry.path, "cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"postgres: ") and marker in title:
                pids.append(int(entry.name))
    return pids


class Meters:
    """CPU seconds spent from now on by gunicorn's workers, the database's backends, the Bot API and us.

    Workers and backends come and go (a database connection lives CONN_MAX_AGE seconds), so they
    are sampled every half second; one that ends loses at most its last half second.
    """

    def __init__(self, server_pid: int, api_pid: int, database_url: str):
        self.server_pid, self.api_pid = server_pid, api_pid
        self.database = database_url.rsplit("/", 1)[1]
        self.first: dict[str, dict[int, float]] = {"gunicorn workers": {}, "PostgreSQL": {}}
        self.last: dict[str, dict[int, float]] = {"gunicorn workers": {}, "PostgreSQL": {}}
        self._sample(starting=True)
        self.api = _cpu_of(api_pid)
        self.own = time.process_time()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._keep_sampling, daemon=True)
        self._thread.start()

    def _sample(self, *, starting: bool = False) -> None:
        for group, pids in (("gunicorn workers", _children(self.server_pid)),
                            ("PostgreSQL", _database_backends(self.database))):
            for pid in pids:
                cpu = _cpu_of(pid)
                # A process that appears later started during the run: all its CPU counts.
                self.first[group].setdefault(pid, cpu if starting else 0.0)
                self.last[group][pid] = max(cpu, self.last[group].get(pid, 0.0))

    def _keep_sampling(self) -> None:
        while not self._stop.wait(0.5):
            self._sample()

    def read(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        self._sample()
        spent = {group: sum(self.last[group][pid] - self.first[group][pid] for pid in self.last[group])
                 for group in self.first}
        return {**spent, "Bot API process": _cpu_of(self.api_pid) - self.api,
                "load generator": time.process_time() - self.own}


# --- HTTP -------------------------------------------------------------------------------------
def _post(port: int, path: str, body: bytes, headers: dict | None = None,
          connection: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
    """One POST; a fresh connection (closed after) unless a keep-alive `connection` is given."""
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", path, body, {"Content-Type": "application/json",
                                                **({"Connection": "close"} if own else {}), **(headers or {})})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        if own:
            connection.close()


def _wait_for(port: int) -> None:
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not start on port {port}")


def _warm_up(port: int, workers: int) -> None:
    """Each worker imports its code and builds the recommender's indexes (a search) before the clock starts."""
    from catalog.models import Mood

    mood = Mood.objects.filter(is_active=True).order_by("position").first()
    prompt = {**_message(WARM_UP_USER, "?"), "from": {"id": 7000000001, "is_bot": True, "first_name": "MoodStream"}}
    sender = {"id": WARM_UP_USER, "is_bot": False, "first_name": "Bench", "language_code": "ru"}
    for n in range(workers * 4):
        update = {"update_id": 10**9 + n, "callback_query": {
            "id": f"warm-up-{n}", "from": sender, "chat_instance": "warm-up", "message": prompt,
            "data": f"st:{mood.pk}:60"}}
        _post(port, "/telegram/webhook/", json.dumps(update).encode(), {"X-Telegram-Bot-Api-Secret-Token": SECRET})


def _message(user_id: int, text: str) -> dict:
    chat = {"id": user_id, "type": "private", "first_name": "Bench"}
    sender = {"id": user_id, "is_bot": False, "first_name": "Bench", "language_code": "ru"}
    message = {"message_id": 1, "date": int(time.time()), "chat": chat, "from": sender, "text": text}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return message


# --- the load -----------------------------------------------------------------------------------
class Run:
    """What one run measured."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.lost: list[str] = []
        self.doubled: list[str] = []
        self.repeats = 0
        self.update_ids: list[int] = []
        self.calls = 0
        self.elapsed = 0.0
        self.late_starts = 0  # paced: updates whose POST started more than 50 ms after their arrival
        self.cpu: dict[str, float] = {}
        self.samples: list[tuple[float, str, float]] = []  # arrival, kind, latency


class Bench:
    """The users, what each of them sees in the chat, and the two ways of loading the webhook."""

    def __init__(self, port: int, api: BotApiProcess, users: list[int], rng: random.Random):
        self.port, self.api, self.users, self.rng = port, api, users, rng
        self.lock = threading.Lock()
        self.next_update_id = 1
        self.known_calls: dict[int, int] = defaultdict(int)  # each chat's Bot API calls seen so far
        self.messages: dict[int, list[dict]] = defaultdict(list)  # each chat's latest messages
        self.local = threading.local()

    # --- the two runs ------------------------------------------------------------------------
    def paced(self, *, total: int, rate: float, connections: int) -> Run:
        """`total` updates at `rate` a second from the users in turn, each user's next after the previous.

        User n starts at step n mod 10 of a session (`stagger` took them there), so that taking
        turns they send a mix of searches, presses and commands all through the run — started in
        step, every user's search would come in the same five seconds.
        """
        run = Run()
        ready = deque((user, n % SESSION_LENGTH) for n, user in enumerate(self.users))
        became_ready = threading.Condition()

        def handle(user: int, step: int, arrival: float) -> None:
            try:
                self._step(run, user, step, arrival=arrival)
            finally:
                with became_ready:
                    ready.append((user, (step + 1) % SESSION_LENGTH))
                    became_ready.notify()

        started = time.time()
        with ThreadPoolExecutor(max_workers=connections) as pool:
            for n in range(total):
                arrival = started + n / rate
                pause = arrival - time.time()
                if pause > 0:
                    time.sleep(pause)
                with became_ready:
                    while not ready:
                        became_ready.wait()
                    user, step = ready.popleft()
                pool.submit(handle, user, step, arrival)
        run.elapsed = time.time() - started
        return run

    def stagger(self, concurrency: int = 8) -> None:
        """User n does the first n mod 10 steps of a session, `concurrency` users at a time."""
        unmeasured = Run()
        pending = deque(enumerate(self.users))

        def worker() -> None:
            while True:
                with self.lock:
                    if not pending:
                        return
                    n, user = pending.popleft()
                for step in range(n % SESSION_LENGTH):
                    self._step(unmeasured, user, step)

        threads = [threading.Thread(target=worker) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if unmeasured.lost or unmeasured.doubled:
            raise SystemExit(f"staggering the sessions lost or doubled updates: {unmeasured.lost + unmeasured.doubled}")

    def saturate(self, *, total: int, concurrency: int) -> Run:
        """`concurrency` users at a time, each doing its session without pause."""
        run = Run()
        sessions = deque(self.users[n % len(self.users)] for n in range(-(-total // SESSION_LENGTH)))
        sent = [0]

        def worker() -> None:
            while True:
                with self.lock:
                    if not sessions:
                        return
                    user = sessions.popleft()
                for step in range(SESSION_LENGTH):
                    with self.lock:
                        if sent[0] >= total:
                            return
                        sent[0] += 1
                    self._step(run, user, step)

        started = time.time()
        threads = [threading.Thread(target=worker) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        run.elapsed = time.time() - started
        return run

    # --- one update ----------------------------------------------------------------------------
    def _step(self, run: Run, user: int, step: int, *, arrival: float | None = None) -> None:
        """Step `step` of the user's session: build the update from what the chat shows, deliver it."""
        press = self._press
        kind, update = [
            ("command", lambda: self._text(user, "/search")),
            ("button", lambda: press(user, lambda b: b.startswith("sm:"), pick="random")),
            ("search", lambda: self._text(user, "45") if user % 3 == 0
             else press(user, lambda b: b.startswith("st:"), pick="random")),
            ("button", lambda: press(user, lambda b: b.startswith("rt:") and b.endswith(":1"), pick="first")),
            ("button", lambda: press(user, lambda b: b.startswith("rt:") and b.endswith(":-1"), pick="second")),
            ("search", lambda: press(user, lambda b: b.startswith("mo:"), pick="last")),
            ("button", lambda: press(user, lambda b: b.startswith("rt:") and b.endswith(":1"), pick="last")),
            ("command", lambda: self._text(user, "/settings")),
            ("button", lambda: press(user, lambda b: b == "sk:film", pick="last")),
            ("button", lambda: press(user, lambda b: b.startswith("sg:"), pick="random")),
        ][step]
        update = update()
        if update is None:  # the button is not there (e.g. no more options): send /search instead
            update = self._text(user, "/search")
        with run.lock:
            run.update_ids.append(update["update_id"])
        self._deliver(run, user, kind, update, arrival)

    def _new_id(self) -> int:
        with self.lock:
            self.next_update_id += 1
            return self.next_update_id

    def _text(self, user: int, text: str) -> dict:
        return {"update_id": self._new_id(), "message": _message(user, text)}

    def _press(self, user: int, wanted, *, pick: str) -> dict | None:
        candidates = [(message, button["callback_data"]) for message in self.messages[user]
                      for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
                      for button in row if wanted(button.get("callback_data", ""))]
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

    def _deliver(self, run: Run, user: int, kind: str, update: dict, arrival: float | None) -> None:
        query = update.get("callback_query", {}).get("id")
        body = json.dumps(update).encode()
        posted = time.time()
        arrival = arrival or posted
        status, _answer = self._webhook(body)
        chat = self._chat(user, query)
        caused = [at for _method, at in chat["calls"]] + chat["answers"]
        label = f"update {update['update_id']} ({kind})"
        with run.lock:
            run.calls += len(caused)
            run.late_starts += posted - arrival > 0.05
            if status != 200 or not caused:
                run.lost.append(f"{label}: HTTP {status}, {len(caused)} calls")
                return
            run.latencies[kind].append(max(caused) - arrival)
            run.samples.append((arrival, kind, max(caused) - arrival))
            if query and len(chat["answers"]) != 1:
                run.doubled.append(f"{label}: callback answered {len(chat['answers'])} times")
        if self.rng.random() < 0.02:  # Telegram retrying a delivery
            status, answer = self._webhook(body)
            again = self._chat(user, query)
            extra = len(again["calls"]) + len(again["answers"]) - len(chat["answers"])
            with run.lock:
                run.repeats += 1
                if status != 200 or json.loads(answer).get("outcome") != "duplicate" or extra:
                    run.doubled.append(f"{label}: the repeat caused {extra} calls ({status})")

    def _webhook(self, body: bytes) -> tuple[int, bytes]:
        """POST an update over this thread's connection, kept alive as Telegram keeps its webhook connections."""
        for attempt in (1, 2):
            connection = getattr(self.local, "webhook", None)
            if connection is None:
                connection = self.local.webhook = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                connection.request("POST", "/telegram/webhook/", body, {
                    "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET})
                response = connection.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed the idle connection as this request went out; Telegram would
                # deliver again too (a repeat the bot recognises).
                connection.close()
                self.local.webhook = None
                if attempt == 2:
                    raise

    def _chat(self, user: int, query: str | None) -> dict:
        """The chat's Bot API calls since the last look, the answers to `query`, its latest messages."""
        connection = getattr(self.local, "api", None)
        if connection is None:
            connection = self.local.api = http.client.HTTPConnection("127.0.0.1", self.api.port, timeout=60)
        ask = {"chat_id": user, "since": self.known_calls[user], "query": query}
        status, body = _post(self.api.port, "/_bench/chat", json.dumps(ask).encode(), connection=connection)
        chat = json.loads(body)
        self.known_calls[user] = chat["count"]
        self.messages[user] = chat["messages"]
        return chat


# --- the report ---------------------------------------------------------------------------------
def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] if ordered else float("nan")


def _report(title: str, run: Run) -> dict:
    from telegram_bot.models import ProcessedUpdate

    processed = set(ProcessedUpdate.objects.filter(update_id__in=run.update_ids).values_list("update_id", flat=True))
    missing = [u for u in run.update_ids if u not in processed]
    count = len(run.update_ids)
    print(f"\n{title}\n{count} updates ({run.repeats} delivered twice) in {run.elapsed:.1f} s: "
          f"{count / run.elapsed:.1f} updates/s" + (f"; {run.late_starts} waited > 50 ms for a connection"
                                                    if run.late_starts else ""))
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
    print(f"Bot API calls: {run.calls} ({run.calls / max(count, 1):.1f} per update)")
    per_update = {name: seconds / max(count, 1) * 1000 for name, seconds in run.cpu.items()}
    print("CPU per update: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in per_update.items())
          + f"; load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    return {"updates": count, "seconds": round(run.elapsed, 2), "updates_per_second": round(count / run.elapsed, 1),
            "latency_ms": {kind: {"p50": round(_percentile(v, .5) * 1000, 1), "p99": round(_percentile(v, .99) * 1000, 1)}
                           for kind, v in run.latencies.items()},
            "lost": len(run.lost) + len(missing), "doubled": len(run.doubled), "late_starts": run.late_starts,
            "cpu_ms_per_update": {name: round(ms, 2) for name, ms in per_update.items()},
            "load_average": os.getloadavg()[0]}


if __name__ == "__main__":
    main()
