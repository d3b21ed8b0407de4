"""The client address in the custody log and the sign-in limits: the header nginx sets, trusted only from nginx,
one hop (issue 12, hole 13; issue 28, row 3)."""

import pytest
from django.core.cache import cache
from django.test import Client

from audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = "/api/v1/auth/login/"
# docker-compose.yml's address for nginx (FORENSICS_NGINX_ADDRESS), the one FORENSICS_TRUSTED_PROXIES names.
NGINX = "172.30.80.10"
# What the stack trusted before issue 28, and what an operator might still configure: every private range.
PRIVATE_RANGES = ["172.16.0.0/12", "192.168.0.0/16", "10.0.0.0/8"]


@pytest.fixture(autouse=True)
def behind_nginx(settings):
    settings.TRUSTED_PROXIES = [NGINX]
    cache.clear()
    yield
    cache.clear()


def failed_sign_in(remote_addr: str, forwarded_for: str | None) -> str:
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    Client(**extra).post(LOGIN, {"username": "alice", "password": "wrong"}, content_type="application/json")
    return AuditEvent.objects.filter(action="auth.login_failed").order_by("-id").first().ip


def limit_failures_per_address(settings, rate: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login_account": "100/hour",
            "login_address": rate,
        },
    }


def test_behind_nginx_the_address_nginx_saw_is_recorded_not_nginxs(alice):
    assert failed_sign_in(NGINX, "203.0.113.9") == "203.0.113.9"
    # One hop: the rightmost entry is the one nginx wrote; anything to its left came from the client.
    assert failed_sign_in(NGINX, "198.51.100.66, 203.0.113.9") == "203.0.113.9"


def test_a_forwarded_header_from_anyone_but_nginx_is_ignored(alice):
    assert failed_sign_in("198.51.100.1", "203.0.113.77") == "198.51.100.1"
    assert failed_sign_in("172.30.80.11", "203.0.113.77") == "172.30.80.11"  # another host of nginx's network
    assert failed_sign_in(NGINX, "not-an-address") == NGINX
    assert failed_sign_in(NGINX, None) == NGINX


@pytest.mark.parametrize("trusted", [[NGINX], PRIVATE_RANGES], ids=["nginx alone", "every private range"])
def test_a_lan_client_that_forges_x_forwarded_for_is_recorded_at_its_own_address(alice, settings, trusted):
    """The issue's first case: a client at 192.168.1.50 sends ``X-Forwarded-For: 203.0.113.9``. However the
    header reaches the api (nginx now replaces it; before, it appended), the client's own address is recorded,
    even when its address falls in a range trusted as proxies."""
    settings.TRUSTED_PROXIES = trusted
    assert failed_sign_in(NGINX, "192.168.1.50") == "192.168.1.50"
    assert failed_sign_in(NGINX, "203.0.113.9, 192.168.1.50") == "192.168.1.50"


@pytest.mark.parametrize("trusted", [[NGINX], PRIVATE_RANGES], ids=["nginx alone", "every private range"])
def test_lan_clients_each_have_their_own_sign_in_limit(alice, settings, trusted):
    """The issue's second case: users who send no header, each forwarded by nginx with their LAN address,
    are not all counted as nginx's address (which locked every LAN user out after one host's failures)."""
    settings.TRUSTED_PROXIES = trusted
    limit_failures_per_address(settings, "2/hour")
    for _ in range(2):
        assert failed_sign_in(NGINX, "192.168.1.50") == "192.168.1.50"
    good = {"username": "alice", "password": PASSWORD}
    guesser = Client(REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR="192.168.1.50")
    colleague = Client(REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR="192.168.1.51")
    assert guesser.post(LOGIN, good, content_type="application/json").status_code == 429
    assert colleague.post(LOGIN, good, content_type="application/json").status_code == 200
