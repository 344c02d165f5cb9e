from django.core.management.base import BaseCommand, CommandError

from users.services import api_key_issue
from users.models import ApiKey


class Command(BaseCommand):
    help = "Create an API key for a client application and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="A unique name for the client, e.g. 'telegram-bot'.")

    def handle(self, *args, name, **options):
        name = name.strip()
        if not name:
            raise CommandError("Give the client a non-empty name.")
        if ApiKey.objects.filter(name=name).exists():
            raise CommandError(f"An API key named {name!r} exists already; pick another name.")
        _key, secret = api_key_issue(name=name)
        self.stdout.write(secret)
        self.stderr.write(f"API key {name!r} created. Send it as 'Authorization: Api-Key <key>'; "
                          "it is not stored and cannot be shown again.")
