"""Request bodies are bounded before anything parses them; text fields have maximum lengths (issue 12, hole 1)."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cases.models import Case

pytestmark = pytest.mark.django_db
LOGIN = "/api/v1/auth/login/"


@pytest.fixture
def parsed(monkeypatch):
    """Counts the bodies DRF's JSON parser reads: a refused body must never reach it."""
    from rest_framework.parsers import JSONParser

    calls = []
    original = JSONParser.parse

    def counting(self, stream, media_type=None, parser_context=None):
        calls.append(media_type)
        return original(self, stream, media_type, parser_context)

    monkeypatch.setattr(JSONParser, "parse", counting)
    return calls


def test_an_anonymous_two_megabyte_json_body_to_login_is_refused_with_413_before_parsing(parsed):
    body = json.dumps({"username": "alice", "password": "x" * 2 * 1024 * 1024})
    response = Client().post(LOGIN, body, content_type="application/json")
    assert response.status_code == 413, response.content
    assert response.json()["code"] == "too_large"
    assert parsed == []


def test_a_declared_length_over_the_limit_is_refused_on_the_header_alone(parsed):
    response = Client().generic("POST", LOGIN, b"{}", content_type="application/json", CONTENT_LENGTH=str(2 * 1024**3))
    assert response.status_code == 413 and parsed == []


def test_a_small_body_to_the_same_route_is_still_parsed(parsed, alice):
    response = Client().post(LOGIN, {"username": "alice", "password": "wrong"}, content_type="application/json")
    assert response.status_code == 400 and len(parsed) == 1


def test_only_the_upload_route_takes_bodies_above_the_small_limit(alice_client, case, sample_clip_path, settings):
    settings.MAX_REQUEST_BODY_BYTES = 1000
    assert sample_clip_path.stat().st_size > 1000
    clip = SimpleUploadedFile("clip.mp4", sample_clip_path.read_bytes(), content_type="video/mp4")
    assert alice_client.post("/api/v1/jobs/", {"file": clip, "case": case.pk}, format="multipart").status_code == 202
    big_case = {"title": "t", "notes": "n" * 2000}
    assert alice_client.post("/api/v1/cases/", big_case, format="json").status_code == 413
    # The upload route still refuses a body over the upload cap from its header.
    settings.MAX_UPLOAD_BYTES = 100
    clip.seek(0)
    response = alice_client.post("/api/v1/jobs/", {"file": clip, "case": case.pk}, format="multipart")
    assert response.status_code == 413 and response.json()["code"] == "too_large"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/cases/", {"title": "t" * 201}, "title"),
        ("/api/v1/cases/", {"title": "t", "notes": "n" * 10_001}, "notes"),
        ("/api/v1/cases/", {"title": "t", "tags": ["x" * 51]}, "tags"),
        ("/api/v1/cases/", {"title": "t", "tags": ["x"] * 51}, "tags"),
    ],
)
def test_text_fields_over_their_maximum_length_are_refused(alice_client, path, body, field):
    response = alice_client.post(path, body, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not Case.objects.filter(title__startswith="t").exists()


def test_an_overlong_notes_edit_is_refused(alice_client, case):
    response = alice_client.patch(f"/api/v1/cases/{case.pk}/", {"notes": "n" * 10_001}, format="json")
    assert response.status_code == 400 and "notes" in response.json()


def test_sign_in_fields_have_maximum_lengths(alice):
    for field, body in [
        ("username", {"username": "a" * 151, "password": "x"}),
        ("password", {"username": "alice", "password": "x" * 1025}),
    ]:
        response = Client().post(LOGIN, body, content_type="application/json")
        assert response.status_code == 400 and field in response.json(), response.content


def test_a_submission_carrying_more_than_its_one_file_is_refused(alice_client, case, sample_clip_path):
    clip = SimpleUploadedFile("clip.mp4", sample_clip_path.read_bytes(), content_type="video/mp4")
    extra = {f"extra{n}": SimpleUploadedFile(f"{n}.bin", b"x") for n in range(5)}
    response = alice_client.post("/api/v1/jobs/", {"file": clip, **extra, "case": case.pk}, format="multipart")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", LOGIN, "[" * 5000),
        ("post", LOGIN, '{"username": ' * 5000),
        ("post", "/api/v1/cases/", "[" * 5000 + "]" * 5000),  # well-formed, just deep
        ("patch", "/api/v1/cases/{case}/", '{"tags": ' + "[" * 100_000),
        ("post", "/api/v1/tokens/", '{"name": ' * 5000),
        ("post", "/api/v1/jobs/{job}/review/", '{"reason": ' * 5000),
    ],
    ids=["login-lists", "login-objects", "case-balanced", "case-edit", "token", "review"],
)
def test_json_nested_deeper_than_the_decoder_recurses_is_a_400_not_a_500(team, case, method, path, body):
    from rest_framework.test import APIClient

    from accounts.models import Role
    from tests.conftest import PASSWORD
    from tests.factories import JobFactory, MediaFactory, UserFactory

    reviewer = UserFactory(username="rita", team=team, team__role=Role.REVIEWER)
    job = JobFactory(media=MediaFactory(case=case, uploaded_by=reviewer))
    client = APIClient()  # signed in with a session: minting a token needs one
    client.raise_request_exception = False
    if path != LOGIN:
        assert client.login(username="rita", password=PASSWORD)
    response = getattr(client, method)(path.format(case=case.pk, job=job.pk), body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"] == "parse_error" and "nested too deeply" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/cases/", '{"title": "t", "team": 1e999}'),
        ("/api/v1/cases/", '{"title": "t", "tags": [-1e400]}'),
        ("/api/v1/jobs/", '{"case": 1e999, "frames": 2}'),
    ],
    ids=["case-team", "case-tags", "job-case"],
)
def test_a_json_number_beyond_a_floats_range_is_a_400_not_a_500(alice, path, body):
    from tests.conftest import client_for

    client = client_for(alice)
    client.raise_request_exception = False
    response = client.post(path, body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"] == "parse_error" and "out of range" in response.json()["detail"]
