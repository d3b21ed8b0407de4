"""``manage.py create_api_token USERNAME [--name NAME]``: print a new API token's key (shown once)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.services import issue_token


class Command(BaseCommand):
    help = "Create an API token for a user and print its key; only its sha256 is stored."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for")

    def handle(self, *args, **options):
        try:
            user = get_user_model().objects.get_by_natural_key(options["username"])
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"no user {options['username']!r}") from exc
        _, key = issue_token(user, options["name"])
        self.stdout.write(key)
