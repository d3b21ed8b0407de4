"""Re-run one analysis from its manifest and the original, and say whether every score matches.

``python -m detector reproduce MANIFEST.json ORIGINAL``: MANIFEST.json is a result with its manifest
(``python -m detector analyze --json``, or a job's ``/api/v1/jobs/{id}/manifest/``). The original must
hash to the manifest's sha256 and every detector's checkpoint to the manifest's (checked before any
weights are loaded); the analysis is then
run again with the recorded frames, face-detection settings, margin and verdict policy, and each
sampled frame, face box, detector score, ensemble score and the verdict are compared.

Scores are stored rounded to 6 decimals: "identical" means equal at that precision (what the same
device and library versions give); across devices or library versions float kernels differ, so a
difference up to ``tolerance`` (default 1e-3 in probability) is "within tolerance".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from detector.contract import FrameResult, Manifest

DEFAULT_TOLERANCE = 1e-3
IDENTICAL, WITHIN_TOLERANCE, DIFFERENT = "identical", "within_tolerance", "different"
# The manifest's policy is VerdictPolicy.to_dict(); these are the fields that rebuild it.
POLICY_FIELDS = ("strategy", "threshold", "uncertainty_band", "min_faces")


class ReproduceError(Exception):
    """The analysis cannot be re-run as recorded (another original, other weights, no manifest)."""


@dataclass
class Comparison:
    """What a re-run gave against what was recorded."""

    status: str
    max_score_diff: float
    scores_compared: int
    tolerance: float
    mismatches: list[str] = field(default_factory=list)
    environment: list[str] = field(default_factory=list)  # how the re-run's setting differs from the record

    @property
    def reproduced(self) -> bool:
        return self.status in (IDENTICAL, WITHIN_TOLERANCE)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reproduced": self.reproduced,
            "max_score_diff": self.max_score_diff,
            "scores_compared": self.scores_compared,
            "tolerance": self.tolerance,
            "mismatches": self.mismatches,
            "environment": self.environment,
        }


def read_record(document: dict[str, Any]) -> tuple[Manifest, list[FrameResult], dict[str, Any]]:
    """The manifest, the frames and the verdict of a result document."""
    if not document.get("manifest"):
        raise ReproduceError("the file has no manifest (results made before manifests cannot be re-run exactly)")
    frames = [FrameResult.from_dict(f) for f in document.get("frames", [])]
    return Manifest.from_dict(document["manifest"]), frames, dict(document.get("verdict") or {})


def reproduce(
    document: dict[str, Any],
    original: str | Path,
    *,
    device: str | None = None,
    checkpoints: dict[str, str | Path] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Comparison:
    """Re-run the analysis ``document`` records on ``original`` and compare (see the module docstring)."""
    from detector.aggregate import VerdictPolicy
    from detector.ensemble import load_ensemble, shipped_checkpoint
    from detector.faces import FaceFinder
    from detector.manifest import device_description, file_sha256, library_versions
    from detector.pipeline import analyze

    manifest, frames, verdict = read_record(document)
    digest = file_sha256(original)
    if manifest.media_sha256 and digest != manifest.media_sha256:
        raise ReproduceError(f"{original} has sha256 {digest}, the analysis was of {manifest.media_sha256}")
    names = [d["name"] for d in manifest.detectors]
    # Every checkpoint is hashed against the record before any is loaded: other weights are refused unread.
    paths = {name: (checkpoints or {}).get(name) or shipped_checkpoint(name) for name in names}
    for recorded in manifest.detectors:
        path = paths[recorded["name"]]
        _check_checkpoint(recorded, file_sha256(path) if path is not None else None)
    ensemble = load_ensemble(names, device=device or manifest.device, checkpoints=paths)
    for recorded, loaded in zip(manifest.detectors, ensemble.describe(), strict=True):
        _check_checkpoint(recorded, loaded.get("sha256"))  # the bytes loaded, had the file changed since
    run_device = ensemble.detectors[0].device if ensemble.detectors else "cpu"
    face_settings = {k: v for k, v in manifest.face_detection.items() if k != "detector"}
    face_settings["thresholds"] = tuple(face_settings.get("thresholds", ()))
    rerun = analyze(
        original,
        frames=manifest.frames_requested,
        ensemble=ensemble,
        face_finder=FaceFinder(device=run_device, **face_settings),
        policy=VerdictPolicy(**{k: manifest.policy[k] for k in POLICY_FIELDS}),
        heatmap_faces=0,
    )

    environment = []
    if str(run_device) != manifest.device:
        environment.append(f"device {run_device} (recorded {manifest.device_description})")
    elif device_description(str(run_device)) != manifest.device_description:
        environment.append(f"device {device_description(str(run_device))} (recorded {manifest.device_description})")
    versions = library_versions()
    for name, recorded in sorted(manifest.libraries.items()):
        if versions.get(name) != recorded:
            environment.append(f"{name} {versions.get(name, 'missing')} (recorded {recorded})")
    if rerun.settings.crop_margin != manifest.crop_margin:
        environment.append(f"crop margin {rerun.settings.crop_margin} (recorded {manifest.crop_margin})")
    return compare(frames, verdict, rerun.frames, rerun.verdict.to_dict(), tolerance, environment)


def _check_checkpoint(recorded: dict[str, Any], sha256: str | None) -> None:
    if sha256 != recorded.get("sha256"):
        raise ReproduceError(
            f"detector {recorded['name']}: checkpoint sha256 {sha256} is not the recorded "
            f"{recorded.get('sha256')} (pass the original weights with --checkpoint NAME=PATH)"
        )


def compare(
    recorded: list[FrameResult],
    recorded_verdict: dict[str, Any],
    rerun: list[FrameResult],
    rerun_verdict: dict[str, Any],
    tolerance: float = DEFAULT_TOLERANCE,
    environment: list[str] | None = None,
) -> Comparison:
    """Frame by frame, face by face (by frame and track), detector by detector; then the verdict."""
    mismatches: list[str] = []
    diffs: list[float] = []

    def score(what: str, before: float | None, after: float | None) -> None:
        if before is None or after is None:
            if before is not after:
                mismatches.append(f"{what}: recorded {before}, re-run {after}")
            return
        diffs.append(abs(before - after))
        if abs(before - after) > tolerance:
            mismatches.append(f"{what}: recorded {before}, re-run {after}")

    recorded_indices, rerun_indices = [f.frame_index for f in recorded], [f.frame_index for f in rerun]
    if recorded_indices != rerun_indices:
        mismatches.append(f"sampled frames differ: recorded {recorded_indices}, re-run {rerun_indices}")
    rerun_faces = {(face.frame_index, face.track_id): face for frame in rerun for face in frame.faces}
    recorded_keys = set()
    for frame in recorded:
        for face in frame.faces:
            key = (face.frame_index, face.track_id)
            recorded_keys.add(key)
            where = f"frame {key[0]} track {key[1]}"
            other = rerun_faces.get(key)
            if other is None:
                mismatches.append(f"{where}: face not found again")
                continue
            box_shift = max((abs(a - b) for a, b in zip(face.box, other.box, strict=True)), default=0.0)
            if box_shift > 1.0:  # boxes are stored to 0.1 px
                mismatches.append(f"{where}: box {face.box} became {other.box}")
            for name in sorted(set(face.detector_scores) | set(other.detector_scores)):
                score(f"{where} {name}", face.detector_scores.get(name), other.detector_scores.get(name))
            score(f"{where} ensemble", face.score, other.score)
    for key in sorted(set(rerun_faces) - recorded_keys):
        mismatches.append(f"frame {key[0]} track {key[1]}: a face the record does not have")
    if recorded_verdict.get("label") != rerun_verdict.get("label"):
        mismatches.append(f"verdict {recorded_verdict.get('label')} became {rerun_verdict.get('label')}")
    score("verdict score", recorded_verdict.get("score"), rerun_verdict.get("score"))
    for name, value in sorted((recorded_verdict.get("per_detector") or {}).items()):
        score(f"verdict {name}", value, (rerun_verdict.get("per_detector") or {}).get(name))

    max_diff = max(diffs, default=0.0)
    if mismatches:
        status = DIFFERENT
    elif max_diff == 0.0:
        status = IDENTICAL
    else:
        status = WITHIN_TOLERANCE
    return Comparison(status, max_diff, len(diffs), tolerance, mismatches, environment or [])
