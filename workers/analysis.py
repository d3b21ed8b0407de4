"""One analysis job in a worker: claim, verify the original, run the pipeline, store or fail.

Tested without Celery: ``run_job(job_id, worker_name)`` is what the task calls.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, transaction

from cases import lease, results, storage
from cases.models import AnalysisJob
from detector.media import DEFAULT_FRAMES, MediaError
from detector.pipeline import analyze
from workers import model_cache

logger = logging.getLogger(__name__)
HEARTBEAT_S = 10.0
# How often a running job looks for a cancel request: a stage (decoding a long video, MTCNN over
# hundreds of frames) reports no progress for minutes, and "cancel" must stop it within seconds.
CANCEL_POLL_S = 1.0
# Sent by the heartbeat thread to the thread running the job; its handler raises JobCancelled there.
CANCEL_SIGNAL = signal.SIGUSR2
# Stage progress reports closer together than this are skipped to spare the database.
PROGRESS_MIN_INTERVAL_S = 0.5


def heartbeat_interval_s() -> float:
    """Renew the lease several times per lease: one missed beat must not make a live job look dead."""
    return max(0.5, min(HEARTBEAT_S, lease.job_lease_s() / 3))


class CancelSwitch:
    """Raises JobCancelled in the main thread while the analysis runs, when a cancel is requested.

    The pipeline reports progress only between stages, so a cancel noticed by the heartbeat thread
    is delivered as a signal to the main thread (whose handler raises); it interrupts sleeps and
    Python code at once and native code (a decode, a forward pass) when it returns. Only while
    ``armed``: once the results are being written the job finishes normally. Without a main thread
    (a threads pool) the cancel is seen at the next progress report instead.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.armed = False
        self.available = threading.current_thread() is threading.main_thread()

    @staticmethod
    def _raise_cancelled(signum, frame):
        raise lease.JobCancelled("cancel requested while running")

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        if not self.available:
            yield
            return
        previous = signal.signal(CANCEL_SIGNAL, self._raise_cancelled)
        try:
            yield
        finally:
            self.disarm()
            signal.signal(CANCEL_SIGNAL, previous)

    def arm(self) -> None:
        with self.lock:
            self.armed = self.available

    def disarm(self) -> None:
        with self.lock:
            self.armed = False

    def fire(self) -> bool:
        with self.lock:
            if not self.armed:
                return False
            self.armed = False
            signal.pthread_kill(threading.main_thread().ident, CANCEL_SIGNAL)
            return True


class Heartbeat(threading.Thread):
    """Renews the job's lease while a long stage runs without progress reports, and watches for cancels."""

    def __init__(self, job_id: int, worker: str, cancel: CancelSwitch | None = None) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{job_id}")
        self.job_id, self.worker, self.cancel = job_id, worker, cancel
        self.stopped = threading.Event()

    def run(self) -> None:
        from django.db import connection

        beat_every = heartbeat_interval_s()
        last_beat = time.monotonic()
        try:
            while not self.stopped.wait(min(CANCEL_POLL_S, beat_every)):
                try:
                    if time.monotonic() - last_beat >= beat_every:
                        lease.heartbeat(self.job_id, self.worker)
                        last_beat = time.monotonic()
                    cancelled = self.cancel is not None and lease.is_cancel_requested(self.job_id)
                    if cancelled and self.cancel.fire():
                        logger.info("job %s: cancel requested, interrupting the analysis", self.job_id)
                except DatabaseError:
                    logger.warning("heartbeat for job %s failed; retrying", self.job_id)
        finally:
            connection.close()


# Called with the job and a point ("claimed", a pipeline stage as it starts, "results_written"):
# the chaos tests' fault hooks (workers.faults); production workers run without one.
Checkpoint = Callable[[AnalysisJob, str], None]


def _no_checkpoint(job: AnalysisJob, point: str) -> None:
    return None


def run_job(job_id: int, worker: str, checkpoint: Checkpoint | None = None) -> str:
    """Run one job to an end state; return that state (or 'skipped' when not ours to run)."""
    reached = checkpoint or _no_checkpoint
    job = lease.claim_job(job_id, worker)
    if job is None:
        logger.info("job %s not claimed by %s (finished, cancelled or held elsewhere)", job_id, worker)
        return "skipped"
    if not storage.verify_original(job.media):
        lease.fail_job(job_id, "original_modified", "The stored original is missing or its sha256 changed.", worker)
        return "failed"
    reached(job, "claimed")
    last_report = [0.0]

    def progress(stage: str, percent: int) -> None:
        now = time.monotonic()
        if percent in (0, 100) or now - last_report[0] >= PROGRESS_MIN_INTERVAL_S:
            last_report[0] = now
            lease.report_progress(job_id, worker, stage, percent)
        if percent == 0:
            reached(job, stage)

    cancel = CancelSwitch()
    beat = Heartbeat(job_id, worker, cancel)
    with cancel.installed():
        beat.start()
        try:
            return _analyse(job, worker, progress, cancel, reached)
        finally:
            beat.stopped.set()


def _analyse(job: AnalysisJob, worker: str, progress, cancel: CancelSwitch, reached: Checkpoint) -> str:
    job_id = job.pk
    job_settings = job.settings or {}
    try:
        cancel.arm()
        device = model_cache.worker_device()
        try:
            ensemble = model_cache.ensemble(tuple(job_settings.get("detectors") or ()), device, job.media.kind)
        except KeyError as exc:
            lease.fail_job(job_id, "unknown_detector", str(exc.args[0]), worker)
            return "failed"
        result = analyze(
            storage.original_path(job.media),
            frames=int(job_settings.get("frames") or DEFAULT_FRAMES),
            kind=job.media.kind,
            ensemble=ensemble,
            face_finder=model_cache.face_finder(device),
            artifacts_dir=storage.attempt_artifacts_dir(job_id, job.attempts),
            progress=progress,
            media_sha256=job.media.sha256,  # verify_original just hashed the file: not read a second time
        )
        # From here the job finishes normally: a cancel arriving now must not tear a results write.
        cancel.disarm()
        results.record_probe(job.media_id, result.media)
        with transaction.atomic():
            stored = results.record_results(job_id, worker, result)
            reached(job, "results_written")  # inside the transaction: a kill here must leave no results
        if not stored:
            logger.warning("job %s results discarded: it is no longer held by %s", job_id, worker)
            return "skipped"
        return "succeeded"
    except lease.JobCancelled:
        lease.finish_cancelled(job_id)
        return "cancelled"
    except lease.JobLost:
        logger.warning("job %s was taken over while %s ran it", job_id, worker)
        return "skipped"
    except MediaError as exc:
        # The decoder names the stored file (its sha256); the analyst knows it by the name it was uploaded as.
        message = exc.message.replace(storage.original_path(job.media).name, job.media.original_name)
        lease.fail_job(job_id, exc.code, message, worker)
        return "failed"
    except (OperationalError, InterfaceError):
        # The database went away mid-job: leave the job running; its lease expires and the
        # broker's redelivery (or the reaper) runs it again. Re-raise so Celery logs it.
        raise
    except SoftTimeLimitExceeded:
        message = f"The analysis ran past its time limit of {settings.JOB_TIME_LIMIT_S} s."
        lease.fail_job(job_id, "time_limit_exceeded", message, worker)
        return "failed"
    except Exception as exc:
        logger.exception("job %s failed unexpectedly", job_id)
        lease.fail_job(job_id, "internal_error", f"{exc.__class__.__name__}: {exc}", worker)
        return "failed"
    finally:
        cancel.disarm()
