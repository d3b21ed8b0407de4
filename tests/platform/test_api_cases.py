"""Cases API, sign-in, OpenAPI docs: team scoping and refusals."""

import pytest

from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_an_analyst_opens_a_case_in_their_team(alice_client, team):
    response = alice_client.post(
        "/api/v1/cases/", {"title": "Leaked call", "notes": "from tip line", "tags": ["tip"]}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["title"] == "Leaked call" and body["team"] == {"id": team.pk, "name": "Alpha"}
    assert body["tags"] == ["tip"] and body["created_by"] == "alice" and body["media_count"] == 0


def test_a_case_needs_a_title(alice_client):
    response = alice_client.post("/api/v1/cases/", {"notes": "no title"}, format="json")
    assert response.status_code == 400 and "title" in response.json()


def test_a_case_cannot_be_opened_in_someone_elses_team(alice_client, other_team):
    response = alice_client.post("/api/v1/cases/", {"title": "x", "team": other_team.pk}, format="json")
    assert response.status_code == 400 and "team" in response.json()


def test_cases_list_shows_only_the_users_team(alice_client, bob_client, case, other_team, bob):
    CaseFactory(team=other_team, created_by=bob, title="Bravo's case")
    assert [c["title"] for c in alice_client.get("/api/v1/cases/").json()["results"]] == ["Suspicious interview"]
    assert [c["title"] for c in bob_client.get("/api/v1/cases/").json()["results"]] == ["Bravo's case"]
    assert bob_client.get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert bob_client.patch(f"/api/v1/cases/{case.pk}/", {"title": "mine"}, format="json").status_code == 404


def test_case_detail_lists_its_jobs_and_search_finds_it(alice_client, case):
    detail = alice_client.get(f"/api/v1/cases/{case.pk}/").json()
    assert detail["jobs"] == [] and detail["id"] == case.pk
    assert alice_client.get("/api/v1/cases/?search=interview").json()["count"] == 1
    assert alice_client.get("/api/v1/cases/?search=nothing-like-this").json()["count"] == 0


def test_a_case_can_be_edited_but_not_deleted(alice_client, case):
    response = alice_client.patch(f"/api/v1/cases/{case.pk}/", {"notes": "escalated"}, format="json")
    assert response.status_code == 200 and response.json()["notes"] == "escalated"
    assert alice_client.delete(f"/api/v1/cases/{case.pk}/").status_code == 405


def test_cases_refuse_anonymous_callers(anon_client, case):
    assert anon_client.get("/api/v1/cases/").status_code in (401, 403)
    assert anon_client.post("/api/v1/cases/", {"title": "x"}, format="json").status_code in (401, 403)
    assert anon_client.get(f"/api/v1/cases/{case.pk}/").status_code in (401, 403)


def test_session_sign_in_me_and_sign_out(client, alice, team):
    client.get("/api/v1/auth/csrf/")
    assert "csrftoken" in client.cookies
    assert client.get("/api/v1/auth/me/").status_code in (401, 403)
    bad = client.post(
        "/api/v1/auth/login/", {"username": "alice", "password": "wrong"}, content_type="application/json"
    )
    assert bad.status_code == 400
    ok = client.post(
        "/api/v1/auth/login/",
        {"username": "alice", "password": "correct horse battery staple"},
        content_type="application/json",
    )
    assert ok.status_code == 200
    assert ok.json()["teams"] == [{"id": team.pk, "name": "Alpha", "role": "analyst"}]
    assert client.get("/api/v1/auth/me/").json()["username"] == "alice"
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert client.get("/api/v1/auth/me/").status_code in (401, 403)


def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in ("/api/v1/jobs/", "/api/v1/jobs/{id}/", "/api/v1/jobs/{id}/frames/", "/api/v1/cases/"):
        assert path in text
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_health_probes(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.json()["checks"]["database"] == "ok"
