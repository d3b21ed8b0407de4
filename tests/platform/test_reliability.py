"""Reliability rules tested without processes: the reaper's republish, fault hooks off outside tests."""

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases import lease, storage
from cases.models import AnalysisJob, JobState
from tests.factories import JobFactory
from workers import faults


@pytest.mark.django_db
def test_a_queued_job_unclaimed_for_a_lease_is_published_again_and_a_fresh_one_is_not(monkeypatch, settings):
    settings.JOB_LEASE_S = 30
    published = []
    monkeypatch.setattr(lease, "enqueue", lambda job: published.append(job.pk))
    lost = JobFactory()
    AnalysisJob.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(seconds=31))
    fresh = JobFactory()

    assert lease.reap_stale_jobs()["republished"] == 1
    assert published == [lost.pk]
    # Published once per lease, not on every reaper run.
    assert lease.reap_stale_jobs()["republished"] == 0
    assert AnalysisJob.objects.get(pk=fresh.pk).state == JobState.QUEUED


def test_a_worker_gets_fault_hooks_only_when_fault_injection_is_on(settings):
    settings.FAULT_INJECTION = False
    assert faults.checkpoint() is None
    settings.FAULT_INJECTION = True
    assert faults.checkpoint() is faults.inject


def test_a_fault_applies_only_at_its_point_and_on_its_attempts():
    poison = {"fault": {"at": "claimed", "action": "kill", "attempts": [1]}}
    assert faults.fault_for(poison, 1, "claimed") == poison["fault"]
    assert faults.fault_for(poison, 1, "faces") is None
    assert faults.fault_for(poison, 2, "claimed") is None


@pytest.mark.django_db
def test_a_client_cannot_smuggle_a_fault_into_a_job(alice_client, case, sample_clip_path):
    fault = json.dumps({"at": "claimed", "action": "kill"})
    upload = SimpleUploadedFile("clip.mp4", sample_clip_path.read_bytes(), content_type="video/mp4")
    response = alice_client.post(
        "/api/v1/jobs/",
        {"file": upload, "case": case.pk, "frames": 2, "fault": fault, "settings": json.dumps({"fault": fault})},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    stored = AnalysisJob.objects.get(pk=response.json()["id"]).settings
    assert stored == {"frames": 2, "detectors": []}
    assert faults.fault_for(stored, 1, "claimed") is None


@pytest.mark.django_db
def test_a_stored_original_changed_on_disk_is_replaced_by_a_fresh_upload_of_the_same_bytes(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    png = b"\x89PNG\r\n\x1a\n" + bytes(200)
    stored = storage.store_original(SimpleUploadedFile("a.png", png))
    path = tmp_path / stored["storage_path"]
    path.chmod(0o640)
    path.write_bytes(b"tampered")
    again = storage.store_original(SimpleUploadedFile("b.png", png))
    assert again["sha256"] == stored["sha256"] and path.read_bytes() == png
    assert oct(path.stat().st_mode & 0o777) == "0o440"


@pytest.mark.django_db
def test_an_unknown_api_url_answers_the_apis_json_error_not_an_html_page(alice_client):
    response = alice_client.get("/api/v1/jobs/not-a-number/")
    assert response.status_code == 404 and response.json() == {"detail": "Not found.", "code": "not_found"}
    assert response["X-Content-Type-Options"] == "nosniff"
    unrouted = alice_client.get("/api/v1/nowhere/")
    assert unrouted.status_code == 404 and unrouted.json()["code"] == "not_found"


def test_the_web_process_loads_no_ml_stack_only_the_analysis_contract():
    # What the API image has: Django and the platform, plus detector/contract.py.
    probe = (
        "import sys, django; django.setup(); "
        "import config.urls, cases.api.views, cases.results, cases.lease, accounts.api.views, audit.api.views; "
        "print(sorted(m for m in ('torch', 'cv2', 'numpy', 'timm', 'detector.pipeline') if m in sys.modules))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    loaded = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"
