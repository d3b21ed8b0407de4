"""Grad-CAM: a map per crop at the crop's resolution, in [0, 1], with nothing left attached to the model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import detector
from detector.explain import gradcam, overlay_heatmap, save_overlay_png

CAM_DETECTORS = [name for name in detector.list_detectors() if detector.get_config(name).cam_layer is not None]


def hook_count(model: torch.nn.Module) -> int:
    return sum(
        len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) + len(m._backward_pre_hooks)
        for m in model.modules()
    )


@pytest.mark.parametrize("name", CAM_DETECTORS)
def test_gradcam_gives_a_non_constant_unit_range_map_at_each_crops_resolution(name, untrained_detector, face_crop):
    det = untrained_detector(name)
    crops = [face_crop(96, seed=1), face_crop(120, seed=2)]

    maps = gradcam(det, crops)

    assert [m.shape for m in maps] == [(96, 96), (120, 120)]
    for cam in maps:
        assert cam.dtype == np.float32
        assert cam.min() >= 0.0 and cam.max() <= 1.0
    assert maps[0].max() - maps[0].min() > 0.5


@pytest.mark.parametrize("name", CAM_DETECTORS)
def test_gradcam_leaves_no_hooks_and_no_parameter_gradients(name, untrained_detector, face_crop):
    det = untrained_detector(name)
    hooks_before = hook_count(det.model)

    gradcam(det, [face_crop(64, seed=3)])

    assert hook_count(det.model) == hooks_before
    assert all(p.grad is None for p in det.model.parameters())


def test_gradcam_works_when_the_caller_is_in_inference_mode(untrained_detector, face_crop):
    det = untrained_detector("custom_cnn")
    with torch.inference_mode():
        (cam,) = gradcam(det, [face_crop(64, seed=4)])
    assert cam.shape == (64, 64)


def test_gradcam_refuses_a_detector_without_a_spatial_map(untrained_detector, face_crop):
    with pytest.raises(ValueError, match="cam_layer"):
        gradcam(untrained_detector("spectral_lr"), [face_crop(64, seed=5)])


def test_overlay_is_an_rgb_image_of_the_crop_saved_as_png(tmp_path, face_crop):
    import cv2

    crop = face_crop(80, seed=6)
    cam = np.linspace(0.0, 1.0, 40 * 40, dtype=np.float32).reshape(40, 40)

    overlay = overlay_heatmap(crop, cam)
    path = save_overlay_png(tmp_path / "cams" / "frame_0001.png", crop, cam)

    assert overlay.shape == crop.shape and overlay.dtype == np.uint8
    assert not np.array_equal(overlay, crop)
    written = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    assert np.array_equal(written, overlay)


def blob(cy: float, cx: float, size: int = 64, sigma: float = 10.0) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size]
    return np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma**2)).astype(np.float32)


def test_heatmaps_that_are_all_the_same_centred_blob_are_called_uninformative():
    from detector.explain import uninformative_reason

    same = [blob(31.5 + d, 31.5 - d) for d in (0, 1, -1, 0.5)]
    reason = uninformative_reason(same)
    assert reason and reason.startswith("all 4 heatmaps are the same blob near the centre")
    assert uninformative_reason([np.zeros((64, 64), np.float32)] * 3).startswith("every heatmap is empty")


def test_heatmaps_that_point_at_different_regions_or_off_centre_are_evidence():
    from detector.explain import uninformative_reason

    assert uninformative_reason([blob(15, 20), blob(45, 40), blob(30, 10)]) is None
    assert uninformative_reason([blob(10, 10)] * 3) is None  # the same place, but not the centre
    assert uninformative_reason([blob(31.5, 31.5)]) is None  # one map cannot be compared with others
