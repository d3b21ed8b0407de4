"""Check a PDF report against its detached signature, without the platform or Django.

    python -m audit.verify_pdf job-7-report-42.pdf job-7-report-42.pdf.sig --public-key lab.pub
    python platform/audit/verify_pdf.py REPORT.pdf REPORT.pdf.sig --key-id SHA256  (the lab's published fingerprint)

The signature file (JSON) carries a statement (the PDF's sha256 and size, the job, the custody chain head
the report prints, when and with which key it was signed), the signer's Ed25519 public key and the
signature over the statement's canonical JSON. Verifying recomputes the PDF's sha256, checks it against
the statement and the signature against the key. The key in the .sig file proves only that the file was
not changed since someone signed it, and anyone can make a key: a check is OK only against the lab's key,
pinned with ``--public-key`` or ``--key-id``. Take that key or fingerprint from where the lab publishes it
(``manage.py report_signing_key`` prints it), never from the report or anything sent with it: a forger
prints their own. Needs the ``cryptography`` package only.
Exit status 0: the signature holds for the pinned key; 1: it does not, or no key was pinned (the reason
is printed); 2: a file cannot be read.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

SIGNATURE_FORMAT = "forensics-report-signature"
SIGNATURE_VERSION = 1
ALGORITHM = "ed25519"


class SignatureInvalid(Exception):
    """The PDF or its signature file does not hold: the message says why."""


def canonical_json(value: Any) -> bytes:
    """The bytes a statement's signature covers: sorted keys, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def key_id(public_key_raw: bytes) -> str:
    """A key's fingerprint: the sha256 of its 32 raw bytes, in hex."""
    return hashlib.sha256(public_key_raw).hexdigest()


def public_key_from_text(text: str) -> bytes:
    """The 32 raw bytes of an Ed25519 public key given as PEM (SubjectPublicKeyInfo) or as base64 of the raw key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise SignatureInvalid("the public key is not an Ed25519 key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise SignatureInvalid(f"the public key is neither PEM nor base64: {exc}") from exc
    if len(raw) != 32:
        raise SignatureInvalid(f"an Ed25519 public key has 32 bytes, this one {len(raw)}")
    return raw


def verify(pdf: bytes, signature: dict[str, Any], trusted_key_id: str | None = None) -> dict[str, Any]:
    """The signed statement if ``signature`` holds for ``pdf`` (and was made with ``trusted_key_id``);
    SignatureInvalid naming the first thing that does not hold otherwise."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if signature.get("format") != SIGNATURE_FORMAT or signature.get("version") != SIGNATURE_VERSION:
        raise SignatureInvalid(f"not a {SIGNATURE_FORMAT} version {SIGNATURE_VERSION} file")
    statement = signature.get("statement")
    if not isinstance(statement, dict) or statement.get("algorithm") != ALGORITHM:
        raise SignatureInvalid(f"the statement is missing or not signed with {ALGORITHM}")
    try:
        public_raw = base64.b64decode(signature["public_key"], validate=True)
        signature_raw = base64.b64decode(signature["signature"], validate=True)
    except (KeyError, TypeError, binascii.Error) as exc:
        raise SignatureInvalid(f"the public key or signature is missing or not base64: {exc}") from exc
    if len(public_raw) != 32:
        raise SignatureInvalid("the public key is not a 32-byte Ed25519 key")
    if statement.get("key_id") != key_id(public_raw):
        raise SignatureInvalid("the statement's key_id is not the fingerprint of the key in the file")
    if trusted_key_id is not None and key_id(public_raw) != trusted_key_id.lower():
        raise SignatureInvalid(f"signed with key {key_id(public_raw)}, not with the trusted key {trusted_key_id}")
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature_raw, canonical_json(statement))
    except InvalidSignature as exc:
        raise SignatureInvalid("the signature does not match the statement (the .sig file was changed)") from exc
    digest = hashlib.sha256(pdf).hexdigest()
    if len(pdf) != statement.get("pdf_bytes") or digest != statement.get("pdf_sha256"):
        raise SignatureInvalid(
            f"the PDF ({len(pdf)} bytes, sha256 {digest}) is not the one signed "
            f"({statement.get('pdf_bytes')} bytes, sha256 {statement.get('pdf_sha256')}): it was changed"
        )
    return statement


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m audit.verify_pdf", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("pdf", type=Path, help="the report as downloaded")
    parser.add_argument("signature", type=Path, help="its .sig file")
    trusted = parser.add_mutually_exclusive_group()
    trusted.add_argument("--public-key", type=Path, help="the lab's public key (PEM or base64): must have signed it")
    trusted.add_argument("--key-id", help="the sha256 fingerprint of the key that must have signed it")
    args = parser.parse_args(argv)
    try:
        pdf = args.pdf.read_bytes()
        signature = json.loads(args.signature.read_text())
        trusted_id = args.key_id
        if args.public_key is not None:
            trusted_id = key_id(public_key_from_text(args.public_key.read_text()))
    except (OSError, ValueError, SignatureInvalid) as exc:
        print(f"cannot read the inputs: {exc}", file=sys.stderr)
        return 2
    try:
        statement = verify(pdf, signature, trusted_id)
    except SignatureInvalid as exc:
        print(f"FAILED {args.pdf}: {exc}")
        return 1
    if trusted_id is None:
        print(
            f"FAILED {args.pdf}: no key pinned. It is signed by key {statement['key_id']}, the key in the .sig "
            "file, which proves nothing about who signed it: anyone can make a key. Pass --public-key or --key-id "
            "with the fingerprint the lab publishes (never one printed in the report or sent with it)."
        )
        return 1
    head = statement.get("custody_head") or {}
    print(
        f"OK {args.pdf}: {statement['pdf_bytes']} bytes, sha256 {statement['pdf_sha256']}, job {statement.get('job')}, "
        f"signed {statement.get('signed_at')} by the pinned key {statement['key_id']}; "
        f"custody head {head.get('chain')} seq {head.get('seq')} {head.get('entry_hash')}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
