"""The evaluation behind ``python -m detector evaluate``: frame- and video-level metrics, plots, reports.

Every face crop of every item in ``DATA_DIR/real`` and ``DATA_DIR/fake`` is scored by each
detector (with its checkpoint's calibration) and by their ensemble (the mean, as
:class:`detector.ensemble.Ensemble` does); video scores come from the same tracking and
aggregation as :func:`detector.pipeline.analyze`. A temperature calibration is also fitted on
the frame logits and reported; ``save_calibration`` writes it into each checkpoint. Fit it on a
dev set, not on the set you report: in-sample calibration flatters ECE.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from detector import aggregate, checkpoints
from detector.calibration import Calibration, fit_temperature
from detector.ensemble import load_ensemble
from detector.faces import Face, box_size_px
from detector.media import DEFAULT_FRAMES
from detector.tracking import assign_tracks
from detector.training.data import FaceCache, FaceCrops, MediaItem, scan_labelled_dir, split_hashes_and_groups
from detector.training.metrics import binary_metrics, reliability_curve

Log = Callable[[str], None]
ENSEMBLE = "ensemble"
MAX_MISCLASSIFIED_FRAMES = 50


@dataclass
class ItemScores:
    item: MediaItem
    frame_indices: np.ndarray
    face_px: float  # median face size in frame pixels (longer box side): small faces are a known weakness
    logits: dict[str, np.ndarray]  # raw, per detector
    probs: dict[str, np.ndarray]  # calibrated, per detector and "ensemble"
    video: dict[str, float | None] = field(default_factory=dict)


def video_score(crops: FaceCrops, probs: np.ndarray, policy: aggregate.VerdictPolicy, single_image: bool) -> float:
    """Track the faces by box, aggregate per track and pick the deciding track, as the pipeline does."""
    by_frame: dict[int, list[Face]] = {}
    for n in range(len(crops)):
        index = int(crops.frame_indices[n])
        face = Face(index, tuple(float(v) for v in crops.frame_boxes[n]), float(crops.probabilities[n]), crops.crops[n])
        face.flags.append(str(n))  # remembers which score belongs to the face
        by_frame.setdefault(index, []).append(face)
    faces_per_frame = [by_frame[i] for i in sorted(by_frame)]
    assign_tracks(faces_per_frame)
    items: dict[int, list[tuple[int, float]]] = {}
    for per_frame in faces_per_frame:
        for face in per_frame:
            items.setdefault(face.track_id, []).append((face.frame_index, float(probs[int(face.flags[-1])])))
    tracks = aggregate.aggregate_tracks(items, policy)
    return float(aggregate.aggregate_video_score(tracks, policy, single_image=single_image)["score"])


def select_items(items: list[MediaItem], holdout_of: Sequence[str | Path], log: Log) -> list[MediaItem]:
    """Leave out every file (by sha256) and group that a training split used."""
    if not holdout_of:
        return items
    from detector.checkpoints import file_sha256

    hashes: set[str] = set()
    groups: set[str] = set()
    for split in holdout_of:
        h, g = split_hashes_and_groups(split)
        hashes |= h
        groups |= g
    kept = [i for i in items if i.group not in groups and file_sha256(i.path) not in hashes]
    log(f"holdout: {len(items) - len(kept)} of {len(items)} items were used in training and are left out")
    return kept


def _plots(out_dir: Path, level: str, labels: np.ndarray, scores: dict[str, np.ndarray], metrics: dict) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve, roc_curve

    written = []
    if len(np.unique(labels)) == 2:
        fig, ax = plt.subplots(figsize=(5, 5))
        for name, probs in scores.items():
            fpr, tpr, _ = roc_curve(labels, probs)
            ax.plot(fpr, tpr, label=f"{name} (AUC {metrics[name]['auc_roc']:.3f})", lw=2 if name == ENSEMBLE else 1)
        ax.plot([0, 1], [0, 1], "k:", lw=0.8)
        ax.set(xlabel="false-positive rate", ylabel="true-positive rate", title=f"ROC, {level} level")
        ax.legend(loc="lower right", fontsize=8)
        fig.savefig(out_dir / f"roc_{level}.png", dpi=100, bbox_inches="tight")
        plt.close(fig)
        fig, ax = plt.subplots(figsize=(5, 5))
        for name, probs in scores.items():
            precision, recall, _ = precision_recall_curve(labels, probs)
            ax.plot(recall, precision, label=f"{name} (AP {metrics[name]['pr_auc']:.3f})")
        ax.set(xlabel="recall", ylabel="precision", title=f"precision-recall, {level} level")
        ax.legend(loc="lower left", fontsize=8)
        fig.savefig(out_dir / f"pr_{level}.png", dpi=100, bbox_inches="tight")
        plt.close(fig)
        written += [f"roc_{level}.png", f"pr_{level}.png"]
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, probs in scores.items():
        curve = reliability_curve(labels, probs)
        ax.plot(curve["confidence"], curve["accuracy"], "o-", ms=3, label=f"{name} (ECE {metrics[name]['ece']:.3f})")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="predicted P(manipulated)", ylabel="observed share manipulated", title=f"reliability, {level}")
    ax.legend(loc="upper left", fontsize=8)
    fig.savefig(out_dir / f"reliability_{level}.png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    confusion = metrics[ENSEMBLE]["confusion"]
    matrix = np.array([[confusion["tn"], confusion["fp"]], [confusion["fn"], confusion["tp"]]])
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(matrix, cmap="Blues")
    for (r, c), value in np.ndenumerate(matrix):
        ax.text(c, r, str(value), ha="center", va="center", fontsize=14)
    ax.set(
        xticks=[0, 1],
        yticks=[0, 1],
        xticklabels=["authentic", "manipulated"],
        yticklabels=["real", "fake"],
        xlabel="predicted",
        ylabel="truth",
        title=f"ensemble at {metrics[ENSEMBLE]['threshold']:.3f}, {level}",
    )
    fig.savefig(out_dir / f"confusion_{level}.png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return [*written, f"reliability_{level}.png", f"confusion_{level}.png"]


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def markdown_report(report: dict[str, Any]) -> str:
    lines = [
        f"# Evaluation of {', '.join(report['detectors'])} on `{report['data_dir']}`",
        "",
        f"{report['items']} items ({report['items_real']} real, {report['items_fake']} fake), "
        f"{report['frames']} face crops; {len(report['no_faces'])} items without a face are left out.",
        "",
    ]
    for level in ("video", "frame"):
        lines += [
            f"## {level.capitalize()} level",
            "",
            "| detector | n | AUC-ROC | PR-AUC | accuracy | log loss | ECE | threshold | FPR | TPR "
            "| best-F1 threshold | threshold @1% FPR |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for name, m in report["metrics"][level].items():
            lines.append(
                f"| {name} | {m['n']} | {_fmt(m['auc_roc'])} | {_fmt(m['pr_auc'])} | {_fmt(m['accuracy'])} "
                f"| {_fmt(m['log_loss'])} | {_fmt(m['ece'])} | {_fmt(m['threshold'])} | {_fmt(m['fpr'])} "
                f"| {_fmt(m['tpr'])} | {_fmt(m.get('best_f1_threshold'))} | {_fmt(m.get('threshold_at_1pct_fpr'))} |"
            )
        confusion = report["metrics"][level][ENSEMBLE]["confusion"]
        lines += ["", f"Ensemble confusion at its threshold: {confusion}.", ""]
    lines += ["## Calibration fitted on this data (in-sample: use it only when this is a dev set)", ""]
    for name, fitted in report["fitted_calibration"].items():
        lines.append(f"- {name}: {fitted['calibration']}, frame ECE after {_fmt(fitted['frame_ece_after'])}")
    lines += ["", "## Misclassified items (ensemble, video level)", ""]
    for row in report["misclassified"]["video"] or [{"path": "none"}]:
        lines.append(
            f"- {row['path']}" + (f": label {row['label']}, score {row['score']:.3f}" if "score" in row else "")
        )
    lines += ["", "Plots: " + ", ".join(f"[{p}]({p})" for p in report["plots"]), ""]
    return "\n".join(lines)


def evaluate(
    data_dir: str | Path,
    detectors: Sequence[str] | None,
    out_dir: str | Path,
    *,
    checkpoints_by_name: dict[str, str | Path] | None = None,
    face_mode: str = "detect",
    group_pattern: str | None = None,
    frames_per_video: int = DEFAULT_FRAMES,
    holdout_of: Sequence[str | Path] = (),
    ensemble_of: Sequence[str] | None = None,
    save_calibration: bool = False,
    device: str | None = None,
    cache: FaceCache | None = None,
    log: Log = print,
) -> dict[str, Any]:
    """Evaluate ``detectors`` (default: the shipped ensemble) on ``data_dir``; write reports to ``out_dir``.

    The "ensemble" row averages ``ensemble_of`` (default: every detector evaluated), so detectors
    shipped outside the default ensemble can be reported beside it without joining it.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ensemble = load_ensemble(list(detectors) if detectors else None, device=device, checkpoints=checkpoints_by_name)
    members = [d for d in ensemble.detectors if d.config.input_kind == "frame"]
    if not members:
        raise ValueError("no frame-level detector to evaluate")
    untrained = [d.name for d in members if not d.trained]
    if untrained:
        log(f"warning: without trained weights (random scores): {', '.join(untrained)}")
    voters = [d for d in members if ensemble_of is None or d.name in ensemble_of]
    if not voters:
        raise ValueError(f"no evaluated frame detector is in the ensemble {list(ensemble_of or [])}")
    threshold = float(np.mean([d.threshold for d in voters]))
    policy = aggregate.VerdictPolicy(threshold=threshold)
    # As the pipeline does: cut faces once with the widest margin; each detector narrows them to its own.
    widest = max(d.config.crop_margin for d in members)
    cache = cache or FaceCache(frames_per_video=frames_per_video, margin=widest)
    items = select_items(scan_labelled_dir(data_dir, face_mode=face_mode, group_pattern=group_pattern), holdout_of, log)

    scored: list[ItemScores] = []
    no_faces: list[str] = []
    for n, item in enumerate(items, 1):
        crops = cache.faces(item)
        if not len(crops):
            no_faces.append(str(item.path))
            continue
        logits, probs = {}, {}
        for d in members:
            raw = np.concatenate(
                [
                    d.logits(d.preprocess(list(crops.crops[s : s + 64]), source_margin=cache.margin)).numpy()
                    for s in range(0, len(crops), 64)
                ]
            ).astype(np.float64)
            logits[d.name] = raw
            probs[d.name] = d.calibration.apply_logits(raw)
        probs[ENSEMBLE] = np.mean([probs[d.name] for d in voters], axis=0)
        face_px = float(np.median([box_size_px(box) for box in crops.frame_boxes]))
        row = ItemScores(item, crops.frame_indices, face_px, logits, probs)
        for name, p in probs.items():
            row.video[name] = video_score(crops, p, policy, single_image=item.kind == "image")
        scored.append(row)
        if n % 25 == 0:
            log(f"scored {n}/{len(items)} items")
    if not scored:
        raise ValueError(f"{data_dir}: no face found in any item")

    names = [d.name for d in members] + [ENSEMBLE]
    thresholds = {d.name: d.threshold for d in members} | {ENSEMBLE: threshold}
    frame_labels = np.concatenate([np.full(len(s.frame_indices), s.item.label) for s in scored])
    frame_scores = {name: np.concatenate([s.probs[name] for s in scored]) for name in names}
    video_labels = np.array([s.item.label for s in scored])
    video_scores = {name: np.array([s.video[name] for s in scored]) for name in names}
    metrics = {
        "frame": {name: binary_metrics(frame_labels, frame_scores[name], thresholds[name]) for name in names},
        "video": {name: binary_metrics(video_labels, video_scores[name], thresholds[name]) for name in names},
    }

    fitted: dict[str, Any] = {}
    for d in members:
        raw = np.concatenate([s.logits[d.name] for s in scored])
        calibration = fit_temperature(raw, frame_labels) if len(np.unique(frame_labels)) == 2 else d.calibration
        after = binary_metrics(frame_labels, calibration.apply_logits(raw), d.threshold)["ece"]
        fitted[d.name] = {"calibration": calibration.to_dict(), "frame_ece_after": after, "saved_to": None}
        if save_calibration and d.checkpoint_path:
            fitted[d.name]["saved_to"] = save_calibration_into(d.checkpoint_path, calibration, data_dir)
            log(f"saved calibration {calibration.to_dict()} into {d.checkpoint_path}")

    misclassified_video = [
        {"path": str(s.item.path), "label": int(s.item.label), "score": float(s.video[ENSEMBLE])}
        for s in scored
        if int(s.video[ENSEMBLE] >= threshold) != s.item.label
    ]
    wrong_frames = []
    for s in scored:
        for k, p in enumerate(s.probs[ENSEMBLE]):
            if int(p >= threshold) != s.item.label:
                error = abs(float(p) - s.item.label)
                wrong_frames.append(
                    {
                        "path": str(s.item.path),
                        "frame_index": int(s.frame_indices[k]),
                        "label": s.item.label,
                        "score": float(p),
                        "error": error,
                    }
                )
    wrong_frames.sort(key=lambda r: -r["error"])
    plots = _plots(out_dir, "video", video_labels, video_scores, metrics["video"])
    plots += _plots(out_dir, "frame", frame_labels, frame_scores, metrics["frame"])
    report = {
        "data_dir": str(data_dir),
        "detectors": [d.name for d in members],
        "ensemble_of": [d.name for d in voters],
        "checkpoints": {d.name: d.describe() for d in members},
        "untrained": untrained,
        "items": len(scored),
        "items_real": int((video_labels == 0).sum()),
        "items_fake": int((video_labels == 1).sum()),
        "frames": len(frame_labels),
        "frames_per_video": frames_per_video,
        "no_faces": no_faces,
        "aggregation": policy.to_dict(),
        "metrics": metrics,
        "fitted_calibration": fitted,
        "misclassified": {
            "video": misclassified_video,
            "frame": wrong_frames[:MAX_MISCLASSIFIED_FRAMES],
            "frame_total": len(wrong_frames),
        },
        "per_item": [
            {
                "path": str(s.item.path),
                "label": s.item.label,
                "faces": len(s.frame_indices),
                "median_face_px": round(s.face_px, 1),
                "video_scores": {k: round(float(v), 6) for k, v in s.video.items()},
            }
            for s in scored
        ],
        "plots": plots,
    }
    (out_dir / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    (out_dir / "report.md").write_text(markdown_report(report))
    return report


def save_calibration_into(checkpoint_path: str | Path, calibration: Calibration, fitted_on: str | Path) -> str:
    """Rewrite a checkpoint with a new calibration (its sha256 side file is rewritten too)."""
    loaded = checkpoints.load(checkpoint_path)
    metrics = {**loaded.metrics, "calibration_fitted_on": str(fitted_on)}
    return checkpoints.save(
        checkpoint_path,
        config=loaded.config,
        state_dict=loaded.state_dict,
        calibration=calibration.to_dict(),
        threshold=loaded.threshold,
        metrics=metrics,
    )
