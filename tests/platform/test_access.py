"""API tokens, roles and reviews, the custody log, rate limits, security headers, deploy checks."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction
from django.db.utils import InternalError

from accounts.models import ApiToken, Role
from accounts.services import hash_token_key, issue_token
from audit.models import AppendOnlyError, AuditAction, AuditEvent
from cases import services
from cases.models import ReviewStatus
from tests.conftest import PASSWORD, client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rita(team):
    """Rita: a reviewer in team Alpha."""
    return UserFactory(username="rita", team=team, team__role=Role.REVIEWER)


# --- API tokens ---------------------------------------------------------------------------------


@pytest.fixture
def alice_session(alice):
    """Alice signed in with her password: tokens are minted from a session, not with a token."""
    from rest_framework.test import APIClient

    client = APIClient()
    assert client.login(username="alice", password=PASSWORD)
    return client


def test_a_token_is_shown_once_and_only_its_hash_is_stored(alice_session, anon_client):
    created = alice_session.post("/api/v1/tokens/", {"name": "ingest bot"}, format="json")
    assert created.status_code == 201
    key = created.json()["key"]
    row = ApiToken.objects.get(pk=created.json()["id"])
    assert row.key_sha256 == hash_token_key(key) and key not in str(row.__dict__)
    listed = alice_session.get("/api/v1/tokens/").json()["results"]
    assert {t["name"] for t in listed} >= {"ingest bot"} and all("key" not in t for t in listed)
    anon_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert anon_client.get("/api/v1/auth/me/").json()["username"] == "alice"


def test_a_revoked_token_is_refused_at_once(alice, anon_client):
    token, key = issue_token(alice, "laptop")
    anon_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert anon_client.get("/api/v1/jobs/").status_code == 200
    owner = client_for(alice)
    assert owner.delete(f"/api/v1/tokens/{token.pk}/").status_code == 204
    assert anon_client.get("/api/v1/jobs/").status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_made_up_or_malformed_token_is_refused(anon_client, alice):
    for header in (f"Token {secrets.token_urlsafe(32)}", "Token ", "Token a b", "Bearer x"):
        anon_client.credentials(HTTP_AUTHORIZATION=header)
        assert anon_client.get("/api/v1/jobs/").status_code == 401, header


def test_the_management_command_prints_a_working_token(alice, anon_client):
    out = StringIO()
    call_command("create_api_token", "alice", "--name", "cli", stdout=out)
    key = out.getvalue().strip()
    anon_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert anon_client.get("/api/v1/auth/me/").json()["username"] == "alice"
    assert ApiToken.objects.filter(user=alice, name="cli", key_sha256=hash_token_key(key)).exists()


# --- reviews ------------------------------------------------------------------------------------


def test_a_reviewer_overrides_a_verdict_with_a_reason_and_the_job_shows_it(rita, finished_job):
    client = client_for(rita)
    response = client.post(
        f"/api/v1/jobs/{finished_job.pk}/review/",
        {"status": "disputed", "override_label": "authentic", "reason": "Original camera file obtained."},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = client.get(f"/api/v1/jobs/{finished_job.pk}/").json()
    assert body["review_status"] == "disputed" and body["verdict"]["label"] == "manipulated"
    assert body["review"]["override_label"] == "authentic" and body["review"]["reviewer"] == "rita"
    event = AuditEvent.objects.get(action=AuditAction.JOB_REVIEWED)
    assert event.actor == rita and event.sha256 == finished_job.media.sha256
    assert event.detail["reason"] == "Original camera file obtained."


def test_a_review_posted_from_the_browsable_api_is_saved_once_and_answered_without_an_error(rita, finished_job):
    from rest_framework.test import APIClient

    browser = APIClient()
    assert browser.login(username="rita", password=PASSWORD)
    response = browser.post(
        f"/api/v1/jobs/{finished_job.pk}/review/",
        {"status": "confirmed", "reason": "Checked the frames."},
        HTTP_ACCEPT="text/html",
    )
    assert response.status_code == 201, response.content[:500]
    assert b"Checked the frames." in response.content
    assert finished_job.reviews.count() == 1


def test_a_review_shows_on_the_case_list_and_moves_the_case_up(rita, finished_job):
    client = client_for(rita)
    before = client.get(f"/api/v1/cases/{finished_job.media.case_id}/").json()["updated_at"]
    client.post(
        f"/api/v1/jobs/{finished_job.pk}/review/",
        {"status": "disputed", "override_label": "authentic", "reason": "Original camera file obtained."},
        format="json",
    )
    case = client.get(f"/api/v1/cases/{finished_job.media.case_id}/").json()
    assert case["updated_at"] > before
    latest = client.get("/api/v1/cases/").json()["results"][0]["latest_verdict"]
    assert (latest["label"], latest["review_status"], latest["review_label"]) == (
        "manipulated",
        "disputed",
        "authentic",
    )
    assert client.get(f"/api/v1/jobs/{finished_job.pk}/").json()["review_label"] == "authentic"


def test_an_override_needs_a_reason_and_a_verdict(rita, alice, case, finished_job, sample_clip_path):
    client = client_for(rita)
    no_reason = client.post(
        f"/api/v1/jobs/{finished_job.pk}/review/", {"status": "disputed", "override_label": "authentic"}, format="json"
    )
    assert no_reason.status_code == 400 and no_reason.json()["code"] == "reason_required"
    queued = services.submit_job(alice, SimpleUploadedFile("q.mp4", sample_clip_path.read_bytes()), case=case)
    no_verdict = client.post(
        f"/api/v1/jobs/{queued.pk}/review/",
        {"status": "disputed", "override_label": "authentic", "reason": "r"},
        format="json",
    )
    assert no_verdict.status_code == 409 and no_verdict.json()["code"] == "no_verdict"
    status_only = client.post(f"/api/v1/jobs/{queued.pk}/review/", {"status": "in_review"}, format="json")
    assert status_only.status_code == 201
    bad = client.post(f"/api/v1/jobs/{queued.pk}/review/", {"status": "approved-by-me"}, format="json")
    assert bad.status_code == 400


def test_an_analyst_cannot_review_and_nothing_is_recorded(alice_client, finished_job):
    response = alice_client.post(f"/api/v1/jobs/{finished_job.pk}/review/", {"status": "confirmed"}, format="json")
    assert response.status_code == 403
    finished_job.refresh_from_db()
    assert finished_job.review_status == ReviewStatus.UNREVIEWED
    assert not AuditEvent.objects.filter(action=AuditAction.JOB_REVIEWED).exists()


# --- the custody log ----------------------------------------------------------------------------


def test_upload_submit_download_and_tokens_are_in_the_custody_log(
    alice, alice_client, alice_session, finished_job, team
):
    media = finished_job.media
    alice_client.get(f"/api/v1/media/{media.pk}/download/")
    token_id = alice_session.post("/api/v1/tokens/", {"name": "t"}, format="json").json()["id"]
    alice_client.delete(f"/api/v1/tokens/{token_id}/")
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "sha256", "object_id"))
    evidence = [a for a in actions if not a[0].startswith("token.")]
    assert evidence == [
        (AuditAction.MEDIA_UPLOADED, media.sha256, str(media.pk)),
        (AuditAction.JOB_SUBMITTED, media.sha256, str(finished_job.pk)),
        (AuditAction.MEDIA_DOWNLOADED, media.sha256, str(media.pk)),
    ]
    created, revoked = actions[-2:]
    assert created[0] == AuditAction.TOKEN_CREATED and revoked[0] == AuditAction.TOKEN_REVOKED
    assert created[2] == revoked[2] == str(token_id)
    assert set(AuditEvent.objects.values_list("actor_name", flat=True)) == {"alice"}
    assert AuditEvent.objects.filter(action=AuditAction.MEDIA_DOWNLOADED).get().ip == "127.0.0.1"


def test_audit_events_cannot_be_changed_or_deleted(finished_job):
    event = AuditEvent.objects.get(action=AuditAction.MEDIA_UPLOADED)
    event.action = AuditAction.TOKEN_REVOKED
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    # Below the ORM, the database refuses too.
    for sql in ("UPDATE audit_auditevent SET action = 'x'", "DELETE FROM audit_auditevent"):
        with pytest.raises(InternalError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AuditEvent.objects.filter(pk=event.pk, action=AuditAction.MEDIA_UPLOADED).exists()


def test_an_admin_reads_only_their_teams_custody_log(team, other_team, bob, finished_job, sample_clip_path):
    services.submit_job(bob, SimpleUploadedFile("b.mp4", sample_clip_path.read_bytes()))
    adam = UserFactory(username="adam", team=team, team__role=Role.ADMIN)
    client_for(bob)  # Bob's token: not Alpha's business
    events = client_for(adam).get("/api/v1/audit/").json()["results"]
    # Token events have no team; an admin sees those of their team's members only (here, Adam's own).
    assert events and {e["team"] for e in events if e["object_type"] != "api_token"} == {team.pk}
    assert {e["actor_name"] for e in events if e["object_type"] == "api_token"} == {"adam"}


# --- rate limit, headers, deploy check ----------------------------------------------------------


def test_submissions_are_rate_limited_per_user(alice_client, bob_client, case, sample_clip_path, settings):
    cache.clear()
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"submit": "3/minute"}}
    clip = sample_clip_path.read_bytes()

    def submit(client):
        return client.post("/api/v1/jobs/", {"file": SimpleUploadedFile("c.mp4", clip)}, format="multipart")

    assert [submit(alice_client).status_code for _ in range(4)] == [202, 202, 202, 429]
    assert submit(bob_client).status_code == 202, "the limit is per user"
    assert alice_client.get("/api/v1/jobs/").status_code == 200, "reads are not throttled"
    cache.clear()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/jobs/",
        "/api/v1/nowhere/",
        "/api/schema/",
        "/api/docs/",
        "/healthz",
        "/",
        "/api/v1/media/{media}/download/",
    ],
)
def test_every_response_carries_the_security_headers(alice_client, finished_job, path):
    response = alice_client.get(path.format(media=finished_job.media_id))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_deploy_check_is_clean_with_production_settings():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "forensics.example.org",
        "DATABASE_URL": "postgres://forensics@db.example.org:5432/forensics",
        "CELERY_BROKER_URL": "redis://redis.example.org:6379/0",
    }
    env.pop("DJANGO_DEBUG", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the browser tests set it for the test process only
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.production", "DJANGO_ALLOWED_HOSTS": "x"})
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr
