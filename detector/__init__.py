"""Face-manipulation forensics without Django: probe media, find faces, score them, aggregate.

``detector.create(name)`` builds a registered detector; ``detector.analyze(path)`` runs
the whole pipeline on a video or image and returns a JSON-ready result;
``detector.predict_image`` / ``detector.predict_batch`` give library users a flat answer.
"""

from detector.registry import Detector, DetectorConfig, create, get_config, list_detectors, register_detector

__all__ = [
    "Detector",
    "DetectorConfig",
    "analyze",
    "create",
    "get_config",
    "list",
    "list_detectors",
    "predict_batch",
    "predict_image",
    "register_detector",
]

list = list_detectors  # noqa: A001  (timm-style ``detector.list()``)


def analyze(*args, **kwargs):
    from detector.pipeline import analyze as _analyze

    return _analyze(*args, **kwargs)


def predict_image(*args, **kwargs):
    from detector.predict import predict_image as _predict_image

    return _predict_image(*args, **kwargs)


def predict_batch(*args, **kwargs):
    from detector.predict import predict_batch as _predict_batch

    return _predict_batch(*args, **kwargs)
