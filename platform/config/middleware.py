"""Security headers that Django's SecurityMiddleware does not set, on every response; request body limits.

Django already sends X-Content-Type-Options, Referrer-Policy, Cross-Origin-Opener-Policy (and HSTS
in production); XFrameOptionsMiddleware sends X-Frame-Options. This adds a Content-Security-Policy
(the dashboard, Swagger UI and reports load scripts only from this origin), a Permissions-Policy
and Cross-Origin-Resource-Policy, so evidence files cannot be embedded by another site.
"""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.template.defaultfilters import filesizeformat
from django.urls import Resolver404, resolve

# Boundaries and the small fields (case, frames, detectors) around an uploaded file: the same slack
# deploy/nginx/docker-entrypoint.d/40-upload-cap.sh gives nginx's cap on the upload route.
MULTIPART_ENVELOPE_BYTES = 1024 * 1024

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # The report template and Swagger UI carry inline <style>; no inline script is allowed.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


class RequestBodyLimitMiddleware:
    """Refuses a request whose declared body is too large with 413, before anything reads it.

    DRF's JSON and form parsers read the body stream whole, whatever DATA_UPLOAD_MAX_MEMORY_SIZE
    says (Django checks it only when ``request.body`` is read), so an anonymous 2 GB JSON body to
    the login would sit in memory. Every route takes at most MAX_REQUEST_BODY_BYTES; the upload
    routes (LARGE_BODY_URL_NAMES) take MAX_UPLOAD_BYTES plus the multipart envelope. A body
    without a Content-Length is not read at all by Django (a chunked body is left unread), and
    nginx caps bodies per location before they get here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        limit = body_limit_bytes(request, declared)
        if declared > limit:
            return too_large(limit)
        response = self.get_response(request)
        if 0 < declared <= settings.MAX_REQUEST_BODY_BYTES:
            drain_unread_body(request)
        return response


def drain_unread_body(request) -> None:
    """Read and drop a small body the answer did not need (a CSRF 403, a 401, a 404 to a POST).

    A sync gunicorn worker answers and closes the connection; if the body was never read, the kernel
    resets the connection while the proxy is still writing it, and nginx answers 502 instead of the
    4xx (seen with a 200 kB JSON body to the login refused by CSRF). Bodies above the ordinary cap
    (uploads) are not drained: nginx's auth_request refuses those before they are sent.
    """
    if getattr(request, "_read_started", True):  # Django's flag: the body (or part of it) was read
        return
    try:
        while request.read(64 * 1024):
            pass
    except OSError:  # the client went away: nothing to protect any more
        return


def body_limit_bytes(request, declared: int) -> int:
    if declared <= settings.MAX_REQUEST_BODY_BYTES:
        return settings.MAX_REQUEST_BODY_BYTES
    # Resolved only for a large body: the rare case, so ordinary requests pay nothing for it.
    try:
        url_name = resolve(request.path_info).url_name
    except Resolver404:
        return settings.MAX_REQUEST_BODY_BYTES
    if request.method == "POST" and url_name in settings.LARGE_BODY_URL_NAMES:
        return settings.MAX_UPLOAD_BYTES + MULTIPART_ENVELOPE_BYTES
    return settings.MAX_REQUEST_BODY_BYTES


def too_large(limit: int) -> JsonResponse:
    return JsonResponse(
        {
            "detail": f"The request body is over the limit of {filesizeformat(limit)} for this route.",
            "code": "too_large",
        },
        status=413,
    )
