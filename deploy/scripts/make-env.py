#!/usr/bin/env python3
"""Print a .env for the stack: .env.example with fresh random secrets and the given host name.

    python3 deploy/scripts/make-env.py forensics.example.org > .env

Standard library only (runs before any virtual environment exists). The production settings
refuse .env.example's placeholders (config.env.refuse_placeholder), so this, or secrets of your
own, is the only way to start the stack.
"""

from __future__ import annotations

import argparse
import base64
import re
import secrets
import sys
from pathlib import Path

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def generated_values(hostname: str) -> dict[str, str]:
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "FORENSICS_HOSTNAME": hostname,
        "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
        "POSTGRES_APP_PASSWORD": secrets.token_urlsafe(24),
        "FLOWER_BASIC_AUTH": f"admin:{secrets.token_urlsafe(18)}",
        # An Ed25519 private key is 32 random bytes (audit.report_signing reads the base64).
        "FORENSICS_REPORT_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }


def render(example: str, values: dict[str, str]) -> str:
    lines = []
    for line in example.splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=", line)
        lines.append(f"{match.group(1)}={values[match.group(1)]}" if match and match.group(1) in values else line)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("hostname", help="the public host name the stack is served as")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[A-Za-z0-9.-]+", args.hostname):
        parser.error(f"not a host name: {args.hostname!r}")
    sys.stdout.write(render(ENV_EXAMPLE.read_text(), generated_values(args.hostname)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
