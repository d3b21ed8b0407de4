"""Storage clean-up that beat runs periodically: files that no record points to any more, and
originals past their team's retention.

Job results are evidence and are never removed here. Originals are removed only where their team
asked for it (``Team.original_retention_days``), once no analysis of them is queued or running and
no other media row (of any team: storage is content-addressed) still needs the same file; the Media
row, its sha256, every result and the custody log stay, and each deletion is a custody event.
"""

from __future__ import annotations

import datetime
import logging
import shutil
import time

from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from audit.models import AuditAction
from audit.services import record as audit
from cases.models import ACTIVE_STATES, AnalysisJob, Media
from cases.storage import ATTEMPT_DIR_SEP, jobs_root, original_path, upload_tmp_dir

logger = logging.getLogger(__name__)
# store_original removes its temporary file unless its process died mid-copy; an upload of the
# largest allowed file finishes well within a day, so an older temporary file is abandoned.
ABANDONED_UPLOAD_AGE_S = 24 * 3600


def clean_up_storage(now_s: float | None = None) -> dict[str, int]:
    """Delete abandoned upload temporaries, orphaned job artifact folders and originals past their
    team's retention; return the counts."""
    now_s = time.time() if now_s is None else now_s
    deleted = apply_retention(datetime.datetime.fromtimestamp(now_s, tz=datetime.UTC))
    uploads = 0
    for path in upload_tmp_dir().glob("*"):
        if path.is_file() and now_s - path.stat().st_mtime > ABANDONED_UPLOAD_AGE_S:
            path.unlink(missing_ok=True)
            uploads += 1
    folders = {p.name: p for p in jobs_root().glob("*") if p.is_dir() and p.name.isdigit()}
    known = AnalysisJob.objects.filter(pk__in=[int(n) for n in folders]).values_list("pk", flat=True)
    existing = {str(pk) for pk in known}
    orphans = [path for name, path in folders.items() if name not in existing]
    # Folders of attempts whose results were never kept (a worker that died or lost its lease).
    for path in jobs_root().glob(f"*{ATTEMPT_DIR_SEP}*"):
        if path.is_dir() and now_s - path.stat().st_mtime > ABANDONED_UPLOAD_AGE_S:
            orphans.append(path)
    for path in orphans:
        shutil.rmtree(path, ignore_errors=True)
    if uploads or orphans:
        logger.info("storage clean-up removed %d abandoned uploads, %d orphaned job folders", uploads, len(orphans))
    return {"abandoned_uploads": uploads, "orphaned_job_folders": len(orphans), "originals_deleted": deleted}


def retention_reason(days: int) -> str:
    return f"team retention: {days} day{'' if days == 1 else 's'}"


def lock_content(sha256: str) -> None:
    """Serialise deleting a stored file with storing the same content again (cases.services.submit_job):
    a transaction-scoped advisory lock named by the sha256."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(sha256[:15], 16)])


def _due(now: datetime.datetime) -> dict[int, tuple[int, datetime.datetime]]:
    """Media whose original their team's retention says to delete by ``now``: {id: (days, last ended)}."""
    candidates = (
        Media.objects.filter(original_deleted_at__isnull=True, case__team__original_retention_days__isnull=False)
        .exclude(jobs__state__in=ACTIVE_STATES)
        .annotate(jobs_count=Count("jobs"), last_ended=Max("jobs__finished_at"))
        .filter(jobs_count__gt=0, last_ended__isnull=False)
        .values_list("pk", "case__team__original_retention_days", "last_ended")
    )
    return {pk: (days, ended) for pk, days, ended in candidates if ended + datetime.timedelta(days=days) <= now}


def apply_retention(now: datetime.datetime | None = None) -> int:
    """Delete the originals due under their team's retention at ``now``; return how many media lost theirs.

    A stored file is shared by every media row of the same content (of any team); it is deleted only
    when every row still holding it is due, and each of those rows gets its own custody event.
    """
    now = timezone.now() if now is None else now
    due = _due(now)
    paths = set(Media.objects.filter(pk__in=due).values_list("storage_path", "sha256"))
    deleted = 0
    for storage_path, sha256 in sorted(paths):
        with transaction.atomic():
            lock_content(sha256)
            holders = list(
                Media.objects.select_for_update()
                .select_related("case")
                .filter(storage_path=storage_path, original_deleted_at__isnull=True)
                .order_by("pk")
            )
            # Re-checked under the locks: a job submitted or retried since (retry_job locks the media row).
            busy = AnalysisJob.objects.filter(media__in=holders, state__in=ACTIVE_STATES).exists()
            if busy or not holders or any(m.pk not in due for m in holders):
                continue
            original_path(holders[0]).unlink(missing_ok=True)  # every holder names the same file
            for media in holders:
                days, last_ended = due[media.pk]
                reason = retention_reason(days)
                Media.objects.filter(pk=media.pk).update(original_deleted_at=now, original_deleted_reason=reason)
                audit(
                    AuditAction.MEDIA_ORIGINAL_DELETED,
                    actor=None,
                    team=media.case.team_id,
                    object_type="media",
                    object_id=media.pk,
                    sha256=media.sha256,
                    detail={
                        "by": "system",
                        "reason": reason,
                        "retention_days": days,
                        "last_analysis_ended": last_ended.isoformat(),
                    },
                )
                deleted += 1
    if deleted:
        logger.info("retention deleted the originals of %d media", deleted)
    return deleted
