"""Security headers that Django's SecurityMiddleware does not set, on every response.

Django already sends X-Content-Type-Options, Referrer-Policy, Cross-Origin-Opener-Policy (and HSTS
in production); XFrameOptionsMiddleware sends X-Frame-Options. This adds a Content-Security-Policy
(the dashboard, Swagger UI and reports load scripts only from this origin), a Permissions-Policy
and Cross-Origin-Resource-Policy, so evidence files cannot be embedded by another site.
"""

from __future__ import annotations

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
