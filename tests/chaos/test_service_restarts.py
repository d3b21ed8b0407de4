"""The broker and the database restarted under load: no job lost, no partial result visible.

Each server is the test's own (tests/chaos/conftest.py): the shared Postgres and Redis are never touched.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import redis

from cases.models import AnalysisJob, JobState
from tests.chaos.conftest import WorkerUnderTest, chaos_env, private_postgres, private_redis, wait_for, wait_terminal
from tests.conftest import api_token_for, post_job
from workers import processes

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]
QUEUED_JOBS = 10


def test_redis_restarted_with_10_jobs_queued_loses_none(worker_env, alice, case, tiny_face_clip, tmp_path):
    with private_redis(tmp_path / "redis") as (broker_url, restart_redis):
        env = chaos_env(worker_env, CELERY_BROKER_URL=broker_url)
        port = processes.free_port()
        web = processes.start_web(env, port, tmp_path / "web.log", workers=1)
        worker = WorkerUnderTest(env, tmp_path, name="restart")
        beat = None
        try:
            base = f"http://127.0.0.1:{port}"
            processes.wait_for_http(f"{base}/healthz", proc=web)
            headers = {"Authorization": f"Token {api_token_for(alice)}"}
            job_ids = []
            for i in range(QUEUED_JOBS):
                response = post_job(
                    base,
                    headers,
                    f"clip{i}.mp4",
                    tiny_face_clip.read_bytes(),
                    case=case.pk,
                    frames=2,
                    detectors="spectral_lr",
                )
                assert response.status_code == 202, response.text
                job_ids.append(response.json()["id"])
            broker = redis.Redis.from_url(broker_url)
            assert broker.llen("gpu") == QUEUED_JOBS, "all 10 jobs wait in the broker, no worker runs yet"

            restart_redis()  # SIGKILL, then the same port and data directory
            assert redis.Redis.from_url(broker_url).llen("gpu") == QUEUED_JOBS, "the append-only file kept them"

            worker.start()
            # The stack's reaper, as compose runs it. kombu's Redis transport moves a delivered message
            # from the queue to its unacked set in two commands, so a broker killed between them loses
            # that one message; the job is still queued in Postgres and the reaper publishes it again
            # once it has waited a lease (seen in a full-suite run on 2 loaded cores: 9 of 10 messages arrived).
            beat = processes.start_beat(env, tmp_path / "beat.log", tmp_path / "celerybeat-schedule")
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
            if beat is not None:
                processes.stop(beat)
            processes.stop(web)


SET_UP_ANALYST = """
import django
django.setup()
from django.contrib.auth import get_user_model
from accounts.models import Role, Team
from accounts.services import add_member, issue_token
from cases.services import create_case
user = get_user_model().objects.create_user("carol", password="not used")
team = Team.objects.create(name="Crash team")
add_member(user, team, Role.ANALYST)
print(create_case(user, team, "Crash").pk, issue_token(user, "chaos")[1])
"""
CRASHED_WRITES = 3
RESULT_WRITE_STALL = {"at": "results_written", "action": "stall", "seconds": 6, "attempts": [1]}


def test_postgres_crash_restarted_during_result_writes_loses_nothing_and_shows_no_partial_result(
    worker_env, tiny_face_clip, tmp_path
):
    import psycopg2

    with private_postgres(tmp_path / "pg") as (database_url, crash_restart):
        env = chaos_env(worker_env, DATABASE_URL=database_url)
        child_env = {**__import__("os").environ, **env}
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], env=child_env, check=True, cwd=processes.REPO_DIR
        )
        out = subprocess.run(
            [sys.executable, "-c", SET_UP_ANALYST], env=child_env, check=True, capture_output=True, text=True
        )
        case_id, token = out.stdout.split()
        port = processes.free_port()
        web = processes.start_web(env, port, tmp_path / "web.log", workers=1)
        beat = processes.start_beat(env, tmp_path / "beat.log", tmp_path / "celerybeat-schedule")
        worker = WorkerUnderTest(env, tmp_path, name="pgcrash")
        db = psycopg2.connect(database_url)
        db.autocommit = True

        def query(sql, *args):
            with db.cursor() as cursor:
                cursor.execute(sql, args)
                return cursor.fetchall()

        try:
            base = f"http://127.0.0.1:{port}"
            processes.wait_for_http(f"{base}/healthz", proc=web)
            headers = {"Authorization": f"Token {token}"}
            job_ids = []
            for i in range(CRASHED_WRITES + 2):
                response = post_job(
                    base,
                    headers,
                    f"clip{i}.mp4",
                    tiny_face_clip.read_bytes(),
                    case=case_id,
                    frames=2,
                    detectors="spectral_lr",
                )
                assert response.status_code == 202, response.text
                job_ids.append(response.json()["id"])
            # The first jobs stall inside their results transaction on their first attempt (test-only hook).
            for job_id in job_ids[:CRASHED_WRITES]:
                query(
                    "UPDATE cases_analysisjob SET settings = settings || %s::jsonb WHERE id = %s RETURNING id",
                    json.dumps({"fault": RESULT_WRITE_STALL}),
                    job_id,
                )
            worker.start()

            partial_seen = []
            for job_id in job_ids[:CRASHED_WRITES]:
                wait_for(
                    lambda job_id=job_id: query(
                        "SELECT 1 FROM cases_analysisjob WHERE id=%s AND state='running' AND stage='aggregating' "
                        "AND progress=100 AND attempts=1",
                        job_id,
                    ),
                    120,
                    f"job {job_id} to write its results",
                )
                time.sleep(1.0)  # inside the stall: the rows are written, the transaction is open
                partial_seen.append(query("SELECT count(*) FROM cases_frameresult WHERE job_id=%s", job_id)[0][0])
                db.close()
                crash_restart()
                db = psycopg2.connect(database_url)
                db.autocommit = True
                partial_seen.append(query("SELECT count(*) FROM cases_frameresult WHERE job_id=%s", job_id)[0][0])
                partial_seen.append(query("SELECT count(*) FROM cases_verdict WHERE job_id=%s", job_id)[0][0])

            def all_ended():
                rows = query(
                    "SELECT id, state, attempts FROM cases_analysisjob WHERE id = ANY(%s) ORDER BY id", job_ids
                )
                return rows if all(state not in ("queued", "running") for _, state, _ in rows) else None

            rows = wait_for(all_ended, 180, "every job to end", interval_s=0.5)
            succeeded = [job_id for job_id, state, _ in rows if state == "succeeded"]
            frames = dict(query("SELECT job_id, count(*) FROM cases_frameresult GROUP BY job_id"))
            verdicts = dict(query("SELECT job_id, count(*) FROM cases_verdict GROUP BY job_id"))
            print(
                f"postgres crash-restarted {CRASHED_WRITES}x during result writes: {len(succeeded)}/{len(job_ids)} "
                f"succeeded, partial rows seen: {sum(partial_seen)}, attempts {[a for _, _, a in rows]}"
            )
            assert partial_seen == [0] * len(partial_seen), "no reader ever saw a half-written result"
            assert len(succeeded) == len(job_ids), rows
            assert all(frames[j] == 2 and verdicts[j] == 1 for j in job_ids), (frames, verdicts)
            assert [a for _, _, a in rows] == [2] * CRASHED_WRITES + [1] * (len(job_ids) - CRASHED_WRITES)
        finally:
            db.close()
            worker.stop()
            processes.stop(beat)
            processes.stop(web)
