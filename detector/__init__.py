"""Face-manipulation forensics without Django: probe media, find faces, score them, aggregate.

``detector.create(name)`` builds a registered detector; ``detector.analyze(path)`` runs
the whole pipeline on a video or image and returns an :class:`detector.contract.AnalysisResult`;
``detector.predict_image`` / ``detector.predict_batch`` give library users a flat answer.

Importing the package loads nothing heavy: the web process imports ``detector.contract`` (its
enums) and must never load torch, so the registry's names are resolved on first use.
"""

from importlib import import_module

# Public name → the module that defines it (loaded on first access).
_LAZY = {
    "Detector": "detector.registry",
    "DetectorConfig": "detector.registry",
    "create": "detector.registry",
    "get_config": "detector.registry",
    "list_detectors": "detector.registry",
    "register_detector": "detector.registry",
    "analyze": "detector.pipeline",
    "predict_image": "detector.predict",
    "predict_batch": "detector.predict",
}

__all__ = [*_LAZY, "list"]


def __getattr__(name: str):
    if name == "list":  # timm-style ``detector.list()``
        name = "list_detectors"
    if name not in _LAZY:
        raise AttributeError(f"module 'detector' has no attribute {name!r}")
    return getattr(import_module(_LAZY[name]), name)
