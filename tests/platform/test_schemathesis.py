"""Schemathesis over the OpenAPI schema at /api/schema/: no server errors, responses as documented.

Every operation is called through the WSGI app (the whole middleware stack) by Alice, an analyst
who owns a finished job: with generated data (positive and negative), and with path ids aimed at
her own rows so the serializers of real results are exercised too. Hypothesis examples are capped
per operation and derandomized, to keep the run short and repeatable.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from tests.conftest import api_token_for

MAX_EXAMPLES = 12
# Not checked: "a schema-valid request is accepted" (the schema cannot say that a case or team id must
# exist and be yours, so generated ids are rightly refused with 400/404) and "a schema-violating request
# is refused" (form fields arrive as strings and DRF coerces "7" to 7 and 9.7 to "9.7" by design).
# Negative data is still sent: it must not cause a server error or an undocumented response.
EXCLUDED_CHECKS = [positive_data_acceptance, negative_data_rejection]


@pytest.fixture
def api_schema(db):
    # As Django's test client does: a request must not close the connection that holds the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def alice_world(alice, case, face_jpeg_path):
    """Alice's token and real rows to aim path ids at: a finished job with results, a spare token."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import ApiToken
    from audit.models import AuditEvent
    from cases import lease, results, services
    from tests.factories import fake_result
    from webhooks.models import WebhookDelivery, WebhookEndpoint

    # An endpoint, so the finished job leaves a delivery in the log (never sent: the test does not commit).
    WebhookEndpoint.objects.create(team=case.team, url="https://93.184.216.34/hook")
    upload = SimpleUploadedFile("face.jpg", face_jpeg_path.read_bytes(), "image/jpeg")
    job = services.submit_job(alice, upload, case=case, frames=1)
    lease.claim_job(job.pk, "schemathesis")
    results.record_results(job.pk, "schemathesis", fake_result(frames=2))
    headers = {"Authorization": f"Token {api_token_for(alice)}"}
    api_token_for(alice)  # a spare token: the one DELETE /tokens/{id}/ may revoke
    ids = {
        "cases": case.pk,
        "jobs": job.pk,
        "media": job.media_id,
        "audit": AuditEvent.objects.filter(team=case.team).latest("pk").pk,
        "tokens": ApiToken.objects.filter(user=alice).latest("pk").pk,
        "webhooks": WebhookDelivery.objects.latest("pk").pk,
    }
    return headers, ids


def real_ids_for(path: str, ids: dict[str, int]) -> dict[str, object] | None:
    """Path parameters naming Alice's own rows for ``path`` (e.g. /api/v1/jobs/{id}/frames/), if it has any."""
    if "{id}" not in path:
        return None
    params: dict[str, object] = {"id": ids[path.split("/")[3]]}
    if "{path}" in path:
        params["path"] = "crops/f0_t0.jpg"
    return params


def test_every_operation_answers_without_server_errors_and_as_documented(api_schema, alice_world):
    headers, ids = alice_world
    failures: dict[str, str] = {}
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        passes = [("positive", GenerationMode.POSITIVE, None), ("negative", GenerationMode.NEGATIVE, None)]
        real = real_ids_for(operation.path, ids)
        if real:
            passes.append(("own rows", GenerationMode.POSITIVE, real))
        for name, mode, path_parameters in passes:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

            @given(case=strategy)
            @hypothesis_settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def call(case):
                case.call_and_validate(headers=headers, excluded_checks=EXCLUDED_CHECKS)

            try:
                call()
            except Unsatisfiable:
                assert mode == GenerationMode.NEGATIVE, operation.label  # nothing to negate (no parameters)
            except BaseException as exc:  # hypothesis raises schemathesis' FailureGroup (an exception group)
                if isinstance(exc, KeyboardInterrupt):
                    raise
                failures[f"{operation.label} ({name})"] = f"{exc.__class__.__name__}: {exc}"[:3000]
    assert operations >= 20
    assert not failures, "\n\n".join(f"{label}\n{text}" for label, text in failures.items())
