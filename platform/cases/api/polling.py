"""What a poller pays per request: a job's version and its lean status, one query each, and their ETags.

A job is polled many times per change, so its ETag is computed from the columns that say whether it
changed, fetched in one query, and a ``304 Not Modified`` answers before any representation is built
(hashing the rendered body, as Django's ConditionalGetMiddleware does, costs the full serialization
per poll).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils.http import parse_etags, quote_etag

from audit.models import events_about_job
from cases.models import AnalysisJob, JobReview
from detector import contract

# Every column the full job representation (JobSerializer) shows, except the JSON columns that only
# ever change together with one listed here: ``settings`` is fixed at submission, and
# ``detector_set``/``diagnostics``/``timings``/``manifest`` and the verdict's columns are written only by
# ``record_results``, which also sets ``finished_at`` and creates a new verdict row (a new id).
JOB_VERSION_FIELDS = (
    "state",
    "stage",
    "progress",
    "attempts",
    "max_attempts",
    "cancel_requested",
    "error_code",
    "error_message",
    "started_at",
    "finished_at",
    "retry_of",
    "review_status",
    "media__case",
    # Filled in by the worker's probe, apart from any job column.
    "media__duration_s",
    "media__fps",
    "media__width",
    "media__height",
    "media__frame_count",
    "media__codec",
    "verdict__id",
    "verdict__created_at",
    "latest_review",
    # A new custody event about the job or its original moves the job's custody link.
    "custody_seq",
)
# The lean status: what a poller needs to know whether to fetch more.
STATUS_FIELDS = (
    "id",
    "state",
    "stage",
    "progress",
    "error_code",
    "review_status",
    "verdict__label",
    "verdict__score",
    "verdict__confidence",
    "verdict__untrained",
    "verdict__authentic_supported",
)


def _job_id(pk: Any) -> int | None:
    """``pk`` from the URL as a job id, or None when it cannot be one (the router's pattern lets any text in)."""
    try:
        return AnalysisJob._meta.pk.to_python(pk)
    except ValidationError:
        return None


def job_version(jobs: QuerySet, pk: Any) -> tuple | None:
    """The version of job ``pk`` among ``jobs`` (already scoped to the user), or None if it is not there."""
    if (pk := _job_id(pk)) is None:
        return None
    latest_review = JobReview.objects.filter(job=OuterRef("pk")).order_by("-created_at", "-id").values("id")[:1]
    custody_seq = events_about_job(OuterRef("pk"), OuterRef("media_id")).values("seq")[:1]
    return (
        jobs.filter(pk=pk)
        .annotate(latest_review=Subquery(latest_review), custody_seq=Subquery(custody_seq))
        .order_by()
        .values_list(*JOB_VERSION_FIELDS)
        .first()
    )


def job_status(jobs: QuerySet, pk: Any) -> dict[str, Any] | None:
    """The lean status of job ``pk`` among ``jobs`` (already scoped to the user), or None."""
    if (pk := _job_id(pk)) is None:
        return None
    row = jobs.filter(pk=pk).order_by().values(*STATUS_FIELDS).first()
    if row is None:
        return None
    verdict = None
    if row["verdict__label"] is not None:
        verdict = {
            "label": row["verdict__label"],
            "label_text": contract.verdict_label_text(row["verdict__label"], row["verdict__authentic_supported"]),
            "score": row["verdict__score"],
            "confidence": row["verdict__confidence"],
            "untrained": row["verdict__untrained"],
        }
    return {
        "id": row["id"],
        "state": row["state"],
        "stage": row["stage"],
        "progress": row["progress"],
        "error_code": row["error_code"],
        "review_status": row["review_status"],
        "verdict": verdict,
    }


def etag_for(request: HttpRequest, representation: str, version: Any) -> str:
    """A strong ETag for ``representation`` at ``version``, as seen through this request's scheme and host.

    The full representation holds absolute URLs, so the same version seen through another host name
    or scheme is another entity.
    """
    payload = repr((representation, request.scheme, request.get_host(), version))
    return quote_etag(hashlib.sha256(payload.encode()).hexdigest()[:32])


def client_has(request: HttpRequest, etag: str) -> bool:
    """True if the request's If-None-Match names ``etag`` (weak comparison, as RFC 9110 asks for GET)."""
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if not header:
        return False
    wanted = parse_etags(header)
    return "*" in wanted or etag.removeprefix("W/") in {tag.removeprefix("W/") for tag in wanted}
