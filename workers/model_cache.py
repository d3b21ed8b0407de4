"""Models loaded once per worker process and reused by every job it runs."""

from __future__ import annotations

import functools
import os

# Imported in the worker's main process, before it forks its pool: a pool process that replaces one
# that died (a crash, an OOM kill) then starts its next job in about a second instead of spending
# ~3.5 s re-importing facenet-pytorch. Only modules are loaded here; models stay per process.
import facenet_pytorch  # noqa: F401

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
