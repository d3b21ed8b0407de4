"""``manage.py create_api_token USERNAME [--name NAME]``: print a new API token's key (shown once)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.services import issue_token


class Command(BaseCommand):
    help = "Create an API token for a user and print its key; only its sha256 is stored."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for")
        parser.add_argument("--expires-in-days", type=int, default=None, help="refused after this many days")

    def handle(self, *args, **options):
        try:
            user = get_user_model().objects.get_by_natural_key(options["username"])
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"no user {options['username']!r}") from exc
        if options["expires_in_days"] is not None and not 1 <= options["expires_in_days"] <= 365:
            raise CommandError("--expires-in-days must be between 1 and 365")
        _, key = issue_token(user, options["name"], expires_in_days=options["expires_in_days"])
        self.stdout.write(key)
