"""Training augmentations (albumentations): what a face goes through between camera and analyst.

Compression, resizing, blur and noise are what erase manipulation traces in the wild, so a
detector must learn cues that survive them; flips, crops and colour changes keep it from
memorising one recording. Applied after self-blending, to reals and fakes alike.
"""

from __future__ import annotations

import albumentations as A
import cv2
import numpy as np

from detector.training.config import AugmentConfig


def training_augmentations(
    size: int,
    strength: float = 1.0,
    seed: int | None = None,
    downscale_range: tuple[float, float] = (0.5, 0.9),
    downscale_p: float = 0.2,
) -> A.Compose:
    """Seventeen transforms on an RGB uint8 square crop, output ``size`` x ``size``.

    ``strength`` scales every probability (0 turns augmentation off but keeps the resize).
    ``downscale_range``/``downscale_p``: the down-then-up resize that stands for a small face.
    """
    p = float(np.clip(strength, 0.0, 1.0))
    return A.Compose(
        [
            A.HorizontalFlip(p=0.5 * p),
            A.RandomResizedCrop(size=(size, size), scale=(0.8, 1.0), ratio=(0.9, 1.1), p=1.0 if p > 0 else 0.0),
            A.Resize(size, size),
            A.Affine(rotate=(-8, 8), translate_percent=(-0.03, 0.03), border_mode=1, p=0.3 * p),
            A.OneOf(
                [
                    A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.2),
                    A.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2, hue=0.03),
                    A.HueSaturationValue(hue_shift_limit=8, sat_shift_limit=20, val_shift_limit=15),
                    A.RGBShift(r_shift_limit=12, g_shift_limit=12, b_shift_limit=12),
                    A.RandomGamma(gamma_limit=(80, 120)),
                    A.CLAHE(clip_limit=2.0),
                ],
                p=0.6 * p,
            ),
            A.ToGray(p=0.05 * p),
            A.OneOf(
                [
                    A.GaussianBlur(blur_limit=(3, 5)),
                    A.MotionBlur(blur_limit=(3, 7)),
                    A.Sharpen(alpha=(0.1, 0.3), lightness=(0.9, 1.1)),
                ],
                p=0.25 * p,
            ),
            A.OneOf(
                [
                    A.GaussNoise(std_range=(0.01, 0.05)),
                    A.ISONoise(color_shift=(0.01, 0.04), intensity=(0.1, 0.4)),
                ],
                p=0.25 * p,
            ),
            A.Downscale(scale_range=tuple(downscale_range), p=min(1.0, downscale_p) * p),
            A.ImageCompression(quality_range=(40, 95), p=0.5 * p),
            A.CoarseDropout(
                num_holes_range=(1, 2), hole_height_range=(0.05, 0.15), hole_width_range=(0.05, 0.15), p=0.1 * p
            ),
        ],
        seed=seed,
    )


def recipe_augmentations(
    size: int,
    downscale_range: tuple[float, float] = (0.4, 0.9),
    downscale_p: float = 0.3,
    jpeg_quality_range: tuple[int, int] = (40, 95),
    jpeg_p: float = 0.5,
    seed: int | None = None,
) -> A.Compose:
    """The measured self-blend recipe's augmentation: flip, down-then-up resize, JPEG, then resize to ``size``.

    Both classes go through it, so neither resampling nor compression can tell them apart. The JPEG
    is applied at the crop's own resolution before the final resize, as a video's compression is
    applied before the pipeline resizes its face crop.
    """
    return A.Compose(
        [
            A.HorizontalFlip(p=0.5),
            A.Downscale(
                scale_range=tuple(downscale_range),
                interpolation_pair={"downscale": cv2.INTER_AREA, "upscale": cv2.INTER_LINEAR},
                p=downscale_p,
            ),
            A.ImageCompression(quality_range=tuple(jpeg_quality_range), p=jpeg_p),
            A.Resize(size, size, interpolation=cv2.INTER_AREA),
        ],
        seed=seed,
    )


def count_transforms(compose: A.BaseCompose) -> int:
    """Distinct leaf transforms in a pipeline (what the "at least 15 augmentations" count means)."""
    total = 0
    for transform in compose.transforms:
        total += count_transforms(transform) if isinstance(transform, A.BaseCompose) else 1
    return total


def augmentations_for(config: AugmentConfig, size: int) -> A.Compose | None:
    """The training pipeline a config asks for, or None when augmentation is off."""
    if not config.enabled or not config.strength:
        return None
    if config.pipeline == "recipe":
        return recipe_augmentations(
            size, config.downscale_range, config.downscale_p, config.jpeg_quality_range, config.jpeg_p
        )
    return training_augmentations(
        size, config.strength, downscale_range=config.downscale_range, downscale_p=config.downscale_p
    )
