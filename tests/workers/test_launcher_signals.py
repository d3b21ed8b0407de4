"""A launcher told to stop (SIGTERM, SIGHUP, SIGINT) leaves no child behind (issue 12, hole 19).

The children run in sessions of their own, as gunicorn and the Celery worker do under ``make demo``;
each starts a grandchild of its own, as gunicorn's workers and Celery's pool processes are.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workers import processes

LAUNCHER = """
import sys, time
from pathlib import Path
from workers import processes

sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
child = f"import subprocess, time; subprocess.Popen({sleeper!r}); time.sleep(600)"
with processes.Launcher() as launched:
    for n in range(2):
        launched.spawn([sys.executable, "-c", child], {}, Path(sys.argv[1]) / f"child{n}.log")
    print("started", flush=True)
    time.sleep(600)
"""


def proc_stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, session id) of a live process, from /proc; None once it is gone (or a zombie)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text.rsplit(")", 1)[1].split()
    return None if fields[0] == "Z" else (int(fields[1]), int(fields[3]))


def all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def sessions_of_children(parent: int) -> set[int]:
    return {pid for pid in all_pids() if (stat := proc_stat(pid)) and stat[0] == parent}


def processes_in(sessions: set[int]) -> list[int]:
    return [pid for pid in all_pids() if (stat := proc_stat(pid)) and stat[1] in sessions]


def kill_sessions(sessions: set[int]) -> None:
    """A failed test must not leave its servers running: each child leads its own process group."""
    for session in sessions:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(session, signal.SIGKILL)


def wait_until(condition, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.parametrize("sig", processes.STOP_SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signalled_launcher_stops_its_children_and_theirs(tmp_path, sig):
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, str(tmp_path)], cwd=processes.REPO_DIR, stdout=subprocess.PIPE, text=True
    )
    sessions: set[int] = set()
    try:
        assert launcher.stdout.readline().strip() == "started"
        sessions = sessions_of_children(launcher.pid)
        assert len(sessions) == 2
        wait_until(lambda: len(processes_in(sessions)) == 4, 10, "each child to start its own child")
        launcher.send_signal(sig)
        assert launcher.wait(30) == 128 + sig
        left = processes_in(sessions)
        assert left == [], f"left running after {signal.Signals(sig).name}: {left}"
    finally:
        if launcher.poll() is None:
            launcher.kill()
        kill_sessions(sessions)


@pytest.mark.integration
def test_make_demo_hung_up_while_it_serves_stops_gunicorn_and_the_worker(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(FORENSICS_DATA_DIR=str(tmp_path / "var"), FORENSICS_MEDIA_ROOT=str(tmp_path / "var" / "media"))
    port = processes.free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "workers.demo", "--port", str(port)],
        cwd=processes.REPO_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    sessions: set[int] = set()
    try:
        sessions = wait_until(
            lambda: (s := sessions_of_children(demo.pid)) and len(s) == 2 and s, 120, "gunicorn and the worker"
        )
        processes.wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout_s=60)
        demo.send_signal(signal.SIGHUP)  # the terminal closed
        output = demo.communicate(timeout=60)[0]
        assert demo.returncode == 128 + signal.SIGHUP, output[-2000:]
        assert "stopped by signal SIGHUP" in output
        assert processes_in(sessions) == []
        with pytest.raises(OSError):  # the port is free again
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    finally:
        if demo.poll() is None:
            demo.kill()
        kill_sessions(sessions)
