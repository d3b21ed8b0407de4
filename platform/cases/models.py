"""Cases, the media in them, analysis jobs and their results (frames, faces, verdicts)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import JSONObject

from accounts.models import Team, TeamScopedQuerySet
from audit.models import events_about_job
from detector import contract


class CaseQuerySet(TeamScopedQuerySet):
    team_path = "team"

    def with_summary(self) -> CaseQuerySet:
        """Counts of media and jobs and the latest verdict, computed in the list's own query."""
        latest_verdict = (
            Verdict.objects.filter(job__media__case=OuterRef("pk"))
            .order_by("-job__created_at")
            .values(
                summary=JSONObject(
                    label="label",
                    score="score",
                    untrained="untrained",
                    authentic_supported="authentic_supported",
                    job="job_id",
                    review_status="job__review_status",
                    review_label="job__review_label",
                )
            )[:1]
        )
        return self.annotate(
            media_count=Count("media", distinct=True),
            job_count=Count("media__jobs", distinct=True),
            latest_verdict_summary=Subquery(latest_verdict, output_field=models.JSONField()),
        )


class MediaQuerySet(TeamScopedQuerySet):
    team_path = "case__team"


class AnalysisJobQuerySet(TeamScopedQuerySet):
    team_path = "media__case__team"

    def with_outcome(self) -> AnalysisJobQuerySet:
        """Media, verdict and reviews loaded with the jobs: what a job's JSON shows, without a query per job."""
        # The custody chain's link of the newest event about the job (see JobSerializer.custody).
        custody = events_about_job(OuterRef("pk"), OuterRef("media_id"))
        return (
            self.select_related("media", "media__case", "verdict")
            .prefetch_related("reviews__reviewer")
            .annotate(
                custody_seq=Subquery(custody.values("seq")[:1]),
                custody_hash=Subquery(custody.values("entry_hash")[:1]),
            )
        )


class Case(models.Model):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="cases")
    title = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The case a submission without a case lands in; one per team.
    is_inbox = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["team"], condition=models.Q(is_inbox=True), name="one_inbox_per_team")
        ]

    def __str__(self) -> str:
        return self.title


class MediaKind(models.TextChoices):
    VIDEO = "video", "Video"
    IMAGE = "image", "Image"


class Media(models.Model):
    """An uploaded original. Its bytes live content-addressed by sha256 and are never modified."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="media")
    original_name = models.CharField(max_length=255)
    storage_path = models.CharField(max_length=255, help_text="path under MEDIA_ROOT, named by sha256")
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.BigIntegerField()
    mime_type = models.CharField(max_length=100, help_text="sniffed from the content, not the name")
    kind = models.CharField(max_length=8, choices=MediaKind.choices)
    # Filled in by the worker's probe: untrusted files are never decoded in the web process.
    duration_s = models.FloatField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    width = models.IntegerField(null=True, blank=True)
    height = models.IntegerField(null=True, blank=True)
    frame_count = models.IntegerField(null=True, blank=True)
    codec = models.CharField(max_length=32, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the team's retention deleted the stored file (cases.retention); the row, its sha256 and
    # every result stay.
    original_deleted_at = models.DateTimeField(null=True, blank=True)
    original_deleted_reason = models.CharField(max_length=200, blank=True)

    objects = MediaQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "media"

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]})"


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# Stages and labels are the analysis contract's (detector.contract, standard library only: no torch here).
JobStage = models.TextChoices("JobStage", [(s.name, (s.value, contract.STAGE_NAMES[s])) for s in contract.JobStage])


ACTIVE_STATES = (JobState.QUEUED, JobState.RUNNING)

VerdictLabel = models.TextChoices(
    "VerdictLabel", [(label.name, (label.value, contract.LABEL_NAMES[label])) for label in contract.VerdictLabel]
)


class ReviewStatus(models.TextChoices):
    UNREVIEWED = "unreviewed", "Not reviewed"
    IN_REVIEW = "in_review", "In review"
    CONFIRMED = "confirmed", "Verdict confirmed"
    DISPUTED = "disputed", "Verdict disputed"


class AnalysisJob(models.Model):
    media = models.ForeignKey(Media, on_delete=models.PROTECT, related_name="jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED, db_index=True)
    stage = models.CharField(max_length=16, choices=JobStage.choices, default=JobStage.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    # What the submitter asked for: {"frames": 32, "detectors": [...] or []}.
    settings = models.JSONField(default=dict)
    # What actually ran, recorded by the worker: names, versions, checkpoint sha256, trained.
    detector_set = models.JSONField(default=list, blank=True)
    diagnostics = models.JSONField(default=dict, blank=True)
    # detector.contract.Explanations: which heatmaps were written, and whether they explain anything.
    explanations = models.JSONField(default=dict, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    # detector.contract.Manifest: what the analysis ran with, to re-run it (python -m detector reproduce).
    manifest = models.JSONField(default=dict, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    cancel_requested = models.BooleanField(default=False)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries")
    # The latest JobReview's status, kept here so lists can filter on it without a join.
    review_status = models.CharField(
        max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.UNREVIEWED, db_index=True
    )
    # The latest JobReview's override label (blank: the detectors' verdict stands), kept here for the same reason:
    # the case list shows the reviewed label beside the machine's.
    review_label = models.CharField(max_length=16, choices=VerdictLabel.choices, blank=True)

    objects = AnalysisJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES


class FrameResult(models.Model):
    job = models.ForeignKey(AnalysisJob, on_delete=models.CASCADE, related_name="frames")
    frame_index = models.IntegerField()
    timestamp_s = models.FloatField()
    readable = models.BooleanField(default=True)
    error = models.CharField(max_length=200, blank=True)
    face_count = models.PositiveSmallIntegerField(default=0)
    # The most suspicious face's ensemble score on this frame (None: no scored face).
    max_score = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["frame_index"]
        constraints = [models.UniqueConstraint(fields=["job", "frame_index"], name="one_row_per_job_frame")]

    def __str__(self) -> str:
        return f"job {self.job_id} frame {self.frame_index}"


class FaceResult(models.Model):
    job = models.ForeignKey(AnalysisJob, on_delete=models.CASCADE, related_name="faces")
    frame = models.ForeignKey(FrameResult, on_delete=models.CASCADE, related_name="faces")
    track_id = models.IntegerField()
    box = models.JSONField(help_text="[x1, y1, x2, y2] in full-frame pixels")
    det_prob = models.FloatField()
    flags = models.JSONField(default=list, blank=True)
    score = models.FloatField(null=True, blank=True, help_text="ensemble probability manipulated")
    detector_scores = models.JSONField(default=dict, help_text="{detector: calibrated probability}")
    crop_path = models.CharField(max_length=255, blank=True)
    heatmap_path = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["frame__frame_index", "track_id"]

    def __str__(self) -> str:
        return f"job {self.job_id} frame {self.frame_id} track {self.track_id}"


class Verdict(models.Model):
    job = models.OneToOneField(AnalysisJob, on_delete=models.CASCADE, related_name="verdict")
    label = models.CharField(max_length=16, choices=VerdictLabel.choices, db_index=True)
    score = models.FloatField(null=True, blank=True, help_text="probability manipulated; None without evidence")
    confidence = models.FloatField(null=True, blank=True)
    aggregation = models.CharField(max_length=32)
    thresholds = models.JSONField(default=dict)
    reason = models.TextField(blank=True)
    untrained = models.BooleanField(default=False)
    per_track = models.JSONField(default=list)
    per_detector = models.JSONField(default=dict)
    # contract.KindVerdict per kind of manipulation the detectors looked for (face swap, fully generated face).
    per_kind = models.JSONField(default=list)
    # {detector: why}: trained detectors that did not vote, their model card showing them no better than chance
    # on this kind of media (contract.Verdict.abstained).
    abstained = models.JSONField(default=dict, blank=True)
    # Whether the detectors that voted catch most of their cards' test fakes: only then does an authentic
    # verdict read "Authentic" (contract.verdict_label_text); verdicts recorded before it read "No manipulation found".
    authentic_supported = models.BooleanField(default=False)
    caveat = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"job {self.job_id}: {self.label}"

    @property
    def label_text(self) -> str:
        return contract.verdict_label_text(self.label, self.authentic_supported)


class JobReview(models.Model):
    """A reviewer's decision on a job. Every decision is kept; the latest one is the job's review."""

    job = models.ForeignKey(AnalysisJob, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=ReviewStatus.choices)
    # Blank: the detectors' verdict stands. Set: what the reviewer says the label is instead.
    override_label = models.CharField(max_length=16, choices=VerdictLabel.choices, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"job {self.job_id} {self.status} by {self.reviewer}"


class DetectorCard(models.Model):
    """What a shipped detector is, as a worker last recorded it (detector.ensemble.shipped_catalogue, and the
    detectors of every result): the web process has no weights or model cards of its own to read."""

    name = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=32, help_text="the kind of manipulation it looks for (ManipulationKind)")
    kind_name = models.CharField(max_length=100)
    default_for = models.JSONField(default=list, help_text='kinds of media it runs on by default ("video", "image")')
    sha256 = models.CharField(max_length=64, blank=True, help_text="the checkpoint its card describes")
    card = models.JSONField(default=dict, blank=True, help_text="detector.cards.parse_model_card's figures")
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
