"""python manage.py import_feed --partner CODE (--file PATH | --url URL) [--format yml|csv|json] [--partial]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog.feeds.services import FeedRequestError, feed_import_create, feed_import_enqueue, feed_import_progress
from catalog.models import FeedFormat, FeedImport
from catalog.selectors import partner_by_code
from catalog.tasks import import_partner_feed
from moodstream.celery import QueueUnavailable


class Command(BaseCommand):
    help = ("Import a partner feed from a file or a URL through the catalog.import_partner_feed task, "
            "in this process with a progress bar (or, with --queue, on the Celery workers).")

    def add_arguments(self, parser):
        parser.add_argument("--partner", required=True, help="The partner's code.")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--file", type=Path, help="A feed file on this machine.")
        source.add_argument("--url", help="An http(s) feed URL (fetched with the usual safety checks).")
        parser.add_argument("--format", choices=FeedFormat.values, default="",
                            help="Default: detected from the content.")
        fullness = parser.add_mutually_exclusive_group()
        fullness.add_argument("--full", dest="is_full", action="store_true", default=None,
                              help="Withdraw this partner's offers missing from the feed (the partner's default).")
        fullness.add_argument("--partial", dest="is_full", action="store_false",
                              help="Only add and update; withdraw nothing.")
        parser.add_argument("--queue", action="store_true",
                            help="Hand the import to the Celery workers and return at once.")

    def handle(self, *args, **options):
        partner = partner_by_code(code=options["partner"])
        if partner is None:
            raise CommandError(f"No partner with the code {options['partner']!r}.")
        path: Path | None = options["file"]
        if path is not None and not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            if path is not None:
                with path.open("rb") as upload:
                    feed_import = feed_import_create(
                        partner=partner, source=FeedImport.Source.COMMAND, feed_format=options["format"],
                        upload=upload, filename=path.name, is_full=options["is_full"], enqueue=False)
            else:
                feed_import = feed_import_create(
                    partner=partner, source=FeedImport.Source.COMMAND, feed_format=options["format"],
                    url=options["url"], is_full=options["is_full"], enqueue=False)
        except FeedRequestError as exc:
            raise CommandError(str(exc)) from None

        if options["queue"]:
            try:
                feed_import_enqueue(feed_import_id=feed_import.pk)
            except QueueUnavailable as exc:
                raise CommandError(f"Import {feed_import.pk} not started: {exc}") from None
            self.stdout.write(f"Import {feed_import.pk} queued; see it in the admin or with the partner API.")
            return

        bar = tqdm(total=feed_import.size_bytes or None, unit="B", unit_scale=True, desc=f"{partner.code} feed",
                   file=self.stderr._out, disable=options["verbosity"] == 0)

        def on_progress(sender, feed_import_id, rows, bytes_read, bytes_total, **kwargs):
            if feed_import_id == feed_import.pk:
                if bar.total is None:
                    bar.total = bytes_total
                bar.update(bytes_read - bar.n)
                bar.set_postfix(offers=f"{rows:,}", refresh=False)

        feed_import_progress.connect(on_progress, weak=False)
        try:
            # The same task the workers run, executed here so the bar can follow it.
            import_partner_feed.apply(args=[str(feed_import.pk)], throw=True)
        finally:
            feed_import_progress.disconnect(on_progress)
            bar.close()
        feed_import.refresh_from_db()
        self._summary(feed_import)
        if feed_import.status == FeedImport.Status.FAILED:
            raise CommandError(f"Import failed: {feed_import.message}")

    def _summary(self, fi: FeedImport) -> None:
        duration = fi.duration_seconds or 0
        rate = f", {fi.rows_total / duration:,.0f} offers/s" if duration and fi.rows_total else ""
        self.stdout.write(f"Import {fi.pk}: {fi.status} in {duration:.1f} s{rate}")
        if fi.status == FeedImport.Status.SUCCEEDED:
            self.stdout.write(
                f"  offers: {fi.rows_total:,} read, {fi.created_count:,} created, {fi.updated_count:,} updated, "
                f"{fi.unchanged_count:,} unchanged, {fi.rejected_count:,} rejected, {fi.withdrawn_count:,} withdrawn; "
                f"{fi.items_created_count:,} new items"
            )
            if fi.rejected_count:
                # Prominent: a script reading only the exit code gets 0, a person reading must not miss it.
                self.stderr.write(self.style.WARNING(
                    f"WARNING: {fi.rejected_count:,} of {fi.rows_total:,} rows were rejected and are not listed."))
        if fi.rejected_count:
            for reason in fi.rejected_reasons[:5]:
                self.stdout.write(f"  {reason['count']:,} × {reason['field'] or 'row'}: {reason['reason']}")
            for row in fi.rejected_rows[:10]:
                problems = "; ".join(f"{p['field']}: {p['reason']}" for p in row.get("problems", [row]))
                self.stdout.write(f"  rejected {row['position']} sku={row['sku']!r}: {problems}")
            if fi.rejected_count > 10:
                self.stdout.write(f"  … and {fi.rejected_count - 10:,} more rejected rows (see the admin).")
        if fi.unmapped_categories:
            shown = ", ".join(f"{c['name']!r} ({c['offers']:,})" for c in fi.unmapped_categories[:10])
            self.stdout.write(f"  categories that gave no genre (offers): {shown}")
        self.stdout.write(f"  {fi.message}")
