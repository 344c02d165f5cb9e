import time

from django.conf import settings
from django.core.management.base import BaseCommand

from catalog.demo import demo_load
from catalog.demo_history import demo_history_load
from catalog.models import Partner
from users.models import User


class Command(BaseCommand):
    help = ("Load the demo catalogue (genres, moods, partners, items, offers). Safe to run again: changes nothing "
            "that exists. With --history, also a simulated 60-day history (demo users, requests, clicks, "
            "conversions, an A/B experiment) made through the real services.")

    def add_arguments(self, parser):
        parser.add_argument("--history", action="store_true",
                            help="Also generate the simulated history (once; skipped if it exists).")
        parser.add_argument("--days", type=int, default=60)
        parser.add_argument("--users", type=int, default=300)

    def handle(self, *args, history=False, days=60, users=300, **options):
        summary = demo_load()
        created = ", ".join(f"{n} {what}" for what, n in summary.created.items()) or "nothing new"
        self.stdout.write(self.style.SUCCESS(f"Demo catalogue loaded: created {created}."))
        if summary.existing:
            kept = ", ".join(f"{n} {what}" for what, n in summary.existing.items())
            self.stdout.write(f"Already present and left untouched: {kept}.")
        if history:
            self._history(days=days, users=users)
        if settings.DEBUG:
            self._ensure_demo_admin()

    def _history(self, *, days: int, users: int):
        started = time.monotonic()
        result = demo_history_load(days=days, users=users)
        if not result.created:
            self.stdout.write("Simulated history already present (experiment “demo-history”); left untouched.")
            return
        self.stdout.write(self.style.SUCCESS(
            f"Simulated history (clearly labelled demo data): {result.users} demo users, {result.requests} requests, "
            f"{result.clicks} clicks, {result.conversions} conversions over {days} days, "
            f"in {time.monotonic() - started:.1f} s."
        ))

    def _ensure_demo_admin(self):
        # Development only: production (DEBUG off) never gets a known password.
        username, password = settings.DEMO_ADMIN_USERNAME, settings.DEMO_ADMIN_PASSWORD
        if not User.objects.filter(username=username).exists():
            User.objects.create_superuser(username=username, email="", password=password)
        # A shop's staff account, to see what a partner sees.
        partner = Partner.objects.filter(code="kinoport").first()
        if partner and not User.objects.filter(username="kinoport").exists():
            User.objects.create_user(username="kinoport", password=password, is_staff=True, partner=partner)
        self.stdout.write(self.style.WARNING(
            f"Admin: {settings.PUBLIC_BASE_URL}/admin/  user “{username}”, password “{password}”; "
            f"partner staff of КиноПорт: user “kinoport”, same password (development only)."
        ))
