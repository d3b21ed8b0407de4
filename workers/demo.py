"""``make demo``: the embedded platform on one machine, end to end, with no servers to install.

Migrates the SQLite database, creates a demo analyst, starts gunicorn and a real Celery
worker (filesystem broker), submits a generated clip through the REST API, prints the
verdict and the URL to open, then keeps serving until Ctrl-C (``--exit`` stops at once). However it
ends (Ctrl-C, ``kill``, a closed terminal), both servers are stopped with it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

import requests

from workers import processes

DEMO_USER = "analyst"
DEMO_PASSWORD = "forensics-demo"  # noqa: S105  (a local demo account, printed to the user)
DEMO_TEAM = "Demo team"


def _prepare(data_dir: Path) -> str:
    """Migrate and create the demo analyst; return a new API token's key."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    from accounts.models import Role, Team
    from accounts.services import add_member, issue_token

    user, created = get_user_model().objects.get_or_create(username=DEMO_USER)
    if created or not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save()
    team, _ = Team.objects.get_or_create(name=DEMO_TEAM)
    add_member(user, team, Role.REVIEWER)
    # Keys are stored hashed and cannot be read back: each demo run issues a fresh token.
    return issue_token(user, "make demo")[1]


def _sample_clip(data_dir: Path) -> Path:
    from detector.synthetic import write_moving_face_clip

    path = data_dir / "demo" / "astronaut-10s.mp4"
    if not path.exists():
        write_moving_face_clip(path, seconds=10, fps=15, size=(640, 480), face_px=240)
    return path


def _submit_and_wait(base: str, token: str, clip: Path, timeout_s: float) -> dict:
    headers = {"Authorization": f"Token {token}"}
    with open(clip, "rb") as fh:
        response = requests.post(
            f"{base}/api/v1/jobs/", headers=headers, files={"file": (clip.name, fh, "video/mp4")}, timeout=60
        )
    response.raise_for_status()
    job = response.json()
    print(f"submitted job {job['id']} ({response.status_code}, Location: {response.headers['Location']})")
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        job = requests.get(job["url"], headers=headers, timeout=30).json()
        status = (job["state"], job["stage"], job["progress"])
        if status != last:
            print(f"  {job['state']:<9} {job['stage']:<12} {job['progress']:>3}%")
            last = status
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.5)
    raise TimeoutError(f"job {job['id']} did not finish within {timeout_s:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("FORENSICS_PORT", "8000")))
    parser.add_argument("--exit", action="store_true", help="stop the servers after printing the verdict")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the verdict")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from django.conf import settings

    data_dir = Path(settings.DATA_DIR)
    started = time.monotonic()
    token = _prepare(data_dir)
    clip = _sample_clip(data_dir)
    env = {"DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"]}
    logs = data_dir / "logs"
    try:
        # Every way out of this block stops both servers: the verdict printed, an error, Ctrl-C, a
        # `kill`, or the terminal closing (SIGHUP).
        with processes.Launcher() as launched:
            worker = launched.add(processes.start_worker(env, logs / "worker.log"))
            web = launched.add(processes.start_web(env, args.port, logs / "web.log"))
            return _serve(args, web, worker, logs, token, clip, started)
    except processes.LauncherStopped as stopped:
        print(f"stopped by signal {signal.Signals(stopped.signum).name}; the web app and the worker were stopped")
        return 0 if stopped.signum == signal.SIGINT else stopped.code


def _serve(args, web, worker, logs: Path, token: str, clip: Path, started: float) -> int:
    base = f"http://127.0.0.1:{args.port}"
    processes.wait_for_http(f"{base}/healthz", proc=web)
    processes.wait_for_log(worker, "ready.", timeout_s=180)
    print(f"web app on {base} (log {logs / 'web.log'}), Celery worker ready (log {logs / 'worker.log'})")
    job = _submit_and_wait(base, token, clip, args.timeout)
    summary = {
        "job": job["id"],
        "state": job["state"],
        "verdict": job["verdict"],
        "error": {"code": job["error_code"], "message": job["error_message"]} if job["error_code"] else None,
        "detectors": [{k: d.get(k) for k in ("name", "version", "trained", "sha256")} for d in job["detector_set"]],
        "timings_s": job["timings"],
    }
    print(json.dumps(summary, indent=2))
    print(f"\ndemo finished in {time.monotonic() - started:.1f} s")
    print(f"open {base}/ and sign in as {DEMO_USER} / {DEMO_PASSWORD}")
    print(f"job JSON: {job['url']}   API docs: {base}/api/docs/   API token: {token}")
    if job["state"] != "succeeded":
        return 1
    if not args.exit:
        print("serving until Ctrl-C")
        while web.poll() is None and worker.poll() is None:
            time.sleep(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
