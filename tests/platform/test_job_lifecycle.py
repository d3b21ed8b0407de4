"""Job state machine in cases.lease and cases.results: claims, leases, attempts, replace-by-job results."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cases import lease, results, services
from cases.models import AnalysisJob, FaceResult, FrameResult, JobState, Verdict
from tests.factories import JobFactory, fake_result


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_claims_of_one_job_exactly_one_wins():
    for _ in range(10):
        job = JobFactory()
        barrier = threading.Barrier(2)
        winners = []

        def claim(name, job_id, barrier, winners):
            try:
                barrier.wait()
                if lease.claim_job(job_id, name) is not None:
                    winners.append(name)
            finally:
                connection.close()

        threads = [threading.Thread(target=claim, args=(f"worker-{i}", job.pk, barrier, winners)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        job.refresh_from_db()
        assert len(winners) == 1
        assert job.worker == winners[0] and job.attempts == 1 and job.state == JobState.RUNNING


@pytest.mark.django_db
def test_second_claim_of_same_job_is_refused():
    job = JobFactory()
    assert lease.claim_job(job.pk, "a") is not None
    assert lease.claim_job(job.pk, "b") is None


@pytest.mark.django_db
def test_a_running_job_whose_lease_expired_can_be_claimed_again_and_counts_attempts():
    job = JobFactory()
    lease.claim_job(job.pk, "dead-worker")
    AnalysisJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=10))
    again = lease.claim_job(job.pk, "new-worker")
    assert again is not None and again.attempts == 2 and again.worker == "new-worker"


@pytest.mark.django_db
def test_a_job_that_used_all_attempts_fails_with_a_reason_instead_of_running():
    job = JobFactory(
        attempts=3, max_attempts=3, state=JobState.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=10)
    )
    assert lease.claim_job(job.pk, "w") is None
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.error_code == "max_attempts_exceeded" and job.error_message


@pytest.mark.django_db
def test_finished_or_cancelled_jobs_are_not_claimed():
    for state in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED):
        assert lease.claim_job(JobFactory(state=state).pk, "w") is None


@pytest.mark.django_db
def test_results_written_twice_replace_rather_than_duplicate():
    job = JobFactory()
    lease.claim_job(job.pk, "w")
    assert results.record_results(job.pk, "w", fake_result(frames=4, faces_per_frame=2))
    AnalysisJob.objects.filter(pk=job.pk).update(state=JobState.RUNNING)
    assert results.record_results(job.pk, "w", fake_result(frames=4, faces_per_frame=2))
    assert FrameResult.objects.filter(job=job).count() == 4
    assert FaceResult.objects.filter(job=job).count() == 8
    assert Verdict.objects.filter(job=job).count() == 1


@pytest.mark.django_db
def test_results_from_a_worker_that_lost_the_job_are_discarded():
    job = JobFactory()
    lease.claim_job(job.pk, "old")
    AnalysisJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=10))
    lease.claim_job(job.pk, "new")
    assert not results.record_results(job.pk, "old", fake_result())
    assert not FrameResult.objects.filter(job=job).exists()
    with pytest.raises(lease.JobLost):
        lease.report_progress(job.pk, "old", "faces", 50)


@pytest.mark.django_db
def test_progress_reports_stage_and_a_cancel_request_stops_the_worker():
    job = JobFactory()
    lease.claim_job(job.pk, "w")
    lease.report_progress(job.pk, "w", "faces", 40)
    job.refresh_from_db()
    assert (job.stage, job.progress) == ("faces", 40)
    services.cancel_job(job)
    with pytest.raises(lease.JobCancelled):
        lease.report_progress(job.pk, "w", "scoring", 0)
    lease.finish_cancelled(job.pk)
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED


@pytest.mark.django_db
def test_the_reaper_requeues_a_job_whose_worker_died(monkeypatch):
    published = []
    monkeypatch.setattr(lease, "enqueue", lambda job: published.append(job.pk))
    job = JobFactory()
    lease.claim_job(job.pk, "dead")
    AnalysisJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=10))
    assert lease.reap_stale_jobs()["requeued"] == 1
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and published == [job.pk]
