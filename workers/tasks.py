"""Celery tasks: thin, by id, explicitly named, acknowledged only after they finish."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from workers import faults
from workers.analysis import run_job
from workers.limits import time_limits

logger = logging.getLogger(__name__)


@worker_ready.connect
def record_detector_catalogue(**_kwargs) -> None:
    """The shipped detectors and their model cards, for the web process's detector checklist (it has neither)."""
    from cases.detectors import record_catalogue
    from detector.ensemble import shipped_catalogue

    try:
        record_catalogue(shipped_catalogue())
    except Exception:  # the checklist can wait for the next start; the worker's jobs cannot
        logger.exception("the detector catalogue could not be recorded")


# Past the soft limit the job is failed; this much later a task stuck in native code ends its process.
HARD_LIMIT_GRACE_S = 60
# Read once: None in production; the chaos tests' workers (FAULT_INJECTION) get the fault hooks.
JOB_CHECKPOINT = faults.checkpoint()


@shared_task(
    name="forensics.analyze_job",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=(),
)
def analyze_job(job_id: int) -> str:
    from celery import current_task

    worker = f"{current_task.request.hostname}:{current_task.request.id}"
    # Enforced by the task itself, not Celery's time_limit options: those do nothing in the solo pool.
    with time_limits(settings.JOB_TIME_LIMIT_S, settings.JOB_TIME_LIMIT_S + HARD_LIMIT_GRACE_S):
        return run_job(int(job_id), worker, checkpoint=JOB_CHECKPOINT)


# The housekeeping tasks run on the cpu workers' prefork pool, where Celery's own limits apply.
@shared_task(name="forensics.reap_stale_jobs", ignore_result=True, soft_time_limit=60, time_limit=120)
def reap_stale_jobs() -> dict:
    from cases.lease import reap_stale_jobs as reap

    return reap()


@shared_task(name="forensics.clean_up_storage", ignore_result=True, soft_time_limit=600, time_limit=900)
def clean_up_storage() -> dict:
    from cases.retention import clean_up_storage as clean_up

    return clean_up()


@shared_task(
    name="forensics.deliver_webhook",
    bind=True,
    acks_late=True,
    ignore_result=True,
    max_retries=None,  # the delivery row counts attempts (settings.WEBHOOK_MAX_ATTEMPTS)
    soft_time_limit=120,
    time_limit=180,
)
def deliver_webhook(self, delivery_id: int) -> str:
    from webhooks.services import deliver

    attempt = deliver(int(delivery_id))
    if attempt.retry_in_s is not None:
        raise self.retry(countdown=attempt.retry_in_s)
    return attempt.status
