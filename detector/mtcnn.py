"""MTCNN (Zhang et al. 2016) over a batch of frames, with facenet-pytorch's three networks and weights.

facenet-pytorch's ``detect_face`` cuts every candidate box of the second and third stage with its
own ``interpolate`` call: on a CPU, a 1080p talking-head frame leaves about a hundred candidates, and
those calls were 60 % of the face stage. Here each stage cuts all its candidates at once, on the CPU
or a GPU alike: the same area averages (``adaptive_avg_pool2d``'s windows), read as box sums from one
summed-area table per frame. The cascade is otherwise facenet-pytorch's: the same image pyramid (area
resampling, factor 0.709), stage thresholds, box regression, squaring and non-maximum suppression,
so detections agree with it (tests/detector/test_mtcnn.py compares them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F
from torchvision.ops import batched_nms

PNET_WINDOW_PX = 12
PYRAMID_FACTOR = 0.709


@dataclass
class Detections:
    """One frame's faces: boxes (n, 4) x1 y1 x2 y2, probabilities (n,), landmarks (n, 5, 2); pixels."""

    boxes: np.ndarray
    probs: np.ndarray
    landmarks: np.ndarray

    def __len__(self) -> int:
        return len(self.boxes)


def _empty() -> Detections:
    return Detections(np.zeros((0, 4)), np.zeros((0,)), np.zeros((0, 5, 2)))


def pyramid_scales(height: int, width: int, min_face_px: float, factor: float = PYRAMID_FACTOR) -> list[float]:
    """Scales at which the 12 px proposal window covers faces from ``min_face_px`` up to the frame's shorter side."""
    scale = PNET_WINDOW_PX / float(min_face_px)
    shorter = min(height, width) * scale
    scales = []
    while shorter >= PNET_WINDOW_PX:
        scales.append(scale)
        scale *= factor
        shorter *= factor
    return scales


def _square(boxes: torch.Tensor) -> torch.Tensor:
    """Grow each box to a square around its centre (facenet-pytorch's ``rerec``)."""
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = torch.maximum(w, h)
    out = boxes.clone()
    out[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    out[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    out[:, 2] = out[:, 0] + side
    out[:, 3] = out[:, 1] + side
    return out


def _regress(boxes: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """Apply the networks' box offsets, in units of the box's size (+1, as facenet-pytorch's ``bbreg``)."""
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    out = boxes.clone()
    out[:, 0] = boxes[:, 0] + offsets[:, 0] * w
    out[:, 1] = boxes[:, 1] + offsets[:, 1] * h
    out[:, 2] = boxes[:, 2] + offsets[:, 2] * w
    out[:, 3] = boxes[:, 3] + offsets[:, 3] * h
    return out


def _nms_min(boxes: np.ndarray, scores: np.ndarray, groups: np.ndarray, threshold: float) -> np.ndarray:
    """Greedy NMS where overlap is intersection over the smaller box, per group (the last stage's)."""
    keep: list[int] = []
    for group in np.unique(groups):
        members = np.flatnonzero(groups == group)
        x1, y1, x2, y2 = (boxes[members, i] for i in range(4))
        area = (x2 - x1 + 1) * (y2 - y1 + 1)
        order = members[np.argsort(scores[members], kind="stable")]
        local = {m: n for n, m in enumerate(members)}
        while order.size:
            best = order[-1]
            keep.append(int(best))
            rest = order[:-1]
            b, r = local[best], np.array([local[m] for m in rest], dtype=np.int64)
            iw = np.maximum(0.0, np.minimum(x2[b], x2[r]) - np.maximum(x1[b], x1[r]) + 1)
            ih = np.maximum(0.0, np.minimum(y2[b], y2[r]) - np.maximum(y1[b], y1[r]) + 1)
            overlap = iw * ih / np.minimum(area[b], area[r])
            order = rest[overlap <= threshold]
    return np.array(sorted(keep, key=lambda i: (groups[i], -scores[i])), dtype=np.int64)


class BatchedMTCNN:
    """The three MTCNN networks on one device, run over batches of equal-size RGB uint8 frames."""

    def __init__(self, device: str | torch.device = "cpu") -> None:
        from facenet_pytorch.models.mtcnn import ONet, PNet, RNet

        self.device = torch.device(device)
        self.pnet = PNet().to(self.device).eval()
        self.rnet = RNet().to(self.device).eval()
        self.onet = ONet().to(self.device).eval()

    @staticmethod
    def _cut(table: torch.Tensor, boxes: torch.Tensor, frame_of: torch.Tensor, size: int) -> torch.Tensor:
        """Each box's pixels (clipped to the frame, as facenet-pytorch's ``pad``) area-resampled to size x size.

        ``table`` is the frames' summed-area table (B, C, H + 1, W + 1). Output pixel i of a crop n
        pixels long averages input pixels floor(i n / size) to ceil((i + 1) n / size) - 1, exactly
        the windows of ``adaptive_avg_pool2d`` (which ``interpolate(mode="area")`` is).
        """
        height, width = table.shape[2] - 1, table.shape[3] - 1
        whole = boxes.trunc().long()
        x0 = whole[:, 0].clamp(min=1) - 1
        y0 = whole[:, 1].clamp(min=1) - 1
        x1 = torch.maximum(whole[:, 2].clamp(max=width), x0 + 1)
        y1 = torch.maximum(whole[:, 3].clamp(max=height), y0 + 1)
        steps = torch.arange(size, device=table.device)

        def windows(start: torch.Tensor, end: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            length = (end - start)[:, None]
            first = start[:, None] + torch.div(steps * length, size, rounding_mode="floor")
            last = start[:, None] - torch.div(-(steps + 1) * length, size, rounding_mode="floor")
            return first, last

        top, bottom = windows(y0, y1)
        left, right = windows(x0, x1)
        frame = frame_of[:, None, None]

        def corner(rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
            return table[frame, :, rows[:, :, None], cols[:, None, :]]  # (n, size, size, C)

        sums = corner(bottom, right) - corner(top, right) - corner(bottom, left) + corner(top, left)
        area = ((bottom - top)[:, :, None] * (right - left)[:, None, :]).unsqueeze(-1)
        mean = (sums.double() / area).permute(0, 3, 1, 2)
        return ((mean - 127.5) * 0.0078125).float()

    @torch.inference_mode()
    def detect(self, frames: Sequence[np.ndarray], min_face_px: float, thresholds: Sequence[float]) -> list[Detections]:
        """Faces in each frame (all frames the same size), searched from ``min_face_px`` up, in frame pixels."""
        if not len(frames):
            return []
        batch = torch.as_tensor(np.stack(frames), device=self.device).permute(0, 3, 1, 2)
        images = (batch.float() - 127.5) * 0.0078125
        count, _, height, width = images.shape
        # Summed-area table of the raw pixels: integers, so every window's sum is exact (at most
        # 255 x 640 x 640 for the frame sizes detection runs on, well within int32).
        table = F.pad(batch.int().cumsum(2, dtype=torch.int32).cumsum(3, dtype=torch.int32), (1, 0, 1, 0))

        # Stage 1: the proposal network slides over every pyramid level.
        proposals, proposal_frames = [], []
        for scale in pyramid_scales(height, width, min_face_px):
            level = F.interpolate(images, size=(int(height * scale + 1), int(width * scale + 1)), mode="area")
            offsets, probs = self.pnet(level)
            face = probs[:, 1]
            hits = (face >= thresholds[0]).nonzero()
            if not len(hits):
                continue
            frame_of, rows, cols = hits[:, 0], hits[:, 1], hits[:, 2]
            cells = torch.stack([cols, rows], dim=1).to(images.dtype)
            corner1 = ((2 * cells + 1) / scale).floor()
            corner2 = ((2 * cells + PNET_WINDOW_PX) / scale).floor()
            score = face[frame_of, rows, cols]
            reg = offsets[frame_of, :, rows, cols]
            boxes = torch.cat([corner1, corner2, score[:, None], reg], dim=1)
            keep = batched_nms(boxes[:, :4], boxes[:, 4], frame_of, 0.5)
            proposals.append(boxes[keep])
            proposal_frames.append(frame_of[keep])
        if not proposals:
            return [_empty() for _ in range(count)]
        boxes = torch.cat(proposals)
        frame_of = torch.cat(proposal_frames)
        keep = batched_nms(boxes[:, :4], boxes[:, 4], frame_of, 0.7)
        boxes, frame_of = boxes[keep], frame_of[keep]
        w = boxes[:, 2] - boxes[:, 0]
        h = boxes[:, 3] - boxes[:, 1]
        refined = torch.stack(
            [
                boxes[:, 0] + boxes[:, 5] * w,
                boxes[:, 1] + boxes[:, 6] * h,
                boxes[:, 2] + boxes[:, 7] * w,
                boxes[:, 3] + boxes[:, 8] * h,
            ],
            dim=1,
        )
        boxes = _square(refined)

        # Stage 2: the refinement network on every proposal, cut at 24 x 24.
        offsets, probs = self.rnet(self._cut(table, boxes, frame_of, 24))
        passed = probs[:, 1] > thresholds[1]
        boxes, frame_of, offsets, score = boxes[passed], frame_of[passed], offsets[passed], probs[passed, 1]
        if not len(boxes):
            return [_empty() for _ in range(count)]
        keep = batched_nms(boxes, score, frame_of, 0.7)
        boxes = _square(_regress(boxes[keep], offsets[keep]))
        frame_of = frame_of[keep]

        # Stage 3: the output network, cut at 48 x 48, gives the final boxes, scores and landmarks.
        offsets, marks, probs = self.onet(self._cut(table, boxes, frame_of, 48))
        passed = probs[:, 1] > thresholds[2]
        boxes, frame_of, offsets, marks, score = (
            boxes[passed],
            frame_of[passed],
            offsets[passed],
            marks[passed],
            probs[passed, 1],
        )
        w = (boxes[:, 2] - boxes[:, 0] + 1)[:, None]
        h = (boxes[:, 3] - boxes[:, 1] + 1)[:, None]
        points = torch.stack([w * marks[:, :5] + boxes[:, :1] - 1, h * marks[:, 5:] + boxes[:, 1:2] - 1], dim=2)
        boxes = _regress(boxes, offsets)
        boxes_np = boxes.cpu().numpy().astype(np.float64)
        score_np = score.cpu().numpy().astype(np.float64)
        frames_np = frame_of.cpu().numpy()
        keep_np = _nms_min(boxes_np, score_np, frames_np, 0.7)
        points_np = points.cpu().numpy().astype(np.float64)
        out = []
        for n in range(count):
            mine = keep_np[frames_np[keep_np] == n]
            out.append(Detections(boxes_np[mine], score_np[mine], points_np[mine]))
        return out
