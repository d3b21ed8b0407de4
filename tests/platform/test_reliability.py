"""Reliability rules tested without processes: the reaper's republish, fault hooks off outside tests."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases import lease, services, storage
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


@pytest.mark.django_db
def test_fault_hooks_do_nothing_unless_fault_injection_is_on(settings):
    poison = {"fault": {"at": "claimed", "action": "kill"}}
    settings.FAULT_INJECTION = False
    assert faults.fault_for(poison, 1, "claimed") is None
    faults.inject(1, poison, 1, "claimed")  # would SIGKILL this test process if it were honoured
    settings.FAULT_INJECTION = True
    assert faults.fault_for(poison, 1, "claimed") == poison["fault"]
    assert faults.fault_for(poison, 1, "faces") is None


def test_a_client_cannot_smuggle_a_fault_into_a_job():
    assert services.normalise_job_settings(2, ["spectral_lr"]) == {"frames": 2, "detectors": ["spectral_lr"]}


@pytest.mark.django_db
def test_a_stored_original_changed_on_disk_is_replaced_by_a_fresh_upload_of_the_same_bytes(tmp_path, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

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
