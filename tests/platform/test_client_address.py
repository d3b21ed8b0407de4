"""The client address in the custody log and the sign-in limits: the proxy's header, trusted only from the
configured proxy (issue 12, hole 13)."""

import pytest
from django.core.cache import cache
from django.test import Client

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db
LOGIN = "/api/v1/auth/login/"


@pytest.fixture(autouse=True)
def behind_nginx(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]  # the compose network nginx connects from
    cache.clear()
    yield
    cache.clear()


def failed_sign_in(remote_addr: str, forwarded_for: str | None) -> str:
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    Client(**extra).post(LOGIN, {"username": "alice", "password": "wrong"}, content_type="application/json")
    return AuditEvent.objects.filter(action="auth.login_failed").order_by("-id").first().ip


def test_behind_the_trusted_proxy_the_address_nginx_saw_is_recorded_not_the_proxys(alice):
    # nginx appends the peer it saw; anything to its left was written by the client and is not trusted.
    assert failed_sign_in("10.0.0.5", "203.0.113.9") == "203.0.113.9"
    assert failed_sign_in("10.0.0.5", "198.51.100.66, 203.0.113.9") == "203.0.113.9"
    # Proxies in a chain that are themselves trusted are skipped.
    assert failed_sign_in("10.0.0.5", "203.0.113.9, 10.1.2.3") == "203.0.113.9"


def test_a_forwarded_header_from_anyone_but_the_proxy_is_ignored(alice):
    assert failed_sign_in("198.51.100.1", "203.0.113.77") == "198.51.100.1"
    assert failed_sign_in("10.0.0.5", "not-an-address") == "10.0.0.5"
    assert failed_sign_in("10.0.0.5", None) == "10.0.0.5"


def test_clients_behind_the_proxy_have_their_own_sign_in_limits(alice, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login_account": "100/hour",
            "login_address": "2/hour",
        },
    }
    for _ in range(2):
        failed_sign_in("10.0.0.5", "203.0.113.9")
    guesser = Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9")
    other = Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.20")
    good = {"username": "alice", "password": "correct horse battery staple"}
    assert guesser.post(LOGIN, good, content_type="application/json").status_code == 429
    assert other.post(LOGIN, good, content_type="application/json").status_code == 200
