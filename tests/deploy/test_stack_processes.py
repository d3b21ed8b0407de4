"""The compose stack's own commands, run as real processes on this machine (there is no Docker engine).

Each process is started from its service in docker-compose.yml as compose renders it (command and
environment, production settings included), changed only where a container differs from this
machine: the programs come from the venv, Postgres/Redis/media are the test ones instead of the
`postgres`/`redis` hosts and the media volume, ports are free ones on loopback, beat's schedule
file lives in a temporary folder, and without a GPU the GPU worker runs its models on the CPU.
As in the stack, migrate runs as the database's owner and grants the role forensics_app rows only
(manage.py grant_app_role); the other processes connect as that role.
Then jobs go in over HTTP and the test checks who consumed what: analysis on the `gpu` queue by
worker-gpu, the reaper on the `cpu` queue by worker-cpu, published by beat, requeueing a stale job.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from tests.conftest import api_token_for, database_url_for_children, poll_until_done, post_job
from tests.deploy.conftest import compose_model, write_env_file
from workers import processes

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FLOWER_USER, FLOWER_PASSWORD = "ops", "flower-test-password"
# What the test's env file changes from .env.example; all of them are documented knobs of the stack.
STACK_ENV = {
    "FORENSICS_HOSTNAME": "127.0.0.1",
    # .env.example's placeholder is refused by the production settings.
    "DJANGO_SECRET_KEY": "stack-processes-test-" + "k" * 40,
    "FLOWER_BASIC_AUTH": f"{FLOWER_USER}:{FLOWER_PASSWORD}",
    # migrate creates the role forensics_app with it; every other process connects as that role.
    "POSTGRES_APP_PASSWORD": "stack-processes-app-role-password",
    # The api's report signing key: base64 of 32 bytes.
    "FORENSICS_REPORT_SIGNING_KEY": "c3RhY2stcHJvY2Vzc2VzLXJlcG9ydC1zaWduaW5nLWs=",
    # The cpu worker takes only housekeeping here, so the gpu queue can only be drained by worker-gpu.
    "FORENSICS_CPU_QUEUES": "cpu",
    "FORENSICS_CPU_CONCURRENCY": "1",
    "GUNICORN_WORKERS": "2",
    # Seconds instead of a minute, so the reaper runs while the test waits.
    "FORENSICS_REAPER_INTERVAL_S": "1",
    "FORENSICS_CLEANUP_INTERVAL_S": "3",
}
# nginx sets this; the production settings redirect plain-HTTP requests to HTTPS.
HTTPS = {"X-Forwarded-Proto": "https"}
JOB_TIMEOUT_S = 150


def option_value_replaced(command: list[str], flag: str, value: str) -> list[str]:
    assert flag in command, f"{flag} missing from {command}"
    command = list(command)
    command[command.index(flag) + 1] = value
    return command


def local_command(name: str, command: list[str], tmp: Path, port: int | None = None) -> list[str]:
    """The service's command with the container-only parts swapped for this machine's."""
    command = list(command)
    if command[0] in ("celery", "gunicorn"):
        command[0] = str(processes.BIN_DIR / command[0])
    elif command[:2] == ["sh", "-c"]:
        command[2] = command[2].replace("python manage.py", f"{sys.executable} manage.py")
    if name == "api":
        command = option_value_replaced(command, "--bind", f"127.0.0.1:{port}")
    if name == "beat":
        command = option_value_replaced(command, "-s", str(tmp / "celerybeat-schedule"))
    if name == "flower":
        assert "--port=5555" in command
        command = [f"--port={port}" if part == "--port=5555" else part for part in command] + ["--address=127.0.0.1"]
    return command


def gpu_available() -> bool:
    import torch

    return torch.cuda.is_available()


@pytest.fixture
def stack_processes(tmp_path, redis_broker_url, settings):
    model = compose_model(env_file=write_env_file(tmp_path / ".env", STACK_ENV))
    services = model["services"]
    local = {
        "DATABASE_URL": database_url_for_children(),  # the database pytest-django created
        "CELERY_BROKER_URL": redis_broker_url,
        "DJANGO_CACHE_URL": redis_broker_url,
        "FORENSICS_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "FORENSICS_DATA_DIR": str(tmp_path / "data"),  # the image's /app/var: collectstatic's output
    }

    def env_of(name: str) -> dict[str, str]:
        env = {**services[name]["environment"], **local}
        if name != "migrate":
            # As in the stack: only migrate is the owner; the rest run as the role it granted rows only.
            assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://forensics_app:"), name
            owner_url = local["DATABASE_URL"]
            env["DATABASE_URL"] = (
                "postgres://forensics_app:" + STACK_ENV["POSTGRES_APP_PASSWORD"] + "@" + owner_url.split("@", 1)[1]
            )
        if env.get("FORENSICS_DEVICE") == "cuda" and not gpu_available():
            env["FORENSICS_DEVICE"] = "cpu"
        return env

    migrate = subprocess.run(
        local_command("migrate", services["migrate"]["command"], tmp_path),
        env={**env_of("migrate"), "PATH": "/usr/bin:/bin"},
        cwd=processes.REPO_DIR,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr

    ports = {"api": processes.free_port(), "flower": processes.free_port()}
    started: dict[str, subprocess.Popen] = {}
    try:
        for name in ("api", "worker-gpu", "worker-cpu", "beat", "flower"):
            cmd = local_command(name, services[name]["command"], tmp_path, ports.get(name))
            started[name] = processes._spawn(cmd, env_of(name), tmp_path / "logs" / f"{name}.log")
        processes.wait_for_http(f"http://127.0.0.1:{ports['api']}/healthz", timeout_s=90, proc=started["api"])
        processes.wait_for_log(started["worker-gpu"], "ready.", timeout_s=120)
        processes.wait_for_log(started["worker-cpu"], "ready.", timeout_s=120)
        processes.wait_for_http(
            f"http://127.0.0.1:{ports['flower']}/flower/healthcheck", timeout_s=60, proc=started["flower"]
        )
        yield {
            "procs": started,
            "api": f"http://127.0.0.1:{ports['api']}",
            "flower": f"http://127.0.0.1:{ports['flower']}",
        }
    finally:
        for proc in started.values():
            processes.stop(proc)
        for name, proc in started.items():
            print(f"--- {name} log ({proc.log_path}), last lines:")
            print("\n".join(Path(proc.log_path).read_text(errors="replace").splitlines()[-15:]))


def wait_for_job(api: str, headers: dict, job_id: int) -> dict:
    return poll_until_done(f"{api}/api/v1/jobs/{job_id}/", headers, JOB_TIMEOUT_S, interval_s=0.5)[0]


def log_of(stack: dict, name: str, *, waiting_for: tuple[str, ...] = (), timeout_s: float = 30.0) -> str:
    """A process's log, once every text of ``waiting_for`` is in it (beat's periodic tasks come when due)."""
    deadline = time.monotonic() + timeout_s
    while True:
        text = Path(stack["procs"][name].log_path).read_text(errors="replace")
        if all(w in text for w in waiting_for) or time.monotonic() > deadline:
            return text
        time.sleep(0.5)


def test_the_compose_services_run_as_processes_consume_both_queues_and_the_reaper_requeues_a_stale_job(
    stack_processes, redis_broker_url, alice, case, sample_clip_path
):
    from cases.models import AnalysisJob, JobState

    api, flower = stack_processes["api"], stack_processes["flower"]
    headers = {"Authorization": f"Token {api_token_for(alice)}", **HTTPS}

    # The api: production settings (plain HTTP is redirected), probes, static files via whitenoise.
    assert requests.get(f"{api}/api/v1/", allow_redirects=False, timeout=10).status_code == 301
    assert requests.get(f"{api}/healthz", allow_redirects=False, timeout=10).json() == {"status": "ok"}
    ready = requests.get(f"{api}/readyz", allow_redirects=False, timeout=10)
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "broker": "ok"}
    static = requests.get(f"{api}/static/admin/css/base.css", headers=HTTPS, timeout=10)
    assert static.status_code == 200 and "text/css" in static.headers["Content-Type"]

    # Two jobs over HTTP: analysed from the gpu queue by worker-gpu.
    job_ids = []
    for _ in range(2):
        with open(sample_clip_path, "rb") as fh:
            response = post_job(api, headers, "clip.mp4", fh, case=case.pk, frames=4)
        assert response.status_code == 202, response.text
        job_ids.append(response.json()["id"])
    for job_id in job_ids:
        job = wait_for_job(api, headers, job_id)
        assert job["state"] == "succeeded", (job["error_code"], job["error_message"])
        assert AnalysisJob.objects.get(pk=job_id).worker.startswith("worker-gpu@")

    # A job whose worker died mid-run (lease long expired): beat → reaper on worker-cpu → gpu queue → done.
    first = AnalysisJob.objects.get(pk=job_ids[0])
    long_ago = first.created_at - timedelta(hours=1)
    stale = AnalysisJob.objects.create(
        media=first.media,
        created_by=alice,
        settings=first.settings,
        state=JobState.RUNNING,
        stage="detecting",
        attempts=1,
        worker="worker-gpu@host-that-died:lost-task",
        started_at=long_ago,
        heartbeat_at=long_ago,
    )
    job = wait_for_job(api, headers, stale.pk)
    assert job["state"] == "succeeded" and job["attempts"] == 2, (job["error_code"], job["error_message"])
    stale.refresh_from_db()
    assert stale.worker.startswith("worker-gpu@") and "host-that-died" not in stale.worker

    # Who consumed what: the reaper and the clean-up only on worker-cpu, the analyses only on worker-gpu.
    cpu_log = log_of(stack_processes, "worker-cpu", waiting_for=("'requeued': 1", "Task forensics.clean_up_storage["))
    gpu_log = log_of(stack_processes, "worker-gpu")
    beat_log = log_of(stack_processes, "beat")
    assert "Sending due task reap-stale-jobs (forensics.reap_stale_jobs)" in beat_log
    assert "'requeued': 1" in cpu_log and "Task forensics.clean_up_storage[" in cpu_log
    assert "Task forensics.analyze_job[" not in cpu_log
    assert gpu_log.count("Task forensics.analyze_job[") >= 2 * 3  # received + succeeded, three jobs
    assert "Task forensics.reap_stale_jobs[" not in gpu_log
    import redis

    assert redis.Redis.from_url(redis_broker_url).llen("gpu") == 0

    # flower: monitoring behind basic auth; its healthcheck (compose's probe) needs none.
    assert requests.get(f"{flower}/flower/", timeout=10).status_code == 401
    token = base64.b64encode(f"{FLOWER_USER}:{FLOWER_PASSWORD}".encode()).decode()
    auth = {"Authorization": f"Basic {token}"}
    assert requests.get(f"{flower}/flower/", headers=auth, timeout=10).status_code == 200
    workers = requests.get(f"{flower}/flower/api/workers?refresh=1", headers=auth, timeout=30).json()
    names = {name.split("@")[0] for name in workers}
    assert {"worker-gpu", "worker-cpu"} <= names, json.dumps(workers)[:500]
