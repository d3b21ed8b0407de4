"""Models loaded once per worker process and reused by every job it runs."""

from __future__ import annotations

import functools
import os

from detector.ensemble import Ensemble, load_ensemble
from detector.faces import FaceFinder
from detector.registry import resolve_device


def worker_device() -> str:
    return str(resolve_device(os.environ.get("FORENSICS_DEVICE") or None))


@functools.cache
def face_finder(device: str) -> FaceFinder:
    return FaceFinder(device=device, batch_size=int(os.environ.get("FORENSICS_FACE_BATCH", "16")))


@functools.cache
def ensemble(names: tuple[str, ...], device: str) -> Ensemble:
    return load_ensemble(list(names) or None, device=device)
