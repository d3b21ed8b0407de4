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


# --- Landmark-shaped self-blends: the recipe that generalised (issue 15), and its switchable additions ---


@dataclass(frozen=True)
class LandmarkBlendSettings:
    """How a landmark-hull self-blend is made. Defaults are the measured recipe; the ``*_p`` ideas are off.

    Recipe: the source is the same face with a colour gain and offset per channel, Gaussian blur
    half the time, and a small rotation, scale and shift; the mask is the convex hull of MTCNN's
    five landmarks plus four points from the box, its edge blurred, its opacity 0.6-1.0.
    """

    gain_range: tuple[float, float] = (0.9, 1.1)
    offset_range: tuple[float, float] = (-12.0, 12.0)  # per channel, 0-255 scale
    blur_p: float = 0.5
    blur_sigma_range: tuple[float, float] = (0.5, 1.5)
    rotate_deg: float = 3.0
    scale_range: tuple[float, float] = (0.95, 1.05)
    shift_share: float = 0.03  # of the face width
    edge_blur_share_range: tuple[float, float] = (0.05, 0.15)  # mask blur kernel, share of the face width
    alpha_range: tuple[float, float] = (0.6, 1.0)
    # SBI additions, each switchable (probability per pseudo-fake; 0 turns it off):
    mask_deform_p: float = 0.0  # dilate, erode or elastically deform the hull
    partial_mask_p: float = 0.0  # only the lower face or only the eye region is blended
    quality_mismatch_p: float = 0.0  # the source alone is JPEG re-encoded or sharpened
    frequency_mismatch_p: float = 0.0  # the source alone is down-and-up resampled

    @classmethod
    def from_dict(cls, values: dict[str, float | list[float]] | None) -> LandmarkBlendSettings:
        values = dict(values or {})
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown self-blend setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def fallback_landmarks(face_box: np.ndarray) -> np.ndarray:
    """Five landmarks where an upright frontal face has them inside its box (used when MTCNN gave none)."""
    x1, y1, x2, y2 = (float(v) for v in face_box)
    w, h = x2 - x1, y2 - y1
    rel = np.array([[0.31, 0.40], [0.69, 0.40], [0.50, 0.58], [0.35, 0.78], [0.65, 0.78]])
    return np.array([x1, y1]) + rel * np.array([w, h])


def landmark_hull_points(face_box: np.ndarray, landmarks: np.ndarray | None) -> np.ndarray:
    """The recipe's nine hull points: five landmarks, two cheeks, the chin and the forehead (crop pixels).

    Cheeks at 25 % of the box height, 10 % in from each side; the chin just above the bottom;
    the forehead at 10 % of the height.
    """
    x1, y1, x2, y2 = (float(v) for v in face_box)
    w, h = x2 - x1, y2 - y1
    marks = np.asarray(landmarks, dtype=np.float64) if landmarks is not None else None
    if marks is None or marks.shape != (5, 2) or not np.isfinite(marks).all():
        marks = fallback_landmarks(face_box)
    cx = (x1 + x2) / 2.0
    extra = np.array(
        [
            [x1 + 0.10 * w, y1 + 0.25 * h],
            [x2 - 0.10 * w, y1 + 0.25 * h],
            [cx, y2 - 0.03 * h],
            [cx, y1 + 0.10 * h],
        ]
    )
    return np.concatenate([marks, extra])


def _deform_mask(mask: np.ndarray, face_width: float, rng: np.random.Generator) -> np.ndarray:
    choice = int(rng.integers(0, 3))
    if choice < 2:
        size = _odd(face_width * rng.uniform(0.03, 0.10))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        return cv2.dilate(mask, kernel) if choice == 0 else cv2.erode(mask, kernel)
    height, width = mask.shape
    amplitude = 0.05 * face_width
    field_x = cv2.resize(rng.uniform(-amplitude, amplitude, size=(4, 4)).astype(np.float32), (width, height))
    field_y = cv2.resize(rng.uniform(-amplitude, amplitude, size=(4, 4)).astype(np.float32), (width, height))
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return cv2.remap(mask, xs + field_x, ys + field_y, cv2.INTER_LINEAR, borderValue=0)


def _partial_mask(mask: np.ndarray, points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Keep the lower face (below the eyes) or the eye band (above the nose) of the hull."""
    eyes_y = float(points[:2, 1].mean())
    nose_y = float(points[2, 1])
    out = mask.copy()
    if rng.random() < 0.5:
        out[: max(0, round(eyes_y + 0.3 * (nose_y - eyes_y)))] = 0
    else:
        out[max(0, round(nose_y)) :] = 0
    return out


def landmark_mask(
    shape: tuple[int, int],
    face_box: np.ndarray,
    landmarks: np.ndarray | None,
    rng: np.random.Generator,
    settings: LandmarkBlendSettings = LandmarkBlendSettings(),
) -> np.ndarray:
    """The hull of :func:`landmark_hull_points`, optionally deformed or cut, edge blurred: float32 in [0, 1]."""
    points = landmark_hull_points(face_box, landmarks)
    mask = np.zeros(shape, dtype=np.uint8)
    hull = cv2.convexHull(np.round(points).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 255)
    face_width = max(2.0, float(face_box[2] - face_box[0]))
    if settings.mask_deform_p and rng.random() < settings.mask_deform_p:
        mask = _deform_mask(mask, face_width, rng)
    if settings.partial_mask_p and rng.random() < settings.partial_mask_p:
        mask = _partial_mask(mask, points, rng)
    ksize = _odd(face_width * rng.uniform(*settings.edge_blur_share_range))
    return cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (ksize, ksize), 0, borderType=cv2.BORDER_CONSTANT)


def _landmark_source(
    crop: np.ndarray, face_box: np.ndarray, rng: np.random.Generator, settings: LandmarkBlendSettings
) -> np.ndarray:
    """The recipe's source: colour gain and offset, blur half the time, a small rotation/scale/shift."""
    out = crop.astype(np.float32) * rng.uniform(*settings.gain_range, size=3) + rng.uniform(
        *settings.offset_range, size=3
    )
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < settings.blur_p:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(*settings.blur_sigma_range))
    if settings.frequency_mismatch_p and rng.random() < settings.frequency_mismatch_p:
        height, width = out.shape[:2]
        factor = rng.uniform(0.4, 0.8)
        shrunk = (max(4, int(width * factor)), max(4, int(height * factor)))
        small = cv2.resize(out, shrunk, interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    if settings.quality_mismatch_p and rng.random() < settings.quality_mismatch_p:
        if rng.random() < 0.5:
            quality = int(rng.integers(30, 91))
            ok, data = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
            out = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if ok else out
        else:
            blurred = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.8, 1.5))
            out = cv2.addWeighted(out, 1.6, blurred, -0.6, 0)
    x1, y1, x2, y2 = (float(v) for v in face_box)
    width = x2 - x1
    cx, cy = (x1 + x2) / 2.0, (y1 + y2) / 2.0
    matrix = cv2.getRotationMatrix2D(
        (cx, cy), rng.uniform(-settings.rotate_deg, settings.rotate_deg), rng.uniform(*settings.scale_range)
    )
    matrix[:, 2] += rng.uniform(-settings.shift_share, settings.shift_share, size=2) * width
    return cv2.warpAffine(out, matrix, out.shape[1::-1], borderMode=cv2.BORDER_REFLECT)


def landmark_blend(
    crop: np.ndarray,
    face_box: np.ndarray,
    landmarks: np.ndarray | None,
    rng: np.random.Generator,
    settings: LandmarkBlendSettings = LandmarkBlendSettings(),
) -> tuple[np.ndarray, np.ndarray]:
    """Blend ``crop`` (RGB uint8, a wide-margin cut of the frame) with a changed copy of itself.

    Returns the pseudo-fake and its mask (opacity included). Blend on a crop wider than the
    detector's own, then narrow: the mask's blurred edge and the warp's border are never cut.
    """
    face_box = np.asarray(face_box, dtype=np.float64)
    source = _landmark_source(crop, face_box, rng, settings)
    mask = landmark_mask(crop.shape[:2], face_box, landmarks, rng, settings) * float(rng.uniform(*settings.alpha_range))
    blended = source.astype(np.float32) * mask[..., None] + crop.astype(np.float32) * (1.0 - mask[..., None])
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8), mask
