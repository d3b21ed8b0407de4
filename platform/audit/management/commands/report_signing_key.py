"""``manage.py report_signing_key``: the key that signs PDF reports.

    manage.py report_signing_key          # the configured key's public half (PEM) and fingerprint
    manage.py report_signing_key --new    # a fresh private key for FORENSICS_REPORT_SIGNING_KEY, and its public half

Hand the public key (or its fingerprint) to whoever checks reports: ``python -m audit.verify_pdf
REPORT.pdf REPORT.pdf.sig --public-key lab.pub``. The private key stays in the environment.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from audit.report_signing import (
    KEY_SETTING,
    new_private_key_text,
    private_key_from_text,
    public_key_pem,
    public_key_raw,
    signing_key,
)
from audit.verify_pdf import key_id


class Command(BaseCommand):
    help = "Print the report signing key's public half and fingerprint, or make a new key (--new)."

    def add_arguments(self, parser):
        parser.add_argument("--new", action="store_true", help="print a fresh private key for the environment")

    def handle(self, *args, **options):
        if options["new"]:
            private = new_private_key_text()
            key = private_key_from_text(private)
            self.stdout.write(f"{KEY_SETTING}={private}\n")
        else:
            key = signing_key()
        self.stdout.write(public_key_pem(key))
        self.stdout.write(f"key id (sha256 of the public key): {key_id(public_key_raw(key))}\n")
