"""A case's and a job's custody through the API: the log the dashboard shows, the chain link in the job's
JSON and the report, and the export a third party verifies with ``audit/verify.py`` alone (no Django)."""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from audit import verify as verify_module
from audit.services import chain_head
from audit.verify import entry_hash
from cases import services
from tests.factories import CaseFactory

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


# --- every kind of export round-trips ------------------------------------------------------------------


@pytest.fixture
def other_case_job(alice, team, sample_clip_path):
    """A job in another case of the same team: redacted in the first case's export."""
    other = CaseFactory(team=team, created_by=alice, title="Another matter")
    return services.submit_job(alice, SimpleUploadedFile("else.mp4", sample_clip_path.read_bytes()[:-2]), case=other)


@pytest.mark.parametrize("file_format", ["json", "csv"])
def test_a_case_export_verifies_without_django_and_redacts_the_teams_other_cases(
    alice_client, finished_job, other_job, other_case_job, tmp_path, file_format
):
    response = alice_client.get(f"/api/v1/cases/{finished_job.media.case_id}/custody/export/?as={file_format}")
    assert response.status_code == 200
    export = tmp_path / f"custody.{file_format}"
    export.write_bytes(response.content)
    run = verify(export)
    assert run.returncode == 0, run.stdout + run.stderr
    # Both jobs of the case and their originals in full; the other case's upload and submission as links.
    assert "6 events (4 in full, 2 redacted links)" in run.stdout


@pytest.mark.parametrize("file_format", ["json", "csv"])
def test_a_whole_teams_export_verifies_without_django_with_every_event_in_full(
    finished_job, other_job, other_case_job, team, tmp_path, file_format
):
    export = tmp_path / f"team.{file_format}"
    call_command("export_custody", team=team.pk, file_format=file_format, output=export)
    run = verify(export)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"OK chain team:{team.pk}: 6 events (6 in full, 0 redacted links)" in run.stdout


# --- forgeries (issue 28, row 1): each is refused, with the head a report printed pinned ---------------------
#
# The job's export holds: 1 its upload and 2 its submission (in full), 3 and 4 the other job's (redacted),
# 5 the report's download (in full); the report printed the head at 5. Each forgery edits the events of the
# JSON export, or the same rows of the CSV export (keeping whatever form each column has).


def rewrite_an_event_then_only_the_next_redacted_links_prev_hash(events, reference):
    forged = {**reference[1], "actor_name": "mallory", "sha256": "f" * 64}
    events[1].update(actor_name="mallory", sha256="f" * 64, entry_hash=entry_hash(forged))
    if "content_hash" in events[1]:
        events[1]["content_hash"] = verify_module.content_hash(forged)
    events[2]["prev_hash"] = events[1]["entry_hash"]


def rewrite_an_event_and_every_later_link(events, reference):
    """What a forger can do now that every link is recomputable: rewrite to the end. The pinned head tells."""
    rewrite_an_event_then_only_the_next_redacted_links_prev_hash(events, reference)
    for n in range(2, len(events)):
        link = {**reference[n], "prev_hash": events[n - 1]["entry_hash"]}
        events[n]["prev_hash"] = link["prev_hash"]
        events[n]["entry_hash"] = (
            verify_module.link_hash(link["chain"], link["seq"], link["prev_hash"], link["content_hash"])
            if link["redacted"]
            else entry_hash(link)
        )


def edit_an_event_and_call_it_not_redacted_with_a_string(events, reference):
    """JSON: ``"redacted": "false"`` (a string, so a true value); CSV: ``yes``."""
    events[1]["actor_name"] = "mallory"
    events[1]["redacted"] = "yes" if isinstance(events[1]["redacted"], str) else "false"


def edit_an_event_and_mark_it_redacted_leaving_its_content(events, reference):
    events[1]["actor_name"] = "mallory"
    events[1]["redacted"] = "1" if isinstance(events[1]["redacted"], str) else True


def reorder_two_links(events, reference):
    events[2], events[3] = events[3], events[2]


def drop_a_link(events, reference):
    del events[2]


def drop_the_last_link(events, reference):
    del events[-1]


def duplicate_a_link(events, reference):
    events.insert(3, copy.deepcopy(events[2]))


FORGERIES = {
    rewrite_an_event_then_only_the_next_redacted_links_prev_hash: r"broken at seq 3 \(event id \d+\): its seq, "
    r"prev_hash or content_hash was changed",
    rewrite_an_event_and_every_later_link: r"broken at seq 5 \(event id \d+\): pinned head hash",
    edit_an_event_and_call_it_not_redacted_with_a_string: r"broken at seq 2 \(event id \d+\): redacted is "
    r"'(false|yes)': it must be true or false",
    edit_an_event_and_mark_it_redacted_leaving_its_content: r"broken at seq 2 \(event id \d+\): a redacted link "
    r"carries content \(salt, created_at, actor_id, actor_name",
    reorder_two_links: r"broken at seq 4 \(event id \d+\): gap: events with seq 3 are missing before it",
    drop_a_link: r"broken at seq 4 \(event id \d+\): gap: events with seq 3 are missing before it",
    drop_the_last_link: r"broken at seq 5: pinned head seq 5 is not in the log \(it ends at seq 4\)",
    duplicate_a_link: r"broken at seq 3 \(event id \d+\): seq 3 repeated or out of order \(expected 4\)",
}


@pytest.mark.parametrize("file_format", ["json", "csv"])
@pytest.mark.parametrize("forge", list(FORGERIES), ids=lambda forge: forge.__name__)
def test_a_forged_export_is_refused_even_with_the_head_the_report_printed(
    alice_client, finished_job, other_job, tmp_path, file_format, forge
):
    report = alice_client.get(f"/api/v1/jobs/{finished_job.pk}/report/?download=1").content.decode()
    pinned = re.search(r"--head (5:[0-9a-f]{64})", report).group(1)
    url = f"/api/v1/jobs/{finished_job.pk}/custody/export/"
    document = alice_client.get(url).json()
    reference = copy.deepcopy(document["events"])
    assert [e["redacted"] for e in reference] == [False, False, True, True, False]
    export = tmp_path / f"forged.{file_format}"
    if file_format == "json":
        forge(document["events"], reference)
        if forge is drop_the_last_link:
            document["head"] = {"seq": 4, "entry_hash": document["events"][-1]["entry_hash"]}
        export.write_text(json.dumps(document))
    else:
        reader = csv.DictReader(io.StringIO(alice_client.get(url + "?as=csv").content.decode()))
        rows = list(reader)
        forge(rows, reference)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        export.write_text(out.getvalue())
    run = verify(export, "--head", pinned)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.startswith("FAILED chain team:") and re.search(FORGERIES[forge], run.stdout), run.stdout
