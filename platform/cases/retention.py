"""Storage clean-up that beat runs periodically: files that no record points to any more.

Originals and job results are evidence and are never removed here; only what a crash left behind
(half-copied uploads) and the artifact folders of jobs whose rows were deleted.
"""

from __future__ import annotations

import logging
import shutil
import time

from cases.models import AnalysisJob
from cases.storage import ATTEMPT_DIR_SEP, jobs_root, upload_tmp_dir

logger = logging.getLogger(__name__)
# store_original removes its temporary file unless its process died mid-copy; an upload of the
# largest allowed file finishes well within a day, so an older temporary file is abandoned.
ABANDONED_UPLOAD_AGE_S = 24 * 3600


def clean_up_storage(now_s: float | None = None) -> dict[str, int]:
    """Delete abandoned upload temporaries and orphaned job artifact folders; return the counts."""
    now_s = time.time() if now_s is None else now_s
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
    return {"abandoned_uploads": uploads, "orphaned_job_folders": len(orphans)}
