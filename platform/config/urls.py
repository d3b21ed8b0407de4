"""URL map: the REST API under /api/v1/, its OpenAPI schema and docs, health probes, the dashboard."""

from django.conf import settings
from django.contrib import admin
from django.http import FileResponse, HttpResponse, JsonResponse
from django.urls import include, path, re_path
from django.views.defaults import page_not_found
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.health import healthz, readyz


def dashboard(request, *args, **kwargs):
    """The single-page dashboard; every non-API path gets its index.html (client-side routing)."""
    index = settings.FRONTEND_DIST_DIR / "index.html"
    if not index.is_file():
        return HttpResponse(
            "<!doctype html><title>Video forensics</title><h1>Video forensics</h1>"
            "<p>The dashboard bundle is not built (run <code>make frontend</code>). "
            'The API is at <a href="/api/v1/">/api/v1/</a>, its docs at <a href="/api/docs/">/api/docs/</a>.</p>',
            content_type="text/html",
        )
    return FileResponse(open(index, "rb"), content_type="text/html")


def not_found(request, exception):
    """API clients get the API's JSON error shape for an unknown URL (e.g. /api/v1/jobs/abc/), not an HTML page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return page_not_found(request, exception)


handler404 = not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("accounts.api.urls")),
    path("api/v1/", include("audit.api.urls")),
    path("api/v1/", include("cases.api.urls")),
    path("api/v1/", include("webhooks.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file of this origin (?script): the inline one of
    # SpectacularSwaggerView is refused by the Content-Security-Policy (script-src 'self') and the page stayed blank.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    re_path(r"^(?!api/|admin/|static/|healthz|readyz).*$", dashboard, name="dashboard"),
]
