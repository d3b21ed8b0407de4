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


def h264_roundtrip(image: np.ndarray, crf: int, preset: str = "veryfast") -> np.ndarray:
    """``image`` (RGB uint8) encoded as one H.264 frame at ``crf`` (4:2:0, as videos are) and decoded back.

    What a video's codec does to a face that JPEG does not: 4:2:0 chroma, 4x4/8x8 integer transforms,
    and the in-loop deblocking filter that smooths a blend's boundary away (FaceForensics++ c40 is x264
    at a quantiser of 40). Odd sizes are padded by edge replication and cropped back.
    """
    import av

    height, width = image.shape[:2]
    padded = np.pad(image, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = padded.shape[1], padded.shape[0], "yuv420p"
    encoder.options = {"crf": str(int(crf)), "preset": preset}
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(padded), format="rgb24").reformat(format="yuv420p")
    packets = [*encoder.encode(frame), *encoder.encode(None)]
    decoder = av.CodecContext.create("h264", "r")
    frames = [decoded for packet in packets for decoded in decoder.decode(packet)]
    frames.extend(decoder.decode(None))
    return frames[0].to_ndarray(format="rgb24")[:height, :width]


class VideoCompression(A.ImageOnlyTransform):
    """H.264 round trip at a CRF drawn from ``crf_range`` (albumentations transform, seeded like the rest)."""

    def __init__(self, crf_range: tuple[int, int] = (23, 40), p: float = 0.5) -> None:
        super().__init__(p=p)
        low, high = (int(v) for v in crf_range)
        if not 0 <= low <= high <= 51:
            raise ValueError(f"crf_range {crf_range} is not within 0-51, low to high")
        self.crf_range = (low, high)

    def get_params(self) -> dict[str, int]:
        return {"crf": self.py_random.randint(*self.crf_range)}

    def apply(self, img: np.ndarray, crf: int = 23, **params: object) -> np.ndarray:
        return h264_roundtrip(img, crf)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("crf_range",)


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
    video_crf_range: tuple[int, int] = (23, 40),
    video_p: float = 0.0,
) -> A.Compose:
    """The measured self-blend recipe's augmentation: flip, down-then-up resize, JPEG, then resize to ``size``.

    Both classes go through it, so neither resampling nor compression can tell them apart. The JPEG
    is applied at the crop's own resolution before the final resize, as a video's compression is
    applied before the pipeline resizes its face crop. ``video_p`` > 0 adds an H.264 round trip
    (``video_crf_range``) after the JPEG, as a re-encoded upload would see both.
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
            VideoCompression(crf_range=tuple(video_crf_range), p=video_p),
            A.Resize(size, size, interpolation=cv2.INTER_AREA),
        ],
        seed=seed,
    )


def synthesis_augmentations(
    size: int,
    downscale_range: tuple[float, float] = (0.35, 0.95),
    downscale_p: float = 0.5,
    jpeg_quality_range: tuple[int, int] = (30, 100),
    jpeg_p: float = 0.7,
    seed: int | None = None,
) -> A.Compose:
    """For whole-face synthesis detectors: what a portrait goes through before an analyst receives it.

    Down-then-up resizing (with a random resampling filter: photos are resized by many tools), blur,
    sensor-like noise, mild colour changes and JPEG re-compression, on reals and fakes alike, so the
    up-sampling traces of a generator must be told from those of ordinary resizing and compression rather
    than from the file format or the resolution. Only a horizontal flip moves pixels: a rotation or a
    random crop would resample every image and blur the spectrum the model reads.
    """
    filters = [cv2.INTER_AREA, cv2.INTER_LINEAR, cv2.INTER_CUBIC]
    return A.Compose(
        [
            A.HorizontalFlip(p=0.5),
            A.OneOf(
                [
                    A.Downscale(
                        scale_range=tuple(downscale_range),
                        interpolation_pair={"downscale": down, "upscale": up},
                    )
                    for down in filters
                    for up in (cv2.INTER_LINEAR, cv2.INTER_CUBIC)
                ],
                p=downscale_p,
            ),
            A.OneOf(
                [A.GaussianBlur(blur_limit=(3, 5), sigma_limit=(0.3, 1.2)), A.MotionBlur(blur_limit=(3, 5))], p=0.2
            ),
            A.OneOf(
                [A.GaussNoise(std_range=(0.005, 0.04)), A.ISONoise(color_shift=(0.01, 0.03), intensity=(0.1, 0.3))],
                p=0.2,
            ),
            A.OneOf(
                [
                    A.RandomBrightnessContrast(brightness_limit=0.15, contrast_limit=0.15),
                    A.HueSaturationValue(hue_shift_limit=5, sat_shift_limit=15, val_shift_limit=10),
                    A.RandomGamma(gamma_limit=(85, 115)),
                ],
                p=0.3,
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
    if config.pipeline == "synthesis":
        return synthesis_augmentations(
            size, config.downscale_range, config.downscale_p, config.jpeg_quality_range, config.jpeg_p
        )
    if config.pipeline == "recipe":
        return recipe_augmentations(
            size,
            config.downscale_range,
            config.downscale_p,
            config.jpeg_quality_range,
            config.jpeg_p,
            video_crf_range=config.video_crf_range,
            video_p=config.video_p,
        )
    return training_augmentations(
        size, config.strength, downscale_range=config.downscale_range, downscale_p=config.downscale_p
    )
