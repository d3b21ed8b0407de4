"""Sign-in limits against the real thing (issue 28, rows 3 and 4): a burst of concurrent wrong passwords at
gunicorn (gthread, two processes sharing the Redis cache, as compose runs it) gets no more passwords checked
than the limit allows, and behind real nginx each client is counted at its own address, whatever it forwards."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from requests.adapters import HTTPAdapter

from audit.models import AuditEvent
from tests.conftest import PASSWORD
from workers import processes

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ACCOUNT_LIMIT = 5
BURST = 60
CACHE_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture(scope="module")
def sign_in_server(worker_env, tmp_path_factory):
    """gunicorn on the test database and a Redis cache, nginx's rendered configuration in front of it; nginx
    (on loopback) is the trusted proxy."""
    from tests.deploy.nginx import serving_nginx

    env = {
        **worker_env,
        "DJANGO_CACHE_URL": CACHE_URL,
        "FORENSICS_LOGIN_FAILURES_PER_ACCOUNT": f"{ACCOUNT_LIMIT}/hour",
        "FORENSICS_LOGIN_FAILURES_PER_ADDRESS": "1000/hour",
        "FORENSICS_TRUSTED_PROXIES": "127.0.0.1",
    }
    folder = tmp_path_factory.mktemp("sign-in")
    (folder / "nginx").mkdir()
    port = processes.free_port()
    gunicorn = processes.start_web(env, port, folder / "gunicorn.log", workers=2, threads=16)
    try:
        processes.wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout_s=120, proc=gunicorn)
        with serving_nginx(folder / "nginx", port) as nginx_url:
            yield {"direct": f"http://127.0.0.1:{port}", "nginx": nginx_url}
    finally:
        processes.stop(gunicorn)


@pytest.fixture(autouse=True)
def fresh_counters():
    import redis

    redis.Redis.from_url(CACHE_URL).flushdb()


class FromAddress(HTTPAdapter):
    """Connects from ``address`` (another loopback address: another client as nginx sees it)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def browser(base_url: str, address: str | None = None) -> requests.Session:
    """A client with a csrftoken cookie and its header, as the dashboard signs in."""
    session = requests.Session()
    if address is not None:
        session.mount("http://", FromAddress(address))
    session.get(f"{base_url}/api/v1/auth/csrf/", timeout=30)
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return session


def sign_in(session: requests.Session, base_url: str, password: str, **headers: str) -> int:
    body = {"username": "alice", "password": password}
    return session.post(f"{base_url}/api/v1/auth/login/", json=body, headers=headers, timeout=120).status_code


def test_a_burst_of_concurrent_wrong_passwords_gets_no_more_of_them_checked_than_the_limit(sign_in_server, alice):
    base = sign_in_server["direct"]
    csrf = browser(base).cookies["csrftoken"]
    start = threading.Barrier(BURST)

    def guess(_: int) -> int:
        session = requests.Session()
        session.cookies.set("csrftoken", csrf)
        session.headers["X-CSRFToken"] = csrf
        start.wait()
        return sign_in(session, base, "guess")

    with ThreadPoolExecutor(BURST) as pool:
        statuses = list(pool.map(guess, range(BURST)))
    # 400: the password was checked (and wrong); 429: refused before it was.
    assert sorted(set(statuses)) == [400, 429], statuses
    assert statuses.count(400) == ACCOUNT_LIMIT, statuses
    assert AuditEvent.objects.filter(action="auth.login_failed", object_id="alice").count() == ACCOUNT_LIMIT
    # The right password is refused too while the account is throttled.
    assert sign_in(browser(base), base, PASSWORD) == 429


def test_a_right_password_gives_its_slot_back(sign_in_server, alice):
    base = sign_in_server["direct"]
    for _ in range(ACCOUNT_LIMIT + 3):
        assert sign_in(browser(base), base, PASSWORD) == 200
    for _ in range(ACCOUNT_LIMIT):
        assert sign_in(browser(base), base, "guess") == 400
    assert sign_in(browser(base), base, PASSWORD) == 429


def test_behind_nginx_each_client_is_recorded_at_its_own_address_whatever_it_forwards(sign_in_server, alice):
    url = sign_in_server["nginx"]
    assert sign_in(browser(url, "127.0.0.2"), url, "guess", **{"X-Forwarded-For": "203.0.113.9"}) == 400
    assert sign_in(browser(url, "127.0.0.3"), url, "guess") == 400
    addresses = AuditEvent.objects.filter(action="auth.login_failed").order_by("id").values_list("ip", flat=True)
    assert list(addresses) == ["127.0.0.2", "127.0.0.3"]
