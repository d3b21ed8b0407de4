from django.urls import include, path
from rest_framework.routers import DefaultRouter

from cases.api import views

router = DefaultRouter()
router.register("cases", views.CaseViewSet, basename="case")
router.register("jobs", views.JobViewSet, basename="job")
router.register("media", views.MediaViewSet, basename="media")

urlpatterns = [
    path("detectors/", views.DetectorListView.as_view(), name="detector-list"),
    path("jobs/<int:pk>/files/<path:path>", views.JobViewSet.as_view({"get": "files"}), name="job-artifact"),
    path("jobs/<int:pk>/report.pdf", views.JobViewSet.as_view({"get": "report_pdf"}), name="job-report-pdf"),
    path(
        "jobs/<int:pk>/report.pdf.sig",
        views.JobViewSet.as_view({"get": "report_pdf_signature"}),
        name="job-report-pdf-signature",
    ),
    path("", include(router.urls)),
]
