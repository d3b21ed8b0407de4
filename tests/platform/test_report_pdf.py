"""The signed PDF report (issue 13, part 4): the HTML report's template as a PDF, a detached Ed25519
signature that ``python -m audit.verify_pdf`` checks, every download a custody event, and pages that
poppler (pdftotext, pdftoppm) reads back as the verdict, the reviewer's conclusion, the hashes and
non-blank images.

pdftotext and pdftoppm come with poppler-utils (``make browser`` installs it): without them these
tests skip on a developer machine and fail in CI.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from PIL import Image

from accounts.models import Role
from audit.models import AuditEvent
from cases import services, storage
from cases.models import FaceResult
from tests.conftest import client_for, require_tool
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
REPO_DIR = Path(__file__).resolve().parents[2]
# The crop the fixture stores: a colour nothing else in the report uses, so the rasterised page shows it.
CROP_RGB = (0, 200, 0)


def require_poppler(name: str) -> str:
    return require_tool(name, "poppler-utils: make browser installs it")


@pytest.fixture
def job_with_crops(finished_job):
    """The finished job with real JPEG crops of one colour on disk, and a PNG heatmap for its first face."""
    root = storage.job_artifacts_dir(finished_job.pk)
    for face in FaceResult.objects.filter(job=finished_job):
        path = root / face.crop_path
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (96, 96), CROP_RGB).save(path, "JPEG")
    first = FaceResult.objects.filter(job=finished_job).order_by("frame__frame_index").first()
    heatmap = root / "heatmaps" / "f0_t0.png"
    heatmap.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (96, 96), (255, 140, 0)).save(heatmap, "PNG")
    FaceResult.objects.filter(pk=first.pk).update(heatmap_path="heatmaps/f0_t0.png")
    return finished_job


@pytest.fixture
def reviewed(job_with_crops, team):
    rita = UserFactory(username="rita", team=team, team__role=Role.REVIEWER)
    services.review_job(
        job_with_crops, rita, status="disputed", override_label="authentic", reason="the source filmed it live"
    )
    return job_with_crops


def download(client, job, tmp_path: Path) -> tuple[Path, Path, dict]:
    """The signed PDF and the signature its Link header names, saved as a recipient keeps them."""
    response = client.get(f"/api/v1/jobs/{job.pk}/report.pdf")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF-")
    filename = re.search(r'filename="([^"]+)"', response["Content-Disposition"]).group(1)
    signature_url = re.fullmatch(r'<([^>]+)>; rel="signature"', response["Link"]).group(1)
    signature = client.get(signature_url)
    assert signature.status_code == 200
    pdf_path, sig_path = tmp_path / filename, tmp_path / f"{filename}.sig"
    pdf_path.write_bytes(response.content)
    sig_path.write_bytes(signature.content)
    return pdf_path, sig_path, json.loads(signature.content)


def verify_pdf(*args: str | Path) -> subprocess.CompletedProcess:
    """The documented command, run as a recipient runs it: the file alone, no Django settings."""
    return subprocess.run(
        [sys.executable, str(REPO_DIR / "platform/audit/verify_pdf.py"), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )


def key_id_of_the_lab() -> str:
    out = io.StringIO()
    call_command("report_signing_key", stdout=out)
    return re.search(r"key id \(sha256 of the public key\): ([0-9a-f]{64})", out.getvalue()).group(1)


def test_the_signature_verifies_and_fails_after_one_flipped_byte(alice_client, job_with_crops, tmp_path):
    pdf, sig, signature = download(alice_client, job_with_crops, tmp_path)
    key_id = key_id_of_the_lab()
    assert signature["statement"]["key_id"] == key_id

    ok = verify_pdf(pdf, sig, "--key-id", key_id)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith(f"OK {pdf}") and signature["statement"]["pdf_sha256"] in ok.stdout

    content = bytearray(pdf.read_bytes())
    content[len(content) // 2] ^= 0x01
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(bytes(content))
    failed = verify_pdf(tampered, sig, "--key-id", key_id)
    assert failed.returncode == 1 and failed.stdout.startswith("FAILED") and "it was changed" in failed.stdout

    # A .sig edited to name the tampered file's hash no longer matches its signature.
    forged = json.loads(sig.read_text())
    forged["statement"]["pdf_sha256"] = hashlib.sha256(bytes(content)).hexdigest()
    forged_path = tmp_path / "forged.sig"
    forged_path.write_text(json.dumps(forged))
    refused = verify_pdf(tampered, forged_path)
    assert refused.returncode == 1 and "the .sig file was changed" in refused.stdout

    # Signed by a key the recipient does not trust: refused when the lab's key is pinned.
    assert verify_pdf(pdf, sig, "--key-id", "00" * 32).returncode == 1


def test_the_pdf_says_the_verdict_the_reviewers_conclusion_the_chain_head_and_the_hashes(
    alice_client, reviewed, tmp_path
):
    pdftotext = require_poppler("pdftotext")
    pdf, _, signature = download(alice_client, reviewed, tmp_path)
    text = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    # Hashes may wrap inside their table cells: compare them without whitespace.
    packed = "".join(text.split())
    words = " ".join(text.split())
    assert "Forensic analysis report" in words and "MANIPULATED" in words
    assert "The detectors judge the faces in this video to be manipulated" in words
    # Both rates of the card at the threshold, and every score in one unit.
    assert "1 of 11 real test videos flagged (FPR 0.091)" in words
    assert "3 of 10 manipulated test videos caught (TPR 0.300)" in words
    assert "P(manipulated) 0.80" in words
    assert "held-out video AUC 0.618 (95 % interval 0.355" in words
    assert "Beauty filters, low light and small faces raise false positives." in words
    assert "AUTHENTIC (overrides the machine verdict)" in words
    assert "rita" in words and "the source filmed it live" in words
    head = signature["statement"]["custody_head"]
    assert head["entry_hash"] in packed and f"seq{head['seq']}" in packed
    assert reviewed.media.sha256 in packed and "ab" * 32 in packed
    assert "Score timeline" in words and "Most suspicious faces" in words
    # The document names no key: a forger would print their own. The reader pins the one the lab publishes.
    assert signature["statement"]["key_id"] not in packed
    assert "--key-id KEY_ID" in words and "fingerprint as the lab publishes it" in words


def non_white_share(image: Image.Image) -> float:
    grey = image.convert("L")
    histogram = grey.histogram()
    return 1.0 - sum(histogram[250:]) / (grey.width * grey.height)


def pixels_near(image: Image.Image, rgb: tuple[int, int, int], tolerance: int = 40) -> int:
    data = image.convert("RGB").tobytes()
    return sum(
        1
        for i in range(0, len(data), 3)
        if abs(data[i] - rgb[0]) <= tolerance
        and abs(data[i + 1] - rgb[1]) <= tolerance
        and abs(data[i + 2] - rgb[2]) <= tolerance
    )


def test_the_pages_rasterise_to_non_blank_images_showing_the_crops_and_the_timeline(alice_client, reviewed, tmp_path):
    pdftoppm, pdfinfo = require_poppler("pdftoppm"), require_poppler("pdfinfo")
    pdf, _, _ = download(alice_client, reviewed, tmp_path)
    info = subprocess.run([pdfinfo, str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert re.search(r"Page size:\s+595(\.\d+)? x 841", info), info  # A4 from the print stylesheet
    subprocess.run([pdftoppm, "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
    images = [Image.open(path) for path in sorted(tmp_path.glob("page-*.png"))]
    assert len(images) == pages >= 2
    for number, image in enumerate(images, 1):
        assert non_white_share(image) > 0.005, f"page {number} of {pages} is blank"
    # What a reader sees: the red MANIPULATED label, the timeline's blue line and dots, the crops' green.
    assert sum(pixels_near(image, (176, 0, 32)) for image in images) > 20
    assert sum(pixels_near(image, (21, 101, 192)) for image in images) > 20
    assert sum(pixels_near(image, CROP_RGB) for image in images) > 200


def test_each_download_of_the_pdf_and_its_signature_is_a_custody_event(alice_client, alice, job_with_crops, tmp_path):
    before = AuditEvent.objects.count()
    _, _, signature = download(alice_client, job_with_crops, tmp_path)
    pdf_event, sig_event = AuditEvent.objects.order_by("id")[before:]
    assert (pdf_event.action, pdf_event.actor) == ("report.downloaded", alice)
    assert pdf_event.object_id == str(job_with_crops.pk)
    assert pdf_event.detail == {"format": "pdf"}
    assert sig_event.detail == {"format": "pdf.sig", "report_seq": pdf_event.seq}
    # The head the PDF prints (and its signature states) is its own download.
    assert signature["statement"]["custody_head"]["seq"] == pdf_event.seq
    assert signature["statement"]["custody_head"]["entry_hash"] == pdf_event.entry_hash
    assert signature["statement"]["file"] == f"job-{job_with_crops.pk}-report-{pdf_event.seq}.pdf"
    # Without ?seq= the signature is of the user's newest PDF; a seq that names no PDF download is 404.
    assert json.loads(alice_client.get(f"/api/v1/jobs/{job_with_crops.pk}/report.pdf.sig").content) == signature
    assert alice_client.get(f"/api/v1/jobs/{job_with_crops.pk}/report.pdf.sig?seq={sig_event.seq}").status_code == 404


def test_another_team_gets_neither_the_pdf_nor_a_signature(alice_client, bob, job_with_crops, tmp_path):
    download(alice_client, job_with_crops, tmp_path)
    bob_client = client_for(bob)
    before = AuditEvent.objects.count()
    assert bob_client.get(f"/api/v1/jobs/{job_with_crops.pk}/report.pdf").status_code == 404
    assert bob_client.get(f"/api/v1/jobs/{job_with_crops.pk}/report.pdf.sig").status_code == 404
    assert AuditEvent.objects.count() == before


@override_settings(REPORT_SIGNING_KEY="", REPORT_SIGNING_KEY_FALLBACK_FILE=None)
def test_without_a_signing_key_no_pdf_is_served_and_nothing_is_logged(alice_client, job_with_crops):
    before = AuditEvent.objects.count()
    response = alice_client.get(f"/api/v1/jobs/{job_with_crops.pk}/report.pdf")
    assert response.status_code == 503 and response.json()["code"] == "no_signing_key"
    assert AuditEvent.objects.count() == before


def test_the_html_report_renders_the_same_sections_without_a_signature_note(alice_client, job_with_crops):
    html = alice_client.get(f"/api/v1/jobs/{job_with_crops.pk}/report/").content.decode()
    for marker in ("verdict-in-words", "model-limits", "report-timeline", "report-faces", "report-hashes"):
        assert f'data-testid="{marker}"' in html, marker
    assert "<svg" in html and "data:image/jpeg;base64," in html and "data:image/png;base64," in html
    assert 'data-testid="report-signature-note"' not in html


# Header rows of the report's tables, as pdftotext lays out their first words.
TABLE_HEADERS = ("Name Looks", "Frame Time (s) Faces", "Seq When (UTC) Who", "Track Faces", "Detector Tested")


def pdf_pages(pdf: Path) -> list[list[str]]:
    """Each page's non-empty lines, whitespace collapsed, as pdftotext lays them out (footer last)."""
    text = subprocess.run(
        [require_poppler("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [
        [" ".join(line.split()) for line in page.splitlines() if line.strip()]
        for page in text.split("\f")
        if page.strip()
    ]


def test_the_pdf_keeps_table_headers_with_their_rows_and_its_custody_section_on_one_page(
    alice_client, case, sample_clip_path, tmp_path
):
    """A typical job (32 sampled frames) looked at ten times, its crops and original read each time, and
    downloaded ten times (issue 27, point 10 and point 3)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cases import lease, results
    from cases.models import AnalysisJob
    from tests.factories import fake_result

    upload = SimpleUploadedFile("clip.mp4", sample_clip_path.read_bytes(), content_type="video/mp4")
    job_id = alice_client.post("/api/v1/jobs/", {"file": upload, "case": case.pk}, format="multipart").json()["id"]
    lease.claim_job(job_id, "w")
    results.record_results(job_id, "w", fake_result(frames=32))
    crops = storage.job_artifacts_dir(job_id) / "crops"
    crops.mkdir(parents=True, exist_ok=True)
    for i in range(32):
        Image.new("RGB", (96, 96), CROP_RGB).save(crops / f"f{i}_t0.jpg", "JPEG")
    for _ in range(10):
        alice_client.get(f"/api/v1/jobs/{job_id}/")
        for i in range(16):
            alice_client.get(f"/api/v1/jobs/{job_id}/files/crops/f{i}_t0.jpg")
        for start in range(0, 100, 10):
            alice_client.get(f"/api/v1/media/{case.media.first().pk}/content/", HTTP_RANGE=f"bytes={start}-{start + 9}")
        alice_client.get(f"/api/v1/jobs/{job_id}/report/?download=1")
    pdf, _, _ = download(alice_client, AnalysisJob.objects.get(pk=job_id), tmp_path)

    pages = pdf_pages(pdf)
    for number, lines in enumerate(pages, start=1):
        last = lines[-2]  # the line above the page's footer
        assert not last.startswith(TABLE_HEADERS) and last != "for", f"page {number} ends with a table header: {last}"
    custody = [
        number
        for number, lines in enumerate(pages, start=1)
        if any(line.startswith("Seq When (UTC)") for line in lines)
    ]
    assert len(custody) == 1, f"the custody table spans pages {custody}"
    # A table that does span pages repeats its header on each.
    frames = [
        number
        for number, lines in enumerate(pages, start=1)
        if any(line.startswith("Frame Time (s)") for line in lines)
    ]
    rows = [
        number
        for number, lines in enumerate(pages, start=1)
        if any(re.fullmatch(r"\d+ \d+\.\d\d 1 0\.80", line) for line in lines)
    ]
    assert rows and set(rows) <= set(frames), (rows, frames)
