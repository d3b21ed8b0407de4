"""Self-blended pseudo-fakes: shape, mask confined to the face box, determinism by seed."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from detector.training.sbi import (
    LandmarkBlendSettings,
    fallback_landmarks,
    landmark_blend,
    landmark_hull_points,
    landmark_mask,
    random_face_mask,
    self_blend,
)
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


def one_face(crop: np.ndarray, landmarks: np.ndarray):
    """One cached face (one frame of one image) as training reads it from the face cache."""
    from detector.training.data import FaceCrops, MediaItem

    return FaceCrops(
        item=MediaItem(Path("a.png"), 0, "a", "image"),
        crops=crop[None],
        face_boxes=FACE_BOX[None],
        frame_boxes=FACE_BOX[None],
        landmarks=landmarks[None],
        frame_indices=np.zeros(1, dtype=np.int64),
        probabilities=np.ones(1),
    )


def test_a_rendered_pseudo_fake_carries_its_mask_through_the_augmentations(crop: np.ndarray) -> None:
    import albumentations as A

    from detector.training.train import RenderSpec, Sample, render_sample

    faces = [one_face(crop, np.full((5, 2), np.nan))]
    flip = A.Compose([A.HorizontalFlip(p=1.0), A.Resize(96, 96)])
    fake, mask = render_sample(faces, Sample(0, 0, "sbi"), np.random.default_rng(5), flip, RenderSpec(96))
    _, unflipped = self_blend(crop, FACE_BOX, np.random.default_rng(5))
    assert fake.shape == (96, 96, 3) and mask.shape == (96, 96) and mask.dtype == np.float32
    expected = cv2.resize(unflipped[:, ::-1], (96, 96), interpolation=cv2.INTER_LINEAR)
    assert np.abs(mask - expected).max() < 0.05, "the mask is flipped and resized with its image"
    _, real_mask = render_sample(faces, Sample(0, 0, "real"), np.random.default_rng(5), None, RenderSpec(96))
    assert real_mask.shape == (96, 96) and not real_mask.any(), "a real crop has no blend"


# --- landmark-hull self-blends (the recipe) ---

LANDMARKS = fallback_landmarks(FACE_BOX)
ALL_ADDITIONS = LandmarkBlendSettings(
    mask_deform_p=1.0, partial_mask_p=1.0, quality_mismatch_p=1.0, frequency_mismatch_p=1.0
)


@pytest.mark.parametrize("settings", [LandmarkBlendSettings(), ALL_ADDITIONS], ids=["recipe", "all-additions"])
@pytest.mark.parametrize("seed", range(8))
def test_landmark_mask_stays_inside_the_face_box(seed: int, settings: LandmarkBlendSettings) -> None:
    mask = landmark_mask((192, 192), FACE_BOX, LANDMARKS, np.random.default_rng(seed), settings)
    x1, y1, x2, y2 = FACE_BOX.astype(int)
    outside = mask.copy()
    outside[y1:y2, x1:x2] = 0
    # The blurred edge may bleed a few pixels past the hull; the face box contains nearly all of it.
    assert outside.sum() < 0.02 * mask.sum()
    assert mask[y1:y2, x1:x2].max() > 0.9


def test_landmark_hull_covers_the_landmarks_and_the_four_box_points() -> None:
    points = landmark_hull_points(FACE_BOX, LANDMARKS)
    assert points.shape == (9, 2)
    x1, y1, x2, y2 = FACE_BOX
    assert (points[:, 0] >= x1).all() and (points[:, 0] <= x2).all()
    assert (points[:, 1] >= y1).all() and (points[:, 1] <= y2).all()
    mask = landmark_mask((192, 192), FACE_BOX, LANDMARKS, np.random.default_rng(0))
    for x, y in LANDMARKS:
        assert mask[round(y), round(x)] > 0.5, "every landmark is inside the blended region"


def test_missing_landmarks_fall_back_to_a_frontal_layout_in_the_box() -> None:
    assert np.allclose(landmark_hull_points(FACE_BOX, None), landmark_hull_points(FACE_BOX, LANDMARKS))
    nan = np.full((5, 2), np.nan)
    assert np.allclose(landmark_hull_points(FACE_BOX, nan), landmark_hull_points(FACE_BOX, LANDMARKS))


@pytest.mark.parametrize("settings", [LandmarkBlendSettings(), ALL_ADDITIONS], ids=["recipe", "all-additions"])
def test_same_seed_gives_the_same_landmark_blend(crop: np.ndarray, settings: LandmarkBlendSettings) -> None:
    first, first_mask = landmark_blend(crop, FACE_BOX, LANDMARKS, np.random.default_rng(7), settings)
    again, again_mask = landmark_blend(crop, FACE_BOX, LANDMARKS, np.random.default_rng(7), settings)
    other, _ = landmark_blend(crop, FACE_BOX, LANDMARKS, np.random.default_rng(8), settings)
    assert np.array_equal(first, again) and np.array_equal(first_mask, again_mask)
    assert not np.array_equal(first, other)


def test_landmark_blend_changes_the_face_only_and_its_opacity_is_in_the_recipe_range(crop: np.ndarray) -> None:
    fake, mask = landmark_blend(crop, FACE_BOX, LANDMARKS, np.random.default_rng(3))
    assert fake.shape == crop.shape and fake.dtype == np.uint8
    assert 0.6 - 1e-6 <= mask.max() <= 1.0 + 1e-6
    changed = np.abs(fake.astype(int) - crop.astype(int)).sum(-1) > 0
    assert changed[mask > 0.05].mean() > 0.5
    assert not changed[mask == 0].any(), "pixels outside the mask are the target's own"


def test_partial_masks_blend_less_of_the_face_than_the_whole_hull() -> None:
    whole = landmark_mask((192, 192), FACE_BOX, LANDMARKS, np.random.default_rng(1))
    partial = LandmarkBlendSettings(partial_mask_p=1.0)
    areas = [
        (landmark_mask((192, 192), FACE_BOX, LANDMARKS, np.random.default_rng(s), partial) > 0.5).sum()
        for s in range(6)
    ]
    assert max(areas) < (whole > 0.5).sum()


def test_unknown_self_blend_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown self-blend setting"):
        LandmarkBlendSettings.from_dict({"mask_wobble": 1.0})


def test_blending_on_a_wide_crop_then_narrowing_gives_the_inference_crop(crop: np.ndarray) -> None:
    """The recipe blends on a 0.6-margin crop and feeds the model the 0.3-margin centre of it."""
    from detector.faces import narrow_crop
    from detector.training.train import RenderSpec, Sample, render_sample

    faces = [one_face(crop, LANDMARKS)]
    spec = RenderSpec(64, source_margin=0.6, margin=0.3, sbi_mask="landmarks")
    real, _ = render_sample(faces, Sample(0, 0, "real"), np.random.default_rng(0), None, spec)
    centre = narrow_crop(crop, 0.6, 0.3)
    assert centre.shape[0] == round(192 * 1.6 / 2.2)
    assert np.array_equal(real, cv2.resize(centre, (64, 64), interpolation=cv2.INTER_AREA))
    _, mask = render_sample(faces, Sample(0, 0, "sbi"), np.random.default_rng(0), None, spec)
    _, full_mask = landmark_blend(crop, FACE_BOX, LANDMARKS, np.random.default_rng(0), spec.sbi)
    expected = cv2.resize(narrow_crop(full_mask, 0.6, 0.3), (64, 64), interpolation=cv2.INTER_AREA)
    assert np.abs(mask - expected).max() < 1e-6
