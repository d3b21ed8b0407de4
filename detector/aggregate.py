"""Frame → track → video aggregation and the verdict label.

A video is manipulated if any of its face tracks is: a face swap often touches one person
among several, and averaging over everyone would dilute it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from detector.contract import TrackScore, VerdictLabel, VerdictThresholds


def mean_strategy(scores: Sequence[float]) -> float:
    return float(np.mean(scores))


def topk_mean_strategy(scores: Sequence[float], share: float = 0.25) -> float:
    """Mean of the highest ``share`` of scores: a swap visible in a few frames still counts."""
    ordered = np.sort(np.asarray(scores, dtype=np.float64))[::-1]
    k = max(1, int(np.ceil(len(ordered) * share)))
    return float(ordered[:k].mean())


def confident_strategy(
    scores: Sequence[float],
    fake_above: float = 0.8,
    real_below: float = 0.2,
    fake_share: float = 0.4,
    real_share: float = 0.9,
) -> float:
    """The DFDC-winning rule (Seferbekov 2020): trust confident frames when there are enough.

    If more than ``fake_share`` of frames are confidently fake, use their mean; else if
    more than ``real_share`` are confidently real, use theirs; else the plain mean. The
    original also required more than 11 fake frames out of 32; the share alone is used so
    the rule scales with the number of sampled frames.
    """
    arr = np.asarray(scores, dtype=np.float64)
    fakes = arr[arr > fake_above]
    if len(fakes) > fake_share * len(arr):
        return float(fakes.mean())
    reals = arr[arr < real_below]
    if len(reals) > real_share * len(arr):
        return float(reals.mean())
    return float(arr.mean())


STRATEGIES: dict[str, Callable[[Sequence[float]], float]] = {
    "mean": mean_strategy,
    "topk_mean": topk_mean_strategy,
    "confident": confident_strategy,
}


@dataclass(frozen=True)
class VerdictPolicy:
    strategy: str = "confident"
    threshold: float = 0.5
    # Scores within this distance of the threshold are inconclusive rather than a coin flip.
    uncertainty_band: float = 0.1
    # A video verdict needs at least this many scored faces in its deciding tracks.
    min_faces: int = 3

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown aggregation {self.strategy!r}; known: {', '.join(STRATEGIES)}")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {self.threshold}")
        if not 0.0 <= self.uncertainty_band < 0.5:
            raise ValueError(f"uncertainty_band must be in [0, 0.5), got {self.uncertainty_band}")
        if self.min_faces < 1:
            raise ValueError(f"min_faces must be at least 1, got {self.min_faces}")

    def to_dict(self) -> dict[str, Any]:
        return VerdictThresholds(
            strategy=self.strategy,
            threshold=self.threshold,
            uncertainty_band=self.uncertainty_band,
            min_faces=self.min_faces,
            manipulated=round(min(1.0, self.threshold + self.uncertainty_band), 4),
            authentic=round(max(0.0, self.threshold - self.uncertainty_band), 4),
        ).to_dict()


def label_for(score: float, policy: VerdictPolicy) -> VerdictLabel:
    if score >= policy.threshold + policy.uncertainty_band:
        return VerdictLabel.MANIPULATED
    if score <= policy.threshold - policy.uncertainty_band:
        return VerdictLabel.AUTHENTIC
    return VerdictLabel.INCONCLUSIVE


def confidence_for(score: float, policy: VerdictPolicy) -> float:
    """0 at the threshold, 1 at the far end of the scale on the verdict's side."""
    span = (1.0 - policy.threshold) if score >= policy.threshold else policy.threshold
    return round(min(1.0, abs(score - policy.threshold) / span) if span > 0 else 0.0, 4)


def aggregate_tracks(track_scores: dict[int, list[tuple[int, float]]], policy: VerdictPolicy) -> list[TrackScore]:
    """``{track_id: [(frame_index, score), ...]}`` → one :class:`TrackScore` per track."""
    strategy = STRATEGIES[policy.strategy]
    out = []
    for track_id, items in sorted(track_scores.items()):
        scores = [s for _, s in items]
        score = strategy(scores)
        out.append(TrackScore(track_id, score, len(scores), label_for(score, policy), [i for i, _ in items]))
    return out


def fuse_tracks(
    frames_by_track: dict[int, list[int]],
    frame_tracks: list[TrackScore],
    frame_detectors: int,
    track_detector_scores: dict[str, dict[int, float]],
    policy: VerdictPolicy,
    detector_track_scores: dict[str, dict[int, float]] | None = None,
) -> list[TrackScore]:
    """One :class:`TrackScore` per track from frame-level and track-level detectors together.

    ``frame_tracks`` are the tracks aggregated from the frame ensemble's per-face mean, which
    stands for ``frame_detectors`` detectors; each track detector's score counts as one more
    detector, so every trained detector weighs the same in the track's score. Tracks that no
    detector scored are left out. ``detector_track_scores`` (each frame detector's own track
    score) is only reported, in ``detector_scores``.
    """
    frame_by_id = {t.track_id: t for t in frame_tracks}
    out = []
    for track_id, frame_indices in sorted(frames_by_track.items()):
        weighted: list[tuple[float, float]] = []
        if track_id in frame_by_id and frame_detectors > 0:
            weighted.append((frame_by_id[track_id].score, float(frame_detectors)))
        detector_scores = {
            name: scores[track_id] for name, scores in (detector_track_scores or {}).items() if track_id in scores
        }
        for name, scores in track_detector_scores.items():
            if track_id in scores:
                weighted.append((scores[track_id], 1.0))
                detector_scores[name] = scores[track_id]
        if not weighted:
            continue
        score = float(sum(s * w for s, w in weighted) / sum(w for _, w in weighted))
        out.append(
            TrackScore(
                track_id, score, len(frame_indices), label_for(score, policy), list(frame_indices), detector_scores
            )
        )
    return out


def aggregate_video_score(
    tracks: list[TrackScore], policy: VerdictPolicy, single_image: bool = False
) -> dict[str, Any]:
    """The video verdict from its tracks: the most suspicious sufficiently long track decides."""
    if not tracks:
        return {
            "label": VerdictLabel.NO_FACES,
            "score": None,
            "confidence": None,
            "reason": "no face was found in any sampled frame",
        }
    min_faces = 1 if single_image else policy.min_faces
    longest = max(t.faces for t in tracks)
    # Tracks much shorter than the main one are usually passing false detections.
    usable = [t for t in tracks if t.faces >= min(min_faces, longest)]
    deciding = max(usable, key=lambda t: t.score)
    score = deciding.score
    label = label_for(score, policy)
    if single_image:
        reason = f"the face decides: P(manipulated) {score:.2f}"
    else:
        faces = f"{deciding.faces} face{'' if deciding.faces == 1 else 's'}"
        reason = f"track {deciding.track_id} ({faces}) decides with {policy.strategy} P(manipulated) {score:.2f}"
    if longest < min_faces:
        label = VerdictLabel.INCONCLUSIVE
        reason = f"only {longest} scored face(s) in the longest track; at least {min_faces} are needed"
    return {
        "label": label,
        "score": round(score, 6),
        "confidence": confidence_for(score, policy),
        "reason": reason,
        "deciding_track": deciding.track_id,
    }
