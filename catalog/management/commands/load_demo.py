from django.conf import settings
from django.core.management.base import BaseCommand

from catalog.demo import demo_load
from catalog.models import Partner
from users.models import User


class Command(BaseCommand):
    help = "Load the demo catalogue (genres, moods, partners, items, offers). Safe to run again: changes nothing that exists."

    def handle(self, *args, **options):
        summary = demo_load()
        created = ", ".join(f"{n} {what}" for what, n in summary.created.items()) or "nothing new"
        self.stdout.write(self.style.SUCCESS(f"Demo catalogue loaded: created {created}."))
        if summary.existing:
            kept = ", ".join(f"{n} {what}" for what, n in summary.existing.items())
            self.stdout.write(f"Already present and left untouched: {kept}.")
        if settings.DEBUG:
            self._ensure_demo_admin()

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
            f"Admin: http://127.0.0.1:8000/admin/  user “{username}”, password “{password}”; "
            f"partner staff of КиноПорт: user “kinoport”, same password (development only)."
        ))
