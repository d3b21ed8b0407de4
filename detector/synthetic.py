"""Small generated media for tests, demos and benchmarks (no downloads, no real data needed).

The face is scikit-image's astronaut photograph (public domain, NASA), moved across the
frame so that tracking and sampling have something to follow.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def astronaut_rgb() -> np.ndarray:
    from skimage import data

    return data.astronaut()


def write_moving_face_clip(
    path: str | Path,
    seconds: float = 2.0,
    fps: int = 15,
    size: tuple[int, int] = (480, 360),
    face_px: int = 200,
    fourcc: str = "mp4v",
) -> Path:
    """Write a clip of the astronaut's head and shoulders drifting over a grey background.

    ``fourcc`` picks the codec: "mp4v" (MPEG-4 Part 2 in MP4) by default; "VP80" with a .webm
    path gives a clip that browsers can play (no browser plays MPEG-4 Part 2).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = size
    # The astronaut photo is 512x512 with the face in its upper middle; this crop keeps the face.
    portrait = astronaut_rgb()[0:300, 100:400]
    portrait = cv2.resize(portrait, (face_px, face_px), interpolation=cv2.INTER_AREA)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV could not open a video writer for {path}")
    frames = max(1, round(seconds * fps))
    rng = np.random.default_rng(0)
    try:
        for i in range(frames):
            canvas = np.full((height, width, 3), 118, dtype=np.uint8)
            canvas = np.clip(canvas + rng.normal(0, 3, canvas.shape), 0, 255).astype(np.uint8)
            travel = (width - face_px) * (0.5 + 0.4 * np.sin(2 * np.pi * i / frames))
            x = int(travel)
            y = (height - face_px) // 2 + int(10 * np.cos(2 * np.pi * i / frames))
            canvas[y : y + face_px, x : x + face_px] = portrait
            writer.write(cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return path


def write_blank_clip(path: str | Path, seconds: float = 1.0, fps: int = 10, size: tuple[int, int] = (320, 240)) -> Path:
    """A clip with no face in it: moving gradient only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    try:
        for i in range(max(1, int(seconds * fps))):
            row = np.linspace(0, 255, width, dtype=np.float64)
            canvas = np.tile(((row + i * 10) % 256).astype(np.uint8), (height, 1))
            writer.write(cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR))
    finally:
        writer.release()
    return path
