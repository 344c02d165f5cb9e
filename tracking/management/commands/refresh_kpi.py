from datetime import date

from django.core.management.base import BaseCommand, CommandError

from tracking.services import kpi_refresh_range, kpi_refresh_recent


class Command(BaseCommand):
    help = ("Rebuild the KPI rows: the days touched since the last refresh, or every day in --from..--to "
            "(e.g. after rows were deleted).")

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", help="YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", help="YYYY-MM-DD, inclusive")

    def handle(self, *args, date_from=None, date_to=None, **options):
        if bool(date_from) != bool(date_to):
            raise CommandError("Give both --from and --to, or neither.")
        if date_from:
            try:
                first, last = date.fromisoformat(date_from), date.fromisoformat(date_to)
            except ValueError:
                raise CommandError("--from and --to must be dates as YYYY-MM-DD.") from None
            if first > last:
                raise CommandError("--from must not be after --to.")
            days = kpi_refresh_range(date_from=first, date_to=last)
        else:
            days = kpi_refresh_recent()
        self.stdout.write(f"KPI rebuilt for {len(days)} day(s)" + (f": {days[0]} … {days[-1]}." if days else "."))
