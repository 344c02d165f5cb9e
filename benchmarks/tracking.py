"""Tracking benchmark: `/go/<token>` and postbacks under load, and the KPI page at 1M clicks.

    .venv/bin/python benchmarks/tracking.py load   # gunicorn (2 workers) on PostgreSQL, 4 runs of 30 s
    .venv/bin/python benchmarks/tracking.py kpi    # 90 days x 3 variants x 1,000,000 clicks; KPI page timing
    .venv/bin/python benchmarks/tracking.py cpu    # the /go/ request path alone, in-process: least CPU a redirect
    .venv/bin/python benchmarks/tracking.py all    # load and kpi

It uses its own databases (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/ms_track_bench;
BENCH_KPI_DATABASE_URL, default …/ms_track_kpi_bench), which it drops and re-creates.

`load` starts gunicorn with the production configuration (moodstream/gunicorn.conf.py) and 2 workers, and
drives it from one cheap load-generator process on loopback (benchmarks/http_load.py), for each endpoint:

- maximum throughput: closed loop, --connections clients each sending its next request when answered;
- latency at a fixed rate: open loop, --go-rate / --postback-rate requests per second, each latency
  measured from the request's scheduled send time (a stall is charged to every request it delays).

Every /go/ request is a distinct token, i.e. a distinct (profile, offer), so each must create a Click;
every postback has a fresh event id and every tenth is sent twice in a row (the replay must answer 200
with the same conversion). After each run the Click / Conversion rows are checked against what the
server acknowledged (302; 201): nothing lost, nothing doubled. Each run also prints the CPU per request
of gunicorn, of PostgreSQL's backends and of the load generator, and the load average.
"""
import argparse
import http.client
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks import http_load  # noqa: E402  (needs ROOT on the path)

PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ms_track_bench")
if len(sys.argv) > 1 and sys.argv[1] == "kpi":
    # The KPI data set is big and slow to make: it lives apart from the load test's database.
    DATABASE_URL = os.environ.get("BENCH_KPI_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ms_track_kpi_bench")
SECRET_KEY = "benchmark-only-secret-key-0123456789abcdefghijklmnop"

SERVER_ENV = {
    "DATABASE_URL": DATABASE_URL,
    "DEBUG": "false",
    "SECRET_KEY": SECRET_KEY,
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "SECURE_SSL_REDIRECT": "false",
    "REDIS_URL": "",
    "LOG_LEVEL": "WARNING",
    "PUBLIC_BASE_URL": "http://127.0.0.1",
    "PUBLIC_BASE_URL_ALLOW_HTTP": "true",
    # Keep each worker thread's database connection for the whole run, so that PostgreSQL's CPU can be
    # read per backend process (the default, 60 s, reconnects about once a minute: no measurable cost).
    "CONN_MAX_AGE": "3600",
}


def setup_django(settings_module="moodstream.settings"):
    os.environ.update(SERVER_ENV)
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def recreate_database():
    import psycopg

    parts = urlsplit(DATABASE_URL)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([str(PYTHON), "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT,
                   env={**os.environ, **SERVER_ENV}, check=True)


# --- load: measuring ---------------------------------------------------------------------------------------


def _cpu_seconds(pids) -> dict[int, float]:
    """User + system CPU seconds of each of these processes that still runs, from /proc (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


def _children(pid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def _machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine spent so far (all cores), from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _checkpoints() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter")
        return cursor.fetchone()[0]


def _database_backends() -> list[int]:
    """PostgreSQL backend processes serving the benchmark database (the server's connections), not ours."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity"
                       " WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return [pid for (pid,) in cursor.fetchall()]


def _pressure_stalled_us() -> tuple[int, int]:
    """Microseconds so far in which some task waited for a CPU / for the disk (Linux PSI; 0 without it)."""
    totals = []
    for resource in ("cpu", "io"):
        try:
            with open(f"/proc/pressure/{resource}") as pressure:
                totals.append(int(pressure.readline().rsplit("total=", 1)[1]))
        except (OSError, IndexError, ValueError):
            totals.append(0)
    return totals[0], totals[1]


class PressureSampler(threading.Thread):
    """Once a second, the share of that second in which some task waited for a CPU, and for the disk."""

    def __init__(self):
        super().__init__(daemon=True)
        self.seconds: list[tuple[float, float]] = []
        self.done = threading.Event()

    def run(self):
        last = _pressure_stalled_us()
        while not self.done.wait(1.0):
            now = _pressure_stalled_us()
            self.seconds.append(((now[0] - last[0]) / 1e6, (now[1] - last[1]) / 1e6))
            last = now


class CpuMeter:
    """CPU seconds spent during a run by gunicorn (master + workers) and by PostgreSQL's backends serving it.

    Processes are sampled at the start and the end; one that started meanwhile counts from zero, one that
    ended meanwhile is reported (its CPU since the start is unknown). The server keeps its database
    connections for the whole benchmark (CONN_MAX_AGE in SERVER_ENV), so none should end.
    """

    def __init__(self, server_pid: int):
        self.server_pid = server_pid

    def __enter__(self):
        self.start_gunicorn = _cpu_seconds([self.server_pid, *_children(self.server_pid)])
        self.start_postgres = _cpu_seconds(_database_backends())
        self.machine = -_machine_busy_seconds()
        self.checkpoints = -_checkpoints()
        self.pressure = PressureSampler()
        self.pressure.start()
        return self

    def __exit__(self, *exc):
        self.pressure.done.set()
        self.pressure.join()
        self.machine += _machine_busy_seconds()
        self.checkpoints += _checkpoints()
        self.gunicorn, lost_g = self._spent(self.start_gunicorn, [self.server_pid, *_children(self.server_pid)])
        self.postgres, lost_p = self._spent(self.start_postgres, _database_backends())
        self.lost = lost_g + lost_p

    @staticmethod
    def _spent(start: dict[int, float], pids_now) -> tuple[float, int]:
        now = _cpu_seconds(set(pids_now) | set(start))
        return sum(now[pid] - start.get(pid, 0.0) for pid in now), len(set(start) - set(now))


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def report(name: str, result, ok_statuses, cpu: CpuMeter) -> dict:
    latencies = sorted(result.latencies)
    n = max(result.requests, 1)
    errors = result.errors(ok_statuses)
    ms = {q: percentile(latencies, q) * 1000 for q in (.5, .9, .99, .999)}
    print(f"{name:9s} {result.mode}: {result.requests} requests in {result.elapsed:.1f} s = {result.rate:.0f}/s  "
          f"p50 {ms[.5]:.1f} ms  p90 {ms[.9]:.1f} ms  p99 {ms[.99]:.1f} ms  p99.9 {ms[.999]:.1f} ms  "
          f"max {latencies[-1] * 1000 if latencies else float('nan'):.1f} ms")
    print(f"{'':9s} errors {errors}  statuses {dict(sorted(result.statuses.items()))}"
          + (f"  never sent {result.not_sent}" if result.not_sent else "")
          + f"  connections {result.connections_opened}")
    print(f"{'':9s} CPU per request: gunicorn {cpu.gunicorn * 1000 / n:.2f} ms,"
          f" PostgreSQL {cpu.postgres * 1000 / n:.2f} ms,"
          f" load generator {result.generator_cpu * 1000 / n:.2f} ms" + (
              f"  ({cpu.lost} processes ended during the run: not counted)" if cpu.lost else ""))
    # Whatever else ran on the machine competed for the same cores: say how much it took.
    others = cpu.machine - cpu.gunicorn - cpu.postgres - result.generator_cpu
    pressure = cpu.pressure.seconds or [(0.0, 0.0)]
    print(f"{'':9s} machine: the rest used {max(others, 0) / result.elapsed:.2f} of {os.cpu_count()} CPUs;"
          f" some task waited for a CPU {sum(p[0] for p in pressure) / len(pressure):.0%} of the time, for the disk"
          f" {sum(p[1] for p in pressure) / len(pressure):.0%}; load average {os.getloadavg()[0]:.1f};"
          f" PostgreSQL checkpoints {cpu.checkpoints}")
    slow = result.slow_seconds(0.020)
    if slow:
        worst = sorted(slow.items(), key=lambda item: -item[1])[:4]
        pressure = cpu.pressure.seconds

        def second(n: int, count: int) -> str:
            if n >= len(pressure):
                return f"{n} ({count})"
            waited_cpu, waited_disk = pressure[n]
            return f"{n} ({count}; waited for CPU {waited_cpu:.0%}, disk {waited_disk:.0%})"

        print(f"{'':9s} over 20 ms: {sum(slow.values())} requests, sent in {len(slow)} of the run's seconds;"
              f" most in second " + ", ".join(second(n, count) for n, count in worst))
    return {"rate": result.rate, "p99": ms[.99], "errors": errors}


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(port):
    # The production configuration (Dockerfile, docker-compose.yml) with 2 workers on a free port; the
    # access log is still written (its cost counts), to /dev/null instead of the terminal.
    command = [str(GUNICORN), "moodstream.wsgi:application", "--config", str(ROOT / "moodstream" / "gunicorn.conf.py"),
               "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
               "--access-logfile", "/dev/null"]
    server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **SERVER_ENV}, start_new_session=True)
    for _ in range(100):
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited (is port {port} taken?)")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.1)
    stop(server)
    raise SystemExit("gunicorn did not start")


def stop(server):
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


# --- load: the runs ----------------------------------------------------------------------------------------


def seed_links(tokens: int) -> tuple[list[str], str]:
    """A partner with 30 offers and enough recommendations that every tracked link is a distinct (profile, offer)."""
    from decimal import Decimal

    from catalog.models import ContentItem, Mood, Offer, Partner
    from catalog.services import partner_issue_postback_key
    from recommender.models import Recommendation
    from tracking.links import offer_link_token
    from users.models import Profile

    partner = Partner.objects.create(code="benchshop", name="Bench shop", payout_click=Decimal("1.00"),
                                     payout_registration=Decimal("50.00"), payout_purchase=Decimal("30.00"),
                                     payout_purchase_percent=Decimal("5.00"))
    key = partner_issue_postback_key(partner=partner)
    mood = Mood.objects.create(code="bench", name_ru="b", name_en="b", valence=.5, arousal=.5)
    items = ContentItem.objects.bulk_create(ContentItem(kind="film", title=f"Film {i}", normalized_title=f"film {i}")
                                            for i in range(30))
    offers = Offer.objects.bulk_create(Offer(partner=partner, item=item, sku=f"SKU{i}", price=Decimal("299"),
                                             url=f"https://benchshop.example/film/{i}?ref=moodstream")
                                       for i, item in enumerate(items))
    profiles = Profile.objects.bulk_create(Profile(telegram_id=10**9 + i) for i in range(tokens // len(offers) + 1))
    recs = Recommendation.objects.bulk_create(Recommendation(profile=p, mood=mood, minutes=60, kinds=["film"],
                                                             strategy="baseline", variant="control") for p in profiles)
    # No request is a dedup repeat: each (profile, offer) is clicked once, so each must create a Click.
    paths = [f"/go/{offer_link_token(recommendation_id=r.pk, offer_id=o.pk)}" for r in recs for o in offers]
    print(f"seeded {len(offers)} offers, {len(recs)} recommendations, {len(paths)} distinct tracked links")
    return paths, key


def postback_requests(click_ids: list[str], key: str, *, first_event: int, count: int) -> list[bytes]:
    """`count` postbacks with fresh event ids, each tenth sent again right after (a replay must not double).

    Two in three are registrations, on clicks that have none yet (a click brings one); the rest purchases."""
    requests = []
    for n in range(first_event, first_event + count):
        params = {"key": key, "click_id": click_ids[n % len(click_ids)], "event_id": f"order-{n}"}
        signup = n % 3 != 0 and n < len(click_ids)
        params.update({"event": "registration"} if signup
                      else {"event": "purchase", "amount": "499.00", "currency": "RUB"})
        request = http_load.get_request(f"/postback/benchshop?{urlencode(params)}")
        requests.append(request)
        if n % 10 == 9:
            requests.append(request)
    return requests


def check_clicks(acknowledged: int) -> bool:
    from tracking.models import Click

    clicks = Click.objects.count()
    ok = clicks == acknowledged
    print(f"{'':9s} Click rows {clicks}, redirects answered {acknowledged}: {'OK' if ok else 'MISMATCH'}")
    return ok


def check_conversions(created: int, replayed: int, sent_replays: int) -> bool:
    from tracking.models import Conversion

    conversions = Conversion.objects.count()
    distinct = Conversion.objects.values("partner_id", "event_id").distinct().count()
    ok = conversions == created == distinct
    print(f"{'':9s} Conversion rows {conversions} ({distinct} distinct event ids), answered 201 {created}, "
          f"200 {replayed} (replays sent {sent_replays}): {'OK' if ok else 'MISMATCH'}")
    return ok


def bench_load(options):
    recreate_database()
    setup_django()
    from tracking.models import Click

    go_paths, key = seed_links(options.tokens)
    go_requests = [http_load.get_request(path) for path in go_paths]
    options.port = options.port or free_port()
    server = start_gunicorn(options.port)
    outcome, rows_ok = {}, True
    try:
        # Warm-up: both workers import and connect before anything is timed (these clicks count too).
        http_load.closed_loop(options.port, go_requests[:200], connections=4, seconds=10)
        used = 200
        redirects = 200
        phases = [("/go/ max", dict(connections=options.connections)), ("/go/", dict(rate=options.go_rate))]
        for name, how in phases:
            requests = go_requests[used:]
            with CpuMeter(server.pid) as cpu:
                result = _run(options, requests, how)
            used += result.requests + result.not_sent
            redirects += result.statuses.get(302, 0)
            outcome[name] = report(name, result, {302}, cpu)
            rows_ok &= check_clicks(redirects)

        click_ids = list(Click.objects.order_by("id").values_list("click_id", flat=True))
        event, created, replayed, sent_replays = 0, 0, 0, 0
        phases = [("postback max", dict(connections=options.connections)),
                  ("postback", dict(rate=options.postback_rate))]
        for name, how in phases:
            count = int(options.seconds * (how.get("rate") or 2000))
            requests = postback_requests(click_ids, key, first_event=event, count=count)
            with CpuMeter(server.pid) as cpu:
                result = _run(options, requests, how)
            # Only the requests sent count: the rest of the list (and its event ids) is skipped.
            sent = result.requests + result.not_sent
            event += count
            sent_replays += sum(1 for i in range(1, sent) if requests[i] is requests[i - 1])
            created += result.statuses.get(201, 0)
            replayed += result.statuses.get(200, 0)
            outcome[name] = report(name, result, {200, 201}, cpu)
            rows_ok &= check_conversions(created, replayed, sent_replays)
    finally:
        stop(server)
    go_max, go, pb_max, pb = (outcome[k] for k in ("/go/ max", "/go/", "postback max", "postback"))
    errors = sum(o["errors"] for o in outcome.values())
    print(f"targets: /go/ >= 400/s with p99 <= 20 ms -> max {go_max['rate']:.0f}/s; at {options.go_rate:g}/s "
          f"p99 {go['p99']:.1f} ms | postback >= 300/s -> max {pb_max['rate']:.0f}/s; at {options.postback_rate:g}/s "
          f"p99 {pb['p99']:.1f} ms | errors {errors} | rows {'exact' if rows_ok else 'MISMATCH'}")
    print(f"reproduce: flock /tmp/ms/bench.lock .venv/bin/python benchmarks/tracking.py load"
          f" --seconds {options.seconds:g} --connections {options.connections} --go-rate {options.go_rate:g}"
          f" --postback-rate {options.postback_rate:g}")


def _run(options, requests, how):
    if "rate" in how:
        return http_load.open_loop(options.port, requests, rate=how["rate"], seconds=options.seconds)
    return http_load.closed_loop(options.port, requests, connections=how["connections"], seconds=options.seconds)


# --- KPI at scale ---------------------------------------------------------------------------------------------


KPI_SQL = """
INSERT INTO users_profile (telegram_id, username, first_name, language, language_chosen, onboarding, is_active,
                           created_at, updated_at)
SELECT 2000000000 + g, '', 'u', 'ru', false, 'done', true, now(), now() FROM generate_series(1, %(users)s) g;

INSERT INTO recommender_recommendation (id, profile_id, mood_id, minutes, kinds, strategy, experiment_id, variant,
                                        channel, created_at)
SELECT md5(g::text)::uuid, p.id, %(mood)s, 60, '["film"]', 'model', %(experiment)s,
       (ARRAY['control','model-a','model-b'])[1 + p.id %% 3], 'bot',
       now() - (random() * interval '90 days')
FROM generate_series(1::bigint, %(requests)s) g
JOIN users_profile p ON p.id = (SELECT min(id) FROM users_profile) + (g * 7919) %% %(users)s;

INSERT INTO tracking_click (click_id, profile_id, offer_id, partner_id, recommendation_id, experiment_id, variant,
                            user_agent, payout, payout_currency, created_at)
SELECT md5('c' || g::text), p.id, o.id, o.partner_id, NULL, %(experiment)s,
       (ARRAY['control','model-a','model-b'])[1 + p.id %% 3], 'bench', 1.00, 'RUB',
       now() - (random() * interval '90 days')
FROM generate_series(1::bigint, %(clicks)s) g
JOIN users_profile p ON p.id = (SELECT min(id) FROM users_profile) + (g * 104729) %% %(users)s
JOIN catalog_offer o ON o.id = (SELECT min(id) FROM catalog_offer) + g %% %(offers)s;

INSERT INTO tracking_conversion (partner_id, click_id, event, event_id, amount, currency, payout, payout_currency,
                                 status, status_reason, suspicious, occurred_at, created_at, updated_at)
SELECT c.partner_id, c.id, (ARRAY['registration','subscription','purchase'])[1 + c.id %% 3], 'ev' || c.id,
       NULL, '', 50.00, 'RUB', (ARRAY['pending','approved','rejected'])[1 + (c.id / 3) %% 3], '', false,
       least(c.created_at + interval '1 hour', now()), least(c.created_at + interval '1 hour', now()),
       least(c.created_at + interval '1 hour', now())
FROM tracking_click c WHERE c.id %% 20 = 0;
ANALYZE;
"""


def bench_kpi(options):
    if not options.reuse:
        recreate_database()
    else:
        subprocess.run([str(PYTHON), "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT,
                       env={**os.environ, **SERVER_ENV}, check=True)
    setup_django("moodstream.settings_test")
    from django.db.models import F

    from recommender.models import Experiment
    from tracking.models import Click, Conversion, DailyKpi, KpiRefreshState
    from tracking.services import kpi_refresh_recent

    if options.reuse and Click.objects.exists():
        experiment = Experiment.objects.get(code="ranker")
        KpiRefreshState.objects.all().delete()
        # As if the conversions had been reported an hour after their clicks, not all just now.
        Conversion.objects.update(updated_at=F("occurred_at"))
        print(f"reusing {Click.objects.count()} clicks")
    else:
        experiment = generate_kpi_data(options)
    started = time.perf_counter()
    days = kpi_refresh_recent()
    print(f"full KPI rebuild: {len(days)} days, {DailyKpi.objects.count()} day x variant rows in "
          f"{time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    kpi_refresh_recent()
    print(f"incremental refresh with nothing new: {time.perf_counter() - started:.2f} s")
    time_kpi_pages(experiment)


def generate_kpi_data(options):
    from decimal import Decimal

    from django.db import connection

    from catalog.models import ContentItem, Mood, Offer, Partner
    from recommender.models import Experiment, ExperimentVariant
    from tracking.models import Click

    mood = Mood.objects.create(code="bench", name_ru="b", name_en="b", valence=.5, arousal=.5)
    experiment = Experiment.objects.create(code="ranker", name="Ranker", is_active=True)
    for code in ("control", "model-a", "model-b"):
        ExperimentVariant.objects.create(experiment=experiment, code=code)
    for p in range(3):
        partner = Partner.objects.create(code=f"shop{p}", name=f"Shop {p}", payout_click=Decimal("1.00"))
        items = ContentItem.objects.bulk_create(ContentItem(kind="film", title=f"F{p}-{i}", normalized_title="f")
                                                for i in range(100))
        Offer.objects.bulk_create(Offer(partner=partner, item=item, sku=f"S{i}", price=Decimal("1"),
                                        url="https://shop.example/x") for i, item in enumerate(items))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for statement in KPI_SQL.split(";\n"):
            if statement.strip():
                cursor.execute(statement, {"users": options.users, "requests": options.requests,
                                           "clicks": options.clicks, "offers": 300, "mood": mood.pk,
                                           "experiment": experiment.pk})
    print(f"generated {Click.objects.count()} clicks over 90 days in {time.perf_counter() - started:.1f} s")
    return experiment


def time_kpi_pages(experiment):
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone

    from users.models import User

    User.objects.filter(username="bench").delete()
    staff = User.objects.create_superuser(username="bench", password="x", email="")
    client = Client()
    client.force_login(staff)
    today = timezone.localdate()
    query = {"from": (today - timedelta(days=89)).isoformat(), "to": today.isoformat(),
             "a": f"{experiment.pk}:control", "b": f"{experiment.pk}:model-a"}
    for name, url in (("KPI page", "/admin/tracking/dailykpi/"), ("KPI JSON", "/api/v1/kpi"),
                      ("KPI CSV", "/admin/tracking/dailykpi/?format=csv")):
        timings = []
        for _ in range(6):
            started = time.perf_counter()
            response = client.get(url.split("?")[0], {**query, **({"format": "csv"} if "csv" in url else {})})
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
        timings = timings[1:]  # the first warms caches and templates
        print(f"{name:9s} 90 days x 3 variants: median {statistics.median(timings)*1000:.0f} ms, "
              f"max {max(timings)*1000:.0f} ms ({len(response.content)} bytes)")


def bench_cpu(options):
    """The Django side of `/go/` alone, in this process (test client, production settings, PostgreSQL):
    the least CPU per redirect over chunks of distinct links. No server, no load generator: it shows
    what the request path itself costs, to compare two versions of the code on a shared machine."""
    recreate_database()
    setup_django()
    from django.test import Client

    chunk, chunks = 400, 10
    paths, _key = seed_links(200 + chunk * chunks)
    client = Client(REMOTE_ADDR="127.0.0.1", HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0")
    for path in paths[:200]:  # warm-up
        assert client.get(path).status_code == 302
    least = float("inf")
    for start in range(200, 200 + chunk * chunks, chunk):
        cpu0 = time.process_time()
        statuses = {client.get(path).status_code for path in paths[start:start + chunk]}
        least = min(least, (time.process_time() - cpu0) / chunk)
        assert statuses == {302}, statuses
    print(f"/go/ in-process: least CPU {least * 1000:.3f} ms a redirect (chunks of {chunk} distinct links, "
          f"best of {chunks}; Django test client, production settings, PostgreSQL)")
    print("Command: .venv/bin/python benchmarks/tracking.py cpu")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["load", "kpi", "cpu", "all"])
    parser.add_argument("--seconds", type=float, default=30, help="load: length of each of the 4 runs")
    parser.add_argument("--connections", type=int, default=8, help="load: clients of the closed-loop runs")
    parser.add_argument("--go-rate", type=float, default=400, help="load: /go/ requests per second, open loop")
    parser.add_argument("--postback-rate", type=float, default=300, help="load: postbacks per second, open loop")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--tokens", type=int, default=90_000)
    parser.add_argument("--users", type=int, default=30_000)
    parser.add_argument("--requests", type=int, default=500_000)
    parser.add_argument("--clicks", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="kpi: keep the generated data of an earlier run")
    options = parser.parse_args()
    if options.what == "all":
        # Each part sets Django up its own way: run them as two processes.
        for part in ("load", "kpi"):
            subprocess.run([sys.executable, __file__, part, *sys.argv[2:]], check=True)
        return
    if options.what == "load":
        bench_load(options)
    if options.what == "kpi":
        bench_kpi(options)
    if options.what == "cpu":
        bench_cpu(options)


if __name__ == "__main__":
    main()
