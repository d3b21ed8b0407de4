"""A PDF report's signature proves who signed it only against the lab's published key (issue 28, row 5):
a check with no key pinned is not OK, and the report never prints a fingerprint to check it with."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from audit.report_signing import new_private_key_text, sign_report, signing_key_id

VERIFY_PDF = Path(__file__).resolve().parents[2] / "platform" / "audit" / "verify_pdf.py"
HEAD = {"chain": "team:1", "seq": 5, "entry_hash": "ab" * 32}


def signed(tmp_path: Path, name: str, pdf: bytes) -> tuple[Path, Path]:
    """``pdf`` and its .sig, signed with the configured key, saved as a recipient keeps them."""
    signature = sign_report(pdf, job_id=7, filename=name, custody_head=HEAD, signed_at=datetime.now(UTC))
    pdf_path, sig_path = tmp_path / name, tmp_path / f"{name}.sig"
    pdf_path.write_bytes(pdf)
    sig_path.write_text(json.dumps(signature))
    return pdf_path, sig_path


def verify_pdf(*args: str | Path) -> subprocess.CompletedProcess:
    """The documented command, run as a recipient runs it: the file alone, no Django settings."""
    return subprocess.run(
        [sys.executable, str(VERIFY_PDF), *map(str, args)], capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def lab_key_id(settings) -> str:
    settings.REPORT_SIGNING_KEY = new_private_key_text()
    return signing_key_id()


def test_a_check_with_no_key_pinned_is_not_ok_and_says_why(lab_key_id, tmp_path):
    pdf, sig = signed(tmp_path, "job-7-report-5.pdf", b"%PDF-1.7 the lab's report")
    unpinned = verify_pdf(pdf, sig)
    assert unpinned.returncode == 1, unpinned.stdout + unpinned.stderr
    assert unpinned.stdout.startswith(f"FAILED {pdf}: no key pinned")
    assert "Pass --public-key or --key-id with the fingerprint the lab publishes" in unpinned.stdout
    pinned = verify_pdf(pdf, sig, "--key-id", lab_key_id)
    assert pinned.returncode == 0 and pinned.stdout.startswith(f"OK {pdf}"), pinned.stdout + pinned.stderr
    assert f"by the pinned key {lab_key_id}" in pinned.stdout


def test_a_forgers_pdf_signed_with_their_own_key_fails_against_the_labs_published_fingerprint(
    lab_key_id, settings, tmp_path
):
    settings.REPORT_SIGNING_KEY = new_private_key_text()  # the forger's own key
    forgers_key_id = signing_key_id()
    pdf, sig = signed(tmp_path, "job-7-report-5.pdf", b"%PDF-1.7 a forged report")
    # Neither the key in the .sig alone nor the fingerprint a forged document would print makes it the lab's.
    assert verify_pdf(pdf, sig).returncode == 1
    refused = verify_pdf(pdf, sig, "--key-id", lab_key_id)
    assert refused.returncode == 1
    assert f"signed with key {forgers_key_id}, not with the trusted key {lab_key_id}" in refused.stdout
