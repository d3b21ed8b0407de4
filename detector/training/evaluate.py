"""The evaluation behind ``python -m detector evaluate``: frame- and video-level metrics, plots, reports.

Every item of ``DATA_DIR/real`` and ``DATA_DIR/fake`` goes through the pipeline's own stages
(:func:`detector.pipeline.detect_faces`, :func:`~detector.pipeline.score_faces` and
:func:`~detector.pipeline.decide`), so an evaluated score is exactly the score a job would give:
the same frames, face crops, calibration, tracks and aggregation. Folders of ready face crops
(``face_mode="as_is"``) skip the face finder and are scored as one face each. Metrics are
reported per detector, for the ensemble (the mean of ``ensemble_of``) and per source.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from detector import aggregate
from detector.contract import VerdictLabel
from detector.ensemble import Ensemble, load_ensemble
from detector.faces import Face, FaceFinder, box_size_px
from detector.media import DEFAULT_FRAMES, MediaError, read_media
from detector.pipeline import DEFAULT_CROP_MARGIN, ScoredFaces, decide, detect_faces, score_faces
from detector.tracking import assign_tracks
from detector.training.data import FaceCache, MediaItem, scan_labelled_dir, split_hashes_and_groups
from detector.training.metrics import binary_metrics, reliability_curve

Log = Callable[[str], None]
ENSEMBLE = "ensemble"
MAX_MISCLASSIFIED_FRAMES = 50


@dataclass
class ItemScores:
    item: MediaItem
    frame_indices: np.ndarray
    face_px: float  # median face size in frame pixels (longer box side): small faces are a known weakness
    probs: dict[str, np.ndarray]  # calibrated per face, per detector and "ensemble"
    video: dict[str, float | None] = field(default_factory=dict)
    label: str = ""  # the ensemble's verdict label (manipulated / inconclusive / authentic)


def source_of(path: str | Path) -> str:
    """The data source an evaluated file comes from: its name's first token (``celebdf_id0_...`` → celebdf)."""
    return re.split(r"[_\-.]", Path(path).stem, maxsplit=1)[0] or Path(path).stem


# Manipulation families of the labelled clips (file-name prefixes, ../shared/data/MANIFEST.tsv): each family's
# fakes are ranked against the originals of the same data set where it has them (FaceForensics++ methods against
# the FF++ originals), else against every real test video.
FAMILIES: tuple[tuple[str, str, str | None], ...] = (
    ("FF++ Deepfakes", "ffpp_c23_df_", "ffpp"),
    ("FF++ Face2Face", "ffpp_c23_f2f_", "ffpp"),
    ("FF++ FaceSwap", "ffpp_c23_fs_", "ffpp"),
    ("Celeb-DF", "celebdf_", "celebdf"),
    ("DFDC", "dfdc_", "dfdc"),
    ("DeeperForensics", "deeperforensics_", "deeperforensics"),
    ("GenConViT samples", "genconvit_", None),
    ("SadTalker talking heads", "sadtalker_", None),
)


def family_metrics(report: dict[str, Any], name: str = ENSEMBLE) -> dict[str, dict[str, Any]]:
    """Video AUC (with its interval), FPR and TPR of ``name`` per manipulation family, and over all items.

    Read off a report's ``per_item`` rows, at the threshold the report used for ``name``.
    """
    rows = report["per_item"]
    threshold = report["metrics"]["video"][name]["threshold"]
    reals = [r for r in rows if not r["label"]]

    def metrics(chosen: list[dict[str, Any]], against: str) -> dict[str, Any]:
        labels = np.array([r["label"] for r in chosen])
        scores = np.array([r["video_scores"][name] for r in chosen], dtype=np.float64)
        m = binary_metrics(labels, scores, threshold, interval=True)
        return {
            **{k: m.get(k) for k in ("n_real", "n_fake", "auc_roc", "auc_roc_ci95", "fpr", "tpr")},
            "against": against,
        }

    out: dict[str, dict[str, Any]] = {}
    for family, prefix, real_source in FAMILIES:
        fakes = [r for r in rows if r["label"] and Path(r["path"]).name.startswith(prefix)]
        if not fakes:
            continue
        own = [r for r in reals if real_source and source_of(r["path"]) == real_source]
        against = f"{real_source} originals" if own else "every real test video"
        out[family] = metrics(fakes + (own or reals), against)
    out["all"] = metrics(rows, "every real test video")
    return out


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


def faces_of(
    item: MediaItem, face_finder: FaceFinder, margin: float, frames: int, cache: FaceCache
) -> list[list[Face]]:
    """The item's faces with track ids, found as a job finds them (or one ready crop per as_is image)."""
    if item.face_mode == "as_is":
        crops = cache.faces(item)
        faces_per_frame = [
            [Face(int(crops.frame_indices[n]), tuple(float(v) for v in crops.frame_boxes[n]), 1.0, crops.crops[n])]
            for n in range(len(crops))
        ]
        assign_tracks(faces_per_frame)
        return faces_per_frame
    _, sampled, _ = read_media(item.path, samples=frames, kind=item.kind)
    return detect_faces(sampled, face_finder, margin)[0]


def score_item(
    item: MediaItem,
    faces_per_frame: list[list[Face]],
    ensemble: Ensemble,
    voters: Ensemble,
    margin: float,
    policy: aggregate.VerdictPolicy,
) -> ItemScores | None:
    """Score one item's faces with every detector, and decide it per detector and for the voters' ensemble."""
    single_image = item.kind == "image"
    scored = score_faces(faces_per_frame, ensemble, margin, policy, single_image)
    if not scored.faces:
        return None
    per_detector = decide(scored, ensemble, policy, single_image)["per_detector"]
    mean = np.mean([scored.per_detector[name] for name in voters.names], axis=0)
    voting = ScoredFaces(scored.faces, {n: scored.per_detector[n] for n in voters.names}, mean, {})
    verdict = decide(voting, voters, policy, single_image)
    probs = {**scored.per_detector, ENSEMBLE: mean}
    video = {name: per_detector.get(name) for name in scored.per_detector} | {ENSEMBLE: verdict["score"]}
    return ItemScores(
        item,
        np.array([f.frame_index for f in scored.faces]),
        float(np.median([box_size_px(f.box) for f in scored.faces])),
        probs,
        video,
        verdict["label"],
    )


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


def per_source_table(report: dict[str, Any]) -> list[str]:
    """The report's per-source ensemble metrics as Markdown table lines."""
    lines = [
        "| source | real | fake | video AUC | FPR | TPR | authentic / inconclusive / manipulated |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for source, m in report["per_source"].items():
        verdicts = " / ".join(str(v) for v in m["verdicts"].values())
        lines.append(
            f"| {source} | {m['n_real']} | {m['n_fake']} | {_fmt(m['auc_roc'])} | {_fmt(m['fpr'])} "
            f"| {_fmt(m['tpr'])} | {verdicts} |"
        )
    return lines


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
    lines += ["## Per source (ensemble, video level)", "", *per_source_table(report)]
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
    device: str | None = None,
    log: Log = print,
) -> dict[str, Any]:
    """Evaluate ``detectors`` (default: the shipped ensemble) on ``data_dir``; write reports to ``out_dir``.

    The "ensemble" row averages ``ensemble_of`` (default: every detector evaluated) and decides with
    their verdict policy, so detectors shipped outside the default ensemble can be reported beside it
    without joining it.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    loaded = load_ensemble(list(detectors) if detectors else None, device=device, checkpoints=checkpoints_by_name)
    members = [d for d in loaded.detectors if d.config.input_kind == "frame"]
    if not members:
        raise ValueError("no frame-level detector to evaluate")
    ensemble = Ensemble(members)
    untrained = [d.name for d in members if not d.trained]
    if untrained:
        log(f"warning: without trained weights (random scores): {', '.join(untrained)}")
    voters = Ensemble([d for d in members if ensemble_of is None or d.name in ensemble_of])
    if not voters.detectors:
        raise ValueError(f"no evaluated frame detector is in the ensemble {list(ensemble_of or [])}")
    policy = voters.verdict_policy()
    threshold = policy.threshold
    # As the pipeline does: cut faces once with the widest margin; each detector narrows them to its own.
    margin = ensemble.crop_margin or DEFAULT_CROP_MARGIN
    cache = FaceCache(frames_per_video=frames_per_video, margin=margin)
    face_finder = FaceFinder(device=members[0].device)
    items = select_items(scan_labelled_dir(data_dir, face_mode=face_mode, group_pattern=group_pattern), holdout_of, log)

    scored: list[ItemScores] = []
    no_faces: list[str] = []
    for n, item in enumerate(items, 1):
        try:
            faces_per_frame = faces_of(item, face_finder, margin, frames_per_video, cache)
        except MediaError as exc:
            log(f"{item.path.name}: {exc.code}: {exc.message}")
            faces_per_frame = []
        row = score_item(item, faces_per_frame, ensemble, voters, margin, policy)
        if row is None:
            no_faces.append(str(item.path))
        else:
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
    video_scores = {name: np.array([s.video[name] for s in scored], dtype=np.float64) for name in names}
    metrics = {
        "frame": {name: binary_metrics(frame_labels, frame_scores[name], thresholds[name]) for name in names},
        "video": {
            name: binary_metrics(video_labels, video_scores[name], thresholds[name], interval=True) for name in names
        },
    }
    per_source: dict[str, dict[str, Any]] = {}
    for source in sorted({source_of(s.item.path) for s in scored}):
        rows = [s for s in scored if source_of(s.item.path) == source]
        labels = np.array([s.item.label for s in rows])
        m = binary_metrics(labels, np.array([s.video[ENSEMBLE] for s in rows], dtype=np.float64), threshold)
        per_source[source] = {
            **{k: m[k] for k in ("n_real", "n_fake", "auc_roc", "fpr", "tpr")},
            "verdicts": {
                label: sum(1 for s in rows if s.label == label)
                for label in (VerdictLabel.AUTHENTIC, VerdictLabel.INCONCLUSIVE, VerdictLabel.MANIPULATED)
            },
        }

    misclassified_video = [
        {"path": str(s.item.path), "label": int(s.item.label), "score": float(s.video[ENSEMBLE])}
        for s in scored
        if int(s.video[ENSEMBLE] >= threshold) != s.item.label
    ]
    wrong_frames = []
    for s in scored:
        for k, p in enumerate(s.probs[ENSEMBLE]):
            if int(p >= threshold) != s.item.label:
                wrong_frames.append(
                    {
                        "path": str(s.item.path),
                        "frame_index": int(s.frame_indices[k]),
                        "label": s.item.label,
                        "score": float(p),
                        "error": abs(float(p) - s.item.label),
                    }
                )
    wrong_frames.sort(key=lambda r: -r["error"])
    plots = _plots(out_dir, "video", video_labels, video_scores, metrics["video"])
    plots += _plots(out_dir, "frame", frame_labels, frame_scores, metrics["frame"])
    report = {
        "data_dir": str(data_dir),
        "detectors": [d.name for d in members],
        "ensemble_of": voters.names,
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
        "per_source": per_source,
        "misclassified": {
            "video": misclassified_video,
            "frame": wrong_frames[:MAX_MISCLASSIFIED_FRAMES],
            "frame_total": len(wrong_frames),
        },
        "per_item": [
            {
                "path": str(s.item.path),
                "label": s.item.label,
                "source": source_of(s.item.path),
                "faces": len(s.frame_indices),
                "median_face_px": round(s.face_px, 1),
                "verdict": s.label,
                "video_scores": {k: None if v is None else round(float(v), 6) for k, v in s.video.items()},
            }
            for s in scored
        ],
        "plots": plots,
    }
    (out_dir / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    (out_dir / "report.md").write_text(markdown_report(report))
    return report
