"""Time limits for an analysis that hold in every Celery pool, the GPU worker's solo pool included.

Celery enforces ``soft_time_limit``/``time_limit`` only in the prefork pool; the solo and threads
pools (the GPU worker runs solo so CUDA is never forked) ignore them silently. So the task sets its
own: a SIGALRM raises ``SoftTimeLimitExceeded`` in the task at the soft limit (the job is failed
with a reason), and a watchdog thread ends the process at the hard limit when the task is stuck in
C code that never returns to Python. The supervisor (compose ``restart``) starts a fresh worker;
the job's lease then expires and the reaper requeues it, bounded by its attempts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Iterator

from celery.exceptions import SoftTimeLimitExceeded

logger = logging.getLogger(__name__)
# What the worker exits with when the hard limit ends it (EX_SOFTWARE): visible in `docker compose ps`.
HARD_LIMIT_EXIT_CODE = 70


def _raise_soft_limit(signum, frame):
    raise SoftTimeLimitExceeded("soft time limit exceeded")


def _exit_at_hard_limit(hard_s: float) -> None:
    logger.critical("task still running after its hard time limit of %.0f s: ending the worker process", hard_s)
    logging.shutdown()
    os._exit(HARD_LIMIT_EXIT_CODE)


@contextlib.contextmanager
def time_limits(soft_s: float, hard_s: float) -> Iterator[None]:
    """Raise SoftTimeLimitExceeded after ``soft_s``; end the process after ``hard_s`` (> soft_s)."""
    # Signals reach only the main thread: in a threads pool the soft limit is left to the hard one.
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = None
    if on_main_thread:
        previous = signal.signal(signal.SIGALRM, _raise_soft_limit)
        signal.setitimer(signal.ITIMER_REAL, soft_s)
    watchdog = threading.Timer(hard_s, _exit_at_hard_limit, args=(hard_s,))
    watchdog.daemon = True
    watchdog.start()
    try:
        yield
    finally:
        watchdog.cancel()
        if on_main_thread:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
