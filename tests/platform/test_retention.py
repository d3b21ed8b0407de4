"""Retention of originals per team (issue 13 part 6): kept, or deleted a set time after the last analysis
ended, never while an analysis runs nor while another media row needs the same stored file; results,
hashes and the custody log stay, each deletion is one custody event, the original answers 410."""

import datetime
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from cases import lease, results, storage
from cases.models import AnalysisJob, FaceResult, Media, Verdict
from cases.retention import apply_retention, clean_up_storage
from tests.factories import CaseFactory, fake_result
from tests.platform.test_custody_chain import verify_audit

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


@pytest.fixture
def content(face_jpeg_path) -> bytes:
    """A JPEG no other test stores (storage is content-addressed and shared by the session)."""
    return face_jpeg_path.read_bytes() + os.urandom(16)


def submit(client, case, content: bytes) -> AnalysisJob:
    upload = SimpleUploadedFile("face.jpg", content, content_type="image/jpeg")
    response = client.post("/api/v1/jobs/", {"file": upload, "case": case.pk}, format="multipart")
    assert response.status_code == 202, response.content
    return AnalysisJob.objects.select_related("media").get(pk=response.json()["id"])


def analyse(job: AnalysisJob) -> AnalysisJob:
    lease.claim_job(job.pk, "w")
    assert results.record_results(job.pk, "w", fake_result())
    job.refresh_from_db()
    return job


def retention(team, days: int | None) -> None:
    team.original_retention_days = days
    team.save()


def deletions() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="media.original_deleted").order_by("id"))


def test_keep_forever_keeps_the_original(alice_client, case, content):
    job = analyse(submit(alice_client, case, content))
    assert apply_retention(job.finished_at + 3650 * DAY) == 0
    assert storage.original_path(job.media).is_file()
    assert alice_client.get(f"/api/v1/media/{job.media_id}/").json()["original_deleted_at"] is None


def test_n_days_deletes_only_after_n_days_and_keeps_results(alice_client, team, case, content):
    retention(team, 7)
    job = analyse(submit(alice_client, case, content))
    path = storage.original_path(job.media)
    assert apply_retention(job.finished_at + 7 * DAY - datetime.timedelta(seconds=1)) == 0
    assert path.is_file() and not deletions()

    when = job.finished_at + 7 * DAY
    assert apply_retention(when) == 1
    assert not path.exists()
    media = Media.objects.get(pk=job.media_id)
    assert media.original_deleted_at == when and media.original_deleted_reason == "team retention: 7 days"
    # Results and hashes stay.
    assert media.sha256 and Verdict.objects.filter(job=job).exists() and FaceResult.objects.filter(job=job).exists()
    body = alice_client.get(f"/api/v1/jobs/{job.pk}/").json()
    assert body["state"] == "succeeded" and body["media"]["sha256"] == media.sha256
    assert body["media"]["original_deleted_reason"] == "team retention: 7 days"
    # Exactly one custody event, by the system, with the hash and the reason; the chain still verifies.
    [event] = deletions()
    assert event.actor is None and event.team_id == team.pk and event.object_id == str(media.pk)
    assert event.sha256 == media.sha256 and event.detail["reason"] == "team retention: 7 days"
    assert event.detail["by"] == "system" and event.detail["retention_days"] == 7
    assert apply_retention(when + DAY) == 0 and len(deletions()) == 1
    ok, out = verify_audit()
    assert ok, out


def test_zero_days_deletes_when_the_analysis_ended_not_while_it_runs(alice_client, team, case, content):
    retention(team, 0)
    job = submit(alice_client, case, content)
    far = datetime.datetime.now(datetime.UTC) + 3650 * DAY
    assert apply_retention(far) == 0  # queued
    lease.claim_job(job.pk, "w")
    assert apply_retention(far) == 0  # running
    assert storage.original_path(job.media).is_file()
    assert results.record_results(job.pk, "w", fake_result())
    job.refresh_from_db()
    assert apply_retention(job.finished_at) == 1
    assert not storage.original_path(job.media).exists()
    assert deletions()[0].detail["reason"] == "team retention: 0 days"


def test_a_second_job_running_keeps_the_original(alice_client, team, case, content):
    retention(team, 0)
    job = analyse(submit(alice_client, case, content))
    again = alice_client.post(f"/api/v1/jobs/{job.pk}/retry/")
    assert again.status_code == 202
    assert apply_retention(job.finished_at + DAY) == 0
    assert storage.original_path(job.media).is_file()


def test_content_shared_with_another_teams_media_is_not_deleted(
    alice_client, bob_client, bob, team, other_team, case, content
):
    retention(team, 0)  # Alpha deletes at once; Bravo keeps its originals
    bravo_case = CaseFactory(team=other_team, created_by=bob, title="Bravo's")
    mine = analyse(submit(alice_client, case, content))
    theirs = analyse(submit(bob_client, bravo_case, content))
    assert mine.media.storage_path == theirs.media.storage_path
    assert apply_retention(mine.finished_at + 365 * DAY) == 0
    assert storage.original_path(mine.media).is_file() and not deletions()
    assert bob_client.get(f"/api/v1/media/{theirs.media_id}/download/").status_code == 200

    # Once Bravo's retention deletes it too, the file goes and each media row has its own event.
    retention(other_team, 1)
    assert apply_retention(theirs.finished_at + DAY) == 2
    assert not storage.original_path(mine.media).exists()
    assert sorted(e.team_id for e in deletions()) == sorted([team.pk, other_team.pk])
    assert verify_audit()[0]


def test_deleted_original_answers_410_with_the_reason(alice_client, team, case, content):
    retention(team, 3)
    job = analyse(submit(alice_client, case, content))
    clean_up_storage((job.finished_at + 3 * DAY).timestamp())
    for endpoint in ("download", "content"):
        response = alice_client.get(f"/api/v1/media/{job.media_id}/{endpoint}/")
        assert response.status_code == 410
        body = response.json()
        assert body["code"] == "original_deleted" and body["sha256"] == job.media.sha256
        assert "team retention: 3 days" in body["detail"] and body["original_deleted_at"]
    refused = alice_client.post(f"/api/v1/jobs/{job.pk}/retry/")
    assert refused.status_code == 410 and refused.json()["code"] == "original_deleted"
    # The report (results) is still served.
    assert alice_client.get(f"/api/v1/jobs/{job.pk}/report/").status_code == 200


def test_uploading_deleted_content_again_stores_it_again(alice_client, team, case, content):
    retention(team, 0)
    job = analyse(submit(alice_client, case, content))
    assert apply_retention(job.finished_at) == 1
    again = submit(alice_client, case, content)
    assert storage.verify_original(again.media)
    assert again.media.original_deleted_at is None
