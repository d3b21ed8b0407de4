"""Test-only fault injection: a job's ``settings["fault"]`` can stall or kill the worker running it.

The chaos tests use it for poison pills (a job that SIGKILLs every worker that opens it) and to hold
a job at a known point so a test can kill or cancel it there. Only a worker whose settings turn on
``FAULT_INJECTION`` (config.settings.test) runs jobs with :func:`inject` as their checkpoint;
:func:`checkpoint` decides that once, when the task module loads, so a production worker never
looks at a job's fault. The API cannot set one either (cases.services.normalise_job_settings keeps
only frames and detectors).

A fault is ``{"at": POINT, "action": "kill" | "stall", "seconds": S, "attempts": [1, ...]}``:
``POINT`` is ``"claimed"`` (after the claim and the sha256 check), a pipeline stage as it starts
(``detector.contract.PIPELINE_STAGES``) or ``"results_written"`` (inside the results transaction,
before it commits); ``attempts`` limits it to those attempt numbers.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from typing import Any

from django.conf import settings

from cases.models import AnalysisJob
from detector.contract import PIPELINE_STAGES
from workers.analysis import Checkpoint

logger = logging.getLogger(__name__)
POINTS = ("claimed", *PIPELINE_STAGES, "results_written")


def checkpoint() -> Checkpoint | None:
    """The checkpoint a worker runs its jobs with: :func:`inject` under FAULT_INJECTION, else none."""
    return inject if settings.FAULT_INJECTION else None


def fault_for(job_settings: dict[str, Any] | None, attempt: int, point: str) -> dict[str, Any] | None:
    """The fault a job's settings ask for at ``point`` on this attempt, or None."""
    fault = (job_settings or {}).get("fault")
    if not isinstance(fault, dict) or fault.get("at") != point:
        return None
    attempts = fault.get("attempts")
    if attempts is not None and attempt not in attempts:
        return None
    return fault


def inject(job: AnalysisJob, point: str) -> None:
    """Carry out the job's fault for ``point``, if it has one: SIGKILL this process or sleep."""
    fault = fault_for(job.settings, job.attempts, point)
    if fault is None:
        return
    action = fault.get("action")
    if action == "kill":
        pid = os.getpid()
        logger.warning("fault injection: job %s attempt %s kills worker pid %s at %s", job.pk, job.attempts, pid, point)
        logging.shutdown()
        os.kill(pid, signal.SIGKILL)
    elif action == "stall":
        seconds = float(fault.get("seconds", 30))
        logger.warning("fault injection: job %s attempt %s stalls %.1f s at %s", job.pk, job.attempts, seconds, point)
        time.sleep(seconds)
    else:
        raise ValueError(f"unknown fault action {action!r}")
