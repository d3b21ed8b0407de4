"""A job past its time limit is failed with a reason: the soft limit raises, the hard one ends the process."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from cases.models import AnalysisJob, JobState
from workers import tasks
from workers.limits import HARD_LIMIT_EXIT_CODE, time_limits


def test_the_soft_limit_interrupts_the_task_with_soft_time_limit_exceeded():
    started = time.monotonic()
    with pytest.raises(SoftTimeLimitExceeded), time_limits(0.2, 30):
        time.sleep(10)
    assert time.monotonic() - started < 5


def test_the_hard_limit_ends_a_process_stuck_where_the_soft_limit_cannot_reach_it():
    # SIGALRM blocked stands for native code that never returns to Python to take the soft limit.
    stuck = (
        "import signal, time\n"
        "from workers.limits import time_limits\n"
        "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})\n"
        "with time_limits(0.1, 0.5):\n"
        "    time.sleep(60)\n"
    )
    started = time.monotonic()
    ended = subprocess.run([sys.executable, "-c", stuck], capture_output=True, text=True, timeout=120)
    assert ended.returncode == HARD_LIMIT_EXIT_CODE, ended.stderr
    assert time.monotonic() - started < 60


@pytest.mark.django_db
def test_a_job_running_past_its_time_limit_is_failed_with_time_limit_exceeded(settings, alice, case, sample_clip_path):
    settings.JOB_TIME_LIMIT_S = 2
    upload = SimpleUploadedFile("clip.mp4", sample_clip_path.read_bytes(), content_type="video/mp4")
    job = services.submit_job(alice, upload, case=case, frames=2, detectors=["spectral_lr"])
    stall = {"at": "decoding", "action": "stall", "seconds": 60}  # the chaos tests' hook (FAULT_INJECTION)
    AnalysisJob.objects.filter(pk=job.pk).update(settings={**job.settings, "fault": stall})

    assert tasks.analyze_job.apply(args=[job.pk]).get(timeout=120) == "failed"

    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.error_code == "time_limit_exceeded"
    assert "time limit of 2 s" in job.error_message
