"""Calibration, threshold and inconclusive band of a trained checkpoint, chosen on dev as a job would score it.

``python -m detector calibrate CONFIG.yaml [--checkpoint PATH]`` (and the end of ``train`` when the config
asks for it) rewrites a checkpoint's calibration, threshold and uncertainty band:

1. logits of every face the pipeline finds in the dev part of the run's split (``split.json``), and in
   every item of the config's ``calibration_sources`` (labelled sets with real manipulations, or real
   videos a detector never trained on);
2. a temperature (with bias) fitted on them, each class weighing the same;
3. each dev video scored with that calibration through the pipeline's own tracks and aggregation
   (:func:`detector.pipeline.decide`); the threshold is the lowest one, and at least 0.5, at which at most
   5 % of those real videos are flagged; the band is half the way from the dev reals' median score to the
   threshold, within [0.05, 0.2]: a real video that scores like the typical dev real is called authentic.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from detector import checkpoints
from detector.calibration import Calibration, fit_isotonic, fit_temperature
from detector.ensemble import Ensemble
from detector.faces import Face, FaceFinder
from detector.media import DEFAULT_FRAMES, MediaError
from detector.pipeline import ScoredFaces, decide
from detector.registry import Detector, create, resolve_device
from detector.training.config import DEV_ITEM_THRESHOLD_RULES, TrainConfig
from detector.training.data import FaceCache, MediaItem, add_split_part, media_kind, read_split, scan_source
from detector.training.evaluate import faces_of
from detector.training.metrics import binary_metrics, threshold_at_fpr

Log = Callable[[str], None]
DEV_VIDEO_MAX_FPR = 0.05
BAND_RANGE = (0.05, 0.2)


@dataclasses.dataclass
class DevFaces:
    item: MediaItem
    faces_per_frame: list[list[Face]]
    logits: np.ndarray  # per face, reading order


def _dev_items(split_path: Path) -> list[MediaItem]:
    rows = read_split(split_path)["dev"]
    return [
        MediaItem(Path(r["path"]), int(r["label"]), r["group"], r.get("kind") or media_kind(Path(r["path"])) or "image")
        for r in rows
    ]


def _faces_with_logits(
    items: list[MediaItem], detector: Detector, face_finder: FaceFinder, cache: FaceCache, log: Log
) -> list[DevFaces]:
    margin = detector.config.crop_margin
    out = []
    for item in items:
        try:
            faces_per_frame = faces_of(item, face_finder, margin, DEFAULT_FRAMES, cache)
        except MediaError as exc:
            log(f"calibration: {item.path.name} skipped ({exc.code})")
            continue
        crops = [f.crop for per in faces_per_frame for f in per]
        if crops:
            out.append(DevFaces(item, faces_per_frame, detector.raw_logits(crops, source_margin=margin)))
    return out


def video_scores(faces: list[DevFaces], detector: Detector, calibration: Calibration) -> np.ndarray:
    """Each item's verdict score with ``calibration``, through the pipeline's own tracks and aggregation."""
    calibrated = dataclasses.replace(detector, calibration=calibration)
    ensemble = Ensemble([calibrated])
    policy = ensemble.verdict_policy()
    scores = []
    for dev in faces:
        flat = [f for per in dev.faces_per_frame for f in per]
        probs = calibration.apply_logits(dev.logits)
        scored = ScoredFaces(flat, {detector.name: probs}, probs, {})
        scores.append(decide(scored, ensemble, policy, single_image=dev.item.kind == "image")["score"])
    return np.asarray(scores, dtype=np.float64)


def choose_band(threshold: float, real_scores: np.ndarray) -> float:
    if not len(real_scores):
        return BAND_RANGE[0]
    return float(np.clip((threshold - float(np.median(real_scores))) / 2.0, *BAND_RANGE))


def needs_dev_calibration(config: TrainConfig) -> bool:
    return bool(
        config.threshold in DEV_ITEM_THRESHOLD_RULES
        or config.calibration_sources
        or config.uncertainty_band is not None
    )


def calibrate_checkpoint(
    checkpoint: str | Path, config: TrainConfig, split_path: str | Path, log: Log = print
) -> dict[str, Any]:
    """Refit the checkpoint's calibration, threshold and band on dev (see the module docstring); rewrite it."""
    checkpoint = Path(checkpoint)
    loaded = checkpoints.load(checkpoint)
    device = resolve_device(config.optim.device)
    detector = create(config.detector, checkpoint=checkpoint, device=device)
    margin = detector.config.crop_margin
    # Cut as the evaluation cuts them (its default crop size), so dev and test crops are alike.
    cache = FaceCache(
        config.resolve(config.data.cache_dir) if config.data.cache_dir else None,
        frames_per_video=DEFAULT_FRAMES,
        margin=margin,
    )
    face_finder = FaceFinder(device=device)
    dev = _faces_with_logits(_dev_items(Path(split_path)), detector, face_finder, cache, log)
    extra_items: list[MediaItem] = []
    for source in config.calibration_sources:
        extra_items += scan_source(source, config.resolve)
    extra = _faces_with_logits(extra_items, detector, face_finder, cache, log)
    logits = np.concatenate([d.logits for d in dev + extra])
    labels = np.concatenate([np.full(len(d.logits), d.item.label) for d in dev + extra])
    # Each class weighs the same: dev reals outnumber the labelled fakes, and the deployed prior is unknown.
    weights = np.where(labels == 1, 0.5 / max(1, (labels == 1).sum()), 0.5 / max(1, (labels == 0).sum()))
    if len(np.unique(labels)) < 2 or config.calibration == "identity":
        calibration = Calibration.identity()
    elif config.calibration == "isotonic":
        calibration = fit_isotonic(logits, labels)
    else:
        calibration = fit_temperature(logits, labels, weights=weights)

    # Every real video (or, for fpr_5pct_dev_photos, image) the fit saw (the dev part's and the calibration
    # sources'), never a training one.
    real_kind = DEV_ITEM_THRESHOLD_RULES.get(str(config.threshold), "video")
    real_videos = [d for d in dev + extra if d.item.kind == real_kind and d.item.label == 0]
    real_scores = video_scores(real_videos, detector, calibration)
    if isinstance(config.threshold, int | float):
        threshold = float(config.threshold)
    elif config.threshold in DEV_ITEM_THRESHOLD_RULES and len(real_scores):
        threshold = max(0.5, threshold_at_fpr(np.zeros(len(real_scores)), real_scores, DEV_VIDEO_MAX_FPR))
    else:
        threshold = loaded.threshold
    band = config.uncertainty_band
    if band == "dev":
        band = choose_band(threshold, real_scores)
    elif band is None:
        band = loaded.uncertainty_band

    frame = binary_metrics(labels, calibration.apply_logits(logits), threshold)
    before = binary_metrics(labels, detector.calibration.apply_logits(logits), threshold)
    report = {
        "calibration": calibration.to_dict(),
        "threshold": threshold,
        "uncertainty_band": band,
        "threshold_rule": config.threshold,
        "dev_real_videos": {
            Path(d.item.path).name: round(float(s), 4) for d, s in zip(real_videos, real_scores, strict=True)
        },
        "dev_real_video_fpr": float((real_scores >= threshold).mean()) if len(real_scores) else None,
        "frames": {"n_real": frame["n_real"], "n_fake": frame["n_fake"], "auc_roc": frame["auc_roc"]},
        "frame_ece_before": before["ece"],
        "frame_ece_after": frame["ece"],
        "frame_log_loss_after": frame["log_loss"],
        "calibration_sources": [s.path for s in config.calibration_sources],
    }
    # The split names what tuned the checkpoint too, so an evaluation leaves it out like the training data.
    add_split_part(split_path, "calibration", extra_items)
    metrics = {**loaded.metrics, "calibration_dev": report}
    checkpoints.save(
        checkpoint,
        config=loaded.config,
        state_dict=loaded.state_dict,
        calibration=calibration.to_dict(),
        threshold=threshold,
        metrics=metrics,
        uncertainty_band=band,
    )
    log(
        f"calibrated {checkpoint.name}: {calibration.to_dict()}, threshold {threshold:.3f}, band {band}, "
        f"dev real videos flagged {report['dev_real_video_fpr']}, frame AUC (dev + calibration sets) "
        f"{frame['auc_roc']}, frame ECE {before['ece']:.3f} -> {frame['ece']:.3f}"
    )
    return report
