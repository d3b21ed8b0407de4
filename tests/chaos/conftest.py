"""Real processes for the fault-injection tests, each started by the test and killed by its own PID.

Workers run with a lease of a few seconds and a reaper every second (celery beat), so a job whose
worker died is found quickly; jobs sample 2 frames of a tiny clip with the cheapest detector
(spectral_lr, which needs no training to run: without weights the job still ends, with an
"untrained" verdict), so each attempt takes about a second.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from cases import services
from cases.models import AnalysisJob, JobState
from workers import processes

CHAOS_LEASE_S = 4
CHAOS_REAPER_INTERVAL_S = 1
CHEAP_JOB = {"frames": 2, "detectors": ["spectral_lr"]}
TERMINAL = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


def chaos_env(base: dict[str, str], **extra: str) -> dict[str, str]:
    return {
        **base,
        "FORENSICS_JOB_LEASE_S": str(CHAOS_LEASE_S),
        "FORENSICS_REAPER_INTERVAL_S": str(CHAOS_REAPER_INTERVAL_S),
        "FORENSICS_DEVICE": "cpu",
        "FORENSICS_FACE_BATCH": "4",
        **extra,
    }


def wait_for(predicate: Callable[[], object], timeout_s: float, what: str, interval_s: float = 0.1):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def children_of(pid: int) -> list[int]:
    """PIDs whose parent is ``pid`` (the prefork pool processes of a Celery worker)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            # The command name may contain spaces: the parent PID is the 2nd field after ')'.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


class WorkerUnderTest:
    """One `celery worker` (prefork, one pool process) that a test can SIGKILL and start again."""

    def __init__(self, env: dict[str, str], log_dir: Path, name: str = "chaos") -> None:
        self.env, self.log_dir, self.name = env, log_dir, name
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> WorkerUnderTest:
        self.starts += 1
        log = self.log_dir / f"{self.name}-{self.starts}.log"
        self.proc = processes.start_worker(self.env, log, concurrency=1, name=self.name)
        processes.wait_for_log(self.proc, "ready.", timeout_s=120)
        return self

    def pool_pid(self, timeout_s: float = 30) -> int:
        assert self.proc is not None and self.proc.poll() is None, f"worker is not running; see {self.log_dir}"
        return wait_for(lambda: (children_of(self.proc.pid) or [None])[0], timeout_s, "a pool process")

    def kill_pool_process(self) -> int:
        """SIGKILL the process running the job; the worker's main process stays and forks a new one."""
        pid = self.pool_pid()
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill_whole_worker(self) -> int:
        """SIGKILL the main process and its pool together (the process group), as an OOM kill would."""
        pid = self.proc.pid
        os.killpg(pid, signal.SIGKILL)
        self.proc.wait(10)
        self.proc.log_file.close()
        return pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None:
            processes.stop(self.proc)


@pytest.fixture(scope="module")
def chaos_logs(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("chaos-logs")
    yield path
    print(f"chaos logs: {path}")


@pytest.fixture(scope="module")
def chaos_worker(worker_env, chaos_logs) -> Iterator[WorkerUnderTest]:
    """A real worker plus celery beat (the reaper every second) on the test database and broker."""
    env = chaos_env(worker_env)
    beat = processes.start_beat(env, chaos_logs / "beat.log", chaos_logs / "celerybeat-schedule")
    worker = WorkerUnderTest(env, chaos_logs)
    try:
        worker.start()
        yield worker
    finally:
        worker.stop()
        processes.stop(beat)


def submit(user, case, clip: Path, fault: dict | None = None, name: str = "clip.mp4") -> AnalysisJob:
    """Submit through the service the API calls; a fault (test-only) is set before the job is published."""
    with transaction.atomic():
        job = services.submit_job(
            user, SimpleUploadedFile(name, clip.read_bytes(), "video/mp4"), case=case, **CHEAP_JOB
        )
        if fault is not None:
            AnalysisJob.objects.filter(pk=job.pk).update(settings={**job.settings, "fault": fault})
    return job


@pytest.fixture(scope="session")
def tiny_face_clip(media_dir) -> Path:
    """1 s at 8 fps, 192x144, one face: the cheapest clip that still runs every stage of the pipeline."""
    from detector.synthetic import write_moving_face_clip

    return write_moving_face_clip(media_dir / "tiny-face.mp4", seconds=1, fps=8, size=(192, 144), face_px=96)


def wait_terminal(job_ids: list[int], timeout_s: float) -> list[AnalysisJob]:
    def done():
        jobs = list(AnalysisJob.objects.filter(pk__in=job_ids).order_by("pk"))
        return jobs if all(j.state in TERMINAL for j in jobs) else None

    return wait_for(done, timeout_s, f"jobs {job_ids} to end", interval_s=0.3)


@contextlib.contextmanager
def private_redis(directory: Path) -> Iterator[tuple[str, Callable[[], None]]]:
    """A redis-server of the test's own (append-only, fsync on every write) on a free port.

    Yields its URL and a ``restart()`` that SIGKILLs it by PID and starts it again on the same
    port and data directory.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("redis-server is not installed; CI must run the chaos tests", pytrace=False)
        pytest.skip("redis-server is not installed")
    port = processes.free_port()
    directory.mkdir(parents=True, exist_ok=True)
    cmd = [
        binary,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(directory),
        "--appendonly", "yes",
        "--appendfsync", "always",
        "--save", "",
    ]  # fmt: skip
    state: dict[str, subprocess.Popen] = {}

    def start() -> None:
        log = open(directory / "redis.log", "ab")
        state["proc"] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        state["proc"].log_file = log
        import redis

        client = redis.Redis(port=port)
        wait_for(lambda: _pings(client), 20, f"redis-server on port {port}")

    def restart() -> None:
        proc = state["proc"]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        proc.log_file.close()
        start()

    start()
    try:
        yield f"redis://127.0.0.1:{port}/0", restart
    finally:
        proc = state["proc"]
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        proc.log_file.close()


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


@contextlib.contextmanager
def private_postgres(directory: Path) -> Iterator[tuple[str, Callable[[], None]]]:
    """A Postgres cluster of the test's own (initdb + pg_ctl) on a free port, with database ``forensics``.

    Yields its DATABASE_URL and a ``crash_restart()`` that stops it in immediate mode (no shutdown
    checkpoint: what a power cut or a SIGKILLed postmaster leaves) and starts it again.
    """
    initdb, pg_ctl = POSTGRES_BIN / "initdb", POSTGRES_BIN / "pg_ctl"
    if not initdb.exists():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{initdb} is missing; CI must run the chaos tests", pytrace=False)
        pytest.skip(f"{initdb} is missing")
    import tempfile

    # Postgres refuses to run as root: the cluster then belongs to the postgres user, in a folder of
    # its own (pytest's temporary folders are closed to other users).
    as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    directory = Path(tempfile.mkdtemp(prefix="chaos-pg-", dir=directory if not as_owner else None))
    if as_owner:
        shutil.chown(directory, "postgres")
    data = directory / "data"
    port = processes.free_port()
    subprocess.run(
        [*as_owner, initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1"
    start = [*as_owner, pg_ctl, "-D", data, "-o", options, "-l", directory / "postgres.log", "-w", "start"]
    stop = [*as_owner, pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"]
    subprocess.run(start, check=True, capture_output=True)
    try:
        import psycopg2

        admin = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        admin.autocommit = True
        admin.cursor().execute("CREATE DATABASE forensics")
        admin.close()

        def crash_restart() -> None:
            subprocess.run(stop, check=True, capture_output=True)
            subprocess.run(start, check=True, capture_output=True)

        yield f"postgres://postgres@127.0.0.1:{port}/forensics", crash_restart
    finally:
        subprocess.run(stop, capture_output=True)
        shutil.rmtree(directory, ignore_errors=True)
