"""Case and job commands: what people do through the API (open a case, submit, retry, cancel, review).

Each command checks its rules, changes the records in one transaction and writes its custody
event; the views only translate HTTP. The worker's side of a job is in ``cases.lease`` (the lease
protocol) and ``cases.results`` (storing a finished analysis); files are in ``cases.storage``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from accounts.models import Team
from accounts.services import primary_team
from audit.models import AuditAction, AuditEvent, chain_for_team
from audit.services import record as audit
from audit.services import record_read
from cases import lease, retention, storage
from cases.models import AnalysisJob, Case, JobReview, JobState, Media, Verdict
from cases.storage import store_original
from cases.uploads import SubmissionError
from webhooks import services as webhooks

logger = logging.getLogger(__name__)

# The ``format`` a report download's custody event names (an HTML download names none).
REPORT_PDF = "pdf"
REPORT_PDF_SIGNATURE = "pdf.sig"


def _audit(
    action: str, subject: Media | AnalysisJob, user: AbstractBaseUser, ip: str | None, detail: dict | None = None
) -> AuditEvent:
    """A custody event about an original or a job, with the original's sha256 and the case's team."""
    return audit(action, actor=user, ip=ip, detail=detail, **_custody_subject(subject))


def _custody_subject(subject: Media | AnalysisJob) -> dict:
    """What a custody event says about its original or job: the case's team, the object and the original's sha256."""
    media = subject if isinstance(subject, Media) else subject.media
    return {
        "team": media.case.team_id,
        "object_type": "media" if subject is media else "job",
        "object_id": subject.pk,
        "sha256": media.sha256,
    }


# --- cases -----------------------------------------------------------------------------------


def inbox_for(team: Team, user: AbstractBaseUser) -> Case:
    case, _ = Case.objects.get_or_create(
        team=team, is_inbox=True, defaults={"title": f"{team.name} inbox", "created_by": user}
    )
    return case


def create_case(
    user: AbstractBaseUser,
    team: Team,
    title: str,
    notes: str = "",
    tags: list[str] | None = None,
    ip: str | None = None,
) -> Case:
    with transaction.atomic():
        case = Case.objects.create(team=team, title=title, notes=notes, tags=tags or [], created_by=user)
        detail = {"title": case.title, "notes": case.notes, "tags": case.tags}
        audit(
            AuditAction.CASE_CREATED, actor=user, team=team, object_type="case", object_id=case.pk, ip=ip, detail=detail
        )
    return case


# What an edit may change. The team is not among them: moving a case would move its evidence to
# another team (an analyst in two teams could carry one team's originals into the other).
CASE_EDITABLE_FIELDS = ("title", "notes", "tags")


def update_case(case: Case, user: AbstractBaseUser, changes: dict[str, Any], ip: str | None = None) -> Case:
    """Apply an edit of title, notes or tags and record what changed, from what, as a custody event."""
    unknown = set(changes) - set(CASE_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        changed = {
            name: {"from": getattr(locked, name), "to": value}
            for name, value in changes.items()
            if getattr(locked, name) != value
        }
        if changed:
            for name, change in changed.items():
                setattr(locked, name, change["to"])
            locked.save(update_fields=[*changed, "updated_at"])
            audit(
                AuditAction.CASE_UPDATED,
                actor=user,
                team=locked.team_id,
                object_type="case",
                object_id=locked.pk,
                ip=ip,
                detail=changed,
            )
    return locked


# --- jobs ------------------------------------------------------------------------------------


def normalise_job_settings(frames: int | None, detectors: list[str] | None) -> dict[str, Any]:
    """The settings a job runs with, refused unless every detector named is a shipped, trained one.

    Names are kept once each, in the order first named: every distinct list is a set of models a
    worker loads, so duplicates, untrained or unknown names and long lists are refused here, before
    anything is stored or queued.
    """
    frames = settings.DEFAULT_SAMPLE_FRAMES if frames is None else int(frames)
    if not 1 <= frames <= settings.MAX_SAMPLE_FRAMES:
        raise SubmissionError("frames", f"frames must be between 1 and {settings.MAX_SAMPLE_FRAMES}.")
    names = list(dict.fromkeys(d.strip() for d in (detectors or []) if d.strip()))
    if len(names) > settings.MAX_DETECTORS_PER_JOB:
        raise SubmissionError("detectors", f"Name at most {settings.MAX_DETECTORS_PER_JOB} detectors.")
    for name in names:
        if name not in settings.ANALYSIS_DETECTORS:
            shown = name if len(name) <= 64 else name[:64] + "…"
            raise SubmissionError(
                "detectors",
                f"{shown!r} is not a trained detector; choose from {', '.join(settings.ANALYSIS_DETECTORS)}.",
            )
    return {"frames": frames, "detectors": names}


def team_storage_bytes(team_id: int) -> int:
    """The bytes of every original a team has uploaded and still holds (what its quota counts)."""
    kept = Media.objects.filter(case__team_id=team_id, original_deleted_at__isnull=True)
    return kept.aggregate(total=Sum("size_bytes"))["total"] or 0


def check_storage_quota(team_id: int, incoming_bytes: int) -> None:
    """Refuse an upload that would take the team past FORENSICS_TEAM_STORAGE_QUOTA_BYTES (0: no quota).

    Checked before the file is stored; two uploads at once may each pass and together overshoot by
    one file, which the quota tolerates (it bounds a team's disk, it is not a billing meter).
    """
    quota = settings.TEAM_STORAGE_QUOTA_BYTES
    if quota and team_storage_bytes(team_id) + incoming_bytes > quota:
        raise SubmissionError(
            "file",
            f"Your team's storage quota of {filesizeformat(quota)} is used up; ask an administrator to free space "
            "or raise it.",
            "quota_exceeded",
        )


class OriginalDeleted(Exception):
    """The original was deleted under its team's retention: it can be neither served nor analysed again."""

    def __init__(self, media: Media) -> None:
        super().__init__(f"original of media {media.pk} deleted")
        self.media = media


def original_gone(media: Media) -> dict[str, Any]:
    """The 410 body for an original that retention deleted."""
    return {
        "detail": f"The original was deleted on {media.original_deleted_at:%Y-%m-%d} "
        f"({media.original_deleted_reason or 'retention'}); its hashes, results and custody log are kept.",
        "code": "original_deleted",
        "original_deleted_at": media.original_deleted_at.isoformat(),
        "original_deleted_reason": media.original_deleted_reason,
        "sha256": media.sha256,
    }


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
    check_storage_quota(case.team_id, upload.size or 0)
    stored = store_original(upload)
    with transaction.atomic():
        # Retention may have deleted the same content (stored once for all) since it was stored: under
        # the content's lock, either the clean-up sees this row and keeps the file, or it is gone and
        # is stored again.
        retention.lock_content(stored["sha256"])
        if not (storage.media_root() / stored["storage_path"]).is_file():
            stored = store_original(upload)
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
        detail = {"original_name": media.original_name, "size_bytes": media.size_bytes, "case": case.pk}
        _audit(AuditAction.MEDIA_UPLOADED, media, user, ip, detail)
        _audit(AuditAction.JOB_SUBMITTED, job, user, ip, {"settings": job_settings})
        transaction.on_commit(lambda: lease.enqueue(job))
    logger.info("job %s queued for media %s (%s)", job.pk, media.pk, media.sha256)
    return job


def retry_job(job: AnalysisJob, user: AbstractBaseUser, ip: str | None = None) -> AnalysisJob:
    """A fresh job on the same media with the same settings; the old one keeps its history.

    Refused (OriginalDeleted) when retention has deleted the original; the media row is locked so the
    clean-up either sees the new job or has already deleted it."""
    with transaction.atomic():
        media = Media.objects.select_for_update().get(pk=job.media_id)
        if media.original_deleted_at is not None:
            raise OriginalDeleted(media)
        new = AnalysisJob.objects.create(
            media=job.media,
            created_by=user,
            settings=job.settings,
            max_attempts=settings.JOB_MAX_ATTEMPTS,
            retry_of=job,
        )
        _audit(AuditAction.JOB_RETRIED, new, user, ip, {"retry_of": job.pk})
        transaction.on_commit(lambda: lease.enqueue(new))
    return new


def cancel_job(job: AnalysisJob, user: AbstractBaseUser | None = None, ip: str | None = None) -> AnalysisJob:
    """A queued job is cancelled at once; a running one is flagged and its worker stops at its next report."""
    with transaction.atomic():
        if lease.request_cancel(job.pk):
            if user is not None:
                _audit(AuditAction.JOB_CANCELLED, job, user, ip)
            if AnalysisJob.objects.filter(pk=job.pk, state=JobState.CANCELLED).exists():
                webhooks.job_finished(job.pk)  # a queued job ends at once; a running one when its worker stops
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
        AnalysisJob.objects.filter(pk=locked.pk).update(review_status=status, review_label=override_label)
        # A review changes what the case says: it moves up the case list ("updated").
        Case.objects.filter(pk=locked.media.case_id).update(updated_at=timezone.now())
        detail = {"status": status, "override_label": override_label, "reason": reason}
        _audit(AuditAction.JOB_REVIEWED, job, reviewer, ip, detail)
        webhooks.job_reviewed(job.pk)
    return review


# --- evidence handed out ---------------------------------------------------------------------


def original_downloaded(media: Media, user: AbstractBaseUser, ip: str | None = None) -> None:
    """Custody: an original left the platform (the view serves the bytes)."""
    _audit(AuditAction.MEDIA_DOWNLOADED, media, user, ip)


def report_downloaded(job: AnalysisJob, user: AbstractBaseUser, ip: str | None = None) -> None:
    """Custody: a job's report was downloaded to be handed on."""
    _audit(AuditAction.REPORT_DOWNLOADED, job, user, ip)


def _audit_read(
    action: str, subject: Media | AnalysisJob, user: AbstractBaseUser, ip: str | None, detail: dict | None = None
) -> AuditEvent | None:
    """A read of evidence, recorded once per person, object and kind of read in audit.services.EVIDENCE_READ_WINDOW_S
    (the first request's detail is kept): one page view is one event of each kind, not one per request."""
    return record_read(action, actor=user, ip=ip, detail=detail, **_custody_subject(subject))


def original_viewed(media: Media, user: AbstractBaseUser, ip: str | None = None, byte_range: str = "") -> None:
    """Custody: (part of) an original was read for inline playback (a player's range requests: one read)."""
    _audit_read(AuditAction.MEDIA_VIEWED, media, user, ip, {"range": byte_range[:100]})


def signed_report_downloaded(job: AnalysisJob, user: AbstractBaseUser, ip: str | None = None) -> AuditEvent:
    """Custody: a job's report was downloaded as a signed PDF. Its sequence number names that PDF and
    its signature (the chain head the PDF prints includes this event)."""
    return _audit(AuditAction.REPORT_DOWNLOADED, job, user, ip, {"format": REPORT_PDF})


def report_signature_downloaded(
    job: AnalysisJob, user: AbstractBaseUser, report_seq: int, ip: str | None = None
) -> None:
    """Custody: the detached signature of the signed PDF named by ``report_seq`` was downloaded."""
    _audit(AuditAction.REPORT_DOWNLOADED, job, user, ip, {"format": REPORT_PDF_SIGNATURE, "report_seq": report_seq})


def signed_report_seq(job: AnalysisJob, user: AbstractBaseUser, seq: int | None = None) -> int | None:
    """The custody seq of a signed PDF of ``job``: ``seq`` if that event is one, else ``user``'s newest PDF.

    None when there is no such download."""
    downloads = AuditEvent.objects.filter(
        chain=chain_for_team(job.media.case.team_id),
        action=AuditAction.REPORT_DOWNLOADED,
        object_type="job",
        object_id=str(job.pk),
        detail__format=REPORT_PDF,
    )
    downloads = downloads.filter(seq=seq) if seq is not None else downloads.filter(actor=user)
    return downloads.order_by("-seq").values_list("seq", flat=True).first()


def report_viewed(job: AnalysisJob, user: AbstractBaseUser, ip: str | None = None) -> None:
    """Custody: a job's report was opened."""
    _audit_read(AuditAction.REPORT_VIEWED, job, user, ip)


def artifact_viewed(job: AnalysisJob, user: AbstractBaseUser, path: str, ip: str | None = None) -> None:
    """Custody: the face crops or heatmaps cut from the original were read (a page's dozens of images: one read)."""
    _audit_read(AuditAction.ARTIFACT_VIEWED, job, user, ip, {"path": path[:200]})
