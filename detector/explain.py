"""Grad-CAM heatmaps (Selvaraju et al. 2017) showing which region of a face crop drove a detector's score.

Works on CPU and GPU, leaves no hooks behind, and never touches parameter ``.grad``.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import torch

from detector.registry import Detector


def gradcam(detector: Detector, crops: list[np.ndarray]) -> list[np.ndarray]:
    """One float32 map in [0, 1] per RGB uint8 crop, at the crop's own height and width.

    The map is Grad-CAM on ``detector.config.cam_layer`` for the manipulation logit. For a
    track detector the crops are taken as one track, in order, and each crop gets the map
    of its own frame. A map is all zeros where no position raised the logit.
    """
    layer_path = detector.config.cam_layer
    if layer_path is None:
        raise ValueError(f"detector {detector.name!r} has no cam_layer: it has no spatial map to explain")
    if not crops:
        return []
    layer = detector.model.get_submodule(layer_path)
    captured: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda _module, _inputs, output: captured.append(output))
    # cuDNN's RNN backward refuses eval mode, so track models run this one pass without cuDNN.
    recurrent = detector.config.input_kind == "track"
    no_cudnn = torch.backends.cudnn.flags(enabled=False) if recurrent else contextlib.nullcontext()
    try:
        # Detector.logits runs under inference_mode, and so may our caller; Grad-CAM needs its
        # own forward with a graph, on an input made outside inference mode.
        with torch.inference_mode(False), torch.enable_grad(), no_cudnn:
            batch = detector.preprocess(crops).to(detector.device)
            if recurrent:
                batch = batch.unsqueeze(0)
            # The input asks for gradients too, so the graph exists even if every weight is frozen.
            batch.requires_grad_(True)
            logits = detector.model(batch)
            if len(captured) != 1 or not isinstance(captured[0], torch.Tensor):
                raise RuntimeError(f"cam_layer {layer_path!r} must run once per forward and return one tensor")
            activations = captured[0]
            (gradients,) = torch.autograd.grad(logits.sum(), activations)
    finally:
        handle.remove()

    with torch.no_grad():
        channel_weights = gradients.mean(dim=(-2, -1), keepdim=True)  # Eq. 1: global-average-pooled gradients
        maps = torch.relu((channel_weights * activations).sum(dim=1))  # Eq. 2
    return [_to_crop_resolution(m, crop.shape[:2]) for m, crop in zip(maps.float().cpu().numpy(), crops, strict=True)]


def _to_crop_resolution(cam: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    import cv2

    resized = cv2.resize(cam.astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    low, high = float(resized.min()), float(resized.max())
    if high - low < 1e-12:
        return np.zeros(shape, dtype=np.float32)
    return ((resized - low) / (high - low)).astype(np.float32)


def overlay_heatmap(crop_rgb: np.ndarray, cam: np.ndarray, alpha: float = 0.4) -> np.ndarray:
    """Blend a JET-coloured ``cam`` (values in [0, 1]) over an RGB uint8 crop; returns RGB uint8."""
    import cv2

    if cam.shape != crop_rgb.shape[:2]:
        cam = cv2.resize(cam.astype(np.float32), (crop_rgb.shape[1], crop_rgb.shape[0]))
    heat_bgr = cv2.applyColorMap(np.uint8(np.clip(cam, 0.0, 1.0) * 255), cv2.COLORMAP_JET)
    heat_rgb = cv2.cvtColor(heat_bgr, cv2.COLOR_BGR2RGB)
    return cv2.addWeighted(crop_rgb.astype(np.uint8), 1.0 - alpha, heat_rgb, alpha, 0.0)


def save_overlay_png(path: str | Path, crop_rgb: np.ndarray, cam: np.ndarray) -> Path:
    """Write the heatmap overlay as a PNG; raises OSError when it cannot be written."""
    import cv2

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    overlay_bgr = cv2.cvtColor(overlay_heatmap(crop_rgb, cam), cv2.COLOR_RGB2BGR)
    if not cv2.imwrite(str(path), overlay_bgr):
        raise OSError(f"could not write {path}")
    return path


# Heatmaps of one job that all correlate at least this much with their mean, around a centre this close to the
# crop's (a share of its side), show where the detector looks on any face: a fixed prior, not what drove a score.
UNIFORM_MAP_CORRELATION = 0.9
CENTRED_WITHIN_SHARE = 0.15
_COMPARE_PX = 32


def uninformative_reason(maps: list[np.ndarray]) -> str | None:
    """Why a job's Grad-CAM maps explain nothing, or None when they differ (or are too few to tell).

    Every map empty: nothing raised the score. Every map the same blob near the centre (each correlating at least
    ``UNIFORM_MAP_CORRELATION`` with their mean, whose centre of mass lies within ``CENTRED_WITHIN_SHARE`` of the
    crop's centre): the detector looks at the middle of every face alike, so the overlay is not evidence.
    """
    import cv2

    if len(maps) < 2:
        return None
    small = np.stack([cv2.resize(m.astype(np.float32), (_COMPARE_PX, _COMPARE_PX)) for m in maps])
    if float(small.max()) <= 0.0:
        return "every heatmap is empty: no region of any face raised the score"
    mean = small.mean(axis=0)
    flat_mean = mean.ravel() - mean.mean()
    correlations = []
    for cam in small:
        flat = cam.ravel() - cam.mean()
        denom = float(np.linalg.norm(flat) * np.linalg.norm(flat_mean))
        correlations.append(float(flat @ flat_mean) / denom if denom > 0 else 0.0)
    yy, xx = np.mgrid[0:_COMPARE_PX, 0:_COMPARE_PX]
    total = float(mean.sum())
    cy, cx = float((yy * mean).sum()) / total, float((xx * mean).sum()) / total
    offset = max(abs(cy - (_COMPARE_PX - 1) / 2), abs(cx - (_COMPARE_PX - 1) / 2)) / _COMPARE_PX
    if min(correlations) >= UNIFORM_MAP_CORRELATION and offset <= CENTRED_WITHIN_SHARE:
        return (
            f"all {len(maps)} heatmaps are the same blob near the centre of the face (each correlates at least "
            f"{min(correlations):.2f} with their mean): they show where the detector looks on any face, not what "
            "drove this score"
        )
    return None
