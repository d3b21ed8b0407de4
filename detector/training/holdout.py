"""Held-apart evaluation of an image detector: its split's ``test`` part, re-encoded and resized, scored as a job.

A detector of generated faces can learn the file format or the resolution of its two classes instead of
the faces (faces140k's reals and fakes are both 256 px JPEGs, but another set's need not be). So every
test image is scored in several *variants* of itself, each written to a file and put through the
pipeline's own stages (face finder, crop, resize, calibrated score, image verdict), and the AUC is
reported per variant:

- format: the JPEG as distributed, a lossless PNG of its pixels, JPEG re-encoded at quality 95, 75, 50;
- resolution: the whole image resized to 128, 256 and 512 px on its longer side, saved as PNG
  (so only the resolution changes).

Real photographs (``images/real``) are scored too: the share labelled manipulated at each detector's
threshold is its false-positive rate on photos it never trained on.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from detector.checkpoints import file_sha256
from detector.ensemble import Ensemble, load_ensemble
from detector.faces import FaceFinder
from detector.media import DEFAULT_FRAMES, MediaError
from detector.pipeline import DEFAULT_CROP_MARGIN, decide, score_faces
from detector.training.data import FaceCache, MediaItem, media_kind, read_split, split_hashes_and_groups
from detector.training.evaluate import faces_of
from detector.training.metrics import binary_metrics

Log = Callable[[str], None]


@dataclass(frozen=True)
class Variant:
    """One way of re-saving a test image: an optional resize (longer side, px), then a format."""

    name: str
    group: str  # "format" or "resolution": which table of the report it belongs to
    extension: str  # ".jpg" (re-encoded), ".png" (lossless) or "" (the file as it is)
    jpeg_quality: int | None = None
    long_side_px: int | None = None

    def write(self, source: Path, folder: Path) -> Path:
        """The variant of ``source`` as a file in ``folder`` (``source`` itself for the as-is variant)."""
        if not self.extension:
            return source
        bgr = cv2.imread(str(source), cv2.IMREAD_COLOR)
        if bgr is None:
            raise MediaError("unreadable", f"{source.name}: OpenCV cannot decode it")
        if self.long_side_px:
            height, width = bgr.shape[:2]
            scale = self.long_side_px / max(height, width)
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        target = folder / f"{source.stem}.{self.name}{self.extension}"
        params = [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality] if self.jpeg_quality else []
        if not cv2.imwrite(str(target), bgr, params):
            raise MediaError("unwritable", f"{target}: OpenCV could not write it")
        return target


VARIANTS = (
    Variant("as_distributed", "format", ""),
    Variant("png", "format", ".png"),
    Variant("jpeg_q95", "format", ".jpg", jpeg_quality=95),
    Variant("jpeg_q75", "format", ".jpg", jpeg_quality=75),
    Variant("jpeg_q50", "format", ".jpg", jpeg_quality=50),
    Variant("px128", "resolution", ".png", long_side_px=128),
    Variant("px256", "resolution", ".png", long_side_px=256),
    Variant("px512", "resolution", ".png", long_side_px=512),
)


def test_items(split_path: str | Path) -> list[MediaItem]:
    """The ``test`` part of a written split (seeded, never trained or tuned on)."""
    rows = read_split(split_path).get("test") or []
    if not rows:
        raise ValueError(f"{split_path}: no 'test' part (set data.test_share in the training config)")
    return [MediaItem(Path(r["path"]), int(r["label"]), r["group"], r.get("kind") or "image") for r in rows]


def item_scores(path: Path, ensemble: Ensemble, face_finder: FaceFinder, margin: float) -> dict[str, float] | None:
    """Each detector's image verdict score for one file, as a job scores it; None when no face is found."""
    item = MediaItem(path, 0, path.stem, media_kind(path) or "image")
    policy = ensemble.verdict_policy()
    faces_per_frame = faces_of(item, face_finder, margin, DEFAULT_FRAMES, FaceCache(margin=margin))
    scored = score_faces(faces_per_frame, ensemble, margin, policy, True)
    if not scored.faces:
        return None
    return {k: float(v) for k, v in decide(scored, ensemble, policy, True)["per_detector"].items()}


def _metrics(
    rows: list[tuple[MediaItem, dict[str, float]]], thresholds: dict[str, float], seen: dict[str, set[str]]
) -> dict[str, Any]:
    """Per detector, on the rows whose file (by sha256) that detector never trained or tuned on."""
    out = {}
    hashes = [file_sha256(item.path) for item, _ in rows]
    for name, threshold in thresholds.items():
        kept = [row for row, sha in zip(rows, hashes, strict=True) if sha not in seen.get(name, set())]
        y = np.array([item.label for item, _ in kept])
        m = binary_metrics(y, np.array([s[name] for _, s in kept], dtype=np.float64), threshold, interval=True)
        out[name] = {k: m[k] for k in ("n_real", "n_fake", "auc_roc", "auc_roc_ci95", "fpr", "tpr", "log_loss")}
    return out


def evaluate_holdout(
    split_path: str | Path,
    detectors: Sequence[str],
    out_dir: str | Path,
    *,
    real_photos: str | Path | None = None,
    real_photo_parts: dict[str, Sequence[str]] | None = None,
    variants: Sequence[Variant] = VARIANTS,
    checkpoints_by_name: dict[str, str | Path] | None = None,
    seen_by: dict[str, Sequence[str | Path]] | None = None,
    unseen_generators: dict[str, Sequence[Path]] | None = None,
    device: str | None = None,
    log: Log = print,
) -> dict[str, Any]:
    """AUC per variant on the split's test part, and FPR on ``real_photos``, per detector; writes report.json.

    ``real_photo_parts`` names subsets of the real photos by file name (e.g. the calibration part and
    the rest), each reported on its own beside all of them. ``seen_by``: {detector: its own split files};
    a detector (a baseline trained elsewhere) is measured only on the test images none of them holds.
    ``unseen_generators``: {family: images of a generator no training saw}, each family's AUC against the
    real photos' last part (the ones that chose nothing), with its interval.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ensemble = load_ensemble(list(detectors), device=device, checkpoints=checkpoints_by_name)
    untrained = [d.name for d in ensemble.detectors if not d.trained]
    if untrained:
        raise ValueError(f"no trained weights for {', '.join(untrained)}")
    margin = ensemble.crop_margin or DEFAULT_CROP_MARGIN
    face_finder = FaceFinder(device=ensemble.detectors[0].device)
    thresholds = {d.name: d.threshold for d in ensemble.detectors}
    items = test_items(split_path)
    seen: dict[str, set[str]] = {}
    for name, paths in (seen_by or {}).items():
        seen[name] = set().union(*(split_hashes_and_groups(p)[0] for p in paths))
    per_variant: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="holdout-") as tmp:
        for variant in variants:
            rows, no_face = [], []
            for item in items:
                try:
                    row = item_scores(variant.write(item.path, Path(tmp)), ensemble, face_finder, margin)
                except MediaError as exc:
                    log(f"{variant.name} {item.path.name}: {exc.code}")
                    row = None
                if row is None:
                    no_face.append(item.path.name)
                    continue
                rows.append((item, row))
            for leftover in Path(tmp).iterdir():
                leftover.unlink()
            per_variant[variant.name] = {
                "group": variant.group,
                "no_face": no_face,
                "metrics": _metrics(rows, thresholds, seen),
            }
            aucs = ", ".join(f"{n} {m['auc_roc']:.3f}" for n, m in per_variant[variant.name]["metrics"].items())
            log(f"holdout {variant.name}: {len(rows)} images ({len(no_face)} without a face): AUC {aucs}")
    report: dict[str, Any] = {
        "split": str(split_path),
        "detectors": list(thresholds),
        "thresholds": thresholds,
        "checkpoints": {d.name: d.describe() for d in ensemble.detectors},
        "items": len(items),
        "items_real": sum(1 for i in items if i.label == 0),
        "items_fake": sum(1 for i in items if i.label == 1),
        "variants": per_variant,
    }
    if real_photos is not None:
        report["real_photos"] = real_photo_report(
            Path(real_photos), ensemble, face_finder, margin, thresholds, real_photo_parts or {}
        )
        if unseen_generators:
            report["unseen_generators"] = unseen_generator_report(
                unseen_generators,
                report["real_photos"],
                real_photo_parts or {},
                ensemble,
                face_finder,
                margin,
                thresholds,
            )
    (out_dir / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    return report


def unseen_generator_report(
    families: dict[str, Sequence[Path]],
    photos: dict[str, Any],
    parts: dict[str, Sequence[str]],
    ensemble: Ensemble,
    face_finder: FaceFinder,
    margin: float,
    thresholds: dict[str, float],
) -> dict[str, Any]:
    """Each family's generated images against the real photos of the last part (all photos without parts)."""
    real_names = list(parts.values())[-1] if parts else list(photos["scores"])
    reals = [photos["scores"][n] for n in real_names if n in photos["scores"]]
    out: dict[str, Any] = {}
    for family, paths in families.items():
        fakes, no_face = [], []
        for path in paths:
            row = item_scores(Path(path), ensemble, face_finder, margin)
            if row is None:
                no_face.append(Path(path).name)
            else:
                fakes.append(row)
        labels = np.array([0] * len(reals) + [1] * len(fakes))
        metrics = {}
        for name, threshold in thresholds.items():
            scores = np.array([r[name] for r in reals + fakes], dtype=np.float64)
            m = binary_metrics(labels, scores, threshold, interval=True)
            metrics[name] = {k: m[k] for k in ("n_real", "n_fake", "auc_roc", "auc_roc_ci95", "fpr", "tpr")}
        out[family] = {"images": len(paths), "no_face": no_face, "metrics": metrics}
    return out


def frames_as_images(clips: Sequence[Path], per_clip: int, folder: Path) -> list[Path]:
    """``per_clip`` evenly sampled frames of each clip saved as PNG in ``folder`` (made once, then reused)."""
    from detector.media import sample_frames

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for clip in clips:
        names = [folder / f"{clip.stem}_{k:02d}.png" for k in range(per_clip)]
        if not all(n.is_file() for n in names):
            frames, _ = sample_frames(clip, samples=per_clip)
            for name, frame in zip(names, frames, strict=False):
                cv2.imwrite(str(name), cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR))
        out.extend(n for n in names if n.is_file())
    return out


def real_photo_report(
    folder: Path,
    ensemble: Ensemble,
    face_finder: FaceFinder,
    margin: float,
    thresholds: dict[str, float],
    parts: dict[str, Sequence[str]],
) -> dict[str, Any]:
    """Share of the real photos in ``folder`` each detector labels manipulated (score >= its threshold)."""
    scores: dict[str, dict[str, float]] = {}
    refused: dict[str, str] = {}
    for path in sorted(p for p in folder.iterdir() if media_kind(p) == "image"):
        try:
            row = item_scores(path, ensemble, face_finder, margin)
        except MediaError as exc:  # a job refuses it too (e.g. media_too_large): never labelled manipulated
            refused[path.name] = exc.code
            continue
        if row is not None:
            scores[path.name] = row

    def flagged(names: Sequence[str]) -> dict[str, Any]:
        rows = [scores[n] for n in names if n in scores]
        return {
            "photos": len(rows),
            "fpr": {d: float(np.mean([r[d] >= t for r in rows])) if rows else None for d, t in thresholds.items()},
        }

    return {
        "folder": str(folder),
        "without_face": sorted(
            {p.name for p in folder.iterdir() if media_kind(p) == "image"} - set(scores) - set(refused)
        ),
        "refused": refused,
        "all": flagged(list(scores)),
        "parts": {name: flagged(names) for name, names in parts.items()},
        "scores": {n: {d: round(s, 6) for d, s in row.items()} for n, row in scores.items()},
    }
