"""Every read of evidence (original, crops, heatmaps, report) is a custody event (issue 12, hole 5), once per
person, object and kind of read in a 10-minute window, so the log keeps its substance (issue 27, point 3)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from cases import lease, results, storage
from cases.models import AnalysisJob
from tests.factories import fake_result

pytestmark = pytest.mark.django_db


@pytest.fixture
def analysed(alice_client, case, sample_clip_path):
    upload = SimpleUploadedFile("clip.mp4", sample_clip_path.read_bytes(), content_type="video/mp4")
    job_id = alice_client.post("/api/v1/jobs/", {"file": upload, "case": case.pk}, format="multipart").json()["id"]
    lease.claim_job(job_id, "w")
    results.record_results(job_id, "w", fake_result())
    crops = storage.job_artifacts_dir(job_id) / "crops"
    crops.mkdir(parents=True, exist_ok=True)
    (crops / "f0_t0.jpg").write_bytes(b"\xff\xd8\xff" + bytes(100))
    return AnalysisJob.objects.select_related("media").get(pk=job_id)


def reads_after(alice_client, url: str, **headers) -> list[AuditEvent]:
    before = AuditEvent.objects.count()
    response = alice_client.get(url, **headers)
    assert response.status_code in (200, 206), (url, response.status_code)
    b"".join(response.streaming_content) if response.streaming else response.content
    return list(AuditEvent.objects.order_by("id")[before:])


@pytest.mark.parametrize(
    ("path", "headers", "action", "object_type", "detail"),
    [
        ("/api/v1/media/{media}/content/", {}, "media.viewed", "media", {"range": ""}),
        (
            "/api/v1/media/{media}/content/",
            {"HTTP_RANGE": "bytes=10-19"},
            "media.viewed",
            "media",
            {"range": "bytes=10-19"},
        ),
        ("/api/v1/media/{media}/download/", {}, "media.downloaded", "media", {}),
        ("/api/v1/jobs/{job}/files/crops/f0_t0.jpg", {}, "artifact.viewed", "job", {"path": "crops/f0_t0.jpg"}),
        ("/api/v1/jobs/{job}/report/", {}, "report.viewed", "job", {}),
        ("/api/v1/jobs/{job}/report/?download=1", {}, "report.downloaded", "job", {}),
    ],
)
def test_each_read_of_evidence_records_one_custody_event(
    alice_client, alice, analysed, path, headers, action, object_type, detail
):
    url = path.format(media=analysed.media_id, job=analysed.pk)
    events = reads_after(alice_client, url, **headers)
    assert [e.action for e in events] == [action]
    event = events[0]
    assert event.actor == alice and event.object_type == object_type
    assert event.object_id == str(analysed.media_id if object_type == "media" else analysed.pk)
    assert event.sha256 == analysed.media.sha256 and event.team_id == analysed.media.case.team_id
    assert event.detail == detail


def test_a_refused_read_records_nothing(bob_client, analysed):
    before = AuditEvent.objects.count()
    assert bob_client.get(f"/api/v1/media/{analysed.media_id}/content/").status_code == 404
    assert bob_client.get(f"/api/v1/jobs/{analysed.pk}/report/").status_code == 404
    assert AuditEvent.objects.count() == before


def test_the_report_shows_the_machine_verdict_and_the_reviewers_override_side_by_side(alice_client, team, analysed):
    from accounts.models import Role
    from cases import services
    from tests.factories import UserFactory

    rita = UserFactory(username="rita", team=team, team__role=Role.REVIEWER)
    services.review_job(analysed, rita, "disputed", reason="Known authentic source footage", override_label="authentic")
    html = alice_client.get(f"/api/v1/jobs/{analysed.pk}/report/").content.decode()
    review = html.split('data-testid="report-review"', 1)[1].split("</table>", 1)[0]
    assert "MANIPULATED" in review.split("Reviewer's conclusion")[0]  # the machine's verdict, kept
    assert "AUTHENTIC</strong> (overrides the machine verdict)" in review
    assert "rita" in review and "Known authentic source footage" in review


def test_a_page_view_of_the_original_and_every_crop_records_one_read_of_each(alice_client, alice, analysed):
    crops = storage.job_artifacts_dir(analysed.pk) / "crops"
    for i in range(1, 6):
        (crops / f"f{i}_t0.jpg").write_bytes(b"\xff\xd8\xff" + bytes(100))
    before = AuditEvent.objects.count()
    for start in range(0, 100, 10):  # a player's range requests
        reads_after(
            alice_client, f"/api/v1/media/{analysed.media_id}/content/", HTTP_RANGE=f"bytes={start}-{start + 9}"
        )
    for i in range(6):
        reads_after(alice_client, f"/api/v1/jobs/{analysed.pk}/files/crops/f{i}_t0.jpg")
    events = list(AuditEvent.objects.order_by("seq")[before:])
    assert [e.action for e in events] == ["media.viewed", "artifact.viewed"]
    assert events[0].detail == {"range": "bytes=0-9"}  # the first request's


def test_reads_are_recorded_again_for_another_person_and_after_the_window(alice_client, team, analysed, monkeypatch):
    from audit import services as audit_services
    from tests.conftest import analyst_in, client_for

    url = f"/api/v1/jobs/{analysed.pk}/files/crops/f0_t0.jpg"
    assert len(reads_after(alice_client, url)) == 1
    assert reads_after(alice_client, url) == []
    assert len(reads_after(client_for(analyst_in(team, "carol")), url)) == 1
    monkeypatch.setattr(audit_services, "EVIDENCE_READ_WINDOW_S", 0)
    assert len(reads_after(alice_client, url)) == 1


def test_the_report_lists_the_substantive_events_and_counts_the_reads(alice_client, analysed):
    for _ in range(3):
        alice_client.get(f"/api/v1/jobs/{analysed.pk}/files/crops/f0_t0.jpg")
        alice_client.get(f"/api/v1/media/{analysed.media_id}/content/")
    html = alice_client.get(f"/api/v1/jobs/{analysed.pk}/report/").content.decode()
    table = html.split('data-testid="report-custody"', 1)[1].split("</table>", 1)[0]
    assert "Media uploaded" in table and "Job submitted" in table
    assert "viewed" not in table
    reads = html.split('data-testid="report-custody-reads"', 1)[1].split("</p>", 1)[0]
    assert "<strong>3</strong> (alice (3))" in reads  # the original, the crops and this report, once each


def test_the_custody_log_marks_each_read_of_evidence(alice_client, analysed):
    alice_client.get(f"/api/v1/media/{analysed.media_id}/content/")
    events = alice_client.get(f"/api/v1/jobs/{analysed.pk}/custody/").json()["events"]
    assert {e["action"]: e["is_read"] for e in events} == {
        "media.viewed": True,
        "job.submitted": False,
        "media.uploaded": False,
    }
