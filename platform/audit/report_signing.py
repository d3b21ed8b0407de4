"""Signing PDF reports with the lab's Ed25519 key: a detached signature that ``python -m audit.verify_pdf``
checks (the format is defined there, once).

The key is settings.REPORT_SIGNING_KEY (FORENSICS_REPORT_SIGNING_KEY: the base64 of a 32-byte Ed25519 private
key, printed by ``manage.py report_signing_key --new``). Without it, development and test machines keep
one in settings.REPORT_SIGNING_KEY_FALLBACK_FILE (created on first use); production has no fallback and
refuses to sign.
"""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from audit.verify import format_timestamp
from audit.verify_pdf import ALGORITHM, SIGNATURE_FORMAT, SIGNATURE_VERSION, canonical_json, key_id
from config.env import check_signing_key_text

KEY_SETTING = "FORENSICS_REPORT_SIGNING_KEY"


class NoSigningKey(ImproperlyConfigured):
    """No key is configured and this deployment keeps no fallback key."""


def new_private_key_text() -> str:
    """A fresh key, as the setting takes it (base64 of the 32 raw private bytes)."""
    return _private_text(Ed25519PrivateKey.generate())


def _private_text(key: Ed25519PrivateKey) -> str:
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return base64.b64encode(raw).decode()


def private_key_from_text(text: str, source: str = KEY_SETTING) -> Ed25519PrivateKey:
    check_signing_key_text(source, text)
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(text.strip()))


def signing_key() -> Ed25519PrivateKey:
    if settings.REPORT_SIGNING_KEY:
        return private_key_from_text(settings.REPORT_SIGNING_KEY)
    fallback = settings.REPORT_SIGNING_KEY_FALLBACK_FILE
    if not fallback:
        raise NoSigningKey(f"no report signing key: set {KEY_SETTING} (manage.py report_signing_key --new prints one)")
    path = Path(fallback)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes creating it at once keep the first one's key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(new_private_key_text() + "\n")
    return private_key_from_text(path.read_text(), source=str(path))


def signing_key_id() -> str:
    """The configured key's fingerprint (NoSigningKey when there is none)."""
    return key_id(public_key_raw(signing_key()))


def public_key_raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def sign_report(
    pdf: bytes, *, job_id: int, filename: str, custody_head: dict[str, Any], signed_at: datetime
) -> dict[str, Any]:
    """The detached signature document of ``pdf`` (what the ``.sig`` file holds)."""
    key = signing_key()
    public_raw = public_key_raw(key)
    statement = {
        "algorithm": ALGORITHM,
        "key_id": key_id(public_raw),
        "job": job_id,
        "file": filename,
        "pdf_sha256": hashlib.sha256(pdf).hexdigest(),
        "pdf_bytes": len(pdf),
        "custody_head": custody_head,
        "signed_at": format_timestamp(signed_at),
    }
    return {
        "format": SIGNATURE_FORMAT,
        "version": SIGNATURE_VERSION,
        "statement": statement,
        "public_key": base64.b64encode(public_raw).decode(),
        "signature": base64.b64encode(key.sign(canonical_json(statement))).decode(),
        "verify_with": "python -m audit.verify_pdf REPORT.pdf REPORT.pdf.sig --key-id KEY_ID, KEY_ID being the "
        "fingerprint the lab publishes, not one found in or with the report "
        "(needs the cryptography package: platform/audit/verify_pdf.py)",
    }
