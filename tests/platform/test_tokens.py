"""API tokens: minted only from a password session, optionally expiring, and their events in the team's
custody log (issue 12, hole 16)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import issue_token
from audit.models import AuditEvent
from tests.conftest import PASSWORD, client_for

pytestmark = pytest.mark.django_db


def session_client(username: str) -> APIClient:
    client = APIClient()
    assert client.login(username=username, password=PASSWORD)
    return client


def test_a_token_cannot_mint_a_token_so_a_stolen_one_dies_with_its_revocation(alice):
    stolen = client_for(alice)
    response = stolen.post("/api/v1/tokens/", {"name": "persistence"}, format="json")
    assert response.status_code == 403 and "password" in response.json()["detail"]
    assert ApiToken.objects.filter(name="persistence").count() == 0


def test_a_signed_in_session_mints_tokens(alice):
    response = session_client("alice").post("/api/v1/tokens/", {"name": "ingest bot"}, format="json")
    assert response.status_code == 201 and response.json()["key"]


def test_a_token_with_an_expiry_is_refused_once_it_has_passed(alice):
    response = session_client("alice").post("/api/v1/tokens/", {"name": "ci", "expires_in_days": 7}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["expires_at"] is not None
    expires_at = ApiToken.objects.get(pk=body["id"]).expires_at
    assert timedelta(days=6, hours=23) < expires_at - timezone.now() <= timedelta(days=7)
    client = Client(HTTP_AUTHORIZATION=f"Token {body['key']}")
    assert client.get("/api/v1/auth/me/").status_code == 200
    ApiToken.objects.filter(pk=body["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/auth/me/").status_code == 401


def test_a_token_name_over_its_maximum_length_is_refused(alice):
    response = session_client("alice").post("/api/v1/tokens/", {"name": "n" * 101}, format="json")
    assert response.status_code == 400 and "name" in response.json()


@pytest.mark.parametrize("days", [0, -1, 366])
def test_an_expiry_outside_one_day_to_a_year_is_refused(alice, days):
    response = session_client("alice").post("/api/v1/tokens/", {"expires_in_days": days}, format="json")
    assert response.status_code == 400 and "expires_in_days" in response.json()


def test_token_events_are_shown_to_the_admins_of_the_owners_teams_and_no_one_else(alice, team, other_team):
    from accounts.models import Role
    from accounts.services import revoke_token
    from tests.factories import UserFactory

    token, _ = issue_token(alice, "laptop")
    revoke_token(token, alice)
    alphas_admin = client_for(UserFactory(username="adam", team=team, team__role=Role.ADMIN))
    bravos_admin = client_for(UserFactory(username="bea", team=other_team, team__role=Role.ADMIN))

    def token_events(client) -> list[str]:
        body = client.get("/api/v1/audit/?object_type=api_token", format="json").json()
        return sorted(e["action"] for e in body["results"] if e["object_id"] == str(token.pk))

    assert token_events(alphas_admin) == ["token.created", "token.revoked"]
    assert token_events(bravos_admin) == []
    assert AuditEvent.objects.get(action="token.created", object_id=str(token.pk)).detail["name"] == "laptop"
