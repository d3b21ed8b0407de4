"""The route nginx asks before it accepts an upload's body (deploy/nginx: auth_request /_upload-auth).

It must answer 204 to a signed-in client (API token or session) and 401 to anyone else, and never
anything else: nginx turns any other answer (a 429, a redirect) into a 500 for the uploader.
"""

import pytest
from rest_framework.test import APIClient

from accounts.services import issue_token, revoke_token
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
URL = "/api/v1/auth/upload-check/"


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_valid_token_or_a_session_may_upload(alice):
    assert with_token(issue_token(alice, "uploader")[1]).get(URL).status_code == 204
    browser = APIClient(enforce_csrf_checks=True)
    assert browser.login(username="alice", password=PASSWORD)
    assert browser.get(URL).status_code == 204


def test_anonymous_wrong_and_revoked_tokens_are_answered_401(alice):
    token, key = issue_token(alice, "soon revoked")
    revoke_token(token, alice)
    for client in (APIClient(), with_token("not-a-token"), with_token(key)):
        response = client.get(URL)
        assert response.status_code == 401, response.content
