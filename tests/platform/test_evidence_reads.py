"""Every read of evidence (original, crops, heatmaps, report) is a custody event, once per request,
byte ranges included (issue 12, hole 5)."""

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
