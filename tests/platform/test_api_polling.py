"""Polling a job: the full job and its lean status answer 304 cheaply while unchanged, a new ETag on a change."""

from __future__ import annotations

import pytest

from cases import lease, results
from cases.api.serializers import JobSerializer
from cases.models import JobReview, ReviewStatus
from detector import contract
from tests.factories import JobFactory, MediaFactory, fake_result

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(case):
    return JobFactory(media=MediaFactory(case=case, uploaded_by=case.created_by))


def etag(client, url, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200, response.content
    return response["ETag"]


def record_no_faces(job_id, worker="w1"):
    result = fake_result(frames=1, faces_per_frame=0)
    result.verdict = contract.Verdict(label=contract.VerdictLabel.NO_FACES, score=None)
    assert results.record_results(job_id, worker, result)


def test_an_unchanged_job_answers_304_without_serializing_it(alice_client, job, monkeypatch):
    url = f"/api/v1/jobs/{job.pk}/"
    tag = etag(alice_client, url)

    def must_not_run(*args, **kwargs):
        raise AssertionError("a 304 built the full representation")

    monkeypatch.setattr(JobSerializer, "to_representation", must_not_run)
    again = alice_client.get(url, HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304 and again["ETag"] == tag and again.content == b""


def test_the_full_job_etag_changes_with_progress_probe_verdict_and_review(alice_client, alice, job):
    url = f"/api/v1/jobs/{job.pk}/"
    seen = [etag(alice_client, url)]
    assert lease.claim_job(job.pk, "w1") is not None
    seen.append(etag(alice_client, url))
    lease.report_progress(job.pk, "w1", "faces", 40)
    seen.append(etag(alice_client, url))
    results.record_probe(job.media_id, contract.MediaProbe(kind="video", width=1920, height=1080, codec="h264"))
    seen.append(etag(alice_client, url))
    lease.heartbeat(job.pk, "w1")  # the lease is not part of the representation
    assert etag(alice_client, url) == seen[-1]
    record_no_faces(job.pk)
    seen.append(etag(alice_client, url))
    JobReview.objects.create(job=job, reviewer=alice, status=ReviewStatus.CONFIRMED, reason="first look")
    seen.append(etag(alice_client, url))
    JobReview.objects.create(job=job, reviewer=alice, status=ReviewStatus.CONFIRMED, reason="second look")
    seen.append(etag(alice_client, url))
    assert len(set(seen)) == len(seen), seen


def test_the_same_job_through_another_host_name_is_another_entity(alice_client, job):
    url = f"/api/v1/jobs/{job.pk}/"
    assert etag(alice_client, url) != etag(alice_client, url, HTTP_HOST="localhost")


def test_a_stale_etag_gets_the_full_job_with_the_new_one(alice_client, job):
    url = f"/api/v1/jobs/{job.pk}/"
    old = etag(alice_client, url)
    lease.claim_job(job.pk, "w1")
    response = alice_client.get(url, HTTP_IF_NONE_MATCH=old)
    assert response.status_code == 200 and response.json()["state"] == "running"
    assert response["ETag"] != old
    assert alice_client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_the_lean_status_shows_state_stage_progress_and_a_verdict_summary(alice_client, job):
    url = f"/api/v1/jobs/{job.pk}/status/"
    queued = alice_client.get(url).json()
    assert queued == {
        "id": job.pk,
        "state": "queued",
        "stage": "queued",
        "progress": 0,
        "error_code": "",
        "review_status": "unreviewed",
        "verdict": None,
    }
    lease.claim_job(job.pk, "w1")
    record_no_faces(job.pk)
    done = alice_client.get(url).json()
    assert done["state"] == "succeeded" and done["progress"] == 100
    assert done["verdict"] == {
        "label": "no_faces",
        "label_text": "No faces",
        "score": None,
        "confidence": None,
        "untrained": False,
    }


def test_the_lean_status_answers_304_until_the_job_moves(alice_client, job):
    url = f"/api/v1/jobs/{job.pk}/status/"
    tag = etag(alice_client, url)
    assert alice_client.get(url, HTTP_IF_NONE_MATCH=tag).status_code == 304
    assert alice_client.get(url, HTTP_IF_NONE_MATCH=f"W/{tag}").status_code == 304
    lease.claim_job(job.pk, "w1")
    moved = alice_client.get(url, HTTP_IF_NONE_MATCH=tag)
    assert moved.status_code == 200 and moved.json()["state"] == "running"


def test_another_team_cannot_poll_a_job_or_learn_its_etag(alice_client, bob_client, job):
    for url in (f"/api/v1/jobs/{job.pk}/", f"/api/v1/jobs/{job.pk}/status/"):
        tag = etag(alice_client, url)
        refused = bob_client.get(url, HTTP_IF_NONE_MATCH=tag)
        assert refused.status_code == 404 and refused.get("ETag") != tag


def test_list_filters_do_not_hide_a_job_fetched_by_id(alice_client, job):
    assert alice_client.get(f"/api/v1/jobs/{job.pk}/?state=failed").status_code == 200
    assert alice_client.get("/api/v1/jobs/?state=failed").json()["count"] == 0
