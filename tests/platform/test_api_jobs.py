"""REST API v1 jobs: submission, polling, results, refusals. Real Postgres, no worker needed."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import lease, results, storage
from cases.models import AnalysisJob, JobState, Media
from tests.factories import CaseFactory, fake_result

pytestmark = pytest.mark.django_db


def upload(path, name=None, content_type="video/mp4"):
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type=content_type)


def submit(client, file, **data):
    return client.post("/api/v1/jobs/", {"file": file, **data}, format="multipart")


def test_submitting_a_clip_returns_202_with_location_and_a_queued_job(alice_client, case, sample_clip_path):
    response = submit(alice_client, upload(sample_clip_path), case=case.pk, frames=8, detectors="efficientnet_b0")
    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == body["url"]
    assert body["state"] == "queued" and body["stage"] == "queued" and body["progress"] == 0
    assert body["case"] == case.pk
    assert body["settings"] == {"frames": 8, "detectors": ["efficientnet_b0"]}
    media = body["media"]
    assert media["kind"] == "video" and media["mime_type"] == "video/mp4"
    assert media["size_bytes"] == sample_clip_path.stat().st_size
    assert len(media["sha256"]) == 64
    assert body["verdict"] is None


def test_submission_without_case_lands_in_the_team_inbox(alice_client, team, sample_clip_path):
    body = submit(alice_client, upload(sample_clip_path)).json()
    media = Media.objects.get(pk=body["media"]["id"])
    assert media.case.is_inbox and media.case.team == team
    again = submit(alice_client, upload(sample_clip_path)).json()
    assert again["case"] == body["case"], "one inbox per team"


def test_same_bytes_are_stored_once_and_never_writable(alice_client, case, sample_clip_path):
    first = submit(alice_client, upload(sample_clip_path), case=case.pk).json()
    second = submit(alice_client, upload(sample_clip_path, name="renamed.mov"), case=case.pk).json()
    assert first["media"]["sha256"] == second["media"]["sha256"]
    path = storage.original_path(Media.objects.get(pk=first["media"]["id"]))
    assert path.name == first["media"]["sha256"] and path.stat().st_mode & 0o222 == 0


def test_an_image_is_accepted_as_kind_image(alice_client, case, face_jpeg_path):
    body = submit(alice_client, upload(face_jpeg_path, content_type="image/jpeg"), case=case.pk).json()
    assert body["media"]["kind"] == "image" and body["media"]["mime_type"] == "image/jpeg"


def test_a_text_file_named_mp4_is_refused_by_content(alice_client, case):
    fake = SimpleUploadedFile("evidence.mp4", b"this is not a video at all\n" * 10, content_type="video/mp4")
    response = submit(alice_client, fake, case=case.pk)
    assert response.status_code == 400
    assert "Not a supported video or image" in response.json()["file"][0]
    assert not Media.objects.exists() and not AnalysisJob.objects.exists()


def test_an_empty_file_is_refused(alice_client, case):
    response = submit(alice_client, SimpleUploadedFile("empty.mp4", b"", content_type="video/mp4"), case=case.pk)
    assert response.status_code == 400
    assert "empty" in response.json()["file"][0].lower()


def test_a_file_over_the_size_cap_is_refused_with_413(alice_client, case, sample_clip_path, settings):
    settings.MAX_UPLOAD_BYTES = 1000
    response = submit(alice_client, upload(sample_clip_path), case=case.pk)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert not AnalysisJob.objects.exists()


def test_a_missing_file_and_bad_parameters_are_400(alice_client, case, sample_clip_path):
    assert alice_client.post("/api/v1/jobs/", {"case": case.pk}, format="multipart").status_code == 400
    assert submit(alice_client, upload(sample_clip_path), frames=0).status_code == 400
    assert submit(alice_client, upload(sample_clip_path), frames=100000).status_code == 400
    assert submit(alice_client, upload(sample_clip_path), detectors="../etc/passwd").status_code == 400


def test_unauthenticated_calls_are_refused(anon_client, sample_clip_path):
    assert submit(anon_client, upload(sample_clip_path)).status_code in (401, 403)
    assert anon_client.get("/api/v1/jobs/").status_code in (401, 403)
    assert anon_client.get("/api/v1/jobs/1/").status_code in (401, 403)
    assert anon_client.get("/api/v1/jobs/1/frames/").status_code in (401, 403)


def test_another_teams_case_cannot_be_submitted_to(bob_client, case, sample_clip_path):
    response = submit(bob_client, upload(sample_clip_path), case=case.pk)
    assert response.status_code == 400 and "case" in response.json()


def test_polling_a_job_shows_state_and_another_team_gets_404(alice_client, bob_client, case, sample_clip_path):
    job_id = submit(alice_client, upload(sample_clip_path), case=case.pk).json()["id"]
    response = alice_client.get(f"/api/v1/jobs/{job_id}/")
    assert response.status_code == 200 and response.json()["state"] == "queued"
    assert bob_client.get(f"/api/v1/jobs/{job_id}/").status_code == 404
    assert bob_client.get(f"/api/v1/jobs/{job_id}/frames/").status_code == 404
    assert bob_client.get("/api/v1/jobs/").json()["count"] == 0


def test_polling_an_unchanged_job_returns_304_with_its_etag(alice_client, case, sample_clip_path):
    job_id = submit(alice_client, upload(sample_clip_path), case=case.pk).json()["id"]
    first = alice_client.get(f"/api/v1/jobs/{job_id}/")
    again = alice_client.get(f"/api/v1/jobs/{job_id}/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def claimed_job(alice_client, case, sample_clip_path, worker="w1"):
    job_id = submit(alice_client, upload(sample_clip_path), case=case.pk).json()["id"]
    assert lease.claim_job(job_id, worker) is not None
    return job_id


def test_results_show_verdict_frames_faces_and_detector_scores(alice_client, case, sample_clip_path):
    job_id = claimed_job(alice_client, case, sample_clip_path)
    assert results.record_results(job_id, "w1", fake_result(frames=3, faces_per_frame=2))
    body = alice_client.get(f"/api/v1/jobs/{job_id}/").json()
    assert body["state"] == "succeeded" and body["stage"] == "done" and body["progress"] == 100
    assert body["verdict"]["label"] == "manipulated" and body["verdict"]["score"] == 0.8
    assert body["detector_set"][0]["sha256"] == "ab" * 32
    frames = alice_client.get(f"/api/v1/jobs/{job_id}/frames/").json()["results"]
    assert [f["frame_index"] for f in frames] == [0, 10, 20]
    assert all(len(f["faces"]) == 2 for f in frames)
    face = frames[0]["faces"][0]
    assert face["detector_scores"] == {"efficientnet_b0": 0.8} and face["box"] == [10, 10, 100, 100]
    assert face["crop_url"].endswith(f"/api/v1/jobs/{job_id}/files/crops/f0_t0.jpg")


def test_a_jobs_frames_come_a_page_at_a_time_in_frame_order_with_a_bounded_page_size(
    alice_client, case, sample_clip_path
):
    from cases.api.pagination import FRAMES_PAGE_SIZE

    job_id = claimed_job(alice_client, case, sample_clip_path)
    total = FRAMES_PAGE_SIZE * 2 + 7
    assert results.record_results(job_id, "w1", fake_result(frames=total, faces_per_frame=2))
    url, seen, pages = f"/api/v1/jobs/{job_id}/frames/", [], 0
    while url:
        page = alice_client.get(url).json()
        assert page["count"] == total and len(page["results"]) <= FRAMES_PAGE_SIZE
        assert all(len(f["faces"]) == 2 for f in page["results"])
        seen += [f["frame_index"] for f in page["results"]]
        url, pages = page["next"], pages + 1
    assert pages == 3 and seen == [i * 10 for i in range(total)]
    # A client may ask for smaller pages, never for larger ones.
    assert len(alice_client.get(f"/api/v1/jobs/{job_id}/frames/?page_size=5").json()["results"]) == 5
    huge = alice_client.get(f"/api/v1/jobs/{job_id}/frames/?page_size=100000").json()
    assert len(huge["results"]) == FRAMES_PAGE_SIZE


def test_the_report_names_the_file_hash_and_the_verdict(alice_client, case, sample_clip_path):
    job_id = claimed_job(alice_client, case, sample_clip_path)
    results.record_results(job_id, "w1", fake_result())
    job = AnalysisJob.objects.get(pk=job_id)
    response = alice_client.get(f"/api/v1/jobs/{job_id}/report/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert job.media.sha256 in html and "MANIPULATED" in html


def test_cancel_a_queued_job_and_retry_it_as_a_new_job(alice_client, case, sample_clip_path):
    job_id = submit(alice_client, upload(sample_clip_path), case=case.pk).json()["id"]
    cancelled = alice_client.post(f"/api/v1/jobs/{job_id}/cancel/").json()
    assert cancelled["state"] == "cancelled"
    retry = alice_client.post(f"/api/v1/jobs/{job_id}/retry/")
    assert retry.status_code == 202
    assert retry.json()["retry_of"] == job_id and retry.json()["state"] == "queued"
    assert retry.json()["media"]["id"] == cancelled["media"]["id"]


def test_download_returns_the_original_bytes_with_sha_and_nosniff(alice_client, bob_client, case, sample_clip_path):
    body = submit(alice_client, upload(sample_clip_path, name="interview.mp4"), case=case.pk).json()
    response = alice_client.get(f"/api/v1/media/{body['media']['id']}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == sample_clip_path.read_bytes()
    assert response["X-Content-SHA256"] == body["media"]["sha256"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response["Content-Disposition"] and "interview.mp4" in response["Content-Disposition"]
    assert bob_client.get(f"/api/v1/media/{body['media']['id']}/download/").status_code == 404


def test_inline_content_serves_byte_ranges_for_seeking(alice_client, case, sample_clip_path):
    body = submit(alice_client, upload(sample_clip_path), case=case.pk).json()
    response = alice_client.get(f"/api/v1/media/{body['media']['id']}/content/", HTTP_RANGE="bytes=10-19")
    assert response.status_code == 206
    assert b"".join(response.streaming_content) == sample_clip_path.read_bytes()[10:20]
    assert response["Content-Range"] == f"bytes 10-19/{sample_clip_path.stat().st_size}"


def test_artifact_paths_cannot_escape_the_job_folder(alice_client, case, sample_clip_path):
    job_id = claimed_job(alice_client, case, sample_clip_path)
    assert alice_client.get(f"/api/v1/jobs/{job_id}/files/../../originals/x").status_code == 404


def test_jobs_filter_by_state_and_case(alice_client, team, alice, sample_clip_path):
    first, second = CaseFactory(team=team, created_by=alice), CaseFactory(team=team, created_by=alice)
    a = submit(alice_client, upload(sample_clip_path), case=first.pk).json()["id"]
    submit(alice_client, upload(sample_clip_path), case=second.pk)
    alice_client.post(f"/api/v1/jobs/{a}/cancel/")
    assert [j["id"] for j in alice_client.get(f"/api/v1/jobs/?case={first.pk}").json()["results"]] == [a]
    assert [j["id"] for j in alice_client.get("/api/v1/jobs/?state=cancelled").json()["results"]] == [a]
    assert alice_client.get("/api/v1/jobs/?state=queued").json()["count"] == 1


def test_a_state_refused_by_the_server_is_never_a_500(alice_client, case):
    garbage = io.BytesIO(b"\x00\x01garbage")
    garbage.name = "x.bin"
    response = alice_client.post("/api/v1/jobs/", {"file": garbage, "case": case.pk}, format="multipart")
    assert response.status_code == 400
    assert JobState.QUEUED not in AnalysisJob.objects.values_list("state", flat=True)
