"""Feed import benchmark (issue 3, item 7).

Generates a Yandex Market YML feed of N offers — a mix of books, audiobooks, films and music
tracks with 1% malformed rows — and imports it into the database of DATABASE_URL (use
PostgreSQL) three times, each in a fresh process so its peak RSS is its own:

  1. first import (every offer and item is new),
  2. re-import with 10% of the prices changed,
  3. the identical file again (recognised by its SHA-256 and skipped).

Each import goes end to end through the real path: `feed_import_create` (the file is stored
as an upload) and the `catalog.import_partner_feed` task run in-process, as `import_feed` does.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ms_bench .venv/bin/python benchmarks/feed_import.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ms_bench .venv/bin/python benchmarks/feed_import.py --big

`--big` uses N = 1,000,000 (the feed is ~420 MB, so FEED_MAX_BYTES is raised for the run).
The benchmark migrates the database first (a fresh, empty one is fine). The benchmark's partner
(code "bench") and the items its feed created are deleted before the run.

Two yardsticks follow in the same run:

  4. PostgreSQL's own COPY of N offer-shaped rows (the offer columns, the same SKUs, URLs and
     prices) into a fresh table with a unique (partner, sku) index, and the first import's
     rate as a fraction of it (the goal is at least 1/15);
  5. with REDIS_URL set, the first import again (after a reset), this time sent to a real
     `celery -A moodstream worker` process started for the run on a queue of its own, timed
     from the request to the finished status, next to the in-process rate.
"""

import argparse
import hashlib
import inspect
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
PARTNER = "bench"
TITLE_PREFIX = "Bench"

WORDS = ("night sea river winter garden silent last secret city road star fire glass paper stone light "
         "shadow autumn summer dream heart storm island train letter song ghost mirror clock bird wolf").split()
FIRST = "Anna Boris Clara Dmitri Elena Fyodor Galina Igor Julia Kirill Lena Maxim Nina Oleg Pavel Vera".split()
LAST = "Ivanova Petrov Smirnova Volkov Orlova Sokolov Belova Kuznetsov Morozova Novikov Fedorova Lebedev".split()
CATEGORIES = [
    ("1", "", "Книги"), ("2", "1", "Фантастика"), ("3", "1", "Детективы"), ("4", "1", "Любовные романы"),
    ("5", "1", "Классика"), ("10", "", "Фильмы"), ("11", "10", "Комедии"), ("12", "10", "Драмы"),
    ("13", "10", "Триллеры"), ("14", "10", "Мультфильмы"), ("20", "", "Музыка"), ("21", "20", "Рок"),
    ("22", "20", "Поп"), ("23", "20", "Джаз"), ("24", "20", "Электроника"),
]


def _isbn13(number: int) -> str:
    body = f"978{number % 10**9:09d}"
    check = (10 - sum((1 if i % 2 == 0 else 3) * int(d) for i, d in enumerate(body)) % 10) % 10
    return body + str(check)


def offer_xml(i: int, rng: random.Random, price_bump: bool) -> str:
    """One offer; about 1% are malformed in one of five ways."""
    title = f"{TITLE_PREFIX} {' '.join(rng.choice(WORDS) for _ in range(3)).title()} {i}"
    person = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    year = 1950 + i % 75
    price = 99 + (i * 37) % 900 + (50 if price_bump else 0)
    url = f"https://bench-shop.example/item/{i}"
    sku = f"SKU-{i}"
    currency = "RUR"
    bad = i % 100 == 99
    if bad:
        flaw = (i // 100) % 5
        if flaw == 0:
            price = -price
        elif flaw == 1:
            currency = "XXX"
        elif flaw == 2:
            url = "javascript:alert(1)"
        elif flaw == 3:
            sku = f"SKU-{i - 1}"  # a duplicate SKU
        else:
            price = "about ten"
    description = escape(f"A {rng.choice(WORDS)} story about {rng.choice(WORDS)} and {rng.choice(WORDS)}.")
    common = (f"<url>{url}</url><price>{price}</price><currencyId>{currency}</currencyId>"
              f"<picture>https://bench-shop.example/img/{i}.jpg</picture>")
    kind = i % 20
    if kind < 7:  # book
        return (f'<offer id="{sku}" type="book" available="true">{common}<categoryId>{2 + i % 4}</categoryId>'
                f"<author>{person}</author><name>{title}</name><year>{year}</year><ISBN>{_isbn13(i)}</ISBN>"
                f"<page_extent>{120 + i % 600}</page_extent><description>{description}</description></offer>")
    if kind < 10:  # audiobook
        return (f'<offer id="{sku}" type="audiobook" available="true">{common}<categoryId>{2 + i % 4}</categoryId>'
                f"<author>{person}</author><name>{title}</name><year>{year}</year>"
                f"<performed_by>{rng.choice(FIRST)} {rng.choice(LAST)}</performed_by>"
                f"<description>{description}</description></offer>")
    if kind < 16:  # film
        return (f'<offer id="{sku}" type="artist.title" available="true">{common}<categoryId>{11 + i % 4}</categoryId>'
                f"<title>{title}</title><director>{person}</director><year>{year}</year>"
                f'<param name="IMDb">tt{9000000 + i}</param><param name="Длительность" unit="мин">{80 + i % 90}</param>'
                f'<param name="offer_type">rent</param><description>{description}</description></offer>')
    return (f'<offer id="{sku}" type="artist.title" available="true">{common}<categoryId>{21 + i % 4}</categoryId>'
            f"<title>{title}</title><artist>{person}</artist><year>{year}</year>"
            f'<param name="duration_seconds">{150 + i % 200}</param><param name="tempo">{70 + i % 100}</param>'
            f'<param name="energy">{(i % 100) / 100:.2f}</param><param name="offer_type">subscription</param></offer>')


def generate(path: Path, n: int, changed_every: int = 0) -> None:
    rng = random.Random(42)
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE yml_catalog SYSTEM "shops.dtd">\n'
                  '<yml_catalog date="2026-11-28 10:00"><shop><name>Bench shop</name><company>Bench</company>'
                  '<url>https://bench-shop.example</url><currencies><currency id="RUR" rate="1"/></currencies>'
                  "<categories>")
        for cid, parent, name in CATEGORIES:
            parent_attr = f' parentId="{parent}"' if parent else ""
            out.write(f'<category id="{cid}"{parent_attr}>{name}</category>')
        out.write("</categories><offers>\n")
        for i in range(n):
            out.write(offer_xml(i, rng, price_bump=bool(changed_every) and i % changed_every == 0))
            out.write("\n")
        out.write("</offers></shop></yml_catalog>\n")


def generate_once(path: Path, n: int, changed_every: int = 0) -> None:
    """Generate the feed unless the file there was made by this very generator with the same
    arguments (a million offers take minutes to write)."""
    source = (inspect.getsource(offer_xml) + inspect.getsource(generate)
              + repr((WORDS, FIRST, LAST, CATEGORIES, TITLE_PREFIX, n, changed_every)))
    fingerprint = hashlib.sha256(source.encode()).hexdigest()
    stamp = path.with_name(path.name + ".sha256")
    if path.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        print(f"Reusing {path.relative_to(ROOT)}", flush=True)
        return
    print(f"Generating {path.relative_to(ROOT)} ({n:,} offers) ...", flush=True)
    stamp.unlink(missing_ok=True)
    generate(path, n, changed_every)
    stamp.write_text(fingerprint)


def child(feed: str) -> None:
    """Run one import in this (fresh) process and print its figures as JSON."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "moodstream.settings")
    django.setup()
    from catalog.feeds.services import feed_import_create
    from catalog.models import FeedImport, Partner
    from catalog.tasks import import_partner_feed

    partner = Partner.objects.get(code=PARTNER)
    cpu_before = time.process_time()
    readers_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with open(feed, "rb") as upload:
        feed_import = feed_import_create(partner=partner, source=FeedImport.Source.COMMAND, upload=upload,
                                         filename=Path(feed).name, enqueue=False)
    import_partner_feed.apply(args=[str(feed_import.pk)], throw=True)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_before
    readers = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The feed reader process's CPU (a large feed is parsed and checked there), once it is reaped.
    reader_cpu_seconds = (readers.ru_utime + readers.ru_stime) - (readers_before.ru_utime + readers_before.ru_stime)
    feed_import.refresh_from_db()
    peak_kb = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                   if line.startswith("VmHWM:"))
    print(json.dumps({
        "status": feed_import.status, "message": feed_import.message, "seconds": seconds, "cpu_seconds": cpu_seconds,
        "reader_cpu_seconds": reader_cpu_seconds, "rows": feed_import.rows_total, "created": feed_import.created_count, "updated": feed_import.updated_count,
        "unchanged": feed_import.unchanged_count, "rejected": feed_import.rejected_count,
        "withdrawn": feed_import.withdrawn_count, "items_created": feed_import.items_created_count,
        "peak_rss_mb": peak_kb / 1024,
    }))


def reset() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "moodstream.settings")
    django.setup()
    from django.db import IntegrityError, connection, transaction

    from catalog.models import ContentItem, FeedImport, Offer, Partner

    if connection.vendor != "postgresql":
        print(f"warning: the database is {connection.vendor}, the targets are for PostgreSQL", file=sys.stderr)
    partner, _ = Partner.objects.get_or_create(code=PARTNER, defaults={"name": "Benchmark shop"})
    FeedImport.objects.filter(partner=partner).delete()
    bench_items = ContentItem.objects.filter(title__startswith=f"{TITLE_PREFIX} ")
    try:
        # In SQL: the ORM's delete() collects a million items and their links in memory first
        # (minutes and gigabytes). Anything else pointing at them makes this fail, and the ORM's
        # cascade runs instead.
        with transaction.atomic(), connection.cursor() as cursor:
            items_sql, items_params = bench_items.values("id").query.sql_with_params()
            for through in (ContentItem.genres.through, ContentItem.moods.through):
                cursor.execute(f"DELETE FROM {through._meta.db_table} WHERE contentitem_id IN ({items_sql})",
                               items_params)
            cursor.execute(f"DELETE FROM {Offer._meta.db_table} WHERE partner_id = %s OR item_id IN ({items_sql})",
                           [partner.pk, *items_params])
            cursor.execute(f"DELETE FROM {ContentItem._meta.db_table} WHERE id IN ({items_sql})", items_params)
    except IntegrityError:
        partner.offers.all().delete()
        bench_items.delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE catalog_offer" if connection.vendor == "postgresql" else "SELECT 1")
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE catalog_contentitem")


def copy_reference(n: int) -> float:
    """Seconds PostgreSQL takes to COPY n offer-shaped rows into a table with a unique (partner, sku) index."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "moodstream.settings")
    django.setup()
    from django.db import connection

    # The rows are formatted before the clock starts: this measures the database, not Python.
    lines = []
    for i in range(n):
        digest = f"{i:032x}"
        lines.append(f"1\tSKU-{i}\thttps://bench-shop.example/item/{i}\t{99 + (i * 37) % 900}.00\tRUB\tbuy\tt\t{digest}\n")
    payload = "".join(lines).encode()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_reference")
        cursor.execute("CREATE TABLE bench_copy_reference (id bigserial PRIMARY KEY, partner_id bigint NOT NULL, "
                       "sku varchar(200) NOT NULL, url varchar(2000) NOT NULL, price numeric(12, 2) NOT NULL, "
                       "currency varchar(3) NOT NULL, offer_type varchar(12) NOT NULL, available boolean NOT NULL, "
                       "row_hash varchar(32) NOT NULL, UNIQUE (partner_id, sku))")
        started = time.perf_counter()
        with cursor.cursor.copy("COPY bench_copy_reference (partner_id, sku, url, price, currency, offer_type, "
                                "available, row_hash) FROM STDIN") as copy:
            for start in range(0, len(payload), 1 << 20):
                copy.write(payload[start:start + (1 << 20)])
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy_reference")
    return seconds


def worker_import(feed: str, queue: str) -> None:
    """Send one import to the running worker (on `queue`) and print its figures as JSON when it ends."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "moodstream.settings")
    django.setup()
    from catalog.feeds.services import feed_import_create
    from catalog.models import FeedImport, Partner
    from catalog.tasks import import_partner_feed
    from moodstream.celery import app

    app.conf.task_always_eager = False
    deadline = time.monotonic() + 120
    while not app.control.ping(timeout=1.0):  # the worker is up and listening
        if time.monotonic() > deadline:
            sys.exit("the Celery worker did not answer within 120 s")
    partner = Partner.objects.get(code=PARTNER)
    started = time.perf_counter()
    with open(feed, "rb") as upload:
        feed_import = feed_import_create(partner=partner, source=FeedImport.Source.COMMAND, upload=upload,
                                         filename=Path(feed).name, enqueue=False)
    import_partner_feed.apply_async(args=[str(feed_import.pk)], queue=queue)
    done = {FeedImport.Status.SUCCEEDED, FeedImport.Status.FAILED, FeedImport.Status.SKIPPED}
    while True:
        feed_import.refresh_from_db()
        if feed_import.status in done:
            break
        time.sleep(0.05)
    print(json.dumps({"status": feed_import.status, "seconds": time.perf_counter() - started,
                      "run_seconds": (feed_import.finished_at - feed_import.started_at).total_seconds(),
                      "rows": feed_import.rows_total, "message": feed_import.message}))


def run_worker_phase(feed: Path, env: dict, pool: str = "solo") -> dict:
    queue = f"feed-bench-{os.getpid()}"
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "worker.log").open("w") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "moodstream", "worker", f"--pool={pool}", "--concurrency=1", "-Q", queue,
             "--without-mingle", "--without-gossip", "--loglevel=WARNING"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            result = subprocess.run([sys.executable, __file__, "--worker-child", str(feed), "--queue", queue],
                                    cwd=ROOT, env=env, capture_output=True, text=True)
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    if result.returncode != 0:
        sys.exit(f"the worker phase failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_phase(feed: Path, env: dict) -> dict:
    result = subprocess.run([sys.executable, __file__, "--child", str(feed)], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"the import process failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=100_000, help="Offers in the feed (default 100,000).")
    parser.add_argument("--big", action="store_true", help="N = 1,000,000.")
    parser.add_argument("--worker-pool", default="solo", choices=["solo", "prefork"],
                        help="The Celery worker's pool for the worker phase (default solo).")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--worker-child", help=argparse.SUPPRESS)
    parser.add_argument("--queue", help=argparse.SUPPRESS)
    parser.add_argument("--copy-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.child:
        child(args.child)
        return
    if args.worker_child:
        worker_import(args.worker_child, args.queue)
        return
    if args.copy_child:
        print(json.dumps({"seconds": copy_reference(args.copy_child)}))
        return
    n = 1_000_000 if args.big else args.n
    OUT.mkdir(parents=True, exist_ok=True)
    first, changed = OUT / f"feed-{n}.yml", OUT / f"feed-{n}-changed.yml"
    generate_once(first, n)
    generate_once(changed, n, changed_every=10)
    size = first.stat().st_size
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "moodstream.settings")
    # DEBUG off, as in production: with DEBUG on, Django keeps every SQL statement it sends.
    env["DEBUG"] = "false"
    env.setdefault("SECRET_KEY", "benchmark-only-" + os.urandom(24).hex())
    env.setdefault("PUBLIC_BASE_URL", "https://moodstream.example")  # required with DEBUG off
    env["FEED_MAX_BYTES"] = str(max(int(env.get("FEED_MAX_BYTES", 0) or 0), size * 2))
    # A missing database is created and a fresh one migrated here, so the run never meets missing tables.
    from benchmarks._database import ensure_database

    ensure_database(os.environ.get("DATABASE_URL", ""))
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    reset_command = [sys.executable, "-c", "import benchmarks.feed_import as bench; bench.reset()"]
    subprocess.run(reset_command, cwd=ROOT, env=env, check=True)

    print(f"Feed: {n:,} offers, {size / 1e6:,.1f} MB; database: {os.environ.get('DATABASE_URL', '(default)')}")
    phases = [("first import", first), ("re-import, 10% prices changed", changed), ("identical re-import", changed)]
    first_rate = 0.0
    for name, feed in phases:
        figures = run_phase(feed, env)
        rate = figures["rows"] / figures["seconds"] if figures["rows"] else n / figures["seconds"]
        first_rate = first_rate or rate
        print(f"{name:32s} {figures['status']:9s} {figures['seconds']:7.2f} s  {rate:9,.0f} offers/s  "
              f"(importer CPU {figures['cpu_seconds']:6.2f} s, reader process {figures['reader_cpu_seconds']:5.2f} s)  "
              f"peak RSS {figures['peak_rss_mb']:6.1f} MB  (created {figures['created']:,}, updated "
              f"{figures['updated']:,}, unchanged {figures['unchanged']:,}, rejected {figures['rejected']:,}, "
              f"withdrawn {figures['withdrawn']:,}, new items {figures['items_created']:,})", flush=True)
    copy_seconds = json.loads(subprocess.run([sys.executable, __file__, "--copy-child", str(n)], cwd=ROOT, env=env,
                                             capture_output=True, text=True, check=True).stdout.splitlines()[-1])["seconds"]
    copy_rate = n / copy_seconds
    print(f"{'PostgreSQL COPY, same rows':32s} {'':9s} {copy_seconds:7.2f} s  {copy_rate:9,.0f} rows/s    "
          f"first import / COPY = 1/{copy_rate / first_rate:.1f} (goal: 1/15 or better)", flush=True)
    if os.environ.get("REDIS_URL"):
        subprocess.run(reset_command, cwd=ROOT, env=env, check=True)
        figures = run_worker_phase(first, env, args.worker_pool)
        rate = figures["rows"] / figures["seconds"]
        print(f"{'first import, Celery ' + args.worker_pool + ' pool':32s} {figures['status']:9s} {figures['seconds']:7.2f} s  {rate:9,.0f} "
              f"offers/s  ({rate / first_rate:.0%} of the in-process rate; goal: within 10%; "
              f"{figures['run_seconds']:.2f} s of it in the task)", flush=True)
    else:
        print("Celery worker phase skipped: set REDIS_URL to run the first import through a real worker.")
    print(f"Load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    redis = ["REDIS_URL=" + os.environ["REDIS_URL"]] if os.environ.get("REDIS_URL") else []
    command = " ".join(["DATABASE_URL=" + os.environ.get("DATABASE_URL", ""), *redis, ".venv/bin/python",
                        "benchmarks/feed_import.py"] + (["--big"] if args.big else ([f"-n {n}"] if n != 100_000 else [])))
    print(f"Command: {command}")


if __name__ == "__main__":
    main()
