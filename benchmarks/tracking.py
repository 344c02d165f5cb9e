"""Tracking benchmark: `/go/<token>` and postbacks under load, and the KPI page at 1M clicks.

    .venv/bin/python benchmarks/tracking.py load   # gunicorn (2 workers) on PostgreSQL, 30 s per endpoint
    .venv/bin/python benchmarks/tracking.py kpi    # 90 days x 3 variants x 1,000,000 clicks; KPI page timing
    .venv/bin/python benchmarks/tracking.py all

It uses its own databases (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/ms_track_bench;
BENCH_KPI_DATABASE_URL, default …/ms_track_kpi_bench), which it drops and re-creates. The load
generator is Python processes x threads on loopback, one keep-alive connection per thread, each
request a fresh token / event id (every tenth postback is sent twice). After each run it checks that
the Click / Conversion rows equal what the server acknowledged: nothing lost, nothing doubled.
Options: --seconds 30 --processes 2 --threads 8 --port (default: a free one).
"""

import argparse
import http.client
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
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


# --- load generator --------------------------------------------------------------------------------------


def _worker(args):
    """One process: `threads` threads, each with its own keep-alive connection, until the deadline."""
    import threading

    port, paths, threads, deadline, expect = args
    latencies, statuses, bodies = [], {}, []
    lock = threading.Lock()
    chunks = [paths[i::threads] for i in range(threads)]

    def run(chunk):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        local_lat, local_status = [], {}
        for path in chunk:
            if time.perf_counter() >= deadline:
                break
            started = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            local_lat.append(time.perf_counter() - started)
            local_status[status] = local_status.get(status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(local_lat)
            for status, n in local_status.items():
                statuses[status] = statuses.get(status, 0) + n

    pool = [threading.Thread(target=run, args=(chunk,)) for chunk in chunks]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return latencies, statuses


def drive(port, paths, *, seconds, processes, threads):
    from django.db import connections

    connections.close_all()  # the forked load processes must not share the parent's socket
    deadline = time.perf_counter() + seconds
    parts = [paths[i::processes] for i in range(processes)]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results = pool.map(_worker, [(port, part, threads, deadline, None) for part in parts])
    elapsed = time.perf_counter() - started
    latencies = sorted(x for lat, _ in results for x in lat)
    statuses = {}
    for _, st in results:
        for status, n in st.items():
            statuses[status] = statuses.get(status, 0) + n
    return elapsed, latencies, statuses


def server_cpu_seconds(master_pid: int) -> float:
    """User + system CPU of the gunicorn master and its workers, from /proc (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        if pid == master_pid or ppid == master_pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def report_line(name, elapsed, latencies, statuses, ok_statuses, cpu_seconds):
    ok = sum(n for s, n in statuses.items() if s in ok_statuses)
    errors = sum(n for s, n in statuses.items() if s not in ok_statuses)
    rate = len(latencies) / elapsed
    print(f"{name:10s} requests={len(latencies):7d}  {rate:8.1f} req/s  p50={percentile(latencies, .5)*1000:6.2f} ms  "
          f"p99={percentile(latencies, .99)*1000:6.2f} ms  errors={errors}  statuses={dict(sorted(statuses.items()))}")
    print(f"           gunicorn CPU {cpu_seconds * 1000 / max(len(latencies), 1):.2f} ms per request; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return ok, errors, rate


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(port):
    command = [str(GUNICORN), "moodstream.wsgi:application", "--workers", "2", "--worker-class", "gthread",
               "--threads", "4", "--bind", f"127.0.0.1:{port}", "--keep-alive", "30", "--log-level", "warning"]
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
    server.kill()
    raise SystemExit("gunicorn did not start")


def stop(server):
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


def bench_load(options):
    recreate_database()
    setup_django()
    from decimal import Decimal

    from catalog.models import ContentItem, Mood, Offer, Partner
    from catalog.services import partner_issue_postback_key
    from recommender.models import Recommendation
    from tracking.links import offer_link_token
    from tracking.models import Click, Conversion
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
    profile_count = int(options.tokens / len(offers)) + 1
    profiles = Profile.objects.bulk_create(Profile(telegram_id=10**9 + i) for i in range(profile_count))
    recs = Recommendation.objects.bulk_create(Recommendation(profile=p, mood=mood, minutes=60, kinds=["film"],
                                                             strategy="baseline", variant="control") for p in profiles)
    # Every token is a distinct (profile, offer) pair: no request is a dedup repeat.
    go_paths = [f"/go/{offer_link_token(recommendation_id=r.pk, offer_id=o.pk)}" for r in recs for o in offers]
    print(f"seeded {len(offers)} offers, {len(recs)} recommendations, {len(go_paths)} distinct tracked links")

    options.port = options.port or free_port()
    server = start_gunicorn(options.port)
    try:
        cpu = server_cpu_seconds(server.pid)
        elapsed, latencies, statuses = drive(options.port, go_paths, seconds=options.seconds,
                                             processes=options.processes, threads=options.threads)
        go_ok, go_errors, go_rate = report_line("/go/", elapsed, latencies, statuses, {302},
                                                server_cpu_seconds(server.pid) - cpu)
        go_p99 = percentile(latencies, .99)
        clicks = Click.objects.count()
        print(f"           Click rows: {clicks}  (302 answers: {go_ok})  {'OK' if clicks == go_ok else 'MISMATCH'}")

        click_ids = list(Click.objects.values_list("click_id", flat=True))
        postback_paths, expected_new = [], 0
        for n, click_id in enumerate(click_ids):
            event_id = f"order-{n}"
            params = {"key": key, "click_id": click_id, "event_id": event_id}
            params.update({"event": "purchase", "amount": "499.00", "currency": "RUB"} if n % 3 == 0
                          else {"event": "registration"})
            path = f"/postback/benchshop?{urlencode(params)}"
            postback_paths.append(path)
            expected_new += 1
            if n % 10 == 9:  # every tenth is replayed at once: must answer 200 with the same conversion
                postback_paths.append(path)
        cpu = server_cpu_seconds(server.pid)
        elapsed, latencies, statuses = drive(options.port, postback_paths, seconds=options.seconds,
                                             processes=options.processes, threads=options.threads)
        pb_ok, pb_errors, pb_rate = report_line("postback", elapsed, latencies, statuses, {200, 201},
                                                server_cpu_seconds(server.pid) - cpu)
        conversions = Conversion.objects.count()
        created = statuses.get(201, 0)
        print(f"           Conversion rows: {conversions}  (201 answers: {created}, 200 replays: "
              f"{statuses.get(200, 0)})  {'OK' if conversions == created else 'MISMATCH'}")
        duplicates = Conversion.objects.values("event_id").distinct().count() != conversions
        print(f"           duplicated event ids: {'YES' if duplicates else 'none'}")
    finally:
        stop(server)
    print(f"targets: /go/ >= 400/s and p99 <= 20 ms -> {go_rate:.0f}/s, {go_p99*1000:.1f} ms; "
          f"postback >= 300/s -> {pb_rate:.0f}/s; errors {go_errors + pb_errors}")


# --- KPI at scale ---------------------------------------------------------------------------------------------


KPI_SQL = """
INSERT INTO users_profile (telegram_id, username, first_name, language, onboarding, is_active, created_at, updated_at)
SELECT 2000000000 + g, '', 'u', 'ru', 'done', true, now(), now() FROM generate_series(1, %(users)s) g;

INSERT INTO recommender_recommendation (id, profile_id, mood_id, minutes, kinds, strategy, experiment_id, variant,
                                        channel, created_at)
SELECT md5(g::text)::uuid, p.id, %(mood)s, 60, '["film"]', 'model', %(experiment)s,
       (ARRAY['control','model-a','model-b'])[1 + p.id %% 3], 'bot',
       now() - (random() * interval '90 days')
FROM generate_series(1::bigint, %(requests)s) g
JOIN users_profile p ON p.id = (SELECT min(id) FROM users_profile) + (g * 7919) %% %(users)s;

INSERT INTO tracking_click (click_id, profile_id, offer_id, partner_id, recommendation_id, experiment_id, variant,
                            user_agent, payout, created_at)
SELECT md5('c' || g::text), p.id, o.id, o.partner_id, NULL, %(experiment)s,
       (ARRAY['control','model-a','model-b'])[1 + p.id %% 3], 'bench', 1.00,
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["load", "kpi", "all"])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
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


if __name__ == "__main__":
    main()
