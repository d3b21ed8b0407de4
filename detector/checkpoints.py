"""Checkpoints on disk: weights plus the config, calibration and metrics they were made with.

A checkpoint is loaded only from a local path, with ``weights_only=True``, and its sha256
is computed and (when a ``.sha256`` file or an expected hash is given) checked, so every
result can name the exact bytes that produced it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupt, of the wrong architecture or fails its hash check."""


@dataclass
class LoadedCheckpoint:
    path: Path
    sha256: str
    config: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    calibration: dict[str, Any] = field(default_factory=dict)
    threshold: float = 0.5
    metrics: dict[str, Any] = field(default_factory=dict)
    # Half-width of the inconclusive zone around the threshold, chosen on dev; None: the policy's default.
    uncertainty_band: float | None = None


def file_sha256(path: str | Path, chunk_bytes: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def save(
    path: str | Path,
    *,
    config: dict[str, Any],
    state_dict: dict[str, torch.Tensor],
    calibration: dict[str, Any] | None = None,
    threshold: float = 0.5,
    metrics: dict[str, Any] | None = None,
    uncertainty_band: float | None = None,
) -> str:
    """Write a checkpoint and its ``.sha256`` side file; return the hash."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": "forensics-detector/1",
        "config": config,
        "state_dict": {k: v.detach().cpu().contiguous() for k, v in state_dict.items()},
        "calibration": calibration or {"method": "identity"},
        "threshold": float(threshold),
        "metrics": metrics or {},
    }
    if uncertainty_band is not None:
        payload["uncertainty_band"] = float(uncertainty_band)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    sha = file_sha256(path)
    path.with_name(path.name + ".sha256").write_text(f"{sha}  {path.name}\n")
    return sha


def expected_sha256(path: Path) -> str | None:
    side = path.with_name(path.name + ".sha256")
    if side.exists():
        return side.read_text().split()[0]
    return None


def load(path: str | Path, expected: str | None = None) -> LoadedCheckpoint:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    sha = file_sha256(path)
    expected = expected or expected_sha256(path)
    if expected is not None and expected != sha:
        raise CheckpointError(f"{path}: sha256 {sha} does not match the expected {expected}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several unrelated types for a corrupt file
        raise CheckpointError(f"{path}: not a readable checkpoint ({exc})") from exc
    if not isinstance(payload, dict) or payload.get("format") != "forensics-detector/1":
        raise CheckpointError(f"{path}: not a forensics-detector/1 checkpoint")
    if not isinstance(payload.get("config"), dict) or not isinstance(payload.get("state_dict"), dict):
        raise CheckpointError(f"{path}: a checkpoint must carry its config and state_dict")
    return LoadedCheckpoint(
        path=path,
        sha256=sha,
        config=payload["config"],
        state_dict=payload["state_dict"],
        calibration=payload.get("calibration") or {},
        threshold=float(payload.get("threshold", 0.5)),
        metrics=payload.get("metrics") or {},
        uncertainty_band=None if payload.get("uncertainty_band") is None else float(payload["uncertainty_band"]),
    )
