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


# --- only the holder fails a job; cancelled is terminal (issue 12, holes 7 and 14) ---------------


def _reaped(job_id: int) -> None:
    """The job's worker stopped renewing for a lease and the reaper put it back in line."""
    AnalysisJob.objects.filter(pk=job_id).update(heartbeat_at=timezone.now() - timedelta(minutes=10))
    lease.reap_stale_jobs()


@pytest.mark.django_db
def test_a_late_failure_from_a_worker_whose_job_was_reaped_does_not_fail_the_requeued_job(monkeypatch):
    monkeypatch.setattr(lease, "enqueue", lambda job: None)
    job = JobFactory()
    lease.claim_job(job.pk, "old")
    _reaped(job.pk)
    assert AnalysisJob.objects.get(pk=job.pk).state == JobState.QUEUED

    assert not lease.fail_job(job.pk, "internal_error", "the old worker errored after losing its lease", "old")
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and job.error_code == ""
    # The retry goes ahead, and the old worker cannot fail the new attempt either.
    assert lease.claim_job(job.pk, "new") is not None
    assert not lease.fail_job(job.pk, "internal_error", "late", "old")
    assert AnalysisJob.objects.get(pk=job.pk).state == JobState.RUNNING
    assert lease.fail_job(job.pk, "media_unreadable", "the holder's own failure", "new")
    assert AnalysisJob.objects.get(pk=job.pk).state == JobState.FAILED


def test_failing_a_job_needs_the_worker_that_holds_it():
    with pytest.raises(TypeError):
        lease.fail_job(1, "internal_error", "who is asking?")


@pytest.mark.django_db
def test_the_reaper_ends_a_stale_job_with_a_cancel_request_as_cancelled_instead_of_requeueing_it(monkeypatch):
    published = []
    monkeypatch.setattr(lease, "enqueue", lambda job: published.append(job.pk))
    job = JobFactory()
    lease.claim_job(job.pk, "dead")
    assert lease.request_cancel(job.pk)
    _reaped(job.pk)
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and job.error_code == "cancelled" and published == []
    assert lease.claim_job(job.pk, "new") is None


@pytest.mark.django_db
def test_a_stale_job_with_a_cancel_request_is_cancelled_not_run_by_the_next_claim():
    job = JobFactory()
    lease.claim_job(job.pk, "dead")
    lease.request_cancel(job.pk)
    AnalysisJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=10))
    assert lease.claim_job(job.pk, "new") is None
    assert AnalysisJob.objects.get(pk=job.pk).state == JobState.CANCELLED


@pytest.mark.django_db
def test_a_cancelled_job_stays_cancelled_whatever_a_worker_reports():
    job = JobFactory()
    lease.claim_job(job.pk, "w")
    lease.request_cancel(job.pk)
    lease.finish_cancelled(job.pk)
    assert not lease.fail_job(job.pk, "internal_error", "late", "w")
    assert not lease.heartbeat(job.pk, "w")
    assert not results.record_results(job.pk, "w", fake_result())
    assert lease.reap_stale_jobs() == {"failed": 0, "requeued": 0, "republished": 0, "cancelled": 0}
    assert not lease.request_cancel(job.pk)
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and not FrameResult.objects.filter(job=job).exists()


@pytest.mark.django_db
def test_a_cancel_that_lands_before_the_results_write_wins_and_no_results_are_stored():
    job = JobFactory()
    lease.claim_job(job.pk, "w")
    assert services.cancel_job(job).cancel_requested
    with pytest.raises(lease.JobCancelled):
        results.record_results(job.pk, "w", fake_result())
    lease.finish_cancelled(job.pk)
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    assert not FrameResult.objects.filter(job=job).exists() and not Verdict.objects.filter(job=job).exists()


@pytest.mark.django_db(transaction=True)
def test_a_cancel_during_the_results_write_waits_for_it_and_is_refused_not_reported_as_accepted():
    job = JobFactory()
    lease.claim_job(job.pk, "w")
    writing, cancelled = threading.Event(), {}

    def cancel_while_writing():
        try:
            writing.wait(10)
            cancelled["accepted"] = lease.request_cancel(job.pk)
        finally:
            connection.close()

    canceller = threading.Thread(target=cancel_while_writing)
    canceller.start()
    from django.db import transaction

    with transaction.atomic():
        assert results.record_results(job.pk, "w", fake_result())
        writing.set()
        canceller.join(0.5)
        assert canceller.is_alive(), "the cancel must wait for the row lock the results write holds"
    canceller.join(10)
    job.refresh_from_db()
    # Either outcome is consistent; what must not happen is a cancel accepted and the job succeeded.
    assert cancelled == {"accepted": False}
    assert job.state == JobState.SUCCEEDED and not job.cancel_requested


def run_on_a_host_whose_clock_is_off_by(monkeypatch, seconds: float) -> None:
    real_now = timezone.now.__wrapped__ if hasattr(timezone.now, "__wrapped__") else timezone.now

    def skewed():
        return real_now() + timedelta(seconds=seconds)

    skewed.__wrapped__ = real_now
    monkeypatch.setattr(timezone, "now", skewed)


@pytest.mark.django_db
def test_lease_times_are_the_databases_so_host_clock_skew_never_reaps_a_live_job(monkeypatch, settings):
    settings.JOB_LEASE_S = 60
    monkeypatch.setattr(lease, "enqueue", lambda job: None)
    job = JobFactory()
    run_on_a_host_whose_clock_is_off_by(monkeypatch, -600)  # the worker's host runs ten minutes behind
    assert lease.claim_job(job.pk, "w") is not None
    assert lease.heartbeat(job.pk, "w")
    run_on_a_host_whose_clock_is_off_by(monkeypatch, +600)  # the reaper's runs ten minutes ahead
    assert lease.reap_stale_jobs()["requeued"] == 0
    assert lease.claim_job(job.pk, "another") is None
    assert AnalysisJob.objects.get(pk=job.pk).state == JobState.RUNNING


@pytest.mark.django_db
def test_each_attempt_writes_its_own_folder_and_a_worker_that_lost_the_job_never_touches_the_served_one(
    monkeypatch, settings, tmp_path
):
    from cases import storage

    settings.MEDIA_ROOT = str(tmp_path)
    monkeypatch.setattr(lease, "enqueue", lambda job: None)
    job = JobFactory()
    first = lease.claim_job(job.pk, "old")
    old_crop = storage.attempt_artifacts_dir(job.pk, first.attempts) / "crops" / "f0_t0.jpg"
    old_crop.parent.mkdir(parents=True)
    old_crop.write_bytes(b"first attempt")
    _reaped(job.pk)
    second = lease.claim_job(job.pk, "new")
    assert second.attempts == first.attempts + 1
    new_crop = storage.attempt_artifacts_dir(job.pk, second.attempts) / "crops" / "f0_t0.jpg"
    new_crop.parent.mkdir(parents=True)
    new_crop.write_bytes(b"second attempt")

    assert results.record_results(job.pk, "new", fake_result())
    served = storage.job_artifacts_dir(job.pk) / "crops" / "f0_t0.jpg"
    assert served.read_bytes() == b"second attempt"
    # The first worker, still running, writes on into its own folder and then offers its results.
    old_crop.write_bytes(b"late write from the lost attempt")
    assert not results.record_results(job.pk, "old", fake_result())
    assert served.read_bytes() == b"second attempt"
    assert not storage.attempt_artifacts_dir(job.pk, second.attempts).exists()  # swapped in, not copied
