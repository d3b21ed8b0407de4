"""The job lease protocol between the platform and its workers: publish, claim, renew, cancel, fail, reap.

A worker holds a running job by name (``worker``) and keeps it by renewing ``heartbeat_at``;
a job whose holder stopped renewing for a lease is presumed dead and may be claimed again.
Every state change is a conditional UPDATE (``... WHERE state = 'queued'``): the row count
says who won a race, so two workers never both run one job. Only the holder moves a running job
to an end state, and the end states are terminal: a cancelled job is never claimed or requeued.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Now

from cases.models import AnalysisJob, JobStage, JobState
from webhooks import services as webhooks

ANALYZE_TASK = "forensics.analyze_job"


class JobCancelled(Exception):
    """A cancel was requested for the job this worker runs."""


class JobLost(Exception):
    """The job is no longer this worker's (reclaimed after a lost lease, or finished)."""


def job_lease_s() -> float:
    """A running job whose worker has not reported for this long is presumed dead and may be claimed
    again (settings.JOB_LEASE_S; the fault-injection tests shorten it to seconds)."""
    return float(settings.JOB_LEASE_S)


def _db_now() -> Now:
    """The database's clock: every lease time is written and compared on it, never a host's, so hosts
    whose clocks disagree by more than a lease neither reap live jobs nor keep dead ones."""
    return Now()


def _stale_before(now: Now) -> CombinedExpression:
    return now - timedelta(seconds=job_lease_s())


def _worker_name(worker: str) -> str:
    return worker[: AnalysisJob._meta.get_field("worker").max_length]


def held_by(job_id: int, worker: str) -> QuerySet[AnalysisJob]:
    """The job, if it is running and ``worker`` holds it (empty otherwise)."""
    return AnalysisJob.objects.filter(pk=job_id, state=JobState.RUNNING, worker=_worker_name(worker))


def _ended(state: str, code: str, message: str, now: Now | None = None) -> dict[str, Any]:
    """The fields of a job that reached an end state other than success, with the reason shown to the user."""
    return {
        "state": state,
        "finished_at": now or _db_now(),
        "error_code": code[:64],
        "error_message": message[:4000],
    }


def enqueue(job: AnalysisJob) -> None:
    """Publish the job to the broker; called only after the job's row is committed."""
    from config.celery_app import app

    app.send_task(ANALYZE_TASK, args=[job.pk], queue=settings.ANALYSIS_QUEUE)


def claim_job(job_id: int, worker: str) -> AnalysisJob | None:
    """Move a job to running for ``worker``; None if someone else holds it or it is finished.

    A queued job, or a running one whose lease expired (its worker died), can be claimed. So can
    a running one held under this very ``worker`` name: worker names are ``host:task id``, and a
    message comes back to the host that ran it only when the pool process running it died (Celery
    requeues it on WorkerLostError), so that holder is known dead and waiting out the lease would
    only delay the retry.
    A job that has used all its attempts is failed instead: a file that kills every worker
    that opens it must not circulate forever.
    """
    now = _db_now()
    stale = _stale_before(now)
    claimable = (
        Q(state=JobState.QUEUED)
        | Q(state=JobState.RUNNING, heartbeat_at__lt=stale)
        | Q(state=JobState.RUNNING, worker=_worker_name(worker))
    )
    # A job whose holder died after a cancel was requested ends cancelled: it must not run again.
    if AnalysisJob.objects.filter(claimable, pk=job_id, cancel_requested=True).update(**_cancelled_while_running(now)):
        webhooks.job_finished(job_id)
        return None
    claimable &= Q(cancel_requested=False)
    exhausted = AnalysisJob.objects.filter(claimable, pk=job_id, attempts__gte=F("max_attempts"))
    if exhausted.update(
        **_ended(
            JobState.FAILED,
            "max_attempts_exceeded",
            "The analysis was interrupted on every attempt (a worker died each time); it was stopped.",
            now,
        )
    ):
        webhooks.job_finished(job_id)
        return None
    won = AnalysisJob.objects.filter(claimable, pk=job_id, attempts__lt=F("max_attempts")).update(
        state=JobState.RUNNING,
        stage=JobStage.DECODING,
        progress=0,
        attempts=F("attempts") + 1,
        worker=_worker_name(worker),
        started_at=now,
        heartbeat_at=now,
        error_code="",
        error_message="",
    )
    if not won:
        return None
    return AnalysisJob.objects.select_related("media").get(pk=job_id)


def report_progress(job_id: int, worker: str, stage: str, progress: int) -> None:
    """Record stage + progress and renew the lease; raise if the job was cancelled or taken over."""
    updated = held_by(job_id, worker).update(
        stage=stage, progress=max(0, min(100, int(progress))), heartbeat_at=_db_now()
    )
    if not updated:
        raise JobLost(f"job {job_id} is no longer running on {worker}")
    if is_cancel_requested(job_id):
        raise JobCancelled(f"job {job_id} was cancelled")


def heartbeat(job_id: int, worker: str) -> bool:
    """Renew ``worker``'s lease on a running job; False if the job is no longer its."""
    return bool(held_by(job_id, worker).update(heartbeat_at=_db_now()))


def _cancelled_while_running(now: Now | None = None) -> dict[str, Any]:
    return _ended(JobState.CANCELLED, "cancelled", "Cancelled while running.", now)


def request_cancel(job_id: int) -> bool:
    """Cancel a queued job at once; flag a running one, whose worker stops at its next look. False: it had ended.

    One UPDATE for both: a job the reaper requeues between two statements would otherwise be
    missed by both. A running job whose results are being written holds its row lock, so the
    cancel waits for the write and then finds the job ended (False): it is never accepted for
    a job that goes on to succeed.
    """
    queued = Q(state=JobState.QUEUED)
    ended = _ended(JobState.CANCELLED, "cancelled", "Cancelled before it started.")
    return bool(
        AnalysisJob.objects.filter(pk=job_id, state__in=[JobState.QUEUED, JobState.RUNNING]).update(
            cancel_requested=True,
            **{
                name: Case(
                    When(queued, then=value if hasattr(value, "resolve_expression") else Value(value)),
                    default=F(name),
                    output_field=field,
                )
                for name, value in ended.items()
                for field in [AnalysisJob._meta.get_field(name)]
            },
        )
    )


def is_cancel_requested(job_id: int) -> bool:
    return AnalysisJob.objects.filter(pk=job_id, cancel_requested=True).exists()


def finish_cancelled(job_id: int) -> None:
    """End a running job whose cancel was requested (its worker stopped); other jobs are left alone."""
    with transaction.atomic():
        if AnalysisJob.objects.filter(pk=job_id, state=JobState.RUNNING, cancel_requested=True).update(
            **_cancelled_while_running()
        ):
            webhooks.job_finished(job_id)


def fail_job(job_id: int, code: str, message: str, worker: str) -> bool:
    """Mark a running job failed with a reason, if ``worker`` holds it; False otherwise.

    Only the holder: a worker that lost its lease (the job was reaped and requeued, or claimed
    again) and then errors must not fail the attempt that replaced it.
    """
    with transaction.atomic():
        failed = bool(held_by(job_id, worker).update(**_ended(JobState.FAILED, code, message)))
        if failed:
            webhooks.job_finished(job_id)
    return failed


def _lock_ids(**conditions: Any) -> list[int]:
    """Ids of the jobs matching ``conditions``, row-locked until the transaction ends."""
    locked = AnalysisJob.objects.select_for_update().filter(**conditions).order_by("pk")
    return list(locked.values_list("pk", flat=True))


def reap_stale_jobs() -> dict[str, int]:
    """Requeue running jobs whose worker stopped renewing the lease, republish long-queued ones.

    A queued job nobody has claimed for a lease is published again (and then once per lease): the
    process may have died between committing the job and publishing it, and its message will never
    come. A duplicate message of a job that was only waiting in line is harmless: the claim refuses it.
    """
    now = _db_now()
    stale = _stale_before(now)
    # The jobs to end are locked first (in id order; SELECT ... FOR UPDATE re-checks the conditions
    # after any wait, as the UPDATE did), so exactly those are ended and announced to webhooks.
    with transaction.atomic():
        # Cancelled is terminal: a dead worker's job with a cancel request ends cancelled, never requeued.
        cancelled_ids = _lock_ids(state=JobState.RUNNING, heartbeat_at__lt=stale, cancel_requested=True)
        cancelled = AnalysisJob.objects.filter(pk__in=cancelled_ids).update(**_cancelled_while_running(now))
        exhausted_ids = _lock_ids(state=JobState.RUNNING, heartbeat_at__lt=stale, attempts__gte=F("max_attempts"))
        exhausted = AnalysisJob.objects.filter(pk__in=exhausted_ids).update(
            **_ended(
                JobState.FAILED,
                "max_attempts_exceeded",
                "The worker stopped responding on every attempt; the job was stopped.",
                now,
            )
        )
        for job_id in (*cancelled_ids, *exhausted_ids):
            webhooks.job_finished(job_id)
    requeued_ids = list(
        AnalysisJob.objects.filter(state=JobState.RUNNING, heartbeat_at__lt=stale).values_list("pk", flat=True)
    )
    requeued = AnalysisJob.objects.filter(pk__in=requeued_ids, state=JobState.RUNNING, heartbeat_at__lt=stale).update(
        state=JobState.QUEUED, stage=JobStage.QUEUED, progress=0, heartbeat_at=now
    )
    lost_ids = list(
        AnalysisJob.objects.filter(state=JobState.QUEUED, created_at__lt=stale)
        .exclude(heartbeat_at__gte=stale)
        .exclude(pk__in=requeued_ids)
        .values_list("pk", flat=True)
    )
    AnalysisJob.objects.filter(pk__in=lost_ids).update(heartbeat_at=now)
    for job_id in {*requeued_ids, *lost_ids}:
        enqueue(AnalysisJob(pk=job_id))
    return {"failed": exhausted, "requeued": requeued, "republished": len(lost_ids), "cancelled": cancelled}
