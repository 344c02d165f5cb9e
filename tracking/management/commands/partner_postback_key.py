from django.core.management.base import BaseCommand, CommandError

from catalog.models import Partner
from catalog.services import partner_issue_postback_key


class Command(BaseCommand):
    help = "Issue a new postback key for a partner (the old one stops working) and print it once."

    def add_arguments(self, parser):
        parser.add_argument("code", help="The partner's code, e.g. kinoport.")

    def handle(self, *args, code, **options):
        partner = Partner.objects.filter(code=code).first()
        if partner is None:
            known = ", ".join(Partner.objects.order_by("code").values_list("code", flat=True)[:20]) or "none"
            raise CommandError(f"No partner with code “{code}”. Known codes: {known}.")
        key = partner_issue_postback_key(partner=partner)
        self.stdout.write(key)
        self.stderr.write(
            f"Postback key for {partner.code}: shown once, only its hash is stored. Postback URL:\n"
            f"  /postback/{partner.code}?key=<key>&click_id={{click_id}}&event={{event}}&event_id={{event_id}}"
            f"&amount={{amount}}&currency={{currency}}"
        )
