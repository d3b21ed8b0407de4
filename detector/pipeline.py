"""One analysis, start to end: sample frames → faces → tracks → ensemble scores → verdict.

``analyze`` returns a :class:`detector.contract.AnalysisResult`; the worker stores it and the
CLI prints its ``to_dict()``, so the platform and the library can never disagree on what a result is.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Sized
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from detector import aggregate
from detector.contract import (
    KIND_NAMES,
    AnalysisResult,
    AnalysisSettings,
    DetectorInfo,
    Diagnostics,
    Explanations,
    FaceResult,
    FrameResult,
    JobStage,
    KindVerdict,
    ManipulationKind,
    Verdict,
    VerdictLabel,
)
from detector.ensemble import Ensemble, load_ensemble
from detector.faces import MAX_FACES_PER_FRAME, Face, FaceFinder
from detector.manifest import build_manifest, file_sha256
from detector.media import DEFAULT_FRAMES, MediaProbe, SampledFrame, SamplingReport, decode_ahead, stream_media
from detector.registry import Detector
from detector.tracking import assign_tracks

ProgressCallback = Callable[[str, int], None]
CROP_SAVE_PX = 224
DEFAULT_CROP_MARGIN = 0.3
# Grad-CAM costs a forward and a backward pass per crop: explain only the faces that drove
# the verdict (the top-scoring ones of the deciding track), which bounds the CPU cost per job.
DEFAULT_HEATMAP_FACES = 6
HEATMAP_DETECTORS = ("first", "all")


def _noop_progress(stage: str, percent: int) -> None:
    return None


def _blur_score(crop: np.ndarray) -> float:
    """Variance of the Laplacian (Pech-Pacheco et al. 2000): low means blurred."""
    gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


# Below this share of readable sampled frames with a face, the input-quality warnings say how many had one: a
# manipulation visible only where faces were missed would go unscored (a person is usually in view throughout).
MIN_FACE_COVERAGE = 0.7


def input_diagnostics(
    media: MediaProbe,
    frames_total: int,
    unreadable: list[int],
    faces: list[list[Face]],
    frames_capped_from: int | None = None,
) -> Diagnostics:
    """What about the input limits the verdict: resolution, bitrate, face sizes, blur, decode failures.

    ``faces`` holds the faces of each readable sampled frame; ``unreadable`` the indices of
    sampled frames that could not be decoded.
    """
    flat = [f for per in faces for f in per]
    sizes = [f.size_px for f in flat]
    blurs = [_blur_score(f.crop) for f in flat]
    warnings = []
    if min(media.width, media.height) < 360:
        warnings.append(f"low resolution ({media.width}x{media.height}): detectors are less reliable")
    dropped = sum(getattr(per, "dropped", 0) for per in faces)
    if dropped:
        warnings.append(f"{dropped} faces beyond the {MAX_FACES_PER_FRAME} largest of their frame were not scored")
    if frames_capped_from:
        warnings.append(
            f"{frames_total} frames sampled instead of {frames_capped_from}: at {media.width}x{media.height} "
            "more would exceed the memory budget for decoded frames"
        )
    if unreadable:
        warnings.append(f"{len(unreadable)} of {frames_total} sampled frames could not be decoded")
    if sizes and float(np.median(sizes)) < 64:
        warnings.append(f"faces are small (median {np.median(sizes):.0f} px)")
    if faces and not any(faces):
        warnings.append("no face was found in any readable sampled frame")
    elif media.kind == "video" and faces and sum(1 for per in faces if per) < MIN_FACE_COVERAGE * len(faces):
        found = sum(1 for per in faces if per)
        warnings.append(
            f"faces in {found} of {len(faces)} sampled frames: a person in view where none was found is not scored "
            "there (the timeline marks those frames)"
        )
    if blurs and float(np.median(blurs)) < 50:
        warnings.append("faces are blurred (median variance of Laplacian < 50)")
    if media.bitrate_kbps is not None and media.bitrate_kbps < 300:
        warnings.append(f"heavy compression (about {media.bitrate_kbps:.0f} kb/s) hides manipulation traces")
    return Diagnostics(
        width=media.width,
        height=media.height,
        bitrate_kbps=round(media.bitrate_kbps, 1) if media.bitrate_kbps else None,
        frames_sampled=frames_total,
        frames_unreadable=len(unreadable),
        unreadable_frame_indices=unreadable,
        faces_total=len(flat),
        faces_per_frame=[len(per) for per in faces],
        frames_with_faces=sum(1 for per in faces if per),
        face_size_px={
            "min": round(min(sizes), 1) if sizes else None,
            "median": round(float(np.median(sizes)), 1) if sizes else None,
            "max": round(max(sizes), 1) if sizes else None,
        },
        blur_laplacian_var={
            "median": round(float(np.median(blurs)), 1) if blurs else None,
            "min": round(min(blurs), 1) if blurs else None,
        },
        small_faces=sum("small" in f.flags for f in flat),
        low_confidence_faces=sum("low_confidence" in f.flags for f in flat),
        warnings=warnings,
    )


def _save_crop(directory: Path, face: Face) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    name = f"f{face.frame_index:06d}_t{face.track_id:03d}.jpg"
    crop = cv2.resize(face.crop, (CROP_SAVE_PX, CROP_SAVE_PX), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(directory / name), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
    return f"crops/{name}"


def _heatmap_faces(track_faces: list[tuple[Face, float | None]], count: int) -> list[Face]:
    """The ``count`` faces of one track that drove its score: highest first, or spread over time unscored."""
    if all(score is not None for _, score in track_faces):
        ordered = sorted(track_faces, key=lambda item: item[1], reverse=True)
        return [face for face, _ in ordered[:count]]
    positions = sorted({int(p) for p in np.linspace(0, len(track_faces) - 1, num=min(count, len(track_faces)))})
    return [track_faces[p][0] for p in positions]


def _write_heatmaps(
    directory: Path,
    detectors: list[Detector],
    faces: list[Face],
    rows: list[FaceResult],
    source_margin: float,
) -> tuple[list[str], str]:
    """Grad-CAM overlays of ``faces`` for each of ``detectors``; sets heatmap paths on the matching rows.

    Returns the files and why the maps explain nothing ("" when they differ: ``explain.uninformative_reason``).
    """
    from detector.explain import gradcam, save_overlay_png, uninformative_reason

    row_by_face = {id(face): row for face, row in zip(faces, rows, strict=True)}
    written = []
    reasons = []
    for det in detectors:
        # A track detector explains the crops as one sequence, so they must be in time order.
        ordered = sorted(faces, key=lambda f: f.frame_index) if det.config.input_kind == "track" else faces
        # Each heatmap is drawn on the region this detector saw: the crop narrowed to its margin.
        seen = det.crops_for([f.crop for f in ordered], source_margin)
        maps = gradcam(det, seen)
        reasons.append(uninformative_reason(maps))
        for face, region, cam in zip(ordered, seen, maps, strict=True):
            crop = cv2.resize(region, (CROP_SAVE_PX, CROP_SAVE_PX), interpolation=cv2.INTER_AREA)
            name = f"f{face.frame_index:06d}_t{face.track_id:03d}_{det.name}.png"
            save_overlay_png(directory / name, crop, cam)
            relative = f"heatmaps/{name}"
            row = row_by_face[id(face)]
            row.heatmap_paths[det.name] = relative
            row.heatmap_path = row.heatmap_path or relative
            written.append(relative)
    # Uninformative only when every detector's maps are.
    uninformative = "; ".join(r for r in reasons if r) if reasons and all(reasons) else ""
    return written, uninformative


def detect_faces(
    frames: Iterable[SampledFrame], face_finder: FaceFinder, margin: float
) -> tuple[list[list[Face]], int]:
    """The face stage: faces of every readable frame, cut with ``margin``, with track ids; and the track count.

    ``frames`` may still be being decoded (an iterator): the search starts on the first ones meanwhile.
    """
    faces_per_frame = face_finder.find(((f.index, f.rgb) for f in frames if f.rgb is not None), margin=margin)
    return faces_per_frame, assign_tracks(faces_per_frame)


@dataclass
class ScoredFaces:
    """Every face of one analysis with its scores: what :func:`decide` turns into a verdict."""

    faces: list[Face]  # in reading order, track ids assigned
    per_detector: dict[str, np.ndarray]  # calibrated score per face, per trained frame detector
    ensemble: np.ndarray | None  # their mean per face; None when no frame detector is trained
    track_detector_scores: dict[str, dict[int, float]]  # per trained track detector: {track_id: score}

    def only(self, members: Ensemble) -> ScoredFaces:
        """These faces scored by ``members`` only: their own per-face mean as the ensemble score."""
        names = set(members.names)
        per_detector = {n: s for n, s in self.per_detector.items() if n in names}
        mean = np.mean(np.stack(list(per_detector.values())), axis=0) if per_detector else None
        tracks = {n: s for n, s in self.track_detector_scores.items() if n in names}
        return ScoredFaces(self.faces, per_detector, mean, tracks)


def score_faces(
    faces_per_frame: list[list[Face]],
    ensemble: Ensemble,
    margin: float,
    policy: aggregate.VerdictPolicy,
    single_image: bool = False,
    progress: Callable[[float], None] | None = None,
) -> ScoredFaces:
    """The scoring stage: every trained frame detector scores every face, track detectors every long track.

    ``faces_per_frame`` must already carry track ids (:func:`detector.tracking.assign_tracks`) and
    crops cut with ``margin``. The pipeline, the evaluation and calibration all score through here.
    ``progress(share)``: the share of the frame detectors' scores done, after each batch.
    """
    flat = [face for per in faces_per_frame for face in per]
    per_detector, ensemble_scores = ensemble.score([f.crop for f in flat], source_margin=margin, progress=progress)
    crops_by_track: dict[int, list[np.ndarray]] = {}
    for face in flat:
        crops_by_track.setdefault(face.track_id, []).append(face.crop)
    # Track detectors see only tracks long enough to decide a verdict (see aggregate_video_score):
    # a one-frame false detection would cost a full sequence forward pass and could never decide.
    longest = max((len(v) for v in crops_by_track.values()), default=0)
    min_faces = min(1 if single_image else policy.min_faces, longest)
    scored_tracks = {tid: crops for tid, crops in crops_by_track.items() if len(crops) >= min_faces}
    return ScoredFaces(flat, per_detector, ensemble_scores, ensemble.score_tracks(scored_tracks, source_margin=margin))


# Which kind's verdict decides when detectors of several kinds ran: the most severe label, then the higher score.
LABEL_SEVERITY = {VerdictLabel.MANIPULATED: 2, VerdictLabel.INCONCLUSIVE: 1, VerdictLabel.AUTHENTIC: 0}


def decide(
    scored: ScoredFaces,
    ensemble: Ensemble,
    policy: aggregate.VerdictPolicy,
    single_image: bool = False,
    media_kind: str | None = None,
) -> dict[str, Any]:
    """The aggregating stage: faces → tracks → the verdict, with per-track, per-detector and per-kind summaries.

    Detectors that look for different kinds of manipulation (``contract.ManipulationKind``: a face-swap
    detector and a fully-generated-face detector on an image) are never averaged: each kind decides on
    its own, with its own detectors' threshold and band (the policy's strategy and minimum faces), and
    the most severe kind's verdict is the verdict; ``per_kind`` lists them all.

    ``media_kind`` ("video" or "image"): only the detectors whose model cards show them better than chance
    on it vote (``Ensemble.voting_on``); the others' scores are still reported in ``per_detector`` and
    they are named in ``abstained``. When none votes the verdict is inconclusive, without a score. An
    authentic verdict says whether its voters' cards support the word (``authentic_supported``, ``caveat``).
    None: everyone votes (evaluation and calibration measure each detector as it is).
    """
    voting, abstained = ensemble.voting_on(media_kind)
    if not abstained:
        verdict = _decide_kinds(scored, ensemble, policy, single_image)
    elif voting.trained or voting.trained_track:
        everyone = _decide_kinds(scored, ensemble, policy, single_image)
        verdict = _decide_kinds(scored.only(voting), voting, policy, single_image)
        verdict["per_detector"] = {**everyone["per_detector"], **verdict["per_detector"]}
    else:
        # Nobody may vote: what the detectors scored is still shown (per detector, per track, heatmaps of the
        # most suspicious track), but there is no verdict score and no label beyond inconclusive.
        verdict = _decide_kinds(scored, ensemble, policy, single_image)
        if verdict["label"] != VerdictLabel.NO_FACES:
            verdict.update(
                label=VerdictLabel.INCONCLUSIVE,
                score=None,
                confidence=None,
                reason=f"no detector that ran is shown by its model card to do better than chance on {media_kind}s "
                f"({'; '.join(f'{name}: {why}' for name, why in abstained.items())}): their scores are evidence "
                "to read, not a verdict",
                per_kind=[],
            )
    verdict["abstained"] = abstained
    if verdict["label"] == VerdictLabel.AUTHENTIC and media_kind is not None:
        verdict["caveat"] = voting.absence_caveat(media_kind)
        verdict["authentic_supported"] = not verdict["caveat"]
    return verdict


def _decide_kinds(
    scored: ScoredFaces, ensemble: Ensemble, policy: aggregate.VerdictPolicy, single_image: bool
) -> dict[str, Any]:
    """:func:`decide` for the detectors of ``ensemble``, every one of them voting."""
    kinds = ensemble.by_kind()
    if len(kinds) <= 1:
        verdict = _decide_one_kind(scored, ensemble, policy, single_image)
        verdict["per_kind"] = [_kind_verdict(kind, verdict, sub, policy) for kind, sub in kinds.items()]
        return verdict
    verdicts = {}
    for kind, sub in kinds.items():
        own_policy = sub.verdict_policy(strategy=policy.strategy, min_faces=policy.min_faces)
        verdicts[kind] = (_decide_one_kind(scored.only(sub), sub, own_policy, single_image), sub, own_policy)
    deciding = max(
        verdicts, key=lambda k: (LABEL_SEVERITY.get(verdicts[k][0]["label"], -1), verdicts[k][0]["score"] or 0.0)
    )
    verdict = dict(verdicts[deciding][0])
    verdict["reason"] = f"{KIND_NAMES[ManipulationKind(deciding)]}: {verdict['reason']}"
    verdict["per_detector"] = {name: s for v, _, _ in verdicts.values() for name, s in v["per_detector"].items()}
    untrained = [d.name for d in ensemble.detectors if not d.trained]
    verdict["untrained"] = bool(untrained)
    verdict["untrained_detectors"] = untrained
    verdict["per_kind"] = [_kind_verdict(kind, v, sub, own) for kind, (v, sub, own) in verdicts.items()]
    verdict["deciding_kind"] = str(deciding)
    return verdict


def _kind_verdict(kind: str, verdict: dict[str, Any], members: Ensemble, policy: aggregate.VerdictPolicy) -> dict:
    return KindVerdict(
        kind=str(kind),
        name=KIND_NAMES[ManipulationKind(kind)],
        label=str(verdict["label"]),
        score=verdict["score"],
        detectors=members.names,
        threshold=policy.threshold,
    ).to_dict()


def _decide_one_kind(
    scored: ScoredFaces, ensemble: Ensemble, policy: aggregate.VerdictPolicy, single_image: bool
) -> dict[str, Any]:
    """:func:`decide` for detectors that all look for one kind of manipulation."""
    flat = scored.faces
    frames_by_track: dict[int, list[int]] = {}
    track_items: dict[int, list[tuple[int, float]]] = {}
    per_detector_tracks: dict[str, dict[int, list[tuple[int, float]]]] = {name: {} for name in scored.per_detector}
    for i, face in enumerate(flat):
        frames_by_track.setdefault(face.track_id, []).append(face.frame_index)
        if scored.ensemble is not None:
            track_items.setdefault(face.track_id, []).append((face.frame_index, float(scored.ensemble[i])))
            for name, s in scored.per_detector.items():
                per_detector_tracks[name].setdefault(face.track_id, []).append((face.frame_index, float(s[i])))

    untrained = [d.name for d in ensemble.detectors if not d.trained]
    per_detector_track_scores = {
        name: aggregate.aggregate_tracks(items, policy) for name, items in per_detector_tracks.items() if items
    }
    for name, scores in scored.track_detector_scores.items():
        per_detector_track_scores[name] = [
            aggregate.TrackScore(tid, s, len(frames), aggregate.label_for(s, policy), frames)
            for tid, s in sorted(scores.items())
            for frames in [frames_by_track[tid]]
        ]
    if not flat:
        tracks: list[aggregate.TrackScore] = []
        verdict = aggregate.aggregate_video_score([], policy)
    elif scored.ensemble is None and not scored.track_detector_scores:
        tracks = []
        verdict = {
            "label": VerdictLabel.INCONCLUSIVE,
            "score": None,
            "confidence": None,
            "reason": f"no trained detector ran (without trained weights: {', '.join(untrained)}); "
            "random weights are not evidence",
        }
    else:
        tracks = aggregate.fuse_tracks(
            frames_by_track,
            aggregate.aggregate_tracks(track_items, policy),
            len(scored.per_detector),
            scored.track_detector_scores,
            policy,
            detector_track_scores={
                name: {t.track_id: t.score for t in ts}
                for name, ts in per_detector_track_scores.items()
                if name in scored.per_detector
            },
        )
        verdict = aggregate.aggregate_video_score(tracks, policy, single_image=single_image)
    verdict["aggregation"] = policy.strategy
    verdict["thresholds"] = policy.to_dict()
    verdict["untrained"] = bool(untrained)
    verdict["untrained_detectors"] = untrained
    verdict["per_track"] = [t.to_dict() for t in tracks]
    verdict["per_detector"] = {
        name: aggregate.aggregate_video_score(ts, policy, single_image=single_image)["score"]
        for name, ts in per_detector_track_scores.items()
        if ts
    }
    return verdict


def analyze(
    path: str | Path,
    frames: int = DEFAULT_FRAMES,
    detectors: list[str] | None = None,
    device: str | None = None,
    kind: str | None = None,
    ensemble: Ensemble | None = None,
    face_finder: FaceFinder | None = None,
    policy: aggregate.VerdictPolicy | None = None,
    artifacts_dir: str | Path | None = None,
    progress: ProgressCallback | None = None,
    heatmap_faces: int = DEFAULT_HEATMAP_FACES,
    heatmap_detectors: str = "first",
    media_sha256: str | None = None,
) -> AnalysisResult:
    """Analyse one video or image. Raises :class:`detector.media.MediaError` on unusable media.

    ``ensemble`` and ``face_finder`` let a long-lived process (a worker) load models once.
    ``media_sha256``: the file's sha256 when the caller has just verified it (a worker does before
    every job); otherwise the file is hashed here for the manifest.
    ``artifacts_dir`` receives face crops and Grad-CAM overlays of the ``heatmap_faces``
    top-scoring faces of the deciding track (``heatmap_detectors``: "first" trained CNN
    detector, or "all"); their paths in the result are relative to it.
    """
    progress = progress or _noop_progress
    started = time.perf_counter()
    path = Path(path)

    progress(JobStage.DECODING, 0)
    media_sha256 = media_sha256 or file_sha256(path)
    media, sampled, sampling = stream_media(path, samples=frames, kind=kind)
    decode_s = time.perf_counter() - started
    # The frames are decoded by a thread of their own while the face stage searches those already decoded:
    # MTCNN's first batch does not wait for the last frame. Closing stops the decoding when the analysis
    # ends before it (an error, a cancel).
    with contextlib.closing(decode_ahead(sampled)) as decoding:
        return analyze_frames(
            media,
            decoding,
            sampling,
            frames=frames,
            detectors=detectors,
            device=device,
            ensemble=ensemble,
            face_finder=face_finder,
            policy=policy,
            artifacts_dir=artifacts_dir,
            progress=progress,
            heatmap_faces=heatmap_faces,
            heatmap_detectors=heatmap_detectors,
            decode_s=decode_s,
            media_sha256=media_sha256,
        )


def analyze_frames(
    media: MediaProbe,
    sampled: Iterable[SampledFrame],
    sampling: SamplingReport,
    *,
    frames: int = DEFAULT_FRAMES,
    detectors: list[str] | None = None,
    device: str | None = None,
    ensemble: Ensemble | None = None,
    face_finder: FaceFinder | None = None,
    policy: aggregate.VerdictPolicy | None = None,
    artifacts_dir: str | Path | None = None,
    progress: ProgressCallback | None = None,
    heatmap_faces: int = DEFAULT_HEATMAP_FACES,
    heatmap_detectors: str = "first",
    decode_s: float = 0.0,
    media_sha256: str | None = None,
) -> AnalysisResult:
    """Everything after decoding, for frames in memory or still being decoded (see :func:`analyze`).

    ``sampled`` may be an iterator of frames as they are decoded (``sampling`` is complete once it is):
    the face stage starts on the first frames. ``decode_s`` is the time spent before it; the decoding's
    time is counted until its last frame was decoded (``sampling.decoded_at``), the face stage's from
    then on. The result keeps each frame without its pixels: the decoded frames, up to
    ``media.MAX_DECODED_PIXELS``, are not held while the models run.
    """
    if heatmap_detectors not in HEATMAP_DETECTORS:
        raise ValueError(f"heatmap_detectors must be one of {HEATMAP_DETECTORS}, not {heatmap_detectors!r}")
    progress = progress or _noop_progress
    timings: dict[str, float] = {"decode_s": decode_s}
    started = time.perf_counter() - decode_s

    ensemble = ensemble or load_ensemble(detectors, device=device, media_kind=media.kind)
    face_finder = face_finder or FaceFinder(device=ensemble.detectors[0].device if ensemble.detectors else "cpu")
    margin = ensemble.crop_margin or DEFAULT_CROP_MARGIN
    # The verdict's threshold and band are those of the detectors that vote on this kind of media.
    voting, _ = ensemble.voting_on(media.kind)
    policy = policy or (voting if voting.trained or voting.trained_track else ensemble).verdict_policy()
    single_image = media.kind == "image"

    progress(JobStage.FACES, 0)
    t0 = time.perf_counter()
    kept: list[SampledFrame] = []  # every sampled frame, without its pixels
    readable: set[int] = set()

    # The face stage reports each frame as it reaches the face search (it searches batches as they arrive, and
    # what is left when the last one has); the last tenth is the search that follows the last frame.
    # Each percent is reported once and 0 never again: a report of 0 marks a stage's start.
    expected = _frames_expected(sampled, media, frames)
    reported = [0]

    def passing(frames: Iterable[SampledFrame]) -> Iterable[SampledFrame]:
        for frame in frames:
            kept.append(replace(frame, rgb=None))
            if frame.rgb is not None:
                readable.add(frame.index)
            percent = min(90, 90 * len(kept) // expected)
            if percent > reported[0]:
                reported[0] = percent
                progress(JobStage.FACES, percent)
            yield frame

    faces_per_frame, n_tracks = detect_faces(passing(sampled), face_finder, margin)
    # Frames decoded while the faces of the first ones were searched: decoding's time runs from the
    # start to its last frame, the face stage's from then on (frames decoded before it: no overlap).
    overlap_s = max(0.0, (sampling.decoded_at or t0) - t0)
    timings["decode_s"] = decode_s + overlap_s
    timings["faces_s"] = time.perf_counter() - t0 - overlap_s
    progress(JobStage.FACES, 100)

    progress(JobStage.SCORING, 0)
    t0 = time.perf_counter()
    scored = score_faces(
        faces_per_frame,
        ensemble,
        margin,
        policy,
        single_image,
        progress=lambda share: progress(JobStage.SCORING, max(1, min(99, int(100 * share)))),
    )
    flat = scored.faces
    timings["scoring_s"] = time.perf_counter() - t0
    progress(JobStage.SCORING, 100)

    progress(JobStage.AGGREGATING, 0)
    t0 = time.perf_counter()
    artifacts = Path(artifacts_dir) if artifacts_dir else None
    decided = decide(scored, ensemble, policy, single_image, media_kind=media.kind)
    # A face's score is the mean of the detectors whose kind decided the verdict: kinds are never averaged.
    kinds = voting.by_kind()
    # With no detector voting, the faces keep every trained detector's mean: the evidence the page shows.
    if "deciding_kind" in decided:
        face_scores = scored.only(kinds[decided["deciding_kind"]]).ensemble
    elif voting.trained:
        face_scores = scored.only(voting).ensemble
    else:
        face_scores = scored.ensemble
    face_rows = [
        FaceResult(
            frame_index=face.frame_index,
            track_id=face.track_id,
            box=[round(float(v), 1) for v in face.box],
            det_prob=round(float(face.probability), 4),
            size_px=round(face.size_px, 1),
            flags=list(face.flags),
            detector_scores={name: round(float(s[i]), 6) for name, s in scored.per_detector.items()},
            score=round(float(face_scores[i]), 6) if face_scores is not None else None,
            crop_path=_save_crop(artifacts / "crops", face) if artifacts else None,
        )
        for i, face in enumerate(flat)
    ]
    verdict = Verdict.from_dict(decided)
    timings["aggregate_s"] = time.perf_counter() - t0
    progress(JobStage.AGGREGATING, 50)

    t0 = time.perf_counter()
    explanations = _explain(artifacts, verdict, flat, face_rows, ensemble, heatmap_faces, heatmap_detectors)
    timings["heatmaps_s"] = time.perf_counter() - t0

    faces_by_frame: dict[int, list[FaceResult]] = {}
    for row in face_rows:
        faces_by_frame.setdefault(row.frame_index, []).append(row)
    frame_rows = [
        FrameResult(
            frame_index=f.index,
            timestamp_s=round(f.timestamp_s, 4),
            readable=f.index in readable,
            error=f.error,
            faces=faces_by_frame.get(f.index, []),
        )
        for f in kept
    ]
    timings["total_s"] = time.perf_counter() - started
    progress(JobStage.AGGREGATING, 100)
    detector_infos = [DetectorInfo.from_dict(d) for d in ensemble.describe()]
    return AnalysisResult(
        media=media,
        settings=AnalysisSettings(
            frames=frames,
            detectors=ensemble.names,
            crop_margin=margin,
            face_detection=face_finder.settings(),
        ),
        detectors=detector_infos,
        frames=frame_rows,
        tracks=n_tracks,
        verdict=verdict,
        explanations=explanations,
        diagnostics=input_diagnostics(
            media, len(kept), sampling.unreadable, faces_per_frame, frames_capped_from=sampling.capped_from
        ),
        timings={k: round(v, 4) for k, v in timings.items()},
        manifest=build_manifest(
            media_sha256=media_sha256,
            frames_requested=frames,
            frame_indices=[f.index for f in kept],
            timestamps_s=[f.timestamp_s for f in kept],
            detectors=detector_infos,
            crop_margin=margin,
            face_detection=face_finder.settings(),
            policy=policy.to_dict(),
            device=str(ensemble.detectors[0].device) if ensemble.detectors else "cpu",
        ),
    )


def _frames_expected(sampled: Iterable[SampledFrame], media: MediaProbe, frames: int) -> int:
    """How many frames the face stage will see: all of a list, else what sampling can give (at least 1)."""
    if isinstance(sampled, Sized):
        return max(1, len(sampled))
    if media.kind == "image":
        return 1
    return max(1, min(frames, media.frame_count or frames))


def _explain(
    artifacts: Path | None,
    verdict: Verdict,
    flat: list[Face],
    face_rows: list[FaceResult],
    ensemble: Ensemble,
    heatmap_faces: int,
    heatmap_detectors: str,
) -> Explanations:
    """Grad-CAM overlays for the faces of the deciding track; a summary of what was (not) written."""
    summary = Explanations()
    deciding = verdict.deciding_track
    # Explaining with random weights would show noise as if it were evidence.
    candidates = [d for d in ensemble.trained + ensemble.trained_track if d.config.cam_layer]
    if artifacts is None:
        summary.skipped = "no artifacts directory"
    elif heatmap_faces <= 0:
        summary.skipped = "heatmaps disabled"
    elif deciding is None:
        summary.skipped = "no deciding track"
    elif not candidates:
        summary.skipped = "no trained detector with a spatial map (cam_layer)"
    if summary.skipped:
        return summary
    chosen = candidates[:1] if heatmap_detectors == "first" else candidates
    in_track = [(face, row.score) for face, row in zip(flat, face_rows, strict=True) if face.track_id == deciding]
    faces = _heatmap_faces(in_track, heatmap_faces)
    row_index = {id(face): i for i, face in enumerate(flat)}
    rows = [face_rows[row_index[id(face)]] for face in faces]
    summary.track_id = deciding
    summary.detectors = [d.name for d in chosen]
    try:
        summary.files, summary.uninformative = _write_heatmaps(
            artifacts / "heatmaps", chosen, faces, rows, ensemble.crop_margin
        )
    except (RuntimeError, ValueError, OSError) as exc:
        # A failed explanation must not cost the analyst the verdict it would have illustrated.
        summary.skipped = f"Grad-CAM failed: {exc.__class__.__name__}: {exc}"
    return summary
