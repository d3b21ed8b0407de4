"""Self-blended pseudo-fakes: shape, mask confined to the face box, determinism by seed."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from detector.training.sbi import random_face_mask, self_blend
from tests.training.conftest import face_crop_variant

FACE_BOX = np.array([40.0, 30.0, 150.0, 170.0])


@pytest.fixture
def crop() -> np.ndarray:
    return face_crop_variant(3, size=192)


def test_pseudo_fake_has_the_crops_shape_and_dtype(crop: np.ndarray) -> None:
    fake, mask = self_blend(crop, FACE_BOX, np.random.default_rng(0))
    assert fake.shape == crop.shape and fake.dtype == np.uint8
    assert mask.shape == crop.shape[:2]
    assert mask.min() >= 0.0 and mask.max() <= 1.0
    assert mask.max() > 0.2, "the blend must change something"


@pytest.mark.parametrize("seed", range(12))
def test_blend_mask_never_leaves_the_face_box(seed: int) -> None:
    mask = random_face_mask((192, 192), FACE_BOX, np.random.default_rng(seed))
    x1, y1, x2, y2 = FACE_BOX.astype(int)
    outside = mask.copy()
    outside[y1:y2, x1:x2] = 0
    assert outside.max() == 0.0
    assert mask[y1:y2, x1:x2].max() > 0.5


def test_same_seed_gives_the_same_pseudo_fake(crop: np.ndarray) -> None:
    first, _ = self_blend(crop, FACE_BOX, np.random.default_rng(42))
    again, _ = self_blend(crop, FACE_BOX, np.random.default_rng(42))
    other, _ = self_blend(crop, FACE_BOX, np.random.default_rng(43))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_mask_shapes_vary_between_ellipses_and_polygons() -> None:
    areas = {
        round(float((random_face_mask((192, 192), FACE_BOX, np.random.default_rng(s)) > 0.5).sum()), -2)
        for s in range(10)
    }
    assert len(areas) > 3


def test_a_face_box_too_small_for_a_mask_gives_an_empty_mask() -> None:
    mask = random_face_mask((64, 64), np.array([10.0, 10.0, 14.0, 14.0]), np.random.default_rng(0))
    assert mask.max() == 0.0


def test_a_rendered_pseudo_fake_carries_its_mask_through_the_augmentations(crop: np.ndarray) -> None:
    import albumentations as A

    from detector.training.data import FaceCrops, MediaItem
    from detector.training.train import Sample, render_sample

    faces = [
        FaceCrops(
            item=MediaItem(Path("a.png"), 0, "a", "image"),
            crops=crop[None],
            face_boxes=FACE_BOX[None],
            frame_boxes=FACE_BOX[None],
            frame_indices=np.zeros(1, dtype=np.int64),
            probabilities=np.ones(1),
        )
    ]
    flip = A.Compose([A.HorizontalFlip(p=1.0), A.Resize(96, 96)])
    fake, mask = render_sample(faces, Sample(0, 0, "sbi"), np.random.default_rng(5), flip, 96)
    _, unflipped = self_blend(crop, FACE_BOX, np.random.default_rng(5))
    assert fake.shape == (96, 96, 3) and mask.shape == (96, 96) and mask.dtype == np.float32
    expected = cv2.resize(unflipped[:, ::-1], (96, 96), interpolation=cv2.INTER_LINEAR)
    assert np.abs(mask - expected).max() < 0.05, "the mask is flipped and resized with its image"
    _, real_mask = render_sample(faces, Sample(0, 0, "real"), np.random.default_rng(5), None, 96)
    assert real_mask.shape == (96, 96) and not real_mask.any(), "a real crop has no blend"
