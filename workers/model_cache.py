"""Models loaded once per worker process and reused by every job it runs, within a memory budget.

Detectors are cached one by one, not per list a job names: whatever combinations jobs ask for, a
worker holds each trained detector at most once, and past ``FORENSICS_MODEL_CACHE_BYTES`` the least
recently used ones are dropped (the one a job is about to run is always kept).
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections import OrderedDict

# Imported in the worker's main process, before it forks its pool: a pool process that replaces one
# that died (a crash, an OOM kill) then starts its next job in about a second instead of spending
# ~3.5 s re-importing facenet-pytorch. Only modules are loaded here; models stay per process.
import facenet_pytorch  # noqa: F401

from config.env import setting
from detector.contract import default_detectors
from detector.ensemble import Ensemble, load_ensemble, shipped_checkpoint
from detector.faces import DETECT_EVERY, FaceFinder
from detector.registry import Detector, resolve_device

logger = logging.getLogger(__name__)
DEFAULT_MODEL_CACHE_BYTES = 2 * 1024**3


def worker_device() -> str:
    return str(resolve_device(os.environ.get("FORENSICS_DEVICE") or None))


@functools.cache
def face_finder(device: str) -> FaceFinder:
    return FaceFinder(
        device=device,
        batch_size=int(os.environ.get("FORENSICS_FACE_BATCH", "16")),
        # MTCNN in full on every k-th sampled frame, guided by the faces' size between (detector.faces).
        detect_every=setting("FORENSICS_FACE_DETECT_EVERY", default=DETECT_EVERY, cast=int),
    )


def compile_detectors() -> bool:
    """``FORENSICS_COMPILE_DETECTORS=1``: each detector is compiled (``Detector.compile``) when first loaded.

    Off by default: compiling costs about 45 s per detector and process (the first job waits for it) and
    needs a C++ compiler at run time, which our worker images leave out on purpose: there a worker that is
    told to compile logs why it cannot and scores eagerly. Meant for workers run from a checkout.
    """
    return setting("FORENSICS_COMPILE_DETECTORS", default=False, cast=bool)


def detector_bytes(detector: Detector) -> int:
    """Memory a loaded detector holds: its parameters and buffers."""
    tensors = [*detector.model.parameters(), *detector.model.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors)


class DetectorCache:
    """Trained detectors by (name, device), least recently used first out past ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._held: OrderedDict[tuple[str, str], tuple[Detector, int]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def held_bytes(self) -> int:
        return sum(size for _, size in self._held.values())

    def keys(self) -> list[tuple[str, str]]:
        return list(self._held)

    def get(self, name: str, device: str) -> Detector:
        """The detector ``name`` with its shipped weights; KeyError if this worker has none for it."""
        key = (name, device)
        with self._lock:
            if key in self._held:
                self._held.move_to_end(key)
                return self._held[key][0]
        # Random weights are not evidence, and each name loaded is memory held: only shipped, trained ones.
        if shipped_checkpoint(name) is None:
            raise KeyError(f"{name!r} is not a trained detector on this worker.")
        detector = load_ensemble([name], device=device).detectors[0]
        if compile_detectors():
            detector.compile()
        size = detector_bytes(detector)
        with self._lock:
            self._held[key] = (detector, size)
            self._held.move_to_end(key)
            while self.held_bytes > self.max_bytes and len(self._held) > 1:
                (evicted, _), (_, freed) = self._held.popitem(last=False)
                logger.info("model cache: dropped %s (%.1f MB), least recently used", evicted, freed / 1e6)
            logger.info("model cache: %d detectors, %.1f MB held", len(self._held), self.held_bytes / 1e6)
        return detector

    def clear(self) -> None:
        with self._lock:
            self._held.clear()


detectors = DetectorCache(int(os.environ.get("FORENSICS_MODEL_CACHE_BYTES") or DEFAULT_MODEL_CACHE_BYTES))


def ensemble(names: tuple[str, ...], device: str, media_kind: str | None = None) -> Ensemble:
    """The detectors a job named (default: those of its media kind, ``contract.default_detectors``), each
    once, from the cache."""
    chosen = names or default_detectors(media_kind)
    return Ensemble([detectors.get(name, device) for name in dict.fromkeys(chosen)])
