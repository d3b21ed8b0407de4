"""Business rules for cases, media and analysis jobs; views and Celery tasks both call these.

Every state change is a conditional UPDATE (``... WHERE state = 'queued'``) or runs under
``select_for_update``: the row count says who won a race, so two workers never both run
one job and a retry never duplicates results.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Team
from accounts.services import primary_team
from audit.models import AuditAction
from audit.services import record as audit
from cases.models import (
    AnalysisJob,
    Case,
    FaceResult,
    FrameResult,
    JobReview,
    JobStage,
    JobState,
    Media,
    Verdict,
)
from cases.storage import store_original
from cases.uploads import SubmissionError

logger = logging.getLogger(__name__)

ANALYZE_TASK = "forensics.analyze_job"


def job_lease_s() -> float:
    """A running job whose worker has not reported for this long is presumed dead and may be claimed
    again (settings.JOB_LEASE_S; the fault-injection tests shorten it to seconds)."""
    return float(settings.JOB_LEASE_S)


# --- cases -----------------------------------------------------------------------------------


def inbox_for(team: Team, user: AbstractBaseUser) -> Case:
    case, _ = Case.objects.get_or_create(
        team=team, is_inbox=True, defaults={"title": f"{team.name} inbox", "created_by": user}
    )
    return case


def create_case(user: AbstractBaseUser, team: Team, title: str, notes: str = "", tags: list[str] | None = None) -> Case:
    return Case.objects.create(team=team, title=title, notes=notes, tags=tags or [], created_by=user)


# --- media -----------------------------------------------------------------------------------


def record_probe(media_id: int, probe: dict[str, Any]) -> None:
    Media.objects.filter(pk=media_id).update(
        duration_s=probe.get("duration_s"),
        fps=probe.get("fps"),
        width=probe.get("width"),
        height=probe.get("height"),
        frame_count=probe.get("frame_count"),
        codec=(probe.get("codec") or "")[:32],
    )


# --- jobs ------------------------------------------------------------------------------------


def normalise_job_settings(frames: int | None, detectors: list[str] | None) -> dict[str, Any]:
    frames = settings.DEFAULT_SAMPLE_FRAMES if frames is None else int(frames)
    if not 1 <= frames <= settings.MAX_SAMPLE_FRAMES:
        raise SubmissionError("frames", f"frames must be between 1 and {settings.MAX_SAMPLE_FRAMES}.")
    names = [d.strip() for d in (detectors or []) if d.strip()]
    for name in names:
        if not name.replace("_", "").isalnum() or len(name) > 64:
            raise SubmissionError("detectors", f"{name!r} is not a detector name.")
    return {"frames": frames, "detectors": names}


def enqueue(job: AnalysisJob) -> None:
    """Publish the job to the broker; called only after the job's row is committed."""
    from config.celery_app import app

    app.send_task(ANALYZE_TASK, args=[job.pk], queue=settings.ANALYSIS_QUEUE)


def submit_job(
    user: AbstractBaseUser,
    upload: UploadedFile,
    case: Case | None = None,
    frames: int | None = None,
    detectors: list[str] | None = None,
    ip: str | None = None,
) -> AnalysisJob:
    """Store the upload and queue an analysis; Media and job are created in one transaction."""
    job_settings = normalise_job_settings(frames, detectors)
    if case is None:
        team = primary_team(user)
        if team is None:
            raise SubmissionError("case", "You belong to no team, so there is no case to file this under.")
        case = inbox_for(team, user)
    stored = store_original(upload)
    with transaction.atomic():
        media = Media.objects.create(
            case=case,
            original_name=os.path.basename(upload.name or "upload")[:255],
            uploaded_by=user,
            **stored,
        )
        job = AnalysisJob.objects.create(
            media=media, created_by=user, settings=job_settings, max_attempts=settings.JOB_MAX_ATTEMPTS
        )
        Case.objects.filter(pk=case.pk).update(updated_at=timezone.now())
        audit(
            AuditAction.MEDIA_UPLOADED,
            actor=user,
            team=case.team_id,
            object_type="media",
            object_id=media.pk,
            sha256=media.sha256,
            ip=ip,
            detail={"original_name": media.original_name, "size_bytes": media.size_bytes, "case": case.pk},
        )
        audit(
            AuditAction.JOB_SUBMITTED,
            actor=user,
            team=case.team_id,
            object_type="job",
            object_id=job.pk,
            sha256=media.sha256,
            ip=ip,
            detail={"settings": job_settings},
        )
        transaction.on_commit(lambda: enqueue(job))
    logger.info("job %s queued for media %s (%s)", job.pk, media.pk, media.sha256)
    return job


def retry_job(job: AnalysisJob, user: AbstractBaseUser, ip: str | None = None) -> AnalysisJob:
    """A fresh job on the same media with the same settings; the old one keeps its history."""
    with transaction.atomic():
        new = AnalysisJob.objects.create(
            media=job.media,
            created_by=user,
            settings=job.settings,
            max_attempts=settings.JOB_MAX_ATTEMPTS,
            retry_of=job,
        )
        audit(
            AuditAction.JOB_RETRIED,
            actor=user,
            team=job.media.case.team_id,
            object_type="job",
            object_id=new.pk,
            sha256=job.media.sha256,
            ip=ip,
            detail={"retry_of": job.pk},
        )
        transaction.on_commit(lambda: enqueue(new))
    return new


def cancel_job(job: AnalysisJob, user: AbstractBaseUser | None = None, ip: str | None = None) -> AnalysisJob:
    """A queued job is cancelled at once; a running one is flagged and its worker stops at its next report."""
    now = timezone.now()
    with transaction.atomic():
        cancelled = AnalysisJob.objects.filter(pk=job.pk, state=JobState.QUEUED).update(
            state=JobState.CANCELLED,
            finished_at=now,
            error_code="cancelled",
            error_message="Cancelled before it started.",
        )
        flagged = AnalysisJob.objects.filter(pk=job.pk, state=JobState.RUNNING).update(cancel_requested=True)
        if (cancelled or flagged) and user is not None:
            audit(
                AuditAction.JOB_CANCELLED,
                actor=user,
                team=job.media.case.team_id,
                object_type="job",
                object_id=job.pk,
                sha256=job.media.sha256,
                ip=ip,
            )
    job.refresh_from_db()
    return job


class ReviewRefused(Exception):
    """A review that contradicts the job's state (e.g. overriding a verdict that does not exist)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def review_job(
    job: AnalysisJob,
    reviewer: AbstractBaseUser,
    status: str,
    reason: str = "",
    override_label: str = "",
    ip: str | None = None,
) -> JobReview:
    """Record a reviewer's decision; the role check is the caller's (accounts.permissions.IsTeamReviewer).

    An override needs a verdict to override and a reason: the report shows both labels and why.
    """
    reason = reason.strip()
    if override_label and not reason:
        raise ReviewRefused("Overriding a verdict needs a reason.", "reason_required")
    with transaction.atomic():
        locked = AnalysisJob.objects.select_for_update().get(pk=job.pk)
        has_verdict = Verdict.objects.filter(job=locked).exists()
        if override_label and not has_verdict:
            raise ReviewRefused("This job has no verdict to override.", "no_verdict")
        review = JobReview.objects.create(
            job=locked, reviewer=reviewer, status=status, override_label=override_label, reason=reason
        )
        AnalysisJob.objects.filter(pk=locked.pk).update(review_status=status)
        audit(
            AuditAction.JOB_REVIEWED,
            actor=reviewer,
            team=job.media.case.team_id,
            object_type="job",
            object_id=job.pk,
            sha256=job.media.sha256,
            ip=ip,
            detail={"status": status, "override_label": override_label, "reason": reason},
        )
    return review


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
    now = timezone.now()
    stale = now - timedelta(seconds=job_lease_s())
    claimable = (
        Q(state=JobState.QUEUED)
        | Q(state=JobState.RUNNING, heartbeat_at__lt=stale)
        | Q(state=JobState.RUNNING, worker=worker[:200])
    )
    exhausted = AnalysisJob.objects.filter(claimable, pk=job_id, attempts__gte=F("max_attempts"))
    if exhausted.update(
        state=JobState.FAILED,
        finished_at=now,
        error_code="max_attempts_exceeded",
        error_message="The analysis was interrupted on every attempt (a worker died each time); it was stopped.",
    ):
        return None
    won = AnalysisJob.objects.filter(claimable, pk=job_id, attempts__lt=F("max_attempts")).update(
        state=JobState.RUNNING,
        stage=JobStage.DECODING,
        progress=0,
        attempts=F("attempts") + 1,
        worker=worker[:200],
        started_at=now,
        heartbeat_at=now,
        error_code="",
        error_message="",
    )
    if not won:
        return None
    return AnalysisJob.objects.select_related("media").get(pk=job_id)


class JobCancelled(Exception):
    pass


class JobLost(Exception):
    """The job is no longer this worker's (reclaimed after a lost lease, or finished)."""


def report_progress(job_id: int, worker: str, stage: str, progress: int) -> None:
    """Record stage + progress and renew the lease; raise if the job was cancelled or taken over."""
    updated = AnalysisJob.objects.filter(pk=job_id, state=JobState.RUNNING, worker=worker[:200]).update(
        stage=stage, progress=max(0, min(100, int(progress))), heartbeat_at=timezone.now()
    )
    if not updated:
        raise JobLost(f"job {job_id} is no longer running on {worker}")
    if AnalysisJob.objects.filter(pk=job_id, cancel_requested=True).exists():
        raise JobCancelled(f"job {job_id} was cancelled")


def heartbeat(job_id: int, worker: str) -> bool:
    return bool(
        AnalysisJob.objects.filter(pk=job_id, state=JobState.RUNNING, worker=worker[:200]).update(
            heartbeat_at=timezone.now()
        )
    )


def is_cancel_requested(job_id: int) -> bool:
    return AnalysisJob.objects.filter(pk=job_id, cancel_requested=True).exists()


def finish_cancelled(job_id: int) -> None:
    AnalysisJob.objects.filter(pk=job_id, state=JobState.RUNNING).update(
        state=JobState.CANCELLED,
        finished_at=timezone.now(),
        error_code="cancelled",
        error_message="Cancelled while running.",
    )


def fail_job(job_id: int, code: str, message: str, worker: str | None = None) -> bool:
    """Mark a running job failed with a reason; False if it was not running (already ended)."""
    qs = AnalysisJob.objects.filter(pk=job_id, state__in=[JobState.RUNNING, JobState.QUEUED])
    if worker is not None:
        qs = qs.filter(Q(worker=worker[:200]) | Q(state=JobState.QUEUED))
    return bool(
        qs.update(
            state=JobState.FAILED,
            finished_at=timezone.now(),
            error_code=code[:64],
            error_message=message[:4000],
        )
    )


def record_results(job_id: int, worker: str, result: dict[str, Any]) -> bool:
    """Write a finished analysis in one transaction, replacing any rows an earlier attempt left.

    Returns False (and writes nothing) if the job is no longer running on this worker.
    """
    with transaction.atomic():
        job = AnalysisJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.state != JobState.RUNNING or job.worker != worker[:200]:
            return False
        FaceResult.objects.filter(job=job).delete()
        FrameResult.objects.filter(job=job).delete()
        Verdict.objects.filter(job=job).delete()
        frames = FrameResult.objects.bulk_create(
            [
                FrameResult(
                    job=job,
                    frame_index=f["frame_index"],
                    timestamp_s=f["timestamp_s"],
                    readable=f["readable"],
                    error=(f.get("error") or "")[:200],
                    face_count=len(f["faces"]),
                    max_score=max((x["score"] for x in f["faces"] if x["score"] is not None), default=None),
                )
                for f in result["frames"]
            ]
        )
        faces = []
        for frame_row, frame in zip(frames, result["frames"], strict=True):
            for face in frame["faces"]:
                faces.append(
                    FaceResult(
                        job=job,
                        frame=frame_row,
                        track_id=face["track_id"],
                        box=face["box"],
                        det_prob=face["det_prob"],
                        flags=face.get("flags", []),
                        score=face["score"],
                        detector_scores=face["detector_scores"],
                        crop_path=face.get("crop_path") or "",
                        heatmap_path=face.get("heatmap_path") or "",
                    )
                )
        FaceResult.objects.bulk_create(faces, batch_size=500)
        v = result["verdict"]
        Verdict.objects.create(
            job=job,
            label=v["label"],
            score=v["score"],
            confidence=v.get("confidence"),
            aggregation=v.get("aggregation", ""),
            thresholds=v.get("thresholds", {}),
            reason=v.get("reason", ""),
            untrained=v.get("untrained", False),
            per_track=v.get("per_track", []),
            per_detector=v.get("per_detector", {}),
        )
        job.state = JobState.SUCCEEDED
        job.stage = JobStage.DONE
        job.progress = 100
        job.detector_set = result.get("detectors", [])
        job.diagnostics = result.get("diagnostics", {})
        job.timings = result.get("timings", {})
        job.finished_at = timezone.now()
        job.save(update_fields=["state", "stage", "progress", "detector_set", "diagnostics", "timings", "finished_at"])
    return True


def reap_stale_jobs() -> dict[str, int]:
    """Requeue running jobs whose worker stopped renewing the lease, republish long-queued ones.

    A queued job nobody has claimed for a lease is published again (and then once per lease): the
    process may have died between committing the job and publishing it, and its message will never
    come. A duplicate message of a job that was only waiting in line is harmless: the claim refuses it.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=job_lease_s())
    exhausted = AnalysisJob.objects.filter(
        state=JobState.RUNNING, heartbeat_at__lt=stale, attempts__gte=F("max_attempts")
    ).update(
        state=JobState.FAILED,
        finished_at=now,
        error_code="max_attempts_exceeded",
        error_message="The worker stopped responding on every attempt; the job was stopped.",
    )
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
    return {"failed": exhausted, "requeued": requeued, "republished": len(lost_ids)}
