"""A case's and a job's custody through the API: the log the dashboard shows, the chain link in the job's
JSON and the report, and the export a third party verifies with ``audit/verify.py`` alone (no Django)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.services import chain_head
from cases import services

pytestmark = pytest.mark.django_db

VERIFY_PY = Path(__file__).resolve().parents[2] / "platform" / "audit" / "verify.py"


def verify(path: Path, *args: str) -> subprocess.CompletedProcess:
    """Run verify.py as a third party would: the file alone, with Django made unimportable."""
    code = (
        "import runpy, sys; sys.modules['django'] = None; "
        f"sys.argv = ['verify.py', *{[str(path), *args]!r}]; runpy.run_path({str(VERIFY_PY)!r}, run_name='__main__')"
    )
    return subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=60)


@pytest.fixture
def other_job(alice, case, sample_clip_path):
    """Another job of the same team: its events are in the chain, redacted in the first job's export."""
    return services.submit_job(alice, SimpleUploadedFile("other.mp4", sample_clip_path.read_bytes()[:-1]), case=case)


def test_a_jobs_custody_log_lists_its_events_with_their_hashes(alice_client, finished_job, other_job, team):
    alice_client.get(f"/api/v1/media/{finished_job.media_id}/download/", REMOTE_ADDR="198.51.100.4")
    body = alice_client.get(f"/api/v1/jobs/{finished_job.pk}/custody/").json()
    assert [e["action"] for e in body["events"]] == ["media.downloaded", "job.submitted", "media.uploaded"]
    newest = body["events"][0]
    assert newest["actor_name"] == "alice" and newest["ip"] == "198.51.100.4" and len(newest["entry_hash"]) == 64
    assert body["head"] == chain_head(team.pk) and body["head"]["seq"] == newest["seq"]


def test_another_teams_custody_is_not_found(bob_client, finished_job):
    assert bob_client.get(f"/api/v1/jobs/{finished_job.pk}/custody/").status_code == 404
    assert bob_client.get(f"/api/v1/jobs/{finished_job.pk}/custody/export/").status_code == 404
    assert bob_client.get(f"/api/v1/cases/{finished_job.media.case_id}/custody/").status_code == 404


def test_the_jobs_custody_link_moves_with_a_new_event_and_the_poll_sees_it(alice_client, finished_job):
    url = f"/api/v1/jobs/{finished_job.pk}/"
    first = alice_client.get(url)
    link = first.json()["custody"]
    assert link["chain"] == f"team:{finished_job.media.case.team_id}" and link["seq"] == 2
    assert alice_client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    alice_client.get(f"/api/v1/media/{finished_job.media_id}/download/")
    again = alice_client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and again.json()["custody"]["seq"] == 3


def test_a_cases_custody_covers_its_originals_and_jobs_and_shows_the_chain_head(
    alice_client, finished_job, other_job, team
):
    case_url = f"/api/v1/cases/{finished_job.media.case_id}/"
    detail = alice_client.get(case_url).json()
    assert detail["custody_head"] == chain_head(team.pk)
    events = alice_client.get(detail["custody_url"]).json()["events"]
    assert {(e["object_type"], e["object_id"]) for e in events} == {
        ("media", str(finished_job.media_id)),
        ("job", str(finished_job.pk)),
        ("media", str(other_job.media_id)),
        ("job", str(other_job.pk)),
    }


@pytest.mark.parametrize("file_format", ["json", "csv"])
def test_a_job_export_verifies_without_django_and_redacts_other_jobs(
    alice_client, finished_job, other_job, tmp_path, file_format
):
    response = alice_client.get(f"/api/v1/jobs/{finished_job.pk}/custody/export/?as={file_format}")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    export = tmp_path / f"custody.{file_format}"
    export.write_bytes(response.content)
    run = verify(export)
    assert run.returncode == 0, run.stdout + run.stderr
    # Upload and submission of this job in full; the other job's two events as links only.
    assert "OK chain team:" in run.stdout and "4 events (2 in full, 2 redacted links)" in run.stdout
    if file_format == "json":
        document = json.loads(response.content)
        redacted = [e for e in document["events"] if e["redacted"]]
        assert {e["id"] for e in redacted} and all("actor_name" not in e for e in redacted)


def test_an_edited_export_fails_at_the_edited_event(alice_client, finished_job, tmp_path):
    document = alice_client.get(f"/api/v1/jobs/{finished_job.pk}/custody/export/").json()
    document["events"][1]["actor_name"] = "mallory"
    export = tmp_path / "edited.json"
    export.write_text(json.dumps(document))
    run = verify(export)
    assert run.returncode == 1
    assert f"broken at seq 2 (event id {document['events'][1]['id']}): content was changed" in run.stdout


def test_a_head_pinned_by_a_report_is_checked_against_the_export(alice_client, finished_job, tmp_path):
    report = alice_client.get(f"/api/v1/jobs/{finished_job.pk}/report/?download=1").content.decode()
    head = chain_head(finished_job.media.case.team_id)
    # The report's own download is in the head it prints.
    assert head["seq"] == 3 and f"--head 3:{head['entry_hash']}" in report
    assert "Report downloaded" in report
    export = tmp_path / "custody.json"
    export.write_bytes(alice_client.get(f"/api/v1/jobs/{finished_job.pk}/custody/export/").content)
    assert verify(export, "--head", f"3:{head['entry_hash']}").returncode == 0
    forged = verify(export, "--head", f"3:{'f' * 64}")
    assert forged.returncode == 1 and "pinned head hash" in forged.stdout


def test_the_verifier_runs_as_a_module(alice_client, finished_job, tmp_path):
    export = tmp_path / "custody.csv"
    export.write_bytes(alice_client.get(f"/api/v1/jobs/{finished_job.pk}/custody/export/?as=csv").content)
    run = subprocess.run(
        [sys.executable, "-m", "audit.verify", str(export)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0 and run.stdout.startswith("OK"), run.stdout + run.stderr
