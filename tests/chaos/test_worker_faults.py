"""A worker killed mid-job, a poison pill, a lost publish, a cancel, a tampered original: real processes.

Every process is started by the test and killed by its own PID (workers.processes, tests/chaos/conftest).
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import time

import pytest
from django.conf import settings

from cases import storage
from cases.models import AnalysisJob, FaceResult, FrameResult, JobState, Media, Verdict
from tests.chaos.conftest import (
    CHAOS_LEASE_S,
    CHAOS_REAPER_INTERVAL_S,
    CHEAP_JOB,
    submit,
    wait_for,
    wait_terminal,
)
from tests.conftest import client_for, database_url_for_children

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]
KILLS = 20
# Every this many kills the whole worker (main process and pool) is killed instead of the pool
# process alone: then no one is left to hand the message back, and the reaper must find the job.
WHOLE_WORKER_KILL_EVERY = 10
STALL_AT_FACES = {"at": "faces", "action": "stall", "seconds": 120, "attempts": [1]}


def job_is_stalled(job_id: int) -> bool:
    return AnalysisJob.objects.filter(pk=job_id, state=JobState.RUNNING, stage="faces", attempts=1).exists()


def assert_one_result_set(job: AnalysisJob) -> None:
    frames = list(FrameResult.objects.filter(job=job).values_list("frame_index", flat=True))
    assert len(frames) == CHEAP_JOB["frames"] and len(set(frames)) == len(frames), (job.pk, frames)
    assert Verdict.objects.filter(job=job).count() == 1
    faces = FaceResult.objects.filter(job=job)
    assert faces.count() == sum(f.face_count for f in FrameResult.objects.filter(job=job))
    assert len({(f.frame_id, f.track_id) for f in faces}) == faces.count()


def test_a_job_that_kills_every_worker_fails_after_max_attempts_with_a_reason(
    chaos_worker, alice, case, tiny_face_clip
):
    poison = submit(alice, case, tiny_face_clip, fault={"at": "claimed", "action": "kill"})
    (job,) = wait_terminal([poison.pk], timeout_s=90)

    assert job.state == JobState.FAILED and job.error_code == "max_attempts_exceeded", (job.state, job.error_code)
    assert job.attempts == job.max_attempts == settings.JOB_MAX_ATTEMPTS
    assert "interrupted on every attempt" in job.error_message or "stopped responding" in job.error_message
    assert not FrameResult.objects.filter(job=job).exists() and not Verdict.objects.filter(job=job).exists()
    # The worker survived its pool process being killed three times and still runs good jobs.
    assert chaos_worker.alive()
    (after,) = wait_terminal([submit(alice, case, tiny_face_clip).pk], timeout_s=60)
    assert after.state == JobState.SUCCEEDED, (after.error_code, after.error_message)


def test_cancelling_a_running_job_stops_its_worker_within_seconds(chaos_worker, alice, case, tiny_face_clip):
    job = submit(alice, case, tiny_face_clip, fault=STALL_AT_FACES)
    wait_for(lambda: job_is_stalled(job.pk), 60, "the job to run")
    pool_pid = chaos_worker.pool_pid()

    started = time.monotonic()
    response = client_for(alice).post(f"/api/v1/jobs/{job.pk}/cancel/")
    assert response.status_code == 200, response.content
    wait_for(lambda: AnalysisJob.objects.filter(pk=job.pk).exclude(state=JobState.RUNNING).exists(), 10, "the cancel")
    stopped_after_s = time.monotonic() - started
    job.refresh_from_db()
    print(f"cancel → state {job.state} after {stopped_after_s:.2f} s")

    assert job.state == JobState.CANCELLED and job.error_code == "cancelled"
    assert stopped_after_s < 5.0
    assert not FrameResult.objects.filter(job=job).exists()
    # The pool process stopped the job, not itself: the same process runs the next job.
    (after,) = wait_terminal([submit(alice, case, tiny_face_clip).pk], timeout_s=60)
    assert after.state == JobState.SUCCEEDED and chaos_worker.pool_pid() == pool_pid


SUBMIT_AND_CRASH_BEFORE_PUBLISH = """
import os, signal, django
django.setup()
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from cases import lease, services
from cases.models import Case

def crash(job):  # the process dies after the commit, before the broker hears of the job
    print("committed job", job.pk, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

lease.enqueue = crash
user = get_user_model().objects.get(pk={user})
with open({clip!r}, "rb") as fh:
    upload = SimpleUploadedFile("lost.mp4", fh.read(), "video/mp4")
services.submit_job(user, upload, case=Case.objects.get(pk={case}), frames=2, detectors=["spectral_lr"])
"""


def test_a_job_committed_but_never_published_is_requeued_by_the_reaper_within_its_lease(
    chaos_worker, worker_env, alice, case, tiny_face_clip
):
    script = SUBMIT_AND_CRASH_BEFORE_PUBLISH.format(user=alice.pk, case=case.pk, clip=str(tiny_face_clip))
    env = {**os.environ, **worker_env, "DATABASE_URL": database_url_for_children()}
    crashed = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert crashed.returncode == -9, crashed.stderr[-2000:]
    job_id = int(crashed.stdout.split("committed job ")[1].split()[0])
    job = AnalysisJob.objects.get(pk=job_id)
    assert job.state == JobState.QUEUED and job.attempts == 0

    (job,) = wait_terminal([job_id], timeout_s=60)
    picked_up_after_s = (job.started_at - job.created_at).total_seconds()
    print(f"lost publish: picked up {picked_up_after_s:.1f} s after its commit (lease {CHAOS_LEASE_S} s)")
    assert job.state == JobState.SUCCEEDED and job.attempts == 1, (job.state, job.error_code)
    # Found at the first reaper run after one lease without a claim.
    assert CHAOS_LEASE_S <= picked_up_after_s <= CHAOS_LEASE_S + CHAOS_REAPER_INTERVAL_S + 5


def test_a_tampered_original_fails_its_analysis_with_a_clear_code(chaos_worker, alice, case, tmp_path):
    from detector.synthetic import write_blank_clip

    clip = write_blank_clip(tmp_path / "evidence.mp4", seconds=1.0, fps=8, size=(96, 96))
    first = submit(alice, case, clip)
    (first,) = wait_terminal([first.pk], timeout_s=60)
    assert first.state == JobState.SUCCEEDED
    media = first.media
    path = storage.original_path(media)
    assert stat.S_IMODE(path.stat().st_mode) == 0o440, "originals are stored read-only"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == media.sha256 == path.name

    # Someone with shell access changes one byte of the evidence.
    path.chmod(0o640)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    response = client_for(alice).post(f"/api/v1/jobs/{first.pk}/retry/")
    assert response.status_code == 202, response.content
    (retry,) = wait_terminal([response.json()["id"]], timeout_s=60)
    assert retry.state == JobState.FAILED and retry.error_code == "original_modified", retry.error_code
    assert not FrameResult.objects.filter(job=retry).exists()


def test_a_worker_sigkilled_mid_job_20_times_loses_no_job_and_duplicates_no_result(
    chaos_worker, alice, case, tiny_face_clip
):
    jobs = [submit(alice, case, tiny_face_clip, fault=STALL_AT_FACES).pk for _ in range(KILLS)]
    killed: dict[int, str] = {}
    started = time.monotonic()
    deadline = started + 240
    while len(killed) < KILLS and time.monotonic() < deadline:
        stalled = (
            AnalysisJob.objects.filter(pk__in=jobs, state=JobState.RUNNING, stage="faces", attempts=1)
            .exclude(pk__in=list(killed))
            .values_list("pk", flat=True)
        )
        for pk in stalled:
            if (len(killed) + 1) % WHOLE_WORKER_KILL_EVERY == 0:
                chaos_worker.kill_whole_worker()
                chaos_worker.start()
                killed[pk] = "whole worker"
            else:
                chaos_worker.kill_pool_process()
                killed[pk] = "pool process"
        time.sleep(0.1)
    assert len(killed) == KILLS, f"only {len(killed)} of {KILLS} jobs were caught mid-job"

    finished = wait_terminal(jobs, timeout_s=max(30.0, deadline - time.monotonic()))
    elapsed = time.monotonic() - started
    succeeded = [j for j in finished if j.state == JobState.SUCCEEDED]
    kinds = {k: list(killed.values()).count(k) for k in set(killed.values())}
    print(f"{len(succeeded)}/{KILLS} succeeded after {KILLS} SIGKILLs mid-job ({kinds}) in {elapsed:.0f} s")
    assert len(succeeded) == KILLS, [(j.pk, j.state, j.error_code, j.attempts) for j in finished]
    assert [j.attempts for j in finished] == [2] * KILLS, "each kill costs exactly one counted attempt"
    for job in finished:
        assert_one_result_set(job)
    # Originals are never modified: still read-only, still hashing to their recorded sha256.
    for media in Media.objects.filter(jobs__in=jobs).distinct():
        path = storage.original_path(media)
        assert stat.S_IMODE(path.stat().st_mode) == 0o440
        assert hashlib.sha256(path.read_bytes()).hexdigest() == media.sha256
