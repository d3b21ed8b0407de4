"""Sign-in: CSRF enforced, failures throttled per account and per address and audited (issue 12, holes 11, 12)."""

import pytest
from django.core.cache import cache
from django.test import Client

from audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = "/api/v1/auth/login/"


@pytest.fixture(autouse=True)
def fresh_counters(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login_account": "3/hour",
            "login_address": "5/hour",
        },
    }
    cache.clear()
    yield
    cache.clear()


def csrf_client(address: str = "203.0.113.7") -> Client:
    """A browser: CSRF checks on, a csrftoken cookie from the API, the token sent back in the header."""
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=address)
    client.get("/api/v1/auth/csrf/")
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return client


def sign_in(client: Client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password}, content_type="application/json")


def test_a_cross_site_form_without_the_csrf_token_cannot_sign_anyone_in(alice):
    forged = Client(enforce_csrf_checks=True)
    response = forged.post(LOGIN, {"username": "alice", "password": PASSWORD})
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert "sessionid" not in response.cookies
    assert sign_in(csrf_client(), "alice", PASSWORD).status_code == 200


def test_after_too_many_failures_an_account_is_refused_with_429_even_with_the_right_password(alice):
    for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):  # a botnet: one guess per address
        assert sign_in(csrf_client(address), "alice", "guess").status_code == 400
    refused = sign_in(csrf_client("203.0.113.4"), "alice", PASSWORD)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "sessionid" not in refused.cookies


def test_one_address_guessing_many_accounts_is_refused_after_its_limit(alice):
    client = csrf_client()
    for n in range(5):
        assert sign_in(client, f"user{n}", "guess").status_code == 400
    assert sign_in(client, "alice", PASSWORD).status_code == 429
    # Another address is not punished for it.
    assert sign_in(csrf_client("198.51.100.9"), "alice", PASSWORD).status_code == 200


def test_successful_sign_ins_do_not_use_up_the_limit(alice):
    for _ in range(8):
        assert sign_in(csrf_client(), "alice", PASSWORD).status_code == 200


def test_every_failed_sign_in_is_in_the_custody_log_with_the_name_tried_and_the_address(alice, team):
    sign_in(csrf_client(), "alice", "guess")
    sign_in(csrf_client(), "mallory", "guess")
    events = {e.object_id: e for e in AuditEvent.objects.filter(action="auth.login_failed")}
    assert set(events) == {"alice", "mallory"}
    assert events["alice"].team_id == team.pk  # Alpha's admins see attacks on their analysts
    assert events["alice"].ip == "203.0.113.7" and events["alice"].actor is None
    assert events["mallory"].team_id is None
    assert all("password" not in str(e.detail) for e in events.values())


def test_the_admin_sign_in_is_throttled_and_audited_too(alice):
    client = Client(REMOTE_ADDR="203.0.113.50")
    for _ in range(3):
        client.post("/admin/login/", {"username": "alice", "password": "guess"})
    assert AuditEvent.objects.filter(action="auth.login_failed", object_id="alice").count() == 3
    # The right password is refused while the account is throttled.
    alice.is_staff = True
    alice.save()
    response = client.post("/admin/login/?next=/admin/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
