"""Shared fixtures for detector tests: untrained detectors built once per session, synthetic face crops."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import detector
from detector import Detector
from detector.checkpoints import save
from detector.contract import SCORED_LABELS, VerdictLabel
from detector.faces import FaceFinder
from detector.synthetic import astronaut_rgb

LABELS = SCORED_LABELS


def label_from_thresholds(score: float, thresholds: dict) -> str:
    """The label a verdict's own recorded thresholds give its score: what a correct label must be."""
    if score >= thresholds["manipulated"]:
        return VerdictLabel.MANIPULATED
    if score <= thresholds["authentic"]:
        return VerdictLabel.AUTHENTIC
    return VerdictLabel.INCONCLUSIVE


def save_random_checkpoint(name: str, path: Path, **overrides) -> Path:
    """A checkpoint of freshly initialised weights: 'trained' as far as the pipeline can tell."""
    torch.manual_seed(0)
    det = detector.create(name, device="cpu")
    save(path, config={**det.config.to_dict(), **overrides}, state_dict=det.model.state_dict())
    return path


@pytest.fixture(scope="session")
def untrained_detector() -> Callable[[str], Detector]:
    """``untrained_detector(name)``: that detector with seeded random weights, on CPU, built once."""
    built: dict[str, Detector] = {}

    def build(name: str) -> Detector:
        if name not in built:
            torch.manual_seed(0)
            built[name] = detector.create(name, device="cpu")
        return built[name]

    return build


@pytest.fixture(scope="session")
def face_crop() -> Callable[[int, int], np.ndarray]:
    """``face_crop(size, seed)``: a synthetic RGB uint8 crop (see :func:`synthetic_face_crop`)."""
    return synthetic_face_crop


def synthetic_face_crop(size: int, seed: int) -> np.ndarray:
    """Smooth shading and a few blobs: structure for CAMs to latch onto, no real faces needed."""
    import cv2

    rng = np.random.default_rng(seed)
    coarse = rng.uniform(60, 200, size=(6, 6, 3)).astype(np.float32)
    crop = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
    for _ in range(3):
        centre = tuple(int(v) for v in rng.integers(size // 4, 3 * size // 4, size=2))
        colour = tuple(float(v) for v in rng.uniform(0, 255, size=3))
        cv2.circle(crop, centre, int(rng.integers(size // 12, size // 5)), colour, thickness=-1)
    return np.clip(crop, 0, 255).astype(np.uint8)


@pytest.fixture(scope="session")
def portrait_png(media_dir) -> Path:
    path = media_dir / "astronaut.png"
    cv2.imwrite(str(path), cv2.cvtColor(astronaut_rgb(), cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture(scope="session")
def face_finder() -> FaceFinder:
    return FaceFinder(device="cpu")


def write_model_card(
    checkpoint: Path,
    *,
    video: tuple[float, float, float, float, float] | None = None,
    image: tuple[float, float, float, float, float] | None = None,
    test_videos: tuple[int, int] = (11, 10),
    test_images: tuple[int, int] = (220, 220),
) -> Path:
    """A made-up model card beside ``checkpoint`` (NAME.md) in the sentences ``make train`` writes, naming its
    sha256: ``video``/``image`` = (AUC, interval low, interval high, FPR, TPR) at the threshold."""
    import hashlib

    sha256 = hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    lines = [f"# Model card: `{checkpoint.stem}`", "", "| | |", "| --- | --- |", f"| sha256 | `{sha256}` |", ""]
    if video:
        auc, low, high, fpr, tpr = video
        lines += [
            f"Test videos (`EVALUATION.md`: {test_videos[0]} real and {test_videos[1]} manipulated videos no split",
            f"used): video AUC {auc:.3f} [{low:.3f}, {high:.3f}] (95 % bootstrap interval), log loss 0.700, ECE 0.100,",
            f"FPR on real videos {fpr:.3f} and TPR {tpr:.3f} at the threshold.",
            "",
        ]
    if image:
        auc, low, high, fpr, tpr = image
        lines += [
            "Held-apart test part, scored as image jobs (`EVALUATION.md` has every variant): "
            f"AUC {auc:.3f} [{low:.3f}, {high:.3f}] as",
            f"distributed (95 % bootstrap interval); FPR {fpr:.3f}, TPR {tpr:.3f} at the threshold.",
            "",
            "| variant | AUC | images |",
            "| --- | --- | --- |",
            f"| JPEG as distributed (256 px) | {auc:.3f} | {test_images[0]} real + {test_images[1]} fake |",
            "",
        ]
    lines += ["## Known limits", "- Made up for a test.", ""]
    path = checkpoint.with_suffix(".md")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
