"""OpenAPI post-processing: document the error responses every operation can give.

drf-spectacular documents the success response of each view; the errors DRF raises for every view
(bad input, not signed in, not allowed, not found, throttled) share one body shape, ``{"detail":
..., "code": ...}`` or a field → messages map with a ``code``, and are added here so clients (and
Schemathesis) see every status the API really answers with.
"""

from __future__ import annotations

from typing import Any

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": "`detail` and a machine-readable `code`; a validation error maps each bad field to its messages.",
    "properties": {
        "detail": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "code": {"type": "string"},
    },
    "additionalProperties": True,
}
COMMON_ERRORS = {
    "400": "Bad input: the body or query says what is wrong",
    "401": "Not signed in, or the token is unknown or revoked",
    "403": "Signed in, but this role or team may not do this",
    "404": "No such object in your teams",
    "405": "The method is not allowed here",
}
SUBMISSION_ERRORS = {"413": "Over the upload size cap", "429": "Too many submissions: wait and retry"}
SUBMISSION_OPERATIONS = {"jobs_create", "jobs_retry_create"}
LOGIN_ERRORS = {"429": "Too many failed sign-ins for this account or address: wait Retry-After seconds"}
LOGIN_OPERATIONS = {"v1_auth_login_create"}


def document_error_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    body = {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}}}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete", "head", "options"):
                continue
            responses = operation.setdefault("responses", {})
            errors = dict(COMMON_ERRORS)
            if operation.get("operationId") in SUBMISSION_OPERATIONS:
                errors.update(SUBMISSION_ERRORS)
            if operation.get("operationId") in LOGIN_OPERATIONS:
                errors.update(LOGIN_ERRORS)
            for status, description in errors.items():
                responses.setdefault(status, {"description": description, **body})
    return result
