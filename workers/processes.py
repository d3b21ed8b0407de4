"""Start and stop the platform's real processes (web app, Celery workers, beat) on one machine.

Used by ``make demo`` and by the integration tests, so both run exactly the commands the
compose file runs in production.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[1]
BIN_DIR = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spawn(cmd: list[str], env: Mapping[str, str], log_path: Path) -> subprocess.Popen:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    # A new session: the process group can be signalled as a whole (prefork children included).
    proc = subprocess.Popen(
        cmd, cwd=REPO_DIR, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    proc.log_path = log_path  # type: ignore[attr-defined]
    proc.log_file = log  # type: ignore[attr-defined]
    return proc


def worker_command(
    queues: str = "gpu,cpu", concurrency: int = 1, pool: str = "prefork", name: str = "worker"
) -> list[str]:
    return [
        str(BIN_DIR / "celery"),
        "-A",
        "workers.app",
        "worker",
        "-Q",
        queues,
        "-c",
        str(concurrency),
        "--pool",
        pool,
        "-n",
        f"{name}@%h",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
    ]


def start_worker(env: Mapping[str, str], log_path: Path, **kwargs) -> subprocess.Popen:
    return _spawn(worker_command(**kwargs), env, log_path)


def web_command(port: int, workers: int = 2, threads: int | None = None) -> list[str]:
    """gunicorn as compose runs it; ``threads``: gthread workers (production), else sync (the demo's SQLite)."""
    threaded = ["--worker-class", "gthread", "--threads", str(threads)] if threads else []
    return [
        str(BIN_DIR / "gunicorn"),
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        *threaded,
        "--timeout",
        "300",
        "--access-logfile",
        "-",
    ]


def start_web(
    env: Mapping[str, str], port: int, log_path: Path, workers: int = 2, threads: int | None = None
) -> subprocess.Popen:
    return _spawn(web_command(port, workers, threads), env, log_path)


def start_beat(env: Mapping[str, str], log_path: Path, schedule_path: Path) -> subprocess.Popen:
    cmd = [str(BIN_DIR / "celery"), "-A", "workers.app", "beat", "--loglevel", "INFO", "-s", str(schedule_path)]
    return _spawn(cmd, env, log_path)


def wait_for_http(url: str, timeout_s: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered; see {proc.log_path}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310  (loopback URL we built)
                if response.status < 500:
                    return
        except Exception as exc:  # connection refused while the server starts
            last_error = exc
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout_s:.0f} s ({last_error})")


def wait_for_log(proc: subprocess.Popen, text: str, timeout_s: float = 120.0) -> None:
    """Wait until the process's log contains ``text`` (e.g. Celery's 'ready.')."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}; see {proc.log_path}")
        if text in Path(proc.log_path).read_text(errors="replace"):
            return
        time.sleep(0.3)
    raise TimeoutError(f"{text!r} not seen in {proc.log_path} within {timeout_s:.0f} s")


# What a launcher is told to stop with: kill's default, a closed terminal, Ctrl-C.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


class LauncherStopped(SystemExit):
    """The launcher got one of STOP_SIGNALS; its children are stopped on the way out."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


class Launcher:
    """The processes a launcher starts, all stopped when its block ends, however it ends.

    Children run in sessions of their own (so one group signal reaches their own children), which
    also means a ``kill`` or a closed terminal's SIGHUP reaches only the launcher; Python's default
    for those ends it at once, skipping every ``finally``, and gunicorn and the worker live on holding
    the port. Inside the block SIGTERM, SIGHUP and SIGINT raise LauncherStopped in the main thread
    instead; from the first one on, further ones are ignored so the children's shutdown is not cut short.
    """

    def __init__(self) -> None:
        self.children: list[subprocess.Popen] = []
        self._previous: dict[int, object] = {}

    def add(self, proc: subprocess.Popen) -> subprocess.Popen:
        self.children.append(proc)
        return proc

    def spawn(self, cmd: list[str], env: Mapping[str, str], log_path: Path) -> subprocess.Popen:
        return self.add(_spawn(cmd, env, log_path))

    @staticmethod
    def _stop_requested(signum, frame):
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        raise LauncherStopped(signum)

    def __enter__(self) -> Launcher:
        self._previous = {sig: signal.signal(sig, self._stop_requested) for sig in STOP_SIGNALS}
        return self

    def __exit__(self, *exc_info) -> None:
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        try:
            for proc in reversed(self.children):
                stop(proc)
        finally:
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)


def stop(proc: subprocess.Popen, timeout_s: float = 20.0, sig: int = signal.SIGTERM) -> int | None:
    """Signal the whole process group; escalate to SIGKILL if it does not exit in time."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    log = getattr(proc, "log_file", None)
    if log is not None:
        log.close()
    return proc.returncode
