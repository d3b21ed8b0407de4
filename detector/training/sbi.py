"""Self-blended images (SBI; Shiohara & Yamasaki, CVPR 2022): pseudo-fakes made from real faces alone.

A real crop is blended into a changed copy of itself (colour-jittered, sharpened or blurred,
down- and up-scaled, slightly shifted and scaled) through a soft mask inside the face box. The
result carries the generic traces of a face swap (a blending boundary, colour and frequency
mismatch, a small misalignment) without any one generator's fingerprint. The paper's mask is
the convex hull of facial landmarks; our face pipeline gives boxes only, so the mask is a random
ellipse or polygon inside the face box, randomly deformed and blurred.

Every random choice comes from the ``numpy.random.Generator`` passed in: same seed, same image.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# SBI draws the blend ratio from this list (their code: [0.25, 0.5, 0.75, 1, 1, 1]).
BLEND_RATIOS = (0.25, 0.5, 0.75, 1.0, 1.0, 1.0)


@dataclass(frozen=True)
class SelfBlendSettings:
    max_shift: float = 0.03  # share of the face size the source may move
    scale_range: tuple[float, float] = (0.95, 1.05)
    downscale_range: tuple[float, float] = (0.35, 0.9)  # source's down-then-up resize factor
    mask_shrink_range: tuple[float, float] = (0.7, 1.0)  # mask extent as a share of the face box
    deform_px_share: float = 0.06  # amplitude of the smooth mask deformation, share of face size
    blur_share_range: tuple[float, float] = (0.04, 0.15)  # mask blur kernel, share of face size


def _odd(value: float) -> int:
    value = max(3, int(value))
    return value if value % 2 else value + 1


def _jitter_colour(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = image.astype(np.float32)
    out = out * rng.uniform(0.9, 1.1) + rng.uniform(-20, 20)  # contrast, brightness
    out += rng.uniform(-20, 20, size=3)  # per-channel shift (RGBShift)
    hsv = cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-5, 5)) % 180
    hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(0.8, 1.2), 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def _change_frequency(image: np.ndarray, rng: np.random.Generator, settings: SelfBlendSettings) -> np.ndarray:
    """Down-and-up resize (always), then sharpen or blur (sometimes): the blended region's spectrum differs."""
    height, width = image.shape[:2]
    factor = rng.uniform(*settings.downscale_range)
    small = cv2.resize(image, (max(4, int(width * factor)), max(4, int(height * factor))), interpolation=cv2.INTER_AREA)
    out = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    choice = rng.integers(0, 3)
    if choice == 1:
        blurred = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 1.5))
        out = cv2.addWeighted(out, 1.5, blurred, -0.5, 0)
    elif choice == 2:
        out = cv2.GaussianBlur(out, (3, 3), rng.uniform(0.3, 1.0))
    return out


def _shift_and_scale(image: np.ndarray, face: np.ndarray, rng: np.random.Generator, settings: SelfBlendSettings):
    x1, y1, x2, y2 = face
    size = max(x2 - x1, y2 - y1)
    scale = rng.uniform(*settings.scale_range)
    dx, dy = rng.uniform(-settings.max_shift, settings.max_shift, size=2) * size
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    matrix = np.array([[scale, 0, (1 - scale) * cx + dx], [0, scale, (1 - scale) * cy + dy]], dtype=np.float64)
    return cv2.warpAffine(image, matrix, image.shape[1::-1], borderMode=cv2.BORDER_REFLECT)


def random_face_mask(
    shape: tuple[int, int],
    face_box: np.ndarray,
    rng: np.random.Generator,
    settings: SelfBlendSettings = SelfBlendSettings(),
) -> np.ndarray:
    """A soft float32 mask in [0, 1], zero outside ``face_box``: ellipse or polygon, deformed, blurred."""
    height, width = shape
    x1, y1, x2, y2 = (float(v) for v in face_box)
    x1, y1 = max(0.0, x1), max(0.0, y1)
    x2, y2 = min(float(width), x2), min(float(height), y2)
    face_size = max(2.0, min(x2 - x1, y2 - y1))
    ksize = _odd(face_size * rng.uniform(*settings.blur_share_range))
    deform = settings.deform_px_share * face_size
    # Keep the shape far enough inside the box that neither deformation nor blur can leave it.
    pad = ksize // 2 + 1
    ix1, iy1, ix2, iy2 = x1 + pad, y1 + pad, x2 - pad, y2 - pad
    if ix2 - ix1 < 4 or iy2 - iy1 < 4:
        return np.zeros(shape, dtype=np.float32)
    cx, cy = (ix1 + ix2) / 2, (iy1 + iy2) / 2
    extent = rng.uniform(*settings.mask_shrink_range)
    ax = (ix2 - ix1) / 2 * extent - deform
    ay = (iy2 - iy1) / 2 * extent - deform
    ax, ay = max(2.0, ax), max(2.0, ay)
    mask = np.zeros(shape, dtype=np.uint8)
    if rng.random() < 0.5:
        angle = rng.uniform(-15, 15)
        cv2.ellipse(mask, (round(cx), round(cy)), (round(ax), round(ay)), angle, 0, 360, 255, thickness=-1)
    else:
        n = int(rng.integers(5, 11))
        angles = np.sort(rng.uniform(0, 2 * np.pi, size=n))
        radii = rng.uniform(0.7, 1.0, size=n)
        points = np.stack([cx + ax * radii * np.cos(angles), cy + ay * radii * np.sin(angles)], axis=1)
        hull = cv2.convexHull(points.astype(np.float32)).astype(np.int32)
        cv2.fillConvexPoly(mask, hull, 255)
    # Smooth random deformation: a coarse random displacement field, upsampled.
    grid = 4
    field_x = cv2.resize(rng.uniform(-deform, deform, size=(grid, grid)).astype(np.float32), (width, height))
    field_y = cv2.resize(rng.uniform(-deform, deform, size=(grid, grid)).astype(np.float32), (width, height))
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    mask = cv2.remap(mask, xs + field_x, ys + field_y, cv2.INTER_LINEAR, borderValue=0).astype(np.float32) / 255.0
    inside = np.zeros(shape, dtype=np.float32)
    inside[int(np.ceil(iy1)) : int(iy2), int(np.ceil(ix1)) : int(ix2)] = 1.0
    mask *= inside
    return cv2.GaussianBlur(mask, (ksize, ksize), 0, borderType=cv2.BORDER_CONSTANT)


def self_blend(
    crop: np.ndarray,
    face_box: np.ndarray,
    rng: np.random.Generator,
    settings: SelfBlendSettings = SelfBlendSettings(),
) -> tuple[np.ndarray, np.ndarray]:
    """Blend ``crop`` (RGB uint8) with a changed copy of itself; return the pseudo-fake and its mask."""
    target = crop
    source = crop.copy()
    # SBI changes either the source or the target so neither side is always the pristine one.
    if rng.random() < 0.5:
        source = _jitter_colour(source, rng)
    else:
        target = _jitter_colour(target, rng)
    source = _change_frequency(source, rng, settings)
    source = _shift_and_scale(source, np.asarray(face_box, dtype=np.float64), rng, settings)
    mask = random_face_mask(crop.shape[:2], face_box, rng, settings)
    mask = mask * float(rng.choice(BLEND_RATIOS))
    blended = source.astype(np.float32) * mask[..., None] + target.astype(np.float32) * (1.0 - mask[..., None])
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8), mask
