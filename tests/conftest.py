"""Shared fixtures: personas, API clients, generated media, and the real services tests need.

Postgres and Redis are the real ones on loopback. A test that needs one that is not
reachable is skipped on a developer machine and fails loudly in CI (CI=true). Only tests
that use the database need Postgres, and nothing here imports the platform until a fixture
asks for it: tests/detector and tests/training run without Postgres or the Django apps.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
import requests

from workers import processes

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PASSWORD = "correct horse battery staple"


def require_service(host: str, port: int, name: str) -> None:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        message = f"{name} at {host}:{port} is not reachable ({exc})"
        if IN_CI:
            pytest.fail(message + " - CI must run against the real service", pytrace=False)
        pytest.skip(message)


def require_path(path: Path, what: str) -> Path:
    if not path.exists():
        if IN_CI:
            pytest.fail(f"{what} missing at {path} in CI", pytrace=False)
        pytest.skip(f"{what} not found at {path}")
    return path


def require_tool(name: str, installed_by: str) -> str:
    """The path of the program ``name``; skipped locally and a failure in CI when it is missing."""
    import shutil

    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed ({installed_by})"
        if IN_CI:
            pytest.fail(message + " - CI must run this check", pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """pytest-django's hook before it creates the test database: the first test that uses it checks Postgres."""
    require_service("127.0.0.1", 5432, "Postgres")


def pytest_configure(config):
    # One media root for the session, shared with worker processes the tests start.
    if "FORENSICS_MEDIA_ROOT" not in os.environ:
        import tempfile

        os.environ["FORENSICS_MEDIA_ROOT"] = tempfile.mkdtemp(prefix="forensics-test-media-")


# --- personas ---------------------------------------------------------------------------------


@pytest.fixture
def team(db):
    from tests.factories import TeamFactory

    return TeamFactory(name="Alpha")


@pytest.fixture
def other_team(db):
    from tests.factories import TeamFactory

    return TeamFactory(name="Bravo")


def analyst_in(team, username: str):
    from accounts.models import Role
    from tests.factories import UserFactory

    return UserFactory(username=username, team=team, team__role=Role.ANALYST)


@pytest.fixture
def alice(team):
    """Alice: an analyst in team Alpha."""
    return analyst_in(team, "alice")


@pytest.fixture
def bob(other_team):
    """Bob: an analyst in another team; must never see Alpha's data."""
    return analyst_in(other_team, "bob")


@pytest.fixture
def case(team, alice):
    from tests.factories import CaseFactory

    return CaseFactory(team=team, created_by=alice, title="Suspicious interview")


def api_token_for(user) -> str:
    """A fresh API token's key for ``user`` (keys are stored hashed, so each call issues a new one)."""
    from accounts.services import issue_token

    return issue_token(user, "tests")[1]


def post_job(base_url: str, headers: dict, name: str, content, **data) -> requests.Response:
    """``POST /api/v1/jobs/`` over HTTP as an outside client does; ``content`` is bytes or an open file."""
    return requests.post(
        f"{base_url}/api/v1/jobs/",
        headers=headers,
        files={"file": (name, content, "video/mp4")},
        data=data,
        timeout=60,
    )


def poll_until_done(url: str, headers: dict, timeout_s: float = 300.0, interval_s: float = 0.3):
    """Poll a job's URL until it leaves queued/running; return its JSON and the (state, stage, progress) seen."""
    seen: list[tuple] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = requests.get(url, headers=headers, timeout=30).json()
        status = (body["state"], body["stage"], body["progress"])
        if not seen or seen[-1] != status:
            seen.append(status)
        if body["state"] not in ("queued", "running"):
            return body, seen
        time.sleep(interval_s)
    raise AssertionError(f"job at {url} not finished in {timeout_s} s; states seen: {seen}")


def client_for(user):
    from rest_framework.test import APIClient

    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return client


@pytest.fixture
def alice_client(alice):
    return client_for(alice)


@pytest.fixture
def bob_client(bob):
    return client_for(bob)


@pytest.fixture
def anon_client():
    return client_for(None)


# --- media ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("generated-media")


@pytest.fixture(scope="session")
def sample_clip_path(media_dir) -> Path:
    """A 2 s, 15 fps MP4 of the astronaut photo's face moving across the frame."""
    from detector.synthetic import write_moving_face_clip

    return write_moving_face_clip(media_dir / "astronaut.mp4", seconds=2, fps=15)


@pytest.fixture(scope="session")
def blank_clip_path(media_dir) -> Path:
    from detector.synthetic import write_blank_clip

    return write_blank_clip(media_dir / "blank.mp4")


@pytest.fixture(scope="session")
def face_jpeg_path(media_dir) -> Path:
    import cv2

    from detector.synthetic import astronaut_rgb

    path = media_dir / "astronaut.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(astronaut_rgb(), cv2.COLOR_RGB2BGR))
    return path


# --- real processes (integration and browser tests) ---------------------------------------------


@pytest.fixture(scope="session")
def redis_broker_url():
    from django.conf import settings

    require_service("127.0.0.1", 6379, "Redis")
    import redis

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    return settings.CELERY_BROKER_URL


def database_url_for_children() -> str:
    """The URL of the database pytest-django created, for processes the tests start."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def worker_env(django_db_setup, redis_broker_url):
    from django.conf import settings

    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url_for_children(),
        "CELERY_BROKER_URL": redis_broker_url,
        "FORENSICS_MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }


@pytest.fixture(scope="module")
def celery_worker_process(worker_env, tmp_path_factory):
    """One real `celery worker` process (prefork, concurrency 1) consuming gpu and cpu queues.

    Module-scoped: it must be gone before later modules (chaos, hostile corpus) start their own
    workers on the same broker, or it would take their jobs.
    """
    log = tmp_path_factory.mktemp("logs") / "worker.log"
    proc = processes.start_worker(worker_env, log)
    try:
        processes.wait_for_log(proc, "ready.", timeout_s=180)
        yield proc
    finally:
        processes.stop(proc)
        print(f"worker log: {log}")


@pytest.fixture(scope="module")
def api_behind_nginx(worker_env, tmp_path_factory):
    """The API as compose serves it: gunicorn (config.wsgi on the test settings and database) behind a real
    nginx running the image's rendered configuration (tests/deploy/nginx.py), both on loopback.

    Yields the nginx URL, the gunicorn process and nginx's folder (its logs and body buffers).
    """
    from tests.deploy.nginx import serving_nginx

    folder = tmp_path_factory.mktemp("api-behind-nginx")
    (folder / "nginx").mkdir()
    port = processes.free_port()
    gunicorn = processes.start_web(worker_env, port, folder / "gunicorn.log")
    try:
        processes.wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout_s=120, proc=gunicorn)
        with serving_nginx(folder / "nginx", port) as url:
            yield {"url": url, "gunicorn": gunicorn, "nginx_dir": folder / "nginx"}
    finally:
        processes.stop(gunicorn)
