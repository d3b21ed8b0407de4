"""Where evidence lives on disk: uploaded originals (content-addressed by sha256) and job artefacts.

Every path under ``MEDIA_ROOT`` is derived here, so storing, serving, verifying and cleaning up
agree on where a file is.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from cases.models import Media
from cases.uploads import SNIFF_BYTES, SubmissionError, sniff

logger = logging.getLogger(__name__)
CHUNK_BYTES = 1 << 20


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def originals_root() -> Path:
    return media_root() / "originals"


def upload_tmp_dir() -> Path:
    """Where an upload is copied before it is renamed into place (a crash can leave files here)."""
    return originals_root() / "tmp"


def jobs_root() -> Path:
    return media_root() / "jobs"


def original_path(media: Media) -> Path:
    return media_root() / media.storage_path


def job_artifacts_dir(job_id: int) -> Path:
    """The crops and heatmaps of a job's stored results (those of the attempt whose results were kept)."""
    return jobs_root() / str(job_id)


def report_signature_path(job_id: int, report_seq: int) -> Path:
    """The detached signature of the signed PDF whose download was custody event ``report_seq``.

    Beside the job's artefacts, not inside them: a job's artefact folder is swapped by its results write.
    """
    return media_root() / "report-signatures" / str(job_id) / f"{report_seq}.pdf.sig"


def store_report_signature(job_id: int, report_seq: int, signature: dict[str, Any]) -> Path:
    path = report_signature_path(job_id, report_seq)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(signature, indent=1) + "\n")
    return path


# Each attempt writes its own folder beside the job's; its results swap it in (install_attempt_artifacts).
# A worker that lost its lease and goes on writing then never touches the files the job's results name.
ATTEMPT_DIR_SEP = ".attempt-"


def attempt_artifacts_dir(job_id: int, attempt: int) -> Path:
    return jobs_root() / f"{job_id}{ATTEMPT_DIR_SEP}{attempt}"


def install_attempt_artifacts(job_id: int, attempt: int) -> None:
    """Make ``attempt``'s folder the job's, replacing an earlier attempt's; called under the job's row lock
    by the results write, so two attempts never swap at once."""
    final, staged = job_artifacts_dir(job_id), attempt_artifacts_dir(job_id, attempt)
    staged.mkdir(parents=True, exist_ok=True)  # an attempt that found no face wrote nothing
    replaced = jobs_root() / f"{job_id}.replaced-{attempt}"
    if final.exists():
        os.replace(final, replaced)
    os.replace(staged, final)
    shutil.rmtree(replaced, ignore_errors=True)


def store_original(upload: UploadedFile) -> dict[str, Any]:
    """Copy an upload to content-addressed storage; return its sha256, size, sniffed type.

    The file is hashed while it is copied, renamed into place atomically and made
    read-only, so an original is never partially written or later modified.
    """
    tmp_dir = upload_tmp_dir()
    tmp_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    head = b""
    fd, tmp_name = tempfile.mkstemp(dir=tmp_dir)
    try:
        with os.fdopen(fd, "wb") as out:
            upload.seek(0)
            for chunk in upload.chunks(CHUNK_BYTES):
                if len(head) < SNIFF_BYTES:
                    head += chunk[: SNIFF_BYTES - len(head)]
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise SubmissionError("file", "The file is empty.", "empty_file")
        if size > settings.MAX_UPLOAD_BYTES:
            raise SubmissionError("file", f"The file is larger than {settings.MAX_UPLOAD_BYTES} bytes.", "too_large")
        mime, kind = sniff(head)
        if kind is None:
            found = f" (its content is {mime})" if mime else ""
            raise SubmissionError(
                "file",
                f"Not a supported video or image{found}. Allowed: MP4, MOV, MKV, WebM, AVI, MPEG, JPEG, PNG, "
                "WebP, BMP, TIFF; the type is read from the content, not the file name.",
                "unsupported_type",
            )
        sha = digest.hexdigest()
        final = originals_root() / sha[:2] / sha[2:4] / sha
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists() and file_sha256(final) == sha:
            os.unlink(tmp_name)
        else:
            if final.exists():
                # The stored copy no longer matches its name (changed on disk): the fresh upload has
                # the right bytes, so it replaces it; jobs on the bad copy failed with original_modified.
                logger.warning("stored original %s did not match its sha256; replaced by a new upload", sha)
            os.chmod(tmp_name, 0o440)
            os.replace(tmp_name, final)
        relative = final.relative_to(media_root())
        return {"storage_path": str(relative), "sha256": sha, "size_bytes": size, "mime_type": mime, "kind": kind}
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def verify_original(media: Media) -> bool:
    """Re-hash the stored original; False if it is missing or its bytes changed."""
    path = original_path(media)
    return path.is_file() and file_sha256(path) == media.sha256
