"""Status-poll latency of the real web process: gunicorn + Django, a finished job, token auth, open-loop load.

    python bench/polls.py                                  # embedded default (SQLite), the demo's gunicorn
    python bench/polls.py --settings production            # production settings on the local Postgres
    python bench/polls.py --workers 3 --worker-class gthread --threads 4
    python bench/polls.py --code /tmp/old-tree             # the same bench against another checkout

Seeds a team, an analyst with an API token and a succeeded job with a verdict and a review (what a
poller sees at the end), starts gunicorn as ``make demo`` / the compose file start it, and offers
each rate of ``--rates`` for ``--seconds`` with ``bench/load.py``: the full job (200, then 304 with
If-None-Match) and, where the code under test has it, the lean status (200, then 304). The load
generator runs on the same cores as the server; its CPU share and the server's are printed beside the
latencies.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

import load  # bench/load.py, next to this file

from workers import processes  # the launcher's gunicorn command

REPO_DIR = Path(__file__).resolve().parents[1]
BENCH_DB = "forensics_bench_polls"
# Production sits behind nginx, which says the client came over HTTPS (SECURE_SSL_REDIRECT stays on).
PROXY_HEADERS = ["X-Forwarded-Proto: https"]


def seed() -> None:
    """In a child process with the settings under test: migrate, create a finished job, print ids and a key."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from accounts.models import Role, Team
    from accounts.services import add_member, issue_token
    from cases.models import AnalysisJob, Case, JobReview, Media, Verdict

    user, _ = get_user_model().objects.get_or_create(username="poller")
    team, _ = Team.objects.get_or_create(name="Polling bench")
    add_member(user, team, Role.REVIEWER)
    case = Case.objects.create(team=team, title="Polled case", created_by=user)
    media = Media.objects.create(
        case=case,
        original_name="interview.mp4",
        storage_path="originals/bench",
        sha256="b" * 64,
        size_bytes=2_731_000,
        mime_type="video/mp4",
        kind="video",
        uploaded_by=user,
        duration_s=10.0,
        fps=30.0,
        width=1920,
        height=1080,
        frame_count=300,
        codec="h264",
    )
    # A realistic finished job: what a result of detector.pipeline.analyze leaves on the row.
    job = AnalysisJob.objects.create(
        media=media,
        created_by=user,
        state="succeeded",
        stage="done",
        progress=100,
        attempts=1,
        settings={"frames": 32, "detectors": []},
        detector_set=[{"name": "custom_cnn", "version": "1", "sha256": "ab" * 32, "trained": True}],
        diagnostics={
            "width": 1920,
            "height": 1080,
            "frames_sampled": 32,
            "faces_total": 32,
            "faces_per_frame": [1] * 32,
            "face_size_px": {"min": 180.0, "median": 210.0, "max": 240.0},
            "warnings": [],
        },
        timings={"decode_s": 0.5, "faces_s": 1.0, "scoring_s": 0.1, "total_s": 1.7},
    )
    Verdict.objects.create(
        job=job,
        label="authentic",
        score=0.31,
        confidence=0.38,
        aggregation="track_mean_top_k",
        thresholds={"threshold": 0.5, "min_faces": 3},
        per_track=[{"track_id": 0, "score": 0.31, "faces": 32, "label": "authentic", "frames": list(range(32))}],
        per_detector={"custom_cnn": 0.31},
    )
    JobReview.objects.create(job=job, reviewer=user, status="confirmed", reason="checked by hand")
    key = issue_token(user, "polling bench")[1]
    print(json.dumps({"job": job.pk, "key": key}))


def settings_env(kind: str, data_dir: Path, code_dir: Path) -> dict[str, str]:
    env = {
        "PYTHONPATH": f"{code_dir / 'platform'}{os.pathsep}{code_dir}",
        "FORENSICS_DATA_DIR": str(data_dir),
        "PYTHONUNBUFFERED": "1",
    }
    if kind == "embedded":
        # What `make demo` runs: config.settings.local, the SQLite file, the filesystem broker.
        return {**env, "DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": ""}
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}",
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/4"),
        "DJANGO_SECRET_KEY": "polling-bench-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }


def fresh_postgres_database() -> None:
    import psycopg2

    connection = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
        cursor.execute(f"CREATE DATABASE {BENCH_DB}")
    connection.close()


def gunicorn_command(port: int, workers: int, worker_class: str, threads: int, access_log: Path) -> list[str]:
    """gunicorn as the demo (sync) or compose (gthread) starts it, with the access log kept in a file."""
    if worker_class not in ("sync", "gthread"):
        raise SystemExit(f"--worker-class must be sync or gthread, not {worker_class!r}")
    cmd = processes.web_command(port, workers, threads if worker_class == "gthread" else None)
    cmd[cmd.index("--access-logfile") + 1] = str(access_log)
    return cmd


def wait_until_up(url: str, proc: subprocess.Popen, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310  (loopback URL built here)
                return
        except Exception:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {timeout_s:.0f} s")


def status_code(url: str, headers: list[str]) -> int:
    request = urllib.request.Request(url, headers=dict(h.split(": ", 1) for h in headers))  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settings", choices=["embedded", "production"], default="embedded")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (the demo's: 2)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class: sync or gthread")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--rates", default="50,100,200,400")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--code", default=str(REPO_DIR), help="checkout whose platform/ is served")
    parser.add_argument("--paths", default="full,status", help="full (GET /jobs/{id}/), status (/jobs/{id}/status/)")
    parser.add_argument("--json", help="write every table's numbers to this file")
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seed:
        seed()
        return 0

    code_dir = Path(args.code).resolve()
    data_dir = Path(tempfile.mkdtemp(prefix="forensics-polls-"))
    env = {**os.environ, **settings_env(args.settings, data_dir, code_dir)}
    if args.settings == "production":
        fresh_postgres_database()
    seeded = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--seed"],
        cwd=code_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if seeded.returncode != 0:
        print(seeded.stderr, file=sys.stderr)
        return 1
    ids = json.loads(seeded.stdout.strip().splitlines()[-1])
    port = load_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        gunicorn_command(port, args.workers, args.worker_class, args.threads, data_dir / "access.log"),
        cwd=code_dir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(data_dir / "gunicorn.log", "wb"),
        start_new_session=True,
    )
    results: dict[str, list[dict]] = {}
    try:
        wait_until_up(f"{base}/healthz", server)
        headers = [f"Authorization: Token {ids['key']}"]
        if args.settings == "production":
            headers += PROXY_HEADERS
        targets = {"full": f"{base}/api/v1/jobs/{ids['job']}/", "status": f"{base}/api/v1/jobs/{ids['job']}/status/"}
        print(
            f"{args.settings} settings, gunicorn {args.workers} x {args.worker_class}"
            + (f" ({args.threads} threads)" if args.worker_class == "gthread" else "")
            + f", code {code_dir}, {args.seconds:.0f} s per rate; load average "
            + " ".join(f"{v:.1f}" for v in os.getloadavg())
        )
        for name in [p for p in args.paths.split(",") if p]:
            url = targets[name]
            code = status_code(url, headers)
            if code != 200:
                print(f"\n{name}: {url} answers {code}; skipped")
                continue
            for conditional in (False, True):
                steps = load.run(
                    url,
                    headers,
                    [float(r) for r in args.rates.split(",")],
                    args.seconds,
                    if_none_match=conditional,
                    pids=[server.pid],
                )
                title = f"{name} {'304 (If-None-Match)' if conditional else '200'}"
                print(f"\n{title}: GET {url.removeprefix(base)}")
                print(load.format_table(steps))
                results[title] = [asdict(s) for s in steps]
        print("\nload average at end: " + " ".join(f"{v:.1f}" for v in os.getloadavg()))
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(data_dir, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    return 0


def load_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    raise SystemExit(main())
