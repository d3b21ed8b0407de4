"""Find faces in sampled frames (MTCNN, batched) and cut square crops.

Detection runs on a downscaled copy of each frame (boxes are mapped back to full
resolution); crops are taken from the full-resolution frame with a margin so that the
blending boundary a face swap leaves around the face stays inside the crop.

With ``detect_every`` above 1 the frames of a video are not all searched alike: MTCNN searches every
``detect_every``-th sampled frame (and the last) for faces of any size, and where those keyframes show
the same faces, the frames between them are searched only for faces of about their size: MTCNN's image
pyramid then starts from the known face size instead of the smallest, on the very levels a full search
has (its finest levels, which only find small faces, are left out). A face found that way is what a full
search finds (on the 71 labelled clips, every video's score within 0.0004 of searching every frame in
full; bench/RESULTS.md) at a fraction of the cost. Where the keyframes' faces differ (a face comes or
goes), the frames between are searched in full, and so is a frame between where the guided search found
fewer faces than the keyframes show (one shrank faster than it allows for).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import cv2
import numpy as np
import torch

from detector.mtcnn import PYRAMID_FACTOR, BatchedMTCNN

# MTCNN stage thresholds from the facenet-pytorch defaults, last stage raised as the DFDC
# winners did to cut false positives on textured backgrounds.
DEFAULT_THRESHOLDS = (0.6, 0.7, 0.8)
# Frames are shrunk so their longer side is at most this before detection: 1080p becomes ~1/3
# scale, where a 40 px face is still 13 px, above MTCNN's 12 px proposal window.
DETECT_MAX_SIDE_PX = 640
# Faces kept per frame, largest first: a crowd (or a frame crafted to be all faces) would otherwise
# mean one crop and one forward pass per detector for every face. The rest are counted, not scored.
MAX_FACES_PER_FRAME = 16


class FrameFaces(list):
    """The faces kept on one frame, and how many more were found but not kept (MAX_FACES_PER_FRAME)."""

    dropped: int = 0


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
# Sampled frames searched in full: every DETECT_EVERY-th and the last; the frames between are searched
# for faces of the size found on them (module docstring). With 4, keyframes of a 10 s clip sampled at 32
# frames are 1.2 s apart. Measured (bench/RESULTS.md): a 1080p clip 3.01 -> 1.82 s on 2 CPU cores, the
# same scores as 1 (within 0.0004 on 71 clips).
DETECT_EVERY = 4
# A frame between keyframes looks only for faces at least this share of the smallest face on its
# keyframes (a face does not halve in size within a second).
GUIDED_MIN_FACE_RATIO = 0.5


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
        return cv2.copyMakeBorder(region, pad_t, pad_b, pad_l, pad_r, cv2.BORDER_REPLICATE)
    # A copy, never a view: a crop as wide as the frame would otherwise keep the whole frame alive.
    return region.copy()


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
    """Batched MTCNN over the sampled frames of a video or an image; created once per process (it holds weights).

    ``thresholds`` are MTCNN's three stage thresholds; ``detect_max_side_px`` the downscale
    before detection; ``search_min_face_px`` the smallest face searched for and
    ``small_face_px`` / ``low_confidence`` the limits below which a found face is flagged
    (all sizes in full-frame pixels). ``detect_every`` and ``guided_min_face_ratio`` set how much
    of a video is searched in full (module docstring; ``detect_every=1`` searches every frame in
    full). :meth:`settings` reports them with every result.
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
        detect_every: int = DETECT_EVERY,
        guided_min_face_ratio: float = GUIDED_MIN_FACE_RATIO,
    ) -> None:
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
        if detect_every < 1:
            raise ValueError(f"detect_every must be at least 1, got {detect_every}")
        if not 0.0 < guided_min_face_ratio <= 1.0:
            raise ValueError(f"guided_min_face_ratio must be in (0, 1], got {guided_min_face_ratio}")
        self.device = torch.device(device)
        self.thresholds = thresholds
        self.detect_max_side_px = int(detect_max_side_px)
        self.search_min_face_px = int(search_min_face_px)
        self.small_face_px = int(small_face_px)
        self.low_confidence = float(low_confidence)
        self.batch_size = int(batch_size)
        self.detect_every = int(detect_every)
        self.guided_min_face_ratio = float(guided_min_face_ratio)
        self.mtcnn = BatchedMTCNN(self.device)

    def settings(self) -> dict[str, Any]:
        return {
            "detector": "mtcnn",
            "thresholds": list(self.thresholds),
            "detect_max_side_px": self.detect_max_side_px,
            "search_min_face_px": self.search_min_face_px,
            "small_face_px": self.small_face_px,
            "low_confidence": self.low_confidence,
            "batch_size": self.batch_size,
            "detect_every": self.detect_every,
            "guided_min_face_ratio": self.guided_min_face_ratio,
        }

    def detection_scale(self, height: int, width: int) -> float:
        return min(1.0, self.detect_max_side_px / max(height, width))

    def mtcnn_min_face_size(self, height: int, width: int, search_px: float | None = None) -> float:
        """MTCNN's smallest face at detection scale: the search limit scaled, within what MTCNN can do.

        Never below its 12 px window, and never above the frame's shorter side at detection scale
        (MTCNN builds no pyramid at all then, and fails). ``search_px`` (full-frame pixels, larger than
        ``search_min_face_px``) narrows a guided search: the size returned is then the largest at most
        ``search_px`` whose pyramid is the tail of the full search's pyramid (``pyramid_scales``: the
        same levels, the finest left out), so the faces it finds are the ones a full search finds.
        """
        scale = self.detection_scale(height, width)
        shorter = max(MTCNN_WINDOW_PX, int(min(height, width) * scale))
        full = int(min(shorter, max(MTCNN_WINDOW_PX, round(self.search_min_face_px * scale))))
        if search_px is None or search_px * scale <= full:
            return full
        levels_left_out = math.floor(math.log(full / (search_px * scale)) / math.log(PYRAMID_FACTOR) + 1e-9)
        guided = full / PYRAMID_FACTOR**levels_left_out
        return guided if guided <= shorter else full

    def _detect(
        self, frames: list[np.ndarray], search_px: float | None = None
    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(boxes, probabilities, landmarks) per frame of one size, in full-frame pixels, batch by batch."""
        height, width = frames[0].shape[:2]
        scale = self.detection_scale(height, width)
        if min(height, width) * scale < MTCNN_WINDOW_PX:
            # A sliver of a frame (e.g. 7680x16) shrinks below MTCNN's window: no face can be in it.
            return [(np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2)))] * len(frames)
        min_face = self.mtcnn_min_face_size(height, width, search_px)
        out = []
        for start in range(0, len(frames), self.batch_size):
            chunk = frames[start : start + self.batch_size]
            if scale < 1.0:
                size = (max(1, round(width * scale)), max(1, round(height * scale)))
                chunk = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in chunk]
            # The landmarks come from MTCNN's last stage at no extra cost; self-blending draws its masks from them.
            for found in self.mtcnn.detect(chunk, min_face, self.thresholds):
                out.append((found.boxes / scale, found.probs, found.landmarks / scale))
        return out

    def find(self, frames: Iterable[tuple[int, np.ndarray]], margin: float = 0.3) -> list[list[Face]]:
        """Faces per frame for ``(frame_index, rgb)`` pairs (a video's in time order), in the same order.

        ``frames`` may still be being decoded (an iterator): each batch of keyframes is searched as soon
        as its frames have arrived, in the same batches as for a list, so the faces found are the same.
        """
        # MTCNN batches only frames of equal size; video frames are, images come one by one.
        sequences: dict[tuple[int, int], _SequenceSearch] = {}
        order: list[tuple[tuple[int, int], int]] = []  # each frame's sequence and position in it
        for index, rgb in frames:
            sequence = sequences.setdefault(rgb.shape[:2], _SequenceSearch(self, margin))
            order.append((rgb.shape[:2], len(sequence.frames)))
            sequence.add(index, rgb)
        found = {shape: sequence.finish() for shape, sequence in sequences.items()}
        return [found[shape][pos] for shape, pos in order]

    def _face(
        self,
        index: int,
        rgb: np.ndarray,
        box: tuple[float, float, float, float],
        probability: float,
        margin: float,
        landmarks: np.ndarray | None,
    ) -> Face:
        flags = []
        if box_size_px(box) < self.small_face_px:
            flags.append("small")
        if probability < self.low_confidence:
            flags.append("low_confidence")
        crop = square_crop(rgb, box, margin)
        return Face(index, box, float(probability), crop, flags=flags, landmarks=landmarks)

    def _faces_from_boxes(
        self,
        index: int,
        rgb: np.ndarray,
        boxes: np.ndarray,
        probs: np.ndarray,
        marks: np.ndarray,
        margin: float,
    ) -> list[Face]:
        height, width = rgb.shape[:2]
        candidates = []
        for n, (box, prob) in enumerate(zip(boxes, probs, strict=True)):
            x1, y1, x2, y2 = (float(v) for v in box)
            x1, y1 = max(0.0, x1), max(0.0, y1)
            x2, y2 = min(float(width), x2), min(float(height), y2)
            if x2 - x1 < 2 or y2 - y1 < 2:
                continue
            candidates.append((n, (x1, y1, x2, y2), float(prob)))
        # The largest are kept (in the detector's order), before any crop is cut: the faces beyond the
        # cap cost nothing but their count.
        by_area = sorted(candidates, key=lambda c: (c[1][2] - c[1][0]) * (c[1][3] - c[1][1]), reverse=True)
        kept = sorted(by_area[:MAX_FACES_PER_FRAME], key=lambda c: c[0])
        faces = FrameFaces(
            self._face(index, rgb, box, prob, margin, marks[n] if n < len(marks) else None) for n, box, prob in kept
        )
        faces.dropped = max(0, len(candidates) - MAX_FACES_PER_FRAME)
        return faces


class _SequenceSearch:
    """Keyframes searched in full, the frames between them for faces of the keyframes' size where they agree.

    Frames of one size come in one at a time (:meth:`add`): keyframes are every ``detect_every``-th and the
    last. They are searched as soon as a batch of them is complete, a batch being the keyframes of
    ``batch_size`` sampled frames (``ceil(batch_size / detect_every)`` keyframes: all of a batch's frames,
    never more than ``batch_size`` keyframes), and the frames between two searched keyframes are dealt with
    right after: while a video is still being decoded, MTCNN works on what has arrived.
    """

    def __init__(self, finder: FaceFinder, margin: float) -> None:
        self.finder = finder
        self.margin = margin
        self.frames: list[tuple[int, np.ndarray]] = []
        self.faces: dict[int, list[Face]] = {}
        self.unsearched_keys: list[int] = []
        self.last_searched_key: int | None = None  # the frames up to it are dealt with
        self.keys_per_batch = -(-finder.batch_size // finder.detect_every)

    def add(self, index: int, rgb: np.ndarray) -> None:
        pos = len(self.frames)
        self.frames.append((index, rgb))
        if pos % self.finder.detect_every == 0:
            self.unsearched_keys.append(pos)
        # The last frame, a keyframe too, is known only at the end: it always falls in the last batch.
        if len(self.unsearched_keys) == self.keys_per_batch:
            self._search_keys()

    def _search(self, positions: list[int], search_px: float | None = None) -> None:
        """The faces on the frames at ``positions``, searched from ``search_px`` up (None: any size)."""
        found = self.finder._detect([self.frames[p][1] for p in positions], search_px)
        for pos, detections in zip(positions, found, strict=True):
            self.faces[pos] = self.finder._faces_from_boxes(*self.frames[pos], *detections, self.margin)

    def _search_keys(self) -> None:
        keys, self.unsearched_keys = self.unsearched_keys, []
        self._search(keys)
        previous = [] if self.last_searched_key is None else [self.last_searched_key]
        for before, after in pairwise(previous + keys):
            self._between(before, after)
        self.last_searched_key = keys[-1]

    def _between(self, before: int, after: int) -> None:
        """Faces on the frames between two searched keyframes: of about their faces' size where they agree."""
        faces = self.faces
        between = list(range(before + 1, after))
        if not between:
            return
        known = [f.size_px for f in faces[before] + faces[after]]
        # The same faces on both keyframes: nothing much smaller comes and goes in between. Otherwise
        # (a face comes or goes, or none is there) the frames between are searched for faces of any size.
        same = known and _pair_faces(faces[before], faces[after]) is not None
        guided = self.finder.guided_min_face_ratio * min(known) if same else None
        self._search(between, guided)
        if guided is not None:
            # Fewer faces than both keyframes show: one shrank (or turned) faster than the guided search
            # allows for. Those frames are searched again in full.
            again = [pos for pos in between if len(faces[pos]) < len(faces[before])]
            if again:
                self._search(again)

    def finish(self) -> list[list[Face]]:
        count = len(self.frames)
        if count and (count - 1) % self.finder.detect_every:
            self.unsearched_keys.append(count - 1)
        if self.unsearched_keys:
            self._search_keys()
        return [self.faces[pos] for pos in range(count)]


def _pair_faces(first: list[Face], last: list[Face]) -> list[tuple[Face, Face]] | None:
    """Each face of one keyframe with the same face on the next (tracking's matching); None unless all pair up."""
    from detector.tracking import IOU_MATCH, match_priority

    if len(first) != len(last):
        return None
    candidates = sorted(
        (
            (key, i, j)
            for i, a in enumerate(first)
            for j, b in enumerate(last)
            if (key := match_priority(a.box, b.box, IOU_MATCH)) is not None
        ),
        reverse=True,
    )
    used_first: set[int] = set()
    used_last: set[int] = set()
    pairs = []
    for _key, i, j in candidates:
        if i in used_first or j in used_last:
            continue
        used_first.add(i)
        used_last.add(j)
        pairs.append((first[i], last[j]))
    return pairs if len(pairs) == len(first) else None
