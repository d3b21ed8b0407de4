"""One analysis job in a worker: claim, verify the original, run the pipeline, store or fail.

Tested without Celery: ``run_job(job_id, worker_name)`` is what the task calls.
"""

from __future__ import annotations

import logging
import threading
import time

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings as django_settings
from django.db import DatabaseError, InterfaceError, OperationalError

from cases import services
from detector.media import MediaError
from detector.pipeline import analyze
from workers import model_cache

logger = logging.getLogger(__name__)
HEARTBEAT_S = 10.0
# Stage progress reports closer together than this are skipped to spare the database.
PROGRESS_MIN_INTERVAL_S = 0.5


class Heartbeat(threading.Thread):
    """Renews the job's lease while a long stage runs without progress reports."""

    def __init__(self, job_id: int, worker: str) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{job_id}")
        self.job_id, self.worker = job_id, worker
        self.stopped = threading.Event()

    def run(self) -> None:
        from django.db import connection

        try:
            while not self.stopped.wait(HEARTBEAT_S):
                try:
                    services.heartbeat(self.job_id, self.worker)
                except DatabaseError:
                    logger.warning("heartbeat for job %s failed; retrying", self.job_id)
        finally:
            connection.close()


def run_job(job_id: int, worker: str) -> str:
    """Run one job to an end state; return that state (or 'skipped' when not ours to run)."""
    job = services.claim_job(job_id, worker)
    if job is None:
        logger.info("job %s not claimed by %s (finished, cancelled or held elsewhere)", job_id, worker)
        return "skipped"
    if not services.verify_original(job.media):
        services.fail_job(job_id, "original_modified", "The stored original is missing or its sha256 changed.", worker)
        return "failed"
    settings = job.settings or {}
    names = tuple(settings.get("detectors") or ())
    last_report = [0.0]

    def progress(stage: str, percent: int) -> None:
        now = time.monotonic()
        if percent in (0, 100) or now - last_report[0] >= PROGRESS_MIN_INTERVAL_S:
            last_report[0] = now
            services.report_progress(job_id, worker, stage, percent)

    beat = Heartbeat(job_id, worker)
    beat.start()
    try:
        device = model_cache.worker_device()
        try:
            ensemble = model_cache.ensemble(names, device)
        except KeyError as exc:
            services.fail_job(job_id, "unknown_detector", str(exc.args[0]), worker)
            return "failed"
        result = analyze(
            services.original_path(job.media),
            frames=int(settings.get("frames") or 32),
            kind=job.media.kind,
            ensemble=ensemble,
            face_finder=model_cache.face_finder(device),
            artifacts_dir=services.job_artifacts_dir(job_id),
            progress=progress,
        )
        services.record_probe(job.media_id, result["media"])
        if not services.record_results(job_id, worker, result):
            logger.warning("job %s results discarded: it is no longer held by %s", job_id, worker)
            return "skipped"
        return "succeeded"
    except services.JobCancelled:
        services.finish_cancelled(job_id)
        return "cancelled"
    except services.JobLost:
        logger.warning("job %s was taken over while %s ran it", job_id, worker)
        return "skipped"
    except MediaError as exc:
        services.fail_job(job_id, exc.code, exc.message, worker)
        return "failed"
    except (OperationalError, InterfaceError):
        # The database went away mid-job: leave the job running; its lease expires and the
        # broker's redelivery (or the reaper) runs it again. Re-raise so Celery logs it.
        raise
    except SoftTimeLimitExceeded:
        message = f"The analysis ran past its time limit of {django_settings.JOB_TIME_LIMIT_S} s."
        services.fail_job(job_id, "time_limit_exceeded", message, worker)
        return "failed"
    except Exception as exc:
        logger.exception("job %s failed unexpectedly", job_id)
        services.fail_job(job_id, "internal_error", f"{exc.__class__.__name__}: {exc}", worker)
        return "failed"
    finally:
        beat.stopped.set()
