"""API error responses: DRF's shapes, plus a machine-readable ``code`` on every error body."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework.views import exception_handler as drf_exception_handler

# Django's own exceptions, which DRF turns into responses but which carry no DRF error code.
DJANGO_EXCEPTION_CODES = ((Http404, "not_found"), (PermissionDenied, "permission_denied"))


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "code" not in response.data:
        codes = exc.get_codes() if hasattr(exc, "get_codes") else None
        if isinstance(codes, str):
            response.data["code"] = codes
        elif isinstance(codes, dict):
            first = next(iter(codes.values()), None)
            response.data["code"] = (
                first[0] if isinstance(first, list) and first and isinstance(first[0], str) else "invalid"
            )
        else:
            for exception_class, code in DJANGO_EXCEPTION_CODES:
                if isinstance(exc, exception_class):
                    response.data["code"] = code
    return response
