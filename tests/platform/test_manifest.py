"""A finished job's reproducibility manifest: in its JSON, in its report, and as the file
``python -m detector reproduce`` reads (compared here with the recorded result, as a re-run would be)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import lease, results, services
from detector.reproduce import IDENTICAL, compare, read_record
from tests.factories import fake_result

pytestmark = pytest.mark.django_db


@pytest.fixture
def analysis():
    return fake_result(frames=3, faces_per_frame=2)


@pytest.fixture
def finished_job(alice, case, sample_clip_path, analysis):
    job = services.submit_job(alice, SimpleUploadedFile("clip.mp4", sample_clip_path.read_bytes()), case=case)
    lease.claim_job(job.pk, "w")
    results.record_results(job.pk, "w", analysis)
    return job


def test_a_finished_jobs_json_carries_its_manifest(alice_client, finished_job, analysis):
    body = alice_client.get(f"/api/v1/jobs/{finished_job.pk}/").json()
    assert body["manifest"] == analysis.manifest.to_dict()
    assert body["manifest"]["frame_indices"] == [0, 10, 20] and body["manifest"]["libraries"]["torch"] == "2.4.1"


def test_the_manifest_file_reads_back_as_the_recorded_result(alice_client, finished_job, analysis):
    response = alice_client.get(f"/api/v1/jobs/{finished_job.pk}/manifest/")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    manifest, frames, verdict = read_record(json.loads(response.content))
    assert manifest == analysis.manifest
    # What reproduce compares a re-run with: every face and score as the worker recorded them.
    same = compare(frames, verdict, analysis.frames, analysis.verdict.to_dict())
    assert same.status == IDENTICAL and same.scores_compared == 3 * 2 * 2 + 2


def test_a_job_without_a_manifest_says_so(alice_client, alice, case, sample_clip_path, bob_client):
    queued = services.submit_job(alice, SimpleUploadedFile("q.mp4", sample_clip_path.read_bytes()), case=case)
    response = alice_client.get(f"/api/v1/jobs/{queued.pk}/manifest/")
    assert response.status_code == 409 and response.json()["code"] == "no_manifest"
    assert alice_client.get(f"/api/v1/jobs/{queued.pk}/").json()["manifest"] is None
    assert bob_client.get(f"/api/v1/jobs/{queued.pk}/manifest/").status_code == 404


def test_the_report_prints_the_manifest_and_the_reproduce_command(alice_client, finished_job):
    report = alice_client.get(f"/api/v1/jobs/{finished_job.pk}/report/").content.decode()
    assert "Reproducibility" in report and "0.1.0+git.test" in report and "0, 10, 20" in report
    assert f"python -m detector reproduce job-{finished_job.pk}-manifest.json ORIGINAL" in report
