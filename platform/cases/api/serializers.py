"""Read and write shapes of cases, media, jobs and results for the REST API v1."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Team
from audit.api.serializers import ChainLinkSerializer
from audit.models import chain_for_team, events_about_job
from audit.services import chain_head
from cases.api.contract_fields import contract_json_field, serializer_for
from cases.models import (
    AnalysisJob,
    Case,
    FaceResult,
    FrameResult,
    JobReview,
    JobStage,
    JobState,
    Media,
    ReviewStatus,
    Verdict,
    VerdictLabel,
)
from detector import contract

# A comma-separated list of a few detector names; anything longer is not a detector list.
DETECTORS_FIELD_MAX_CHARS = 512
# A case's free-text notes (the model's TextField has no limit of its own).
CASE_NOTES_MAX_CHARS = 10_000


def _absolute(request, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


@extend_schema_field(OpenApiTypes.STR)
class LinkField(serializers.Field):
    """The absolute URL of an API route for the object (``view_name`` reversed with its pk)."""

    def __init__(self, view_name: str, **kwargs) -> None:
        super().__init__(source="*", read_only=True, **kwargs)
        self.view_name = view_name

    def to_representation(self, obj) -> str:
        return _absolute(self.context.get("request"), reverse(self.view_name, args=[obj.pk]))


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name"]


class MediaSerializer(serializers.ModelSerializer):
    download_url = LinkField("media-download")
    content_url = LinkField("media-content")

    class Meta:
        model = Media
        fields = [
            "id",
            "case",
            "original_name",
            "sha256",
            "size_bytes",
            "mime_type",
            "kind",
            "duration_s",
            "fps",
            "width",
            "height",
            "frame_count",
            "codec",
            "created_at",
            "original_deleted_at",
            "original_deleted_reason",
            "download_url",
            "content_url",
        ]
        read_only_fields = fields


class VerdictSerializer(serializers.ModelSerializer):
    thresholds = contract_json_field(contract.VerdictThresholds)
    per_track = contract_json_field(contract.TrackScore, many=True)
    per_detector = serializers.DictField(
        child=serializers.FloatField(allow_null=True), read_only=True, help_text="{detector: video score}"
    )
    per_kind = contract_json_field(
        contract.KindVerdict,
        many=True,
        help_text="One verdict per kind of manipulation the detectors looked for (face swap / re-enactment, "
        "fully generated face); the verdict is the most severe of them.",
    )
    label_text = serializers.CharField(
        read_only=True,
        help_text='The label in an analyst\'s words: "No manipulation found" for an authentic verdict unless '
        "authentic_supported.",
    )
    abstained = serializers.DictField(
        child=serializers.CharField(),
        read_only=True,
        help_text="{detector: why}: detectors that scored the faces but did not vote, their model card showing "
        "them no better than chance on this kind of media.",
    )
    authentic_supported = serializers.BooleanField(
        read_only=True,
        help_text="Every detector that voted catches at least half of its model card's test fakes at its "
        'threshold; only then may an authentic verdict be called "Authentic".',
    )
    caveat = serializers.CharField(
        read_only=True,
        help_text="Beside an authentic verdict that is not supported: how many test fakes its detectors caught.",
    )

    class Meta:
        model = Verdict
        fields = [
            "label",
            "label_text",
            "score",
            "confidence",
            "aggregation",
            "thresholds",
            "reason",
            "untrained",
            "per_track",
            "per_detector",
            "per_kind",
            "abstained",
            "authentic_supported",
            "caveat",
            "created_at",
        ]
        read_only_fields = fields


class ReviewSerializer(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username", read_only=True)

    class Meta:
        model = JobReview
        fields = ["id", "status", "override_label", "reason", "reviewer", "created_at"]
        read_only_fields = fields


class ReviewWriteSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ReviewStatus.choices)
    override_label = serializers.ChoiceField(
        choices=VerdictLabel.choices,
        required=False,
        allow_blank=True,
        help_text="The label the reviewer gives instead of the detectors' verdict; needs a reason.",
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class JobSettingsSerializer(serializers.Serializer):
    """What the submitter asked for (cases.services.normalise_job_settings)."""

    frames = serializers.IntegerField()
    detectors = serializers.ListField(child=serializers.CharField())


class JobSerializer(serializers.ModelSerializer):
    url = LinkField("job-detail")
    settings = JobSettingsSerializer(read_only=True)
    detector_set = contract_json_field(contract.DetectorInfo, many=True)
    diagnostics = contract_json_field(contract.Diagnostics)
    explanations = contract_json_field(
        contract.Explanations,
        help_text="The heatmaps written for the deciding track, and why they explain nothing when they do not "
        "(uninformative: all the same centred blob).",
    )
    case = serializers.IntegerField(source="media.case_id", read_only=True)
    media = MediaSerializer(read_only=True)
    # Declared, not derived: a read-only model choice field is documented without its blank value, and blank
    # (no override) is what most jobs hold.
    review_label = serializers.ChoiceField(
        choices=VerdictLabel.choices,
        allow_blank=True,
        read_only=True,
        help_text="The reviewer's override label; blank: no override, the machine's verdict stands.",
    )
    verdict = serializers.SerializerMethodField()
    frames_url = LinkField("job-frames")
    report_url = LinkField("job-report")
    report_pdf_url = LinkField("job-report-pdf")
    report_signature_url = LinkField(
        "job-report-pdf-signature", help_text="The detached signature of the newest signed PDF you downloaded"
    )
    review = serializers.SerializerMethodField()
    custody = serializers.SerializerMethodField(
        help_text="The custody chain's link of the newest event about this job or its original: "
        "quoting it pins the log up to there (python -m audit.verify --head SEQ:HASH)."
    )
    custody_url = LinkField("job-custody")
    manifest = serializers.SerializerMethodField(
        help_text="What the analysis ran with (code, detectors by checkpoint sha256, frames, settings, "
        "libraries, device); null before it ends. Re-run it: python -m detector reproduce."
    )
    manifest_url = LinkField("job-manifest")
    retryable = serializers.SerializerMethodField(
        help_text="Whether analysing it again could end otherwise: it failed or was cancelled, not because of the "
        "file itself (unreadable, too large, too small, too long), and its original is kept."
    )

    class Meta:
        model = AnalysisJob
        fields = [
            "id",
            "url",
            "case",
            "media",
            "state",
            "stage",
            "progress",
            "attempts",
            "max_attempts",
            "settings",
            "detector_set",
            "verdict",
            "diagnostics",
            "explanations",
            "timings",
            "error_code",
            "error_message",
            "cancel_requested",
            "retry_of",
            "review_status",
            "review_label",
            "review",
            "created_at",
            "started_at",
            "finished_at",
            "frames_url",
            "report_url",
            "report_pdf_url",
            "report_signature_url",
            "custody",
            "custody_url",
            "manifest",
            "manifest_url",
            "retryable",
        ]
        read_only_fields = fields

    def get_retryable(self, job: AnalysisJob) -> bool:
        return (
            job.state in (JobState.FAILED, JobState.CANCELLED)
            and job.error_code not in contract.INPUT_ERROR_CODES
            and job.media.original_deleted_at is None
        )

    @extend_schema_field(serializer_for(contract.Manifest)(allow_null=True))
    def get_manifest(self, job: AnalysisJob):
        return job.manifest or None

    @extend_schema_field(ChainLinkSerializer(allow_null=True))
    def get_custody(self, job: AnalysisJob):
        if hasattr(job, "custody_seq"):  # annotated by AnalysisJob.objects.with_outcome()
            seq, digest = job.custody_seq, job.custody_hash
        else:
            newest = events_about_job(job.pk, job.media_id).values_list("seq", "entry_hash").first()
            seq, digest = newest or (None, None)
        if seq is None:
            return None
        return {"chain": chain_for_team(job.media.case.team_id), "seq": seq, "entry_hash": digest}

    @extend_schema_field(ReviewSerializer(allow_null=True))
    def get_review(self, job: AnalysisJob):
        # The newest review (JobReview's ordering); read from the prefetched reviews when with_outcome() loaded them.
        review = next(iter(job.reviews.all()), None)
        return ReviewSerializer(review).data if review is not None else None

    @extend_schema_field(VerdictSerializer(allow_null=True))
    def get_verdict(self, job: AnalysisJob):
        try:
            verdict = job.verdict
        except Verdict.DoesNotExist:
            return None
        return VerdictSerializer(verdict, context=self.context).data


class VerdictSummarySerializer(serializers.Serializer):
    label = serializers.ChoiceField(choices=VerdictLabel.choices)
    label_text = serializers.CharField(help_text="The label in an analyst's words (Verdict.label_text).")
    score = serializers.FloatField(allow_null=True)
    confidence = serializers.FloatField(allow_null=True)
    untrained = serializers.BooleanField()


class JobStatusSerializer(serializers.Serializer):
    """The lean status a poller asks for (cases.api.polling.job_status builds it from one query)."""

    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=JobState.choices)
    stage = serializers.ChoiceField(choices=JobStage.choices)
    progress = serializers.IntegerField(min_value=0, max_value=100)
    error_code = serializers.CharField(allow_blank=True)
    review_status = serializers.ChoiceField(choices=ReviewStatus.choices)
    verdict = VerdictSummarySerializer(allow_null=True)


class JobCreateSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A video or image; its type is sniffed from the content.")
    case = serializers.PrimaryKeyRelatedField(
        queryset=Case.objects.none(), required=False, allow_null=True, help_text="Default: your team's inbox case."
    )
    frames = serializers.IntegerField(required=False, min_value=1, help_text="Frames sampled from a video (32).")
    detectors = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=DETECTORS_FIELD_MAX_CHARS,
        help_text="Comma-separated names of shipped, trained detectors, each once (default: the shipped ensemble).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["case"].queryset = Case.objects.for_user(request.user)

    def validate_detectors(self, value: str) -> list[str]:
        return [d.strip() for d in value.split(",") if d.strip()]


class FaceSerializer(serializers.ModelSerializer):
    box = serializers.ListField(
        child=serializers.FloatField(), read_only=True, help_text="[x1, y1, x2, y2] in full-frame pixels"
    )
    flags = serializers.ListField(child=serializers.CharField(), read_only=True, help_text='"small", "low_confidence"')
    detector_scores = serializers.DictField(
        child=serializers.FloatField(allow_null=True), read_only=True, help_text="{detector: calibrated probability}"
    )
    crop_url = serializers.SerializerMethodField()
    heatmap_url = serializers.SerializerMethodField()

    class Meta:
        model = FaceResult
        fields = [
            "id",
            "track_id",
            "box",
            "det_prob",
            "flags",
            "score",
            "detector_scores",
            "crop_url",
            "heatmap_url",
        ]
        read_only_fields = fields

    def _file_url(self, face: FaceResult, path: str) -> str | None:
        if not path:
            return None
        return _absolute(self.context.get("request"), reverse("job-artifact", args=[face.job_id, path]))

    def get_crop_url(self, face: FaceResult) -> str | None:
        return self._file_url(face, face.crop_path)

    def get_heatmap_url(self, face: FaceResult) -> str | None:
        return self._file_url(face, face.heatmap_path)


class FrameSerializer(serializers.ModelSerializer):
    faces = FaceSerializer(many=True, read_only=True)

    class Meta:
        model = FrameResult
        fields = ["frame_index", "timestamp_s", "readable", "error", "face_count", "max_score", "faces"]
        read_only_fields = fields


class LatestVerdictSerializer(serializers.Serializer):
    label = serializers.ChoiceField(choices=VerdictLabel.choices)
    label_text = serializers.SerializerMethodField(help_text="The label in an analyst's words (Verdict.label_text).")
    score = serializers.FloatField(allow_null=True)
    untrained = serializers.BooleanField()
    job = serializers.IntegerField()
    review_status = serializers.ChoiceField(choices=ReviewStatus.choices, help_text="That job's review.")
    review_label = serializers.CharField(
        allow_blank=True, help_text="The reviewer's override label of that job; blank: the machine's stands."
    )

    def get_label_text(self, summary: dict) -> str:
        return contract.verdict_label_text(summary["label"], bool(summary.get("authentic_supported")))


class CaseSerializer(serializers.ModelSerializer):
    team = TeamSerializer(read_only=True)
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    media_count = serializers.IntegerField(read_only=True)
    job_count = serializers.IntegerField(read_only=True)
    latest_verdict = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "title",
            "notes",
            "tags",
            "team",
            "is_inbox",
            "created_by",
            "created_at",
            "updated_at",
            "media_count",
            "job_count",
            "latest_verdict",
        ]
        read_only_fields = ["id", "team", "is_inbox", "created_by", "created_at", "updated_at"]

    @extend_schema_field(LatestVerdictSerializer(allow_null=True))
    def get_latest_verdict(self, case: Case):
        summary = case.latest_verdict_summary  # annotated by Case.objects.with_summary()
        # Through the serializer: SQLite's JSON gives ``untrained`` as 0/1, not a boolean.
        return LatestVerdictSerializer(summary).data if summary is not None else None


class CaseWriteSerializer(serializers.ModelSerializer):
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.none(), required=False, help_text="Default: your first team."
    )
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=50)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=CASE_NOTES_MAX_CHARS)

    class Meta:
        model = Case
        fields = ["title", "notes", "tags", "team"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["team"].queryset = Team.objects.for_user(request.user)


class CaseUpdateSerializer(serializers.ModelSerializer):
    """An edit: title, notes, tags. A case's team is fixed when it is opened."""

    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=50)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=CASE_NOTES_MAX_CHARS)

    class Meta:
        model = Case
        fields = ["title", "notes", "tags"]

    def validate(self, attrs):
        if "team" in self.initial_data:
            raise serializers.ValidationError({"team": ["A case's team cannot be changed after it is opened."]})
        return attrs


# A case's page lists its newest jobs; all of them are in the paginated jobs list (``jobs_url``).
CASE_DETAIL_JOBS = 25


class CaseDetailSerializer(CaseSerializer):
    jobs = serializers.SerializerMethodField(
        help_text=f"The newest {CASE_DETAIL_JOBS} jobs; job_count says how many there are, jobs_url pages through all."
    )
    jobs_url = serializers.SerializerMethodField(help_text="The case's jobs, paginated (GET /api/v1/jobs/?case=ID).")
    custody_head = serializers.SerializerMethodField(
        help_text="The current head of the team's custody chain (every event up to it is pinned by quoting it)."
    )
    custody_url = LinkField("case-custody")

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "jobs", "jobs_url", "custody_head", "custody_url"]

    @extend_schema_field(ChainLinkSerializer())
    def get_custody_head(self, case: Case):
        return chain_head(case.team_id)

    @extend_schema_field(JobSerializer(many=True))
    def get_jobs(self, case: Case):
        jobs = AnalysisJob.objects.filter(media__case=case).with_outcome().order_by("-created_at")[:CASE_DETAIL_JOBS]
        return JobSerializer(jobs, many=True, context=self.context).data

    def get_jobs_url(self, case: Case) -> str:
        return _absolute(self.context.get("request"), f"{reverse('job-list')}?case={case.pk}")


class DetectorChoiceSerializer(serializers.Serializer):
    """A detector a job may name, as a worker last recorded it (cases.detectors.choosable_detectors)."""

    name = serializers.CharField()
    recorded = serializers.BooleanField(help_text="False until a worker has described it (kind, card)")
    kind = serializers.CharField(help_text="The kind of manipulation it looks for (ManipulationKind); blank if unknown")
    kind_name = serializers.CharField(help_text='What it looks for, in words ("face swap / re-enactment")')
    default_for = serializers.ListField(
        child=serializers.CharField(),
        help_text='The kinds of media it runs on when a job names none ("video", "image")',
    )
    sha256 = serializers.CharField(allow_blank=True, help_text="The checkpoint its card describes")
    card = serializers.DictField(help_text="Its model card's figures (detector.cards), {} without a card")
