"""The broker and the database restarted under load: no job lost, no partial result visible.

Each server is the test's own (tests/chaos/conftest.py): the shared Postgres and Redis are never touched.
"""

from __future__ import annotations

import pytest
import redis
import requests

from cases.models import AnalysisJob, JobState
from tests.chaos.conftest import WorkerUnderTest, chaos_env, private_redis, wait_for, wait_terminal
from tests.conftest import api_token_for
from workers import processes

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]
QUEUED_JOBS = 10


def test_redis_restarted_with_10_jobs_queued_loses_none(worker_env, alice, case, tiny_face_clip, tmp_path):
    with private_redis(tmp_path / "redis") as (broker_url, restart_redis):
        env = chaos_env(worker_env, CELERY_BROKER_URL=broker_url)
        port = processes.free_port()
        web = processes.start_web(env, port, tmp_path / "web.log", workers=1)
        worker = WorkerUnderTest(env, tmp_path, name="restart")
        try:
            base = f"http://127.0.0.1:{port}"
            processes.wait_for_http(f"{base}/healthz", proc=web)
            headers = {"Authorization": f"Token {api_token_for(alice)}"}
            job_ids = []
            for i in range(QUEUED_JOBS):
                response = requests.post(
                    f"{base}/api/v1/jobs/",
                    headers=headers,
                    files={"file": (f"clip{i}.mp4", tiny_face_clip.read_bytes(), "video/mp4")},
                    data={"case": case.pk, "frames": 2, "detectors": "spectral_lr"},
                    timeout=60,
                )
                assert response.status_code == 202, response.text
                job_ids.append(response.json()["id"])
            broker = redis.Redis.from_url(broker_url)
            assert broker.llen("gpu") == QUEUED_JOBS, "all 10 jobs wait in the broker, no worker runs yet"

            restart_redis()  # SIGKILL, then the same port and data directory
            assert redis.Redis.from_url(broker_url).llen("gpu") == QUEUED_JOBS, "the append-only file kept them"

            worker.start()
            # A second restart while the worker is connected and working through the queue.
            wait_for(
                lambda: AnalysisJob.objects.filter(pk__in=job_ids, state=JobState.SUCCEEDED).count() >= 2, 120, "2 jobs"
            )
            restart_redis()
            jobs = wait_terminal(job_ids, timeout_s=180)
            succeeded = sum(j.state == JobState.SUCCEEDED for j in jobs)
            print(f"redis restarted twice (once with {QUEUED_JOBS} queued, once mid-run): {succeeded}/{QUEUED_JOBS}")
            assert succeeded == QUEUED_JOBS, [(j.pk, j.state, j.error_code) for j in jobs]
            assert all(j.attempts == 1 for j in jobs), [j.attempts for j in jobs]
            assert worker.alive()
        finally:
            worker.stop()
            processes.stop(web)
