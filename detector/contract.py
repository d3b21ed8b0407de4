"""The analysis contract: the stages a job goes through, the verdict labels, and the result's shape.

The pipeline produces an :class:`AnalysisResult`; the worker hands it to the platform, which
stores it; the CLI prints its ``to_dict()``. Everything that names a stage, a label or a result
field imports it from here. Standard library only: the web process imports this module (for
its enums) and must never load torch, OpenCV or numpy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any, ClassVar, Self

# Bumped when a field changes meaning or is removed; from_dict refuses a result of another version.
CONTRACT_VERSION = 1


class JobStage(StrEnum):
    """Where a job is, in order; the pipeline reports the four in PIPELINE_STAGES as it enters them."""

    QUEUED = "queued"
    DECODING = "decoding"
    FACES = "faces"
    SCORING = "scoring"
    AGGREGATING = "aggregating"
    DONE = "done"


PIPELINE_STAGES = (JobStage.DECODING, JobStage.FACES, JobStage.SCORING, JobStage.AGGREGATING)
STAGE_NAMES = {
    JobStage.QUEUED: "Queued",
    JobStage.DECODING: "Decoding",
    JobStage.FACES: "Finding faces",
    JobStage.SCORING: "Scoring",
    JobStage.AGGREGATING: "Aggregating",
    JobStage.DONE: "Done",
}


class VerdictLabel(StrEnum):
    MANIPULATED = "manipulated"
    AUTHENTIC = "authentic"
    INCONCLUSIVE = "inconclusive"
    NO_FACES = "no_faces"


LABEL_NAMES = {
    VerdictLabel.MANIPULATED: "Manipulated",
    VerdictLabel.AUTHENTIC: "Authentic",
    VerdictLabel.INCONCLUSIVE: "Inconclusive",
    VerdictLabel.NO_FACES: "No faces",
}
# What an "authentic" verdict reads as unless the detectors that reached it catch most of their model
# cards' test fakes (Verdict.authentic_supported): nothing was found, which is not proof of authenticity.
NO_FINDING_NAME = "No manipulation found"


def verdict_label_text(label: str, authentic_supported: bool = False) -> str:
    """A verdict's label in the words an analyst reads (dashboard, report, PDF): "No manipulation found"
    for an authentic verdict unless ``authentic_supported``."""
    if label == VerdictLabel.AUTHENTIC and not authentic_supported:
        return NO_FINDING_NAME
    return LABEL_NAMES[VerdictLabel(label)]


def p_manipulated_text(score: float | None) -> str:
    """The one unit every score is shown in: "P(manipulated) 0.46" (a calibrated probability, 2 decimals)."""
    return "P(manipulated) —" if score is None else f"P(manipulated) {score:.2f}"


class ManipulationKind(StrEnum):
    """What a detector looks for: a verdict names the kind each of its scores speaks to."""

    FACE_SWAP = "face_swap"  # a real face swapped, blended or re-enacted (deepfake video)
    FULLY_GENERATED = "fully_generated"  # a whole face synthesised (StyleGAN, diffusion portraits)


KIND_NAMES = {
    ManipulationKind.FACE_SWAP: "face swap / re-enactment",
    ManipulationKind.FULLY_GENERATED: "fully generated face",
}

# KIND_NAMES' order is the order a verdict lists its kinds in.
KIND_ORDER = tuple(KIND_NAMES)

# The detectors that ship with trained weights (detector/weights/NAME.pt): the only ones a job may name.
# DEFAULT_DETECTORS run when a job names none (the shipping gate in weights/EXPERIMENTS.md chose them);
# the others are evaluated and shipped but run only when named. Here, not in detector.ensemble, because
# the web process validates submissions against them and must not load torch.
DEFAULT_DETECTORS = ("efficientnet_lite0",)
# Run beside DEFAULT_DETECTORS on every image job that names no detectors, on a video only when named:
# whole-face synthesis is a still-image problem (profile photos), and nothing measured it on video.
IMAGE_DEFAULT_DETECTORS = ("genface_lite0",)
# The from-scratch detectors the ImageNet-started ones replaced (EXPERIMENTS.md, 2026-12-07) stay for comparison.
OPT_IN_DETECTORS = ("efficientnet_b0", "genface_spectral", "custom_cnn", "spectral_lr")
SHIPPED_DETECTORS = (*DEFAULT_DETECTORS, *IMAGE_DEFAULT_DETECTORS, *OPT_IN_DETECTORS)


def default_detectors(media_kind: str | None) -> tuple[str, ...]:
    """The detectors a job of ``media_kind`` ("video" or "image") runs when it names none."""
    return (*DEFAULT_DETECTORS, *IMAGE_DEFAULT_DETECTORS) if media_kind == "image" else DEFAULT_DETECTORS


# Errors of the file itself (detector.media.MediaError codes): analysing the same file again gives the same answer,
# so the dashboard offers no retry for them (a deliberate re-run stays possible over the API).
INPUT_ERROR_CODES = frozenset({"unreadable_media", "media_too_large", "media_too_small", "media_too_long"})

# The labels a scored verdict can have (NO_FACES means nothing was scored).
SCORED_LABELS = frozenset({VerdictLabel.MANIPULATED, VerdictLabel.AUTHENTIC, VerdictLabel.INCONCLUSIVE})


def _known_fields(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``data`` that are fields of ``cls``: a newer producer's extra keys are ignored."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


class _Record:
    """to_dict / from_dict for a dataclass whose fields are plain JSON values."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(**_known_fields(cls, data))


@dataclass
class MediaProbe(_Record):
    """What the decoder found out about a file before sampling it."""

    kind: str  # "video" | "image"
    width: int
    height: int
    fps: float | None = None
    frame_count: int | None = None
    duration_s: float | None = None
    codec: str | None = None
    bitrate_kbps: float | None = None


@dataclass
class DetectorInfo(_Record):
    """One detector that ran: what the platform records to say which models produced a verdict."""

    name: str
    version: str = ""
    architecture: str = ""
    input_size: int | None = None
    # What it looks for (ManipulationKind); results recorded before kinds existed hold face-swap detectors only.
    kind: str = "face_swap"
    checkpoint: str | None = None
    sha256: str | None = None
    trained: bool = False
    calibration: dict[str, Any] = field(default_factory=dict)
    threshold: float | None = None
    device: str = "cpu"
    precision: str = "float32"
    # What the model card beside the checkpoint measured (detector.cards): held-out test videos, video AUC,
    # FPR and TPR at the threshold, the known limits; {} when no card describes these weights.
    card: dict[str, Any] = field(default_factory=dict)


# The kinds of media a model card measures a detector on; its figures' keys start with the kind
# ("video_auc", "image_tpr"...) and its test counts are "test_videos_real", "test_images_fake"...
CARD_MEDIA_KINDS = ("video", "image")


def card_figures(card: dict[str, Any] | None, media_kind: str) -> dict[str, Any] | None:
    """A recorded card's (DetectorInfo.card) held-out figures on ``media_kind``: auc, auc_ci95, fpr, tpr and the
    counts of real and fake test items; None when the card measured no AUC on that kind of media."""
    if not card or media_kind not in CARD_MEDIA_KINDS or card.get(f"{media_kind}_auc") is None:
        return None
    return {
        "media_kind": media_kind,
        "auc": card[f"{media_kind}_auc"],
        "auc_ci95": card.get(f"{media_kind}_auc_ci95"),
        "fpr": card.get(f"{media_kind}_fpr"),
        "tpr": card.get(f"{media_kind}_tpr"),
        "real": card.get(f"test_{media_kind}s_real"),
        "fake": card.get(f"test_{media_kind}s_fake"),
    }


# {detector name: calibrated probability manipulated}
DetectorScores = dict[str, float]


@dataclass
class FaceResult(_Record):
    """One face on one sampled frame with every detector's score and the files drawn from it."""

    frame_index: int
    track_id: int
    box: list[float]  # x1, y1, x2, y2 in full-frame pixels
    det_prob: float
    size_px: float = 0.0
    flags: list[str] = field(default_factory=list)  # "small", "low_confidence"
    detector_scores: DetectorScores = field(default_factory=dict)
    score: float | None = None  # the ensemble's; None when no trained frame detector ran
    crop_path: str | None = None  # relative to the job's artefacts directory
    heatmap_path: str | None = None
    heatmap_paths: dict[str, str] = field(default_factory=dict)  # {detector name: path}


@dataclass
class FrameResult:
    """One sampled frame: readable or not, and its faces."""

    frame_index: int
    timestamp_s: float
    readable: bool = True
    error: str | None = None
    faces: list[FaceResult] = field(default_factory=list)

    @property
    def max_score(self) -> float | None:
        """The most suspicious face's ensemble score (None: no scored face)."""
        return max((f.score for f in self.faces if f.score is not None), default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "frame_index": self.frame_index,
            "timestamp_s": self.timestamp_s,
            "readable": self.readable,
            "error": self.error,
            "faces": [f.to_dict() for f in self.faces],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(**{**_known_fields(cls, data), "faces": [FaceResult.from_dict(f) for f in data.get("faces", [])]})


@dataclass
class TrackScore:
    """One face track's score and label, with each trained detector's score for it."""

    JSON_KEYS: ClassVar[dict[str, str]] = {"frame_indices": "frames"}

    track_id: int
    score: float
    faces: int
    label: str
    frame_indices: list[int] = field(default_factory=list)
    # Each trained detector's score for this track (frame detectors: their frames aggregated).
    detector_scores: DetectorScores = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "track_id": self.track_id,
            "score": round(self.score, 6),
            "faces": self.faces,
            "label": self.label,
            self.JSON_KEYS["frame_indices"]: self.frame_indices,
            "detector_scores": {name: round(s, 6) for name, s in self.detector_scores.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(
            track_id=data["track_id"],
            score=data["score"],
            faces=data.get("faces", 0),
            label=data.get("label", ""),
            frame_indices=list(data.get(cls.JSON_KEYS["frame_indices"], [])),
            detector_scores=dict(data.get("detector_scores", {})),
        )


@dataclass
class VerdictThresholds(_Record):
    """The verdict policy a verdict was decided under (detector.aggregate.VerdictPolicy.to_dict)."""

    manipulated: float  # a score at or above it is manipulated
    authentic: float  # a score at or below it is authentic
    strategy: str = ""
    threshold: float | None = None
    uncertainty_band: float | None = None
    min_faces: int | None = None


@dataclass
class KindVerdict(_Record):
    """The verdict of the detectors that look for one kind of manipulation (an image job runs two kinds)."""

    kind: str  # a ManipulationKind value
    name: str  # KIND_NAMES[kind]: what an analyst reads
    label: str  # a VerdictLabel value
    score: float | None
    detectors: list[str] = field(default_factory=list)
    threshold: float | None = None


@dataclass
class Verdict:
    """The video's (or image's) answer and how it was reached."""

    label: VerdictLabel
    score: float | None  # probability manipulated; None without evidence
    confidence: float | None = None
    reason: str = ""
    deciding_track: int | None = None
    aggregation: str = ""
    thresholds: dict[str, Any] = field(default_factory=dict)
    untrained: bool = False
    untrained_detectors: list[str] = field(default_factory=list)
    per_track: list[TrackScore] = field(default_factory=list)
    per_detector: dict[str, float | None] = field(default_factory=dict)
    # One entry per kind of manipulation the trained detectors look for, in KIND_ORDER; the verdict is the
    # most severe of them (manipulated, then inconclusive, then authentic).
    per_kind: list[KindVerdict] = field(default_factory=list)
    # {detector: why}: trained detectors that scored the faces but did not vote, their model card showing them
    # no better than chance on this kind of media (detector.cards.abstention_reason).
    abstained: dict[str, str] = field(default_factory=dict)
    # True when every detector that voted catches most of its card's test fakes (detector.cards
    # .MIN_TPR_FOR_AUTHENTIC): only then does an authentic verdict read "Authentic" (verdict_label_text).
    authentic_supported: bool = False
    # Beside an authentic verdict that is not supported: how many test fakes its detectors caught, in one line.
    caveat: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "label": str(self.label),
            "per_track": [t.to_dict() for t in self.per_track],
            "per_kind": [k.to_dict() for k in self.per_kind],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(
            **{
                **_known_fields(cls, data),
                "label": VerdictLabel(data["label"]),
                "per_track": [TrackScore.from_dict(t) for t in data.get("per_track", [])],
                "per_kind": [KindVerdict.from_dict(k) for k in data.get("per_kind", [])],
            }
        )


@dataclass
class Diagnostics(_Record):
    """What about the input limits the verdict: resolution, compression, face sizes, blur, decode failures."""

    width: int | None = None
    height: int | None = None
    bitrate_kbps: float | None = None
    frames_sampled: int = 0
    frames_unreadable: int = 0
    unreadable_frame_indices: list[int] = field(default_factory=list)
    faces_total: int = 0
    faces_per_frame: list[int] = field(default_factory=list)
    frames_with_faces: int = 0
    face_size_px: dict[str, float | None] = field(default_factory=dict)  # min, median, max
    blur_laplacian_var: dict[str, float | None] = field(default_factory=dict)  # median, min
    small_faces: int = 0
    low_confidence_faces: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class Explanations(_Record):
    """Which Grad-CAM overlays were written, or why none were."""

    method: str = "gradcam"
    track_id: int | None = None
    detectors: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    skipped: str | None = None
    # Why the heatmaps written explain nothing (all the same centred blob, or empty); "" when they differ.
    uninformative: str = ""


@dataclass
class AnalysisSettings(_Record):
    """What the analysis ran with."""

    frames: int
    detectors: list[str] = field(default_factory=list)
    crop_margin: float | None = None
    face_detection: dict[str, Any] = field(default_factory=dict)


@dataclass
class Manifest(_Record):
    """What an analysis ran with, enough to re-run it exactly (detector.manifest, detector.reproduce)."""

    code_version: str  # the package version, + git describe in a checkout
    media_sha256: str | None
    frames_requested: int
    frame_indices: list[int]  # the frames sampled, in order
    timestamps_s: list[float]
    detectors: list[dict[str, Any]]  # name, version, architecture, checkpoint sha256, calibration, threshold
    crop_margin: float | None
    face_detection: dict[str, Any]  # FaceFinder.settings()
    policy: dict[str, Any]  # the verdict policy: aggregation strategy, threshold, band, minimum faces
    device: str
    device_description: str = ""
    libraries: dict[str, str] = field(default_factory=dict)  # python, torch, timm, OpenCV, facenet-pytorch...


@dataclass
class AnalysisResult:
    """Everything one analysis found: per frame, per face, per detector, and the verdict."""

    media: MediaProbe
    settings: AnalysisSettings
    detectors: list[DetectorInfo]
    frames: list[FrameResult]
    verdict: Verdict
    tracks: int = 0
    explanations: Explanations = field(default_factory=Explanations)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    timings: dict[str, float] = field(default_factory=dict)
    manifest: Manifest | None = None
    version: int = CONTRACT_VERSION

    def faces(self) -> list[FaceResult]:
        return [face for frame in self.frames for face in frame.faces]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "media": self.media.to_dict(),
            "settings": self.settings.to_dict(),
            "detectors": [d.to_dict() for d in self.detectors],
            "frames": [f.to_dict() for f in self.frames],
            "tracks": self.tracks,
            "verdict": self.verdict.to_dict(),
            "explanations": self.explanations.to_dict(),
            "diagnostics": self.diagnostics.to_dict(),
            "timings": dict(self.timings),
            "manifest": self.manifest.to_dict() if self.manifest is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        version = data.get("version", CONTRACT_VERSION)
        if version != CONTRACT_VERSION:
            raise ValueError(f"analysis result version {version} is not {CONTRACT_VERSION}, the one this code reads")
        return cls(
            media=MediaProbe.from_dict(data["media"]),
            settings=AnalysisSettings.from_dict(data["settings"]),
            detectors=[DetectorInfo.from_dict(d) for d in data.get("detectors", [])],
            frames=[FrameResult.from_dict(f) for f in data.get("frames", [])],
            verdict=Verdict.from_dict(data["verdict"]),
            tracks=data.get("tracks", 0),
            explanations=Explanations.from_dict(data.get("explanations", {})),
            diagnostics=Diagnostics.from_dict(data.get("diagnostics", {})),
            timings=dict(data.get("timings", {})),
            manifest=Manifest.from_dict(data["manifest"]) if data.get("manifest") else None,
        )
