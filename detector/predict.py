"""Library API for scripts and notebooks: ``predict_image`` and ``predict_batch`` (seed 002's API).

Both run the same pipeline as ``python -m detector analyze`` and the worker, so a score seen
in a notebook is the score the platform would record. Models are loaded once per
(detectors, device) and kept for later calls in this process.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from detector.contract import AnalysisResult
from detector.ensemble import Ensemble, load_ensemble
from detector.faces import FaceFinder
from detector.media import MEDIA_EXTENSIONS, MediaError, MediaProbe, SampledFrame, SamplingReport, _check_dimensions
from detector.pipeline import DEFAULT_FRAMES, analyze, analyze_frames

ImageInput = str | Path | np.ndarray


@lru_cache(maxsize=2)
def _models(detectors: tuple[str, ...] | None, device: str | None) -> tuple[Ensemble, FaceFinder]:
    ensemble = load_ensemble(list(detectors) if detectors else None, device=device)
    face_device = ensemble.detectors[0].device if ensemble.detectors else "cpu"
    return ensemble, FaceFinder(device=face_device)


def rgb_from_array(array: np.ndarray) -> np.ndarray:
    """An RGB uint8 (H, W, 3) copy of a grey (H, W), RGB or RGBA uint8 array; anything else is refused."""
    if not isinstance(array, np.ndarray) or array.dtype != np.uint8:
        raise ValueError("arrays must be uint8 RGB images (H, W, 3); convert floats with (x * 255).astype('uint8')")
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W, 3) RGB array, got shape {array.shape}")
    return np.ascontiguousarray(array[:, :, :3])


def summarise(result: AnalysisResult, source: str) -> dict[str, Any]:
    """The flat answer a library user wants first; the full pipeline result stays under ``result``."""
    verdict = result.verdict
    return {
        "source": source,
        "label": verdict.label,
        "score": verdict.score,
        "confidence": verdict.confidence,
        "reason": verdict.reason,
        "faces": len(result.faces()),
        "tracks": result.tracks,
        "per_detector": verdict.per_detector,
        "untrained_detectors": verdict.untrained_detectors,
        "warnings": result.diagnostics.warnings,
        "error": None,
        "result": result,
    }


def _predict_one(
    item: ImageInput,
    ensemble: Ensemble,
    face_finder: FaceFinder,
    frames: int,
    artifacts_dir: str | Path | None,
) -> dict[str, Any]:
    if isinstance(item, np.ndarray):
        rgb = rgb_from_array(item)
        height, width = rgb.shape[:2]
        _check_dimensions(width, height)
        media = MediaProbe(kind="image", width=width, height=height, frame_count=1)
        report = SamplingReport(requested=1, decoded=1)
        result = analyze_frames(
            media,
            [SampledFrame(index=0, timestamp_s=0.0, rgb=rgb)],
            report,
            frames=1,
            ensemble=ensemble,
            face_finder=face_finder,
            artifacts_dir=artifacts_dir,
        )
        return summarise(result, "<array>")
    result = analyze(item, frames=frames, ensemble=ensemble, face_finder=face_finder, artifacts_dir=artifacts_dir)
    return summarise(result, str(item))


def predict_image(
    image: ImageInput,
    detectors: Sequence[str] | None = None,
    *,
    device: str | None = None,
    artifacts_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Label one image (a path, or an RGB uint8 array) as manipulated / authentic / inconclusive / no_faces.

    Returns ``{"label", "score", "confidence", "faces", "per_detector", ..., "result"}`` where
    ``score`` is the probability of manipulation (None when nothing was scored) and
    ``result`` the full pipeline result. Raises :class:`detector.media.MediaError` on an
    unreadable file and ``ValueError`` on an array that is not an RGB image.
    """
    ensemble, face_finder = _models(tuple(detectors) if detectors else None, device)
    return _predict_one(image, ensemble, face_finder, DEFAULT_FRAMES, artifacts_dir)


def predict_batch(
    items: Sequence[ImageInput],
    detectors: Sequence[str] | None = None,
    *,
    device: str | None = None,
    frames: int = DEFAULT_FRAMES,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """:func:`predict_image` over many images (or videos, given by path), models loaded once.

    One unreadable item does not stop the batch: its dict has ``label`` None and
    ``error`` ``{"code", "message"}``. ``progress`` shows a tqdm bar.
    """
    ensemble, face_finder = _models(tuple(detectors) if detectors else None, device)
    if progress:
        from tqdm import tqdm

        items = tqdm(items, unit="file")
    out = []
    for item in items:
        source = "<array>" if isinstance(item, np.ndarray) else str(item)
        try:
            out.append(_predict_one(item, ensemble, face_finder, frames, None))
        except (MediaError, ValueError) as exc:
            code = exc.code if isinstance(exc, MediaError) else "invalid_input"
            out.append(
                {
                    "source": source,
                    "label": None,
                    "score": None,
                    "confidence": None,
                    "error": {"code": code, "message": str(exc)},
                }
            )
    return out


def media_files(folder: str | Path, recursive: bool = False) -> list[Path]:
    """Images and videos in ``folder`` by extension, sorted; the pipeline still sniffs each one."""
    folder = Path(folder)
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in folder.glob(pattern) if p.is_file() and p.suffix.lower() in MEDIA_EXTENSIONS)
