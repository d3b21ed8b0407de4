"""Re-encoded copies of test clips: what an analyst receives after a platform re-compressed a video.

``reencode_h264`` decodes every frame and encodes it again with libx264 at one CRF (PyAV), keeping the
frame rate and size; ``reencoded_folder`` writes the copies of labelled clips under ``real/`` and ``fake/``
so :func:`detector.training.evaluate.evaluate` scores them exactly as it scores the originals.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av

from detector.training.data import LABELS, MediaItem

LABEL_FOLDERS = {v: k for k, v in LABELS.items()}


def reencode_h264(source: str | Path, target: str | Path, crf: int, preset: str = "veryfast") -> Path:
    """``source``'s video stream encoded again as H.264 (yuv420p) at ``crf``; audio is dropped."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial.mp4")
    with av.open(str(source)) as inp, av.open(str(partial), "w") as out:
        stream_in = inp.streams.video[0]
        rate = stream_in.average_rate or Fraction(25, 1)
        stream = out.add_stream("libx264", rate=rate)
        stream.width = stream_in.codec_context.width // 2 * 2
        stream.height = stream_in.codec_context.height // 2 * 2
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(int(crf)), "preset": preset}
        for index, frame in enumerate(inp.decode(stream_in)):
            image = frame.reformat(width=stream.width, height=stream.height, format="yuv420p")
            # Frames numbered at the stream's rate: the container then records its frame rate and duration.
            image.pts, image.time_base = index, Fraction(1) / rate
            for packet in stream.encode(image):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    partial.replace(target)
    return target


def reencoded_folder(items: Iterable[MediaItem], folder: str | Path, crf: int) -> Path:
    """Copies of the video ``items`` at ``crf`` in ``folder/real`` and ``folder/fake`` (made once, then reused)."""
    folder = Path(folder)
    for item in items:
        if item.kind != "video":
            continue
        target = folder / LABEL_FOLDERS[item.label] / f"{item.path.stem}.mp4"
        if not target.is_file():
            reencode_h264(item.path, target, crf)
    return folder
