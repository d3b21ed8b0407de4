"""What an analysis ran with, written into every result so it can be re-run exactly (``detector.reproduce``).

The manifest names the code, the detectors' checkpoints by sha256, the face-detection settings, the
verdict policy, the frames sampled, the device and the library versions: everything a score depends on
apart from the original itself, which it names by sha256.
"""

from __future__ import annotations

import functools
import platform
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

from detector.checkpoints import file_sha256
from detector.contract import DetectorInfo, Manifest

__all__ = ["build_manifest", "code_version", "device_description", "file_sha256", "library_versions"]

# Distributions whose versions change scores (decoding, face detection, the networks' kernels).
LIBRARIES = (
    "torch",
    "torchvision",
    "timm",
    "facenet-pytorch",
    "numpy",
    "av",
    "opencv-python-headless",
    "opencv-python",
)
REPO_ROOT = Path(__file__).resolve().parents[1]


@functools.cache
def code_version() -> str:
    """The package version and, in a git checkout, ``git describe`` (``-dirty`` when files are changed)."""
    package = "0+unknown"
    try:
        with open(REPO_ROOT / "pyproject.toml", "rb") as handle:
            package = tomllib.load(handle)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        pass
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return package
    return f"{package}+git.{described}" if described else package


@functools.cache
def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    cv2 = sys.modules.get("cv2")
    if cv2 is not None:
        versions["opencv"] = cv2.__version__
    return versions


def device_description(device: str) -> str:
    """The device and, on CUDA, the card and the CUDA version (kernels differ between them)."""
    if not device.startswith("cuda"):
        return f"{device} ({platform.machine()}, {platform.system()})"
    import torch

    index = torch.device(device).index or 0
    return f"{device} ({torch.cuda.get_device_name(index)}, CUDA {torch.version.cuda})"


def build_manifest(
    *,
    media_sha256: str | None,
    frames_requested: int,
    frame_indices: list[int],
    timestamps_s: list[float],
    detectors: list[DetectorInfo],
    crop_margin: float | None,
    face_detection: dict[str, Any],
    policy: dict[str, Any],
    device: str,
) -> Manifest:
    return Manifest(
        code_version=code_version(),
        media_sha256=media_sha256,
        frames_requested=frames_requested,
        frame_indices=list(frame_indices),
        timestamps_s=[round(t, 4) for t in timestamps_s],
        detectors=[
            {
                "name": d.name,
                "version": d.version,
                "architecture": d.architecture,
                "sha256": d.sha256,
                "trained": d.trained,
                "calibration": d.calibration,
                "threshold": d.threshold,
                "precision": d.precision,
            }
            for d in detectors
        ],
        crop_margin=crop_margin,
        face_detection=dict(face_detection),
        policy=dict(policy),
        device=device,
        device_description=device_description(device),
        libraries=library_versions(),
    )
