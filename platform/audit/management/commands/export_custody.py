"""``manage.py export_custody --team ID [--as csv] [--output FILE]``: a team's whole custody chain, every
event in full, in the form ``python -m audit.verify`` checks (a case's or a job's: the API's custody export)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Team
from audit.services import export_csv, export_document, export_json

FORMATS = {"json": export_json, "csv": export_csv}


class Command(BaseCommand):
    help = "Export a team's whole custody chain (every event in full) for a third party to verify."

    def add_arguments(self, parser):
        parser.add_argument("--team", type=int, required=True, help="the team's id")
        parser.add_argument("--as", dest="file_format", choices=sorted(FORMATS), default="json")
        parser.add_argument("--output", type=Path, help="write it here (default: standard output)")

    def handle(self, *args, team: int, file_format: str, output: Path | None, **options):
        if not Team.objects.filter(pk=team).exists():
            raise CommandError(f"no team {team}")
        text = FORMATS[file_format](export_document(team, None, {"type": "team", "id": team}))
        if output is None:
            self.stdout.write(text, ending="")
        else:
            output.write_text(text, encoding="utf-8")
            self.stderr.write(f"wrote {output}")
