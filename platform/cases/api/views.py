"""REST API v1 views: thin, team-scoped querysets; the rules live in cases.services."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsTeamReviewer
from accounts.services import primary_team
from audit import report_signing
from audit import services as custody
from audit.api.serializers import AuditEventSerializer, CustodyLogSerializer
from audit.services import client_ip
from cases import detectors, reports, results, services, storage
from cases.api import polling
from cases.api.files import safe_child, serve_file
from cases.api.filtersets import CaseFilter, JobFilter
from cases.api.pagination import FramePagination
from cases.api.serializers import (
    CaseDetailSerializer,
    CaseSerializer,
    CaseUpdateSerializer,
    CaseWriteSerializer,
    DetectorChoiceSerializer,
    FrameSerializer,
    JobCreateSerializer,
    JobSerializer,
    JobStatusSerializer,
    MediaSerializer,
    ReviewSerializer,
    ReviewWriteSerializer,
)
from cases.models import AnalysisJob, Case, FrameResult, JobReview, Media
from config.parsers import BoundedJSONParser

CUSTODY_EXPORT_FORMATS = ("json", "csv")

# What an original is served as: its sniffed type (cases.uploads.ALLOWED_MIME_TYPES).
ORIGINAL_MEDIA_TYPES = ("video/*", "image/*")


def custody_log(team_id: int, subjects: set) -> Response:
    events = custody.custody_events(team_id, subjects)
    return Response({"head": custody.chain_head(team_id), "events": AuditEventSerializer(events, many=True).data})


def custody_export(request: Request, team_id: int, subjects: set, scope: dict) -> HttpResponse:
    """The chain export as a file: ``?as=json`` (default) or ``?as=csv``."""
    file_format = request.query_params.get("as", "json")
    if file_format not in CUSTODY_EXPORT_FORMATS:
        raise ValidationError({"as": [f"one of {', '.join(CUSTODY_EXPORT_FORMATS)}"]})
    document = custody.export_document(team_id, subjects, scope)
    name = f"custody-{scope['type']}-{scope['id']}-{document['head']['seq']}.{file_format}"
    if file_format == "csv":
        response = HttpResponse(custody.export_csv(document), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(custody.export_json(document), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


CUSTODY_EXPORT_SCHEMA = {
    "parameters": [
        OpenApiParameter("as", str, enum=CUSTODY_EXPORT_FORMATS, description="File format (default json)"),
    ],
    "responses": {(200, "application/json"): OpenApiTypes.OBJECT, (200, "text/csv"): OpenApiTypes.STR},
}


class TeamScopedMixin:
    """Every queryset is the requesting user's teams' rows; schema generation gets an empty one."""

    model = None

    def with_related(self, queryset):
        """What the serializers read, loaded with the rows (no query per row)."""
        return queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return self.with_related(self.model.objects.for_user(self.request.user))


@extend_schema_view(
    list=extend_schema(summary="List your team's cases", tags=["cases"]),
    retrieve=extend_schema(summary="A case with its media and jobs", tags=["cases"]),
    create=extend_schema(
        summary="Open a case", tags=["cases"], request=CaseWriteSerializer, responses={201: CaseSerializer}
    ),
    partial_update=extend_schema(
        summary="Edit a case's title, notes or tags (its team is fixed; each edit is a custody event)",
        tags=["cases"],
        request=CaseUpdateSerializer,
        responses=CaseSerializer,
    ),
)
class CaseViewSet(
    TeamScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    filterset_class = CaseFilter
    search_fields = ["title", "notes", "media__original_name", "media__sha256"]
    ordering_fields = ["updated_at", "created_at", "title"]
    ordering = ["-updated_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    model = Case

    def with_related(self, queryset):
        return queryset.select_related("team", "created_by").with_summary()

    def get_serializer_class(self):
        if self.action in ("partial_update", "update"):
            return CaseUpdateSerializer
        if self.action == "create":
            return CaseWriteSerializer
        if self.action == "retrieve":
            return CaseDetailSerializer
        return CaseSerializer

    def create(self, request: Request, *args, **kwargs) -> Response:
        write = CaseWriteSerializer(data=request.data, context=self.get_serializer_context())
        write.is_valid(raise_exception=True)
        team = write.validated_data.get("team") or primary_team(request.user)
        if team is None:
            raise ValidationError({"team": ["You belong to no team."]})
        case = services.create_case(
            request.user,
            team,
            title=write.validated_data["title"],
            notes=write.validated_data.get("notes", ""),
            tags=write.validated_data.get("tags"),
            ip=client_ip(request),
        )
        out = CaseSerializer(self.get_queryset().get(pk=case.pk), context=self.get_serializer_context())
        return Response(out.data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args, **kwargs) -> Response:
        edit = CaseUpdateSerializer(
            self.get_object(), data=request.data, partial=True, context=self.get_serializer_context()
        )
        edit.is_valid(raise_exception=True)
        services.update_case(edit.instance, request.user, dict(edit.validated_data), ip=client_ip(request))
        return Response(
            CaseSerializer(self.get_queryset().get(pk=kwargs["pk"]), context=self.get_serializer_context()).data
        )

    @extend_schema(
        summary="The case's custody log (its originals and jobs) and the head of the team's chain",
        tags=["custody"],
        responses=CustodyLogSerializer,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def custody(self, request: Request, pk=None) -> Response:
        case = self.get_object()
        return custody_log(case.team_id, custody.subjects_of_case(case))

    @extend_schema(
        summary="Export the team's custody chain with this case's events in full (verify: python -m audit.verify)",
        tags=["custody"],
        **CUSTODY_EXPORT_SCHEMA,
    )
    @action(detail=True, methods=["get"], url_path="custody/export", pagination_class=None, filterset_class=None)
    def custody_export(self, request: Request, pk=None) -> HttpResponse:
        case = self.get_object()
        return custody_export(request, case.team_id, custody.subjects_of_case(case), {"type": "case", "id": case.pk})


@extend_schema_view(
    list=extend_schema(summary="List your team's analysis jobs", tags=["jobs"]),
    retrieve=extend_schema(summary="Poll one job: state, stage, progress, verdict or error", tags=["jobs"]),
)
class JobViewSet(TeamScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = JobSerializer
    filterset_class = JobFilter
    ordering_fields = ["created_at", "finished_at"]
    ordering = ["-created_at"]
    parser_classes = [MultiPartParser, FormParser, BoundedJSONParser]
    model = AnalysisJob

    def with_related(self, queryset):
        return queryset.with_outcome()

    @staticmethod
    def team_of(obj: AnalysisJob | JobReview) -> int:
        # A job, or a review of one: the browsable API checks the permission again on what an action answered.
        job = obj.job if isinstance(obj, JobReview) else obj
        return job.media.case.team_id

    def get_serializer_class(self):
        # The browsable API renders a form for the review it just saved from the action's own serializer:
        # the job's would read a review as a job (and answered 500 after saving it).
        if self.action == "review":
            return ReviewWriteSerializer
        return super().get_serializer_class()

    def get_throttles(self):
        self.throttle_scope = "submit" if self.action in ("create", "retry") else None
        return super().get_throttles() if self.throttle_scope else []

    def filter_queryset(self, queryset):
        # The list's filters, search and ordering mean nothing for one job by id; building their
        # forms cost about a tenth of every poll.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def retrieve(self, request: Request, *args, **kwargs) -> HttpResponse:
        # The ETag comes from one narrow query, so an unchanged job answers 304 before it is serialized.
        version = polling.job_version(AnalysisJob.objects.for_user(request.user), kwargs["pk"])
        if version is None:
            raise Http404
        etag = polling.etag_for(request, "job", version)
        if polling.client_has(request, etag):
            return not_modified(etag)
        response = super().retrieve(request, *args, **kwargs)
        response["ETag"] = etag
        return response

    @extend_schema(
        summary="Poll one job cheaply: state, stage, progress, verdict summary (304 while unchanged)",
        tags=["jobs"],
        responses=JobStatusSerializer,
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def status(self, request: Request, pk=None) -> HttpResponse:
        body = polling.job_status(AnalysisJob.objects.for_user(request.user), pk)
        if body is None:
            raise Http404
        etag = polling.etag_for(request, "status", tuple(sorted(body.items())))
        if polling.client_has(request, etag):
            return not_modified(etag)
        return Response(body, headers={"ETag": etag})

    @extend_schema(
        summary="Submit a video or image for analysis",
        tags=["jobs"],
        request={"multipart/form-data": JobCreateSerializer},
        responses={
            202: JobSerializer,
            400: OpenApiResponse(description="Not a supported media file, empty, or bad parameters"),
            413: OpenApiResponse(description="Over the upload size cap"),
            507: OpenApiResponse(description="The team's storage quota is used up"),
        },
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        data = request.data  # parses the body; the capped upload handler may flag it
        if getattr(request._request, "upload_too_large", False):
            return Response(
                {
                    "detail": f"The file is over the upload limit of {filesizeformat(settings.MAX_UPLOAD_BYTES)}.",
                    "code": "too_large",
                },
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        write = JobCreateSerializer(data=data, context=self.get_serializer_context())
        write.is_valid(raise_exception=True)
        try:
            job = services.submit_job(
                request.user,
                write.validated_data["file"],
                case=write.validated_data.get("case"),
                frames=write.validated_data.get("frames"),
                detectors=write.validated_data.get("detectors"),
                ip=client_ip(request),
            )
        except services.SubmissionError as exc:
            if exc.code == "too_large":
                return Response({"detail": exc.message, "code": exc.code}, status=413)
            if exc.code == "quota_exceeded":
                return Response({"detail": exc.message, "code": exc.code}, status=507)
            raise ValidationError({exc.field: [exc.message]}, code=exc.code) from exc
        body = JobSerializer(self.get_queryset().get(pk=job.pk), context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})

    @extend_schema(
        summary="Per-frame, per-face, per-detector scores and boxes, in frame order, a page at a time",
        tags=["jobs"],
        responses=FrameSerializer(many=True),
    )
    @action(detail=True, methods=["get"], pagination_class=FramePagination, filterset_class=None)
    def frames(self, request: Request, pk=None) -> Response:
        job = self.get_object()
        frames = FrameResult.objects.filter(job=job).prefetch_related("faces").order_by("frame_index")
        page = self.paginate_queryset(frames)
        return self.get_paginated_response(FrameSerializer(page, many=True, context=self.get_serializer_context()).data)

    @extend_schema(summary="Cancel a queued or running job", tags=["jobs"], request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk=None) -> Response:
        job = services.cancel_job(self.get_object(), request.user, ip=client_ip(request))
        return Response(JobSerializer(job, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Analyse the same media again as a new job",
        tags=["jobs"],
        request=None,
        responses={202: JobSerializer, 410: OpenApiResponse(description="The original was deleted under retention")},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk=None) -> Response:
        try:
            new = services.retry_job(self.get_object(), request.user, ip=client_ip(request))
        except services.OriginalDeleted as gone:
            return Response(services.original_gone(gone.media), status=status.HTTP_410_GONE)
        body = JobSerializer(self.get_queryset().get(pk=new.pk), context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})

    @extend_schema(
        summary="Review a job: set its review status, optionally override the verdict (reviewers and admins)",
        tags=["jobs"],
        request=ReviewWriteSerializer,
        responses={
            201: ReviewSerializer,
            403: OpenApiResponse(description="Your role in this team is analyst"),
            409: OpenApiResponse(description="An override of a job that has no verdict"),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated, IsTeamReviewer])
    def review(self, request: Request, pk=None) -> Response:
        job = self.get_object()
        form = ReviewWriteSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            review = services.review_job(
                job,
                request.user,
                status=form.validated_data["status"],
                reason=form.validated_data.get("reason", ""),
                override_label=form.validated_data.get("override_label", ""),
                ip=client_ip(request),
            )
        except services.ReviewRefused as exc:
            code = status.HTTP_409_CONFLICT if exc.code == "no_verdict" else status.HTTP_400_BAD_REQUEST
            return Response({"detail": exc.message, "code": exc.code}, status=code)
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The analysis report as a standalone HTML page",
        tags=["jobs"],
        responses={(200, "text/html"): OpenApiTypes.STR},
    )
    @action(detail=True, methods=["get"])
    def report(self, request: Request, pk=None) -> HttpResponse:
        job = self.get_object()
        download = bool(request.query_params.get("download"))
        # Recorded before rendering, so the chain head the report prints includes its own reading.
        if download:
            services.report_downloaded(job, request.user, ip=client_ip(request))
        else:
            services.report_viewed(job, request.user, ip=client_ip(request))
        response = HttpResponse(
            reports.render_html(self.report_context(job, "html")), content_type="text/html; charset=utf-8"
        )
        if download:
            response["Content-Disposition"] = f'attachment; filename="job-{job.pk}-report.html"'
        return response

    def report_context(self, job: AnalysisJob, medium: str) -> dict:
        team_id = self.team_of(job)
        return reports.report_context(
            job,
            JobSerializer(job, context=self.get_serializer_context()).data,
            custody_head=custody.chain_head(team_id),
            custody_events=custody.custody_events(team_id, custody.subjects_of_job(job)),
            medium=medium,
        )

    @extend_schema(
        summary="The report as a signed PDF (same content as the HTML report); its detached signature is at "
        "the Link header's URL (verify: python -m audit.verify_pdf REPORT.pdf REPORT.pdf.sig)",
        tags=["jobs"],
        operation_id="v1_jobs_report_pdf",
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            503: OpenApiResponse(description="No report signing key is configured"),
        },
    )
    def report_pdf(self, request: Request, pk=None) -> HttpResponse:
        """Routed in cases.api.urls as ``report.pdf``; every download is a custody event whose seq names it."""
        job = self.get_object()
        try:
            report_signing.signing_key()
        except report_signing.NoSigningKey as exc:
            return Response({"detail": str(exc), "code": "no_signing_key"}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        event = services.signed_report_downloaded(job, request.user, ip=client_ip(request))
        # No key fingerprint in the document: a reader pins the one the lab publishes (audit.verify_pdf).
        context = self.report_context(job, "pdf")
        pdf = reports.render_pdf(reports.render_html(context))
        filename = f"job-{job.pk}-report-{event.seq}.pdf"
        signature = report_signing.sign_report(
            pdf, job_id=job.pk, filename=filename, custody_head=context["custody_head"], signed_at=event.created_at
        )
        storage.store_report_signature(job.pk, event.seq, signature)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["X-Content-SHA256"] = signature["statement"]["pdf_sha256"]
        signature_url = reverse("job-report-pdf-signature", args=[job.pk]) + f"?seq={event.seq}"
        response["Link"] = f'<{request.build_absolute_uri(signature_url)}>; rel="signature"'
        response["Cache-Control"] = "private, no-store"
        return response

    @extend_schema(
        summary="The detached signature of a signed PDF report: ?seq= names the download "
        "(its custody event); without it, your newest",
        tags=["jobs"],
        operation_id="v1_jobs_report_pdf_signature",
        parameters=[OpenApiParameter("seq", int, description="The custody seq of the PDF's download")],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            404: OpenApiResponse(description="No such signed PDF of this job"),
        },
    )
    def report_pdf_signature(self, request: Request, pk=None) -> HttpResponse:
        """Routed in cases.api.urls as ``report.pdf.sig``."""
        job = self.get_object()
        raw_seq = request.query_params.get("seq")
        if raw_seq is not None and not raw_seq.isdigit():
            raise ValidationError({"seq": ["a custody sequence number"]})
        seq = services.signed_report_seq(job, request.user, int(raw_seq) if raw_seq is not None else None)
        path = storage.report_signature_path(job.pk, seq) if seq is not None else None
        if path is None or not path.is_file():
            raise Http404("no signed PDF of this job with that sequence number")
        services.report_signature_downloaded(job, request.user, seq, ip=client_ip(request))
        response = HttpResponse(path.read_bytes(), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="job-{job.pk}-report-{seq}.pdf.sig"'
        return response

    @extend_schema(
        summary="The analysis's manifest with its recorded scores: re-run it with "
        "python -m detector reproduce FILE ORIGINAL",
        tags=["jobs"],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, 409: OpenApiResponse(description="No manifest")},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def manifest(self, request: Request, pk=None) -> HttpResponse:
        job = self.get_object()
        document = results.reproduction_record(job)
        if document is None:
            return Response(
                {
                    "detail": "This job has no manifest (it has not finished, or it ran before manifests).",
                    "code": "no_manifest",
                },
                status=status.HTTP_409_CONFLICT,
            )
        response = HttpResponse(json.dumps(document, indent=1), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="job-{job.pk}-manifest.json"'
        return response

    @extend_schema(
        summary="The job's custody log (the job and its original) and the head of the team's chain",
        tags=["custody"],
        responses=CustodyLogSerializer,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def custody(self, request: Request, pk=None) -> Response:
        job = self.get_object()
        return custody_log(self.team_of(job), custody.subjects_of_job(job))

    @extend_schema(
        summary="Export the team's custody chain with this job's events in full (verify: python -m audit.verify)",
        tags=["custody"],
        **CUSTODY_EXPORT_SCHEMA,
    )
    @action(detail=True, methods=["get"], url_path="custody/export", pagination_class=None, filterset_class=None)
    def custody_export(self, request: Request, pk=None) -> HttpResponse:
        job = self.get_object()
        return custody_export(request, self.team_of(job), custody.subjects_of_job(job), {"type": "job", "id": job.pk})

    @extend_schema(
        summary="A face crop or heatmap written by the analysis",
        tags=["jobs"],
        responses={(200, "image/*"): OpenApiTypes.BINARY},
    )
    def files(self, request: Request, pk=None, path: str = "") -> HttpResponse:
        """Routed in cases.api.urls without the router's trailing slash: paths end in a file name."""
        job = self.get_object()
        file_path = safe_child(storage.job_artifacts_dir(job.pk), path)
        content_type = "image/png" if file_path.suffix == ".png" else "image/jpeg"
        response = serve_file(request, file_path, content_type)
        if response.status_code in (200, 206):
            services.artifact_viewed(job, request.user, path, ip=client_ip(request))
        return response


@extend_schema(tags=["media"])
class MediaViewSet(TeamScopedMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = MediaSerializer
    model = Media

    def with_related(self, queryset):
        return queryset.select_related("case")

    @extend_schema(
        summary="Download the original file, byte for byte (served with its sniffed type, as an attachment)",
        responses={
            **{(200, media_type): OpenApiTypes.BINARY for media_type in ORIGINAL_MEDIA_TYPES},
            410: OpenApiResponse(description="The original was deleted under the team's retention"),
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk=None) -> HttpResponse:
        media = self.get_object()
        if media.original_deleted_at is not None:
            return Response(services.original_gone(media), status=status.HTTP_410_GONE)
        response = serve_file(
            request, storage.original_path(media), media.mime_type, filename=media.original_name, attachment=True
        )
        response["X-Content-SHA256"] = media.sha256
        services.original_downloaded(media, request.user, ip=client_ip(request))
        return response

    @extend_schema(
        summary="The original for inline playback (supports Range)",
        responses={
            **{(200, media_type): OpenApiTypes.BINARY for media_type in ORIGINAL_MEDIA_TYPES},
            410: OpenApiResponse(description="The original was deleted under the team's retention"),
        },
    )
    @action(detail=True, methods=["get"])
    def content(self, request: Request, pk=None) -> HttpResponse:
        media = self.get_object()
        if media.original_deleted_at is not None:
            return Response(services.original_gone(media), status=status.HTTP_410_GONE)
        response = serve_file(request, storage.original_path(media), media.mime_type)
        if response.status_code in (200, 206):
            services.original_viewed(
                media, request.user, ip=client_ip(request), byte_range=request.headers.get("Range", "")
            )
        return response


class DetectorListView(APIView):
    """The detectors a job may name, each with what it looks for and its model card: the upload form's checklist."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="The detectors a job may name, with what each looks for and its model card's figures",
        tags=["jobs"],
        responses=DetectorChoiceSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        return Response(DetectorChoiceSerializer(detectors.choosable_detectors(), many=True).data)


def not_modified(etag: str) -> HttpResponse:
    response = HttpResponseNotModified()
    response["ETag"] = etag
    return response
