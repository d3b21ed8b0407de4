"""Test-only fault injection: a job's ``settings["fault"]`` can stall or kill the worker running it.

The chaos tests use it for poison pills (a job that SIGKILLs every worker that opens it) and to hold
a job at a known point so a test can kill or cancel it there. Honoured only when
``settings.FAULT_INJECTION`` is true (config.settings.test); production settings leave it False,
and the API cannot set it (cases.services.normalise_job_settings keeps only frames and detectors).

A fault is ``{"at": POINT, "action": "kill" | "stall", "seconds": S, "attempts": [1, ...]}``:
``POINT`` is ``"claimed"`` (after the claim and the sha256 check), a pipeline stage as it starts
(``"decoding"``, ``"faces"``, ``"scoring"``, ``"aggregating"``) or ``"results_written"`` (inside
the results transaction, before it commits); ``attempts`` limits it to those attempt numbers.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)
POINTS = ("claimed", "decoding", "faces", "scoring", "aggregating", "results_written")


def fault_for(job_settings: dict[str, Any] | None, attempt: int, point: str) -> dict[str, Any] | None:
    """The fault to inject at ``point`` on this attempt, or None (always None unless FAULT_INJECTION)."""
    if not settings.FAULT_INJECTION:
        return None
    fault = (job_settings or {}).get("fault")
    if not isinstance(fault, dict) or fault.get("at") != point:
        return None
    attempts = fault.get("attempts")
    if attempts is not None and attempt not in attempts:
        return None
    return fault


def inject(job_id: int, job_settings: dict[str, Any] | None, attempt: int, point: str) -> None:
    """Carry out the job's fault for ``point``, if it has one: SIGKILL this process or sleep."""
    fault = fault_for(job_settings, attempt, point)
    if fault is None:
        return
    action = fault.get("action")
    if action == "kill":
        pid = os.getpid()
        logger.warning("fault injection: job %s attempt %s kills worker pid %s at %s", job_id, attempt, pid, point)
        logging.shutdown()
        os.kill(pid, signal.SIGKILL)
    elif action == "stall":
        seconds = float(fault.get("seconds", 30))
        logger.warning("fault injection: job %s attempt %s stalls %.1f s at %s", job_id, attempt, seconds, point)
        time.sleep(seconds)
    else:
        raise ValueError(f"unknown fault action {action!r}")
