"""Find faces in sampled frames (facenet-pytorch MTCNN, batched) and cut square crops.

Detection runs on a downscaled copy of each frame (boxes are mapped back to full
resolution); crops are taken from the full-resolution frame with a margin so that the
blending boundary a face swap leaves around the face stays inside the crop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import torch

# MTCNN stage thresholds from the facenet-pytorch defaults, last stage raised as the DFDC
# winners did to cut false positives on textured backgrounds.
DEFAULT_THRESHOLDS = (0.6, 0.7, 0.8)
# Frames are shrunk so their longer side is at most this before detection: 1080p becomes ~1/3
# scale, where a 40 px face is still 13 px, above MTCNN's 12 px proposal window.
DETECT_MAX_SIDE_PX = 640
# Faces smaller than this (full-frame pixels) are not searched for. MTCNN's cost is dominated by
# the finest levels of its image pyramid, which exist only to find faces near its 12 px window;
# starting the pyramid at 24 px instead of 12 px cut MTCNN's CPU time on a 640x480 clip about 3x
# (bench/RESULTS.md) while faces between this size and SMALL_FACE_PX are still found and flagged.
SEARCH_MIN_FACE_PX = 24
# Faces smaller than this are kept but flagged "small": too few pixels for the detectors to be reliable.
SMALL_FACE_PX = 40
# Faces MTCNN accepted with a final-stage probability below this are kept but flagged "low_confidence".
LOW_CONFIDENCE = 0.95
# MTCNN's proposal network slides a 12 px window; it cannot look for anything smaller.
MTCNN_WINDOW_PX = 12


@dataclass
class Face:
    frame_index: int
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in full-frame pixels
    probability: float
    crop: np.ndarray = field(repr=False)  # RGB uint8, square
    track_id: int = -1
    flags: list[str] = field(default_factory=list)  # "small", "low_confidence"
    # MTCNN's five landmarks (left eye, right eye, nose, left and right mouth corner), (5, 2) frame pixels.
    landmarks: np.ndarray | None = field(default=None, repr=False)

    @property
    def size_px(self) -> float:
        return box_size_px(self.box)

    def to_dict(self) -> dict[str, Any]:
        return {
            "frame_index": self.frame_index,
            "track_id": self.track_id,
            "box": [round(float(v), 1) for v in self.box],
            "det_prob": round(float(self.probability), 4),
            "size_px": round(self.size_px, 1),
            "flags": list(self.flags),
        }


def box_size_px(box: Sequence[float]) -> float:
    """A face's size: the longer side of its (x1, y1, x2, y2) box, in the box's pixels."""
    return float(max(box[2] - box[0], box[3] - box[1]))


def square_crop(rgb: np.ndarray, box: tuple[float, float, float, float], margin: float) -> np.ndarray:
    """Square crop centred on ``box`` grown by ``margin`` per side; out-of-frame parts replicate the edge."""
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1) * (1.0 + 2.0 * margin)
    cx, cy = (x1 + x2) / 2.0, (y1 + y2) / 2.0
    left, top = round(cx - side / 2), round(cy - side / 2)
    size = max(1, round(side))
    height, width = rgb.shape[:2]
    pad_l, pad_t = max(0, -left), max(0, -top)
    pad_r, pad_b = max(0, left + size - width), max(0, top + size - height)
    region = rgb[max(0, top) : min(height, top + size), max(0, left) : min(width, left + size)]
    if pad_l or pad_t or pad_r or pad_b:
        region = cv2.copyMakeBorder(region, pad_t, pad_b, pad_l, pad_r, cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(region)


def narrow_crop(crop: np.ndarray, source_margin: float, margin: float) -> np.ndarray:
    """The centre of a square crop cut with ``source_margin``: the same face cut with ``margin``.

    A square crop with margin m around a face box of size s has side s * (1 + 2m) and the same
    centre whatever m is, so a wider crop holds every narrower one at its centre.
    """
    if abs(source_margin - margin) < 1e-9:
        return crop
    if margin > source_margin:
        raise ValueError(f"a crop with margin {margin} cannot be cut from one with margin {source_margin}")
    keep = (1.0 + 2.0 * margin) / (1.0 + 2.0 * source_margin)
    side = max(1, round(crop.shape[0] * keep))
    top, left = (crop.shape[0] - side) // 2, (crop.shape[1] - side) // 2
    return np.ascontiguousarray(crop[top : top + side, left : left + side])


class FaceFinder:
    """Batched MTCNN over frames of one size; created once per process (it holds weights).

    ``thresholds`` are MTCNN's three stage thresholds; ``detect_max_side_px`` the downscale
    before detection; ``search_min_face_px`` the smallest face searched for and
    ``small_face_px`` / ``low_confidence`` the limits below which a found face is flagged
    (all sizes in full-frame pixels). :meth:`settings` reports them with every result.
    """

    def __init__(
        self,
        device: str | torch.device = "cpu",
        thresholds: tuple[float, float, float] = DEFAULT_THRESHOLDS,
        detect_max_side_px: int = DETECT_MAX_SIDE_PX,
        search_min_face_px: int = SEARCH_MIN_FACE_PX,
        small_face_px: int = SMALL_FACE_PX,
        low_confidence: float = LOW_CONFIDENCE,
        batch_size: int = 16,
    ) -> None:
        from facenet_pytorch import MTCNN

        thresholds = tuple(float(t) for t in thresholds)
        if len(thresholds) != 3 or not all(0.0 < t < 1.0 for t in thresholds):
            raise ValueError(f"MTCNN needs three stage thresholds in (0, 1), got {thresholds}")
        if detect_max_side_px < 64:
            raise ValueError(f"detect_max_side_px must be at least 64, got {detect_max_side_px}")
        if search_min_face_px < 1 or small_face_px < 0:
            raise ValueError("face sizes must be positive")
        if not 0.0 <= low_confidence <= 1.0:
            raise ValueError(f"low_confidence must be in [0, 1], got {low_confidence}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.device = torch.device(device)
        self.thresholds = thresholds
        self.detect_max_side_px = int(detect_max_side_px)
        self.search_min_face_px = int(search_min_face_px)
        self.small_face_px = int(small_face_px)
        self.low_confidence = float(low_confidence)
        self.batch_size = int(batch_size)
        # min_face_size is set per batch from search_min_face_px and the detection scale.
        self.mtcnn = MTCNN(
            keep_all=True,
            device=self.device,
            thresholds=list(thresholds),
            min_face_size=MTCNN_WINDOW_PX,
            post_process=False,
            select_largest=False,
        )

    def settings(self) -> dict[str, Any]:
        return {
            "detector": "mtcnn",
            "thresholds": list(self.thresholds),
            "detect_max_side_px": self.detect_max_side_px,
            "search_min_face_px": self.search_min_face_px,
            "small_face_px": self.small_face_px,
            "low_confidence": self.low_confidence,
            "batch_size": self.batch_size,
        }

    def detection_scale(self, height: int, width: int) -> float:
        return min(1.0, self.detect_max_side_px / max(height, width))

    def mtcnn_min_face_size(self, height: int, width: int) -> int:
        """MTCNN's ``min_face_size`` at detection scale: the search limit scaled, within what MTCNN can do.

        Never below its 12 px window, and never above the frame's shorter side at detection
        scale (MTCNN builds no pyramid at all then, and fails).
        """
        scale = self.detection_scale(height, width)
        shorter = max(MTCNN_WINDOW_PX, int(min(height, width) * scale))
        return int(min(shorter, max(MTCNN_WINDOW_PX, round(self.search_min_face_px * scale))))

    def _detect_batch(
        self, frames: list[np.ndarray]
    ) -> list[tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]]:
        height, width = frames[0].shape[:2]
        scale = self.detection_scale(height, width)
        if min(height, width) * scale < MTCNN_WINDOW_PX:
            # A sliver of a frame (e.g. 7680x16) shrinks below MTCNN's window: no face can be in it.
            return [(None, None, None)] * len(frames)
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            small = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]
        else:
            small = frames
        self.mtcnn.min_face_size = self.mtcnn_min_face_size(height, width)
        with torch.inference_mode():
            # The landmarks come from MTCNN's last stage at no extra cost; self-blending draws its masks from them.
            boxes, probs, points = self.mtcnn.detect(np.stack(small), landmarks=True)
        out = []
        for b, p, q in zip(boxes, probs, points, strict=True):
            if b is None:
                out.append((None, None, None))
            else:
                marks = None if q is None else np.asarray(q, dtype=np.float64).reshape(-1, 5, 2) / scale
                out.append((np.asarray(b, dtype=np.float64) / scale, np.asarray(p, dtype=np.float64), marks))
        return out

    def find(self, frames: list[tuple[int, np.ndarray]], margin: float = 0.3) -> list[list[Face]]:
        """Faces per frame for ``(frame_index, rgb)`` pairs, in the same order."""
        results: list[list[Face]] = []
        # MTCNN batches only frames of equal size; video frames are, images come one by one.
        groups: dict[tuple[int, int], list[int]] = {}
        for pos, (_, rgb) in enumerate(frames):
            groups.setdefault(rgb.shape[:2], []).append(pos)
        by_pos: dict[int, list[Face]] = {}
        for positions in groups.values():
            for start in range(0, len(positions), self.batch_size):
                chunk = positions[start : start + self.batch_size]
                detections = self._detect_batch([frames[p][1] for p in chunk])
                for pos, (boxes, probs, marks) in zip(chunk, detections, strict=True):
                    index, rgb = frames[pos]
                    by_pos[pos] = self._faces_from_boxes(index, rgb, boxes, probs, margin, marks)
        for pos in range(len(frames)):
            results.append(by_pos.get(pos, []))
        return results

    def _faces_from_boxes(
        self,
        index: int,
        rgb: np.ndarray,
        boxes: np.ndarray | None,
        probs: np.ndarray | None,
        margin: float,
        marks: np.ndarray | None = None,
    ) -> list[Face]:
        if boxes is None or probs is None:
            return []
        height, width = rgb.shape[:2]
        faces = []
        for n, (box, prob) in enumerate(zip(boxes, probs, strict=True)):
            x1, y1, x2, y2 = (float(v) for v in box)
            x1, y1 = max(0.0, x1), max(0.0, y1)
            x2, y2 = min(float(width), x2), min(float(height), y2)
            if x2 - x1 < 2 or y2 - y1 < 2:
                continue
            flags = []
            if box_size_px((x1, y1, x2, y2)) < self.small_face_px:
                flags.append("small")
            if prob < self.low_confidence:
                flags.append("low_confidence")
            crop = square_crop(rgb, (x1, y1, x2, y2), margin)
            landmarks = marks[n] if marks is not None and n < len(marks) else None
            faces.append(Face(index, (x1, y1, x2, y2), float(prob), crop, flags=flags, landmarks=landmarks))
        return faces
