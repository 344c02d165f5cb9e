"""python manage.py partner_token CODE — issue a partner's API token (shown once, stored hashed)."""

from django.core.management.base import BaseCommand, CommandError

from catalog.selectors import partner_by_code
from catalog.services import partner_issue_api_token


class Command(BaseCommand):
    help = "Issue a new API token for a partner. It is printed once; any previous token stops working."

    def add_arguments(self, parser):
        parser.add_argument("code", help="The partner's code.")

    def handle(self, *args, code, **options):
        partner = partner_by_code(code=code)
        if partner is None:
            raise CommandError(f"No partner with the code {code!r}.")
        had_token = bool(partner.api_token_hash)
        token = partner_issue_api_token(partner=partner)
        self.stdout.write(token)
        self.stderr.write(
            f"API token for {partner.name} ({partner.code}). It is shown only now; MoodStream keeps a hash of it."
            + (" The previous token no longer works." if had_token else "")
            + "\nUse it as: Authorization: Bearer <token>"
        )
