"""Upload over HTTP → Redis → a real Celery worker → Postgres → verdict, as a client sees it."""

from __future__ import annotations

import pytest
import requests

from cases.models import AnalysisJob, FaceResult, FrameResult, Verdict
from detector.ensemble import DEFAULT_ENSEMBLE
from detector.reproduce import reproduce
from tests.conftest import api_token_for, poll_until_done, post_job

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def headers(alice):
    return {"Authorization": f"Token {api_token_for(alice)}"}


def test_a_generated_clip_is_analysed_by_a_real_worker(
    live_server, celery_worker_process, headers, case, sample_clip_path
):
    with open(sample_clip_path, "rb") as fh:
        response = post_job(live_server.url, headers, "astronaut.mp4", fh, case=case.pk, frames=8)
    assert response.status_code == 202, response.text
    job, seen = poll_until_done(response.headers["Location"], headers)

    assert job["state"] == "succeeded", (job["error_code"], job["error_message"])
    assert job["stage"] == "done" and job["progress"] == 100 and job["attempts"] == 1
    assert job["media"]["width"] == 480 and job["media"]["height"] == 360 and job["media"]["frame_count"] == 30
    assert {s[0] for s in seen} <= {"queued", "running", "succeeded"}
    # A job that names no detectors runs the shipped default ensemble, whose weights are in the repository.
    assert [d["name"] for d in job["detector_set"]] == list(DEFAULT_ENSEMBLE)
    assert all(d["trained"] and d["sha256"] for d in job["detector_set"]), job["detector_set"]
    verdict = job["verdict"]
    assert not verdict["untrained"]
    assert set(verdict["per_detector"]) == set(DEFAULT_ENSEMBLE)
    if set(verdict["abstained"]) == set(DEFAULT_ENSEMBLE):
        # The shipped cards show no default detector better than chance on videos: none votes, none decides.
        assert verdict["label"] == "inconclusive" and verdict["score"] is None, verdict
    else:
        assert 0.0 <= verdict["score"] <= 1.0
        thresholds = verdict["thresholds"]
        expected = (
            "manipulated"
            if verdict["score"] >= thresholds["manipulated"]
            else "authentic"
            if verdict["score"] <= thresholds["authentic"]
            else "inconclusive"
        )
        assert verdict["label"] == expected, (verdict["score"], thresholds)

    # The worker described every shipped detector when it started (the upload form's checklist), not only
    # the ones this job ran: the web process has neither weights nor model cards to read.
    choices = requests.get(f"{live_server.url}/api/v1/detectors/", headers=headers, timeout=30).json()
    assert all(choice["recorded"] and choice["kind_name"] for choice in choices), choices

    page = requests.get(job["frames_url"], headers=headers, timeout=30).json()
    frames = page["results"]
    assert len(frames) == 8 and page["count"] == 8 and page["next"] is None
    with_faces = [f for f in frames if f["faces"]]
    assert len(with_faces) >= 6, "the astronaut's face is visible on every sampled frame"
    face = with_faces[0]["faces"][0]
    x1, _, x2, _ = face["box"]
    assert 40 <= x2 - x1 <= 200 and face["det_prob"] > 0.9
    crop = requests.get(face["crop_url"], headers=headers, timeout=30)
    assert crop.status_code == 200 and crop.headers["Content-Type"] == "image/jpeg"

    db_job = AnalysisJob.objects.get(pk=job["id"])
    assert FrameResult.objects.filter(job=db_job).count() == 8
    assert FaceResult.objects.filter(job=db_job).count() == sum(len(f["faces"]) for f in frames)
    assert Verdict.objects.filter(job=db_job).count() == 1

    # Its manifest re-runs the analysis here, from the original, to the scores the worker recorded.
    record = requests.get(job["manifest_url"], headers=headers, timeout=30).json()
    assert record["manifest"]["media_sha256"] == job["media"]["sha256"]
    assert record["manifest"]["frame_indices"] == [f["frame_index"] for f in frames]
    comparison = reproduce(record, sample_clip_path)
    assert comparison.reproduced and comparison.scores_compared > 8, comparison.to_dict()


def test_a_corrupt_video_that_passes_sniffing_ends_as_a_failed_job(
    live_server, celery_worker_process, headers, case, sample_clip_path
):
    truncated = sample_clip_path.read_bytes()[:3000]  # ftyp header intact, the rest (moov, frames) gone
    response = post_job(live_server.url, headers, "broken.mp4", truncated, case=case.pk)
    assert response.status_code == 202, response.text
    job, _ = poll_until_done(response.headers["Location"], headers)
    assert job["state"] == "failed"
    assert job["error_code"] == "unreadable_media" and job["error_message"]
    assert job["verdict"] is None
    # The reason names the file as it was uploaded, not by its stored sha256; analysing it again cannot help.
    assert job["error_message"].startswith("broken.mp4:") and job["media"]["sha256"] not in job["error_message"]
    assert job["retryable"] is False


def test_a_clip_without_faces_gets_the_no_faces_verdict(
    live_server, celery_worker_process, headers, case, blank_clip_path
):
    with open(blank_clip_path, "rb") as fh:
        response = post_job(live_server.url, headers, "blank.mp4", fh, case=case.pk, frames=4)
    job, _ = poll_until_done(response.headers["Location"], headers)
    assert job["state"] == "succeeded"
    assert job["verdict"]["label"] == "no_faces" and job["verdict"]["score"] is None
