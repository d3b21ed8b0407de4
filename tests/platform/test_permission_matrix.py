"""Every endpoint × every persona × every action, with the status each must get, and no leaks.

Personas: anonymous; Bob, an analyst in another team; and in team Alpha (which owns the data)
Alice the analyst, Rita the reviewer, Adam the admin. A non-member must get 401/403/404 or an
empty list, never a 2xx that carries Alpha's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from accounts.services import issue_token
from audit.models import AuditEvent
from cases import lease, results, services, storage
from tests.conftest import client_for
from tests.factories import UserFactory, fake_result

pytestmark = pytest.mark.django_db

PERSONAS = ("anonymous", "other_team", "analyst", "reviewer", "admin")


@dataclass
class World:
    case: Any
    job: Any
    media: Any
    token: Any
    event: Any
    clip: bytes


@pytest.fixture
def world(team, alice, case, sample_clip_path) -> World:
    clip = sample_clip_path.read_bytes()
    job = services.submit_job(alice, SimpleUploadedFile("interview.mp4", clip), case=case, frames=4)
    lease.claim_job(job.pk, "w")
    results.record_results(job.pk, "w", fake_result())
    crop = storage.job_artifacts_dir(job.pk) / "crops" / "f0_t0.jpg"
    crop.parent.mkdir(parents=True, exist_ok=True)
    crop.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    token, _ = issue_token(alice, "the token under test")
    event = AuditEvent.objects.filter(team=team).first()
    return World(case=case, job=job, media=job.media, token=token, event=event, clip=clip)


@pytest.fixture
def clients(team, alice, bob):
    return {
        "anonymous": client_for(None),
        "other_team": client_for(bob),
        "analyst": client_for(alice),
        "reviewer": client_for(UserFactory(username="rita", team=team, team__role=Role.REVIEWER)),
        "admin": client_for(UserFactory(username="adam", team=team, team__role=Role.ADMIN)),
    }


def expect(anonymous, other_team, analyst, reviewer, admin) -> dict[str, int]:
    return dict(zip(PERSONAS, (anonymous, other_team, analyst, reviewer, admin), strict=True))


MEMBERS_READ = expect(401, 404, 200, 200, 200)
LIST = expect(401, 200, 200, 200, 200)
NOT_ALLOWED = expect(401, 405, 405, 405, 405)
ADMIN_ONLY = expect(401, 403, 403, 403, 200)

# (endpoint, action, method, path template, body builder, expected status per persona)
MATRIX = [
    ("cases", "list", "get", "/api/v1/cases/", None, LIST),
    ("cases", "list filtered", "get", "/api/v1/cases/?search={sha256}", None, LIST),
    ("cases", "create", "post", "/api/v1/cases/", lambda w: {"title": "new"}, expect(401, 201, 201, 201, 201)),
    (
        "cases",
        "create in Alpha",
        "post",
        "/api/v1/cases/",
        lambda w: {"title": "x", "team": w.case.team_id},
        expect(401, 400, 201, 201, 201),
    ),
    ("cases", "retrieve", "get", "/api/v1/cases/{case}/", None, MEMBERS_READ),
    ("cases", "update", "patch", "/api/v1/cases/{case}/", lambda w: {"notes": "edited"}, MEMBERS_READ),
    ("cases", "replace", "put", "/api/v1/cases/{case}/", lambda w: {"title": "t"}, NOT_ALLOWED),
    ("cases", "delete", "delete", "/api/v1/cases/{case}/", None, NOT_ALLOWED),
    ("jobs", "list", "get", "/api/v1/jobs/", None, LIST),
    ("jobs", "list filtered", "get", "/api/v1/jobs/?case={case}&sha256={sha256}", None, LIST),
    (
        "jobs",
        "create",
        "post",
        "/api/v1/jobs/",
        lambda w: {"file": SimpleUploadedFile("c.mp4", w.clip), "case": w.case.pk},
        expect(401, 400, 202, 202, 202),
    ),
    ("jobs", "retrieve", "get", "/api/v1/jobs/{job}/", None, MEMBERS_READ),
    ("jobs", "status", "get", "/api/v1/jobs/{job}/status/", None, MEMBERS_READ),
    ("jobs", "update", "patch", "/api/v1/jobs/{job}/", lambda w: {"state": "failed"}, NOT_ALLOWED),
    ("jobs", "delete", "delete", "/api/v1/jobs/{job}/", None, NOT_ALLOWED),
    ("jobs", "frames", "get", "/api/v1/jobs/{job}/frames/", None, MEMBERS_READ),
    ("jobs", "report", "get", "/api/v1/jobs/{job}/report/", None, MEMBERS_READ),
    ("jobs", "download report", "get", "/api/v1/jobs/{job}/report/?download=1", None, MEMBERS_READ),
    ("jobs", "signed PDF report", "get", "/api/v1/jobs/{job}/report.pdf", None, MEMBERS_READ),
    ("jobs", "download artefact", "get", "/api/v1/jobs/{job}/files/crops/f0_t0.jpg", None, MEMBERS_READ),
    ("jobs", "cancel", "post", "/api/v1/jobs/{job}/cancel/", None, MEMBERS_READ),
    ("jobs", "retry", "post", "/api/v1/jobs/{job}/retry/", None, expect(401, 404, 202, 202, 202)),
    (
        "jobs",
        "review",
        "post",
        "/api/v1/jobs/{job}/review/",
        lambda w: {"status": "disputed", "override_label": "authentic", "reason": "known source"},
        expect(401, 404, 403, 201, 201),
    ),
    ("jobs", "custody", "get", "/api/v1/jobs/{job}/custody/", None, MEMBERS_READ),
    ("jobs", "custody export", "get", "/api/v1/jobs/{job}/custody/export/?as=csv", None, MEMBERS_READ),
    ("jobs", "manifest", "get", "/api/v1/jobs/{job}/manifest/", None, MEMBERS_READ),
    ("cases", "custody", "get", "/api/v1/cases/{case}/custody/", None, MEMBERS_READ),
    ("cases", "custody export", "get", "/api/v1/cases/{case}/custody/export/", None, MEMBERS_READ),
    ("webhooks", "delivery log", "get", "/api/v1/webhooks/deliveries/", None, ADMIN_ONLY),
    ("media", "list", "get", "/api/v1/media/", None, expect(404, 404, 404, 404, 404)),
    ("media", "retrieve", "get", "/api/v1/media/{media}/", None, MEMBERS_READ),
    ("media", "download", "get", "/api/v1/media/{media}/download/", None, MEMBERS_READ),
    ("media", "inline content", "get", "/api/v1/media/{media}/content/", None, MEMBERS_READ),
    ("media", "delete", "delete", "/api/v1/media/{media}/", None, NOT_ALLOWED),
    ("tokens", "list", "get", "/api/v1/tokens/", None, LIST),
    # Every client here signs in with a token, and a token cannot mint tokens (tests/platform/test_tokens.py).
    ("tokens", "create", "post", "/api/v1/tokens/", lambda w: {"name": "ci"}, expect(401, 403, 403, 403, 403)),
    # Tokens are personal: not even an admin of Alice's team can see or revoke hers.
    ("tokens", "retrieve", "get", "/api/v1/tokens/{token}/", None, expect(401, 404, 200, 404, 404)),
    ("tokens", "update", "patch", "/api/v1/tokens/{token}/", lambda w: {"name": "x"}, NOT_ALLOWED),
    ("tokens", "delete", "delete", "/api/v1/tokens/{token}/", None, expect(401, 404, 204, 404, 404)),
    ("audit", "list", "get", "/api/v1/audit/", None, ADMIN_ONLY),
    ("audit", "retrieve", "get", "/api/v1/audit/{event}/", None, ADMIN_ONLY),
    (
        "audit",
        "create",
        "post",
        "/api/v1/audit/",
        lambda w: {"action": "job.submitted"},
        expect(401, 403, 403, 403, 405),
    ),
    ("audit", "update", "patch", "/api/v1/audit/{event}/", lambda w: {"action": "x"}, expect(401, 403, 403, 403, 405)),
    ("audit", "delete", "delete", "/api/v1/audit/{event}/", None, expect(401, 403, 403, 403, 405)),
    ("auth", "me", "get", "/api/v1/auth/me/", None, LIST),
    ("auth", "upload check", "get", "/api/v1/auth/upload-check/", None, expect(401, 204, 204, 204, 204)),
]


def leaked(world: World, body: bytes) -> list[str]:
    """Alpha's identifying values found in a response to someone outside Alpha."""
    marks = {"media sha256": world.media.sha256, "case title": world.case.title, "file name": "interview.mp4"}
    return [name for name, value in marks.items() if value.encode() in body]


@pytest.mark.parametrize(
    ("endpoint", "action", "method", "template", "body", "expected"),
    MATRIX,
    ids=[f"{row[0]}-{row[1].replace(' ', '_')}" for row in MATRIX],
)
def test_every_persona_gets_the_expected_status_and_outsiders_see_nothing(
    world, clients, endpoint, action, method, template, body, expected
):
    path = template.format(
        case=world.case.pk,
        job=world.job.pk,
        media=world.media.pk,
        token=world.token.pk,
        event=world.event.pk,
        sha256=world.media.sha256,
    )
    got, leaks = {}, []
    for persona in PERSONAS:
        data = body(world) if body else None
        fmt = "multipart" if endpoint == "jobs" and action == "create" else "json"
        response = (
            getattr(clients[persona], method)(path, data, format=fmt)
            if data
            else getattr(clients[persona], method)(path)
        )
        got[persona] = response.status_code
        if persona in ("anonymous", "other_team"):
            content = b"".join(response.streaming_content) if response.streaming else response.content
            leaks += [f"{persona}: {mark}" for mark in leaked(world, content)]
    assert got == expected, f"{method.upper()} {path}"
    assert leaks == [], f"{method.upper()} {path} leaked to outsiders"


def test_outsiders_lists_and_filters_are_empty(world, clients):
    bob = clients["other_team"]
    for path in (
        "/api/v1/cases/",
        "/api/v1/jobs/",
        f"/api/v1/jobs/?case={world.case.pk}",
        f"/api/v1/jobs/?sha256={world.media.sha256}",
        f"/api/v1/jobs/?media={world.media.pk}",
        f"/api/v1/cases/?search={world.media.sha256}",
        "/api/v1/cases/?search=interview",
    ):
        assert bob.get(path).json()["count"] == 0, path
