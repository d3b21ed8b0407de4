"""Probe a video or image and sample frames from it, with limits for untrusted input.

Probing uses OpenCV's FFmpeg backend; sampling a video's frames uses PyAV (FFmpeg's decoder with
non-reference frames skipped unless they are sampled) and falls back to OpenCV for what PyAV does not
read. Both are restricted to local files (no network or playlist protocols), and every limit
(resolution, frame count, duration, wall time) fails with a :class:`MediaError` carrying a
machine-readable code.
"""

from __future__ import annotations

import bisect
import os
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

# Must be set before cv2 opens anything: only plain local files may be read by FFmpeg, so a
# hostile file (an HLS playlist, a concat list) cannot reach the network or other files.
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "protocol_whitelist;file")

import av
import cv2
import numpy as np

from detector.contract import MediaProbe

# Frames sampled evenly from a video when a job, the CLI or an evaluation names no number.
DEFAULT_FRAMES = 32
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_EXTENSIONS = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp"}
MEDIA_EXTENSIONS = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS
MAX_WIDTH_PX = 7680
MAX_HEIGHT_PX = 4320
MAX_FRAME_COUNT = 2_000_000
MAX_DURATION_S = 4 * 3600.0
# Decoded frames one job holds at once, in pixels (frames x width x height): 300 frames of 8K video
# would be ~30 GB of RGB. Above it fewer frames are sampled, still evenly spread, and the analysis
# says so (SamplingReport.capped_from, a diagnostics warning). 128 frames of 1080p: ~0.8 GB.
MAX_DECODED_PIXELS = 128 * 1920 * 1080
DECODE_TIMEOUT_S = 600.0
# Sampling reads a video from its start and seeks only past gaps longer than this between sampled
# frames: sequential decoding is far faster than seeking for short clips, and keyframe-only seeking
# is inexact in many codecs.
MAX_SEQUENTIAL_GAP_FRAMES = 250
# Demuxers PyAV samples from (FFmpeg's names; a demuxer matches if one of its names is listed). They
# time-stamp every frame, which is how a decoded frame's index is known when non-reference frames are
# skipped. Others, and files PyAV cannot open, are sampled by OpenCV. Playlist and concat demuxers,
# which open the files they name, are never among them.
PYAV_DEMUXERS = "mov,matroska,avi,flv,asf"
# Frames decoded in parallel on every core, as OpenCV's decoding does: FFmpeg's default, slices only,
# leaves most H.264 (one slice per frame) on one core.
PYAV_THREADING = "AUTO"


class MediaError(Exception):
    """Media that cannot be analysed; ``code`` is what the API shows as ``error_code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class SampledFrame:
    index: int
    timestamp_s: float
    rgb: np.ndarray | None  # None when the frame could not be decoded
    error: str | None = None


@dataclass
class SamplingReport:
    requested: int
    decoded: int = 0
    unreadable: list[int] = field(default_factory=list)
    # The frames asked for when the pixel budget allowed fewer (None: not capped).
    capped_from: int | None = None
    # time.perf_counter() when the last frame had been decoded (None: not all read yet).
    decoded_at: float | None = None


def frames_within_pixel_budget(samples: int, width: int, height: int) -> int:
    """How many of ``samples`` frames of ``width`` x ``height`` fit MAX_DECODED_PIXELS (at least one)."""
    return max(1, min(samples, MAX_DECODED_PIXELS // max(1, width * height)))


def _fourcc(capture: cv2.VideoCapture) -> str | None:
    code = int(capture.get(cv2.CAP_PROP_FOURCC))
    if code <= 0:
        return None
    text = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4)).strip("\x00 ")
    return text if text.isprintable() and text else None


def is_image_path(path: str | Path, sniffed_kind: str | None = None) -> bool:
    if sniffed_kind:
        return sniffed_kind == "image"
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def _declared_image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the image's header alone, without decoding it; None if unreadable."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.size
    except Image.DecompressionBombError as exc:
        raise MediaError("media_too_large", f"{path.name}: {exc}") from None
    except Exception:  # Pillow cannot parse it: let OpenCV have its say
        return None


def _read_image(path: Path) -> np.ndarray:
    # A 100000x100000 PNG is a few hundred bytes: refuse it by its header before any pixel is allocated.
    declared = _declared_image_size(path)
    if declared is not None:
        _check_dimensions(*declared)
    data = np.fromfile(str(path), dtype=np.uint8)
    try:
        bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
    except cv2.error as exc:  # e.g. OpenCV's own pixel-count cap on a declared size
        raise MediaError("unreadable_media", f"{path.name}: the image could not be decoded ({exc.err})") from None
    if bgr is None:
        raise MediaError("unreadable_media", f"{path.name}: the image could not be decoded")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _check_dimensions(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise MediaError("unreadable_media", "the media reports no picture size")
    if width > MAX_WIDTH_PX or height > MAX_HEIGHT_PX:
        raise MediaError("media_too_large", f"{width}x{height} exceeds the {MAX_WIDTH_PX}x{MAX_HEIGHT_PX} limit")
    if width < 16 or height < 16:
        raise MediaError("media_too_small", f"{width}x{height} is too small to hold a face")


def _open_video(path: Path) -> cv2.VideoCapture:
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not capture.isOpened():
        capture.release()
        raise MediaError("unreadable_media", f"{path.name}: the video could not be opened")
    return capture


def probe(path: str | Path, kind: str | None = None) -> MediaProbe:
    """Read the container's metadata (and the first frame) without decoding the whole file."""
    path = Path(path)
    if is_image_path(path, kind):
        rgb = _read_image(path)
        height, width = rgb.shape[:2]
        _check_dimensions(width, height)
        return MediaProbe(kind="image", width=width, height=height, frame_count=1)
    capture = _open_video(path)
    try:
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(capture.get(cv2.CAP_PROP_FPS)) or None
        frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        _check_dimensions(width, height)
        ok, _ = capture.read()
        if not ok:
            raise MediaError("unreadable_media", f"{path.name}: no frame could be decoded")
        if fps is not None and not (0.1 <= fps <= 1000.0):
            fps = None
        if frames <= 0 or frames > MAX_FRAME_COUNT:
            if frames > MAX_FRAME_COUNT:
                raise MediaError("media_too_long", f"{frames} frames exceed the {MAX_FRAME_COUNT} frame limit")
            frames = None
        duration = frames / fps if frames and fps else None
        if duration is not None and duration > MAX_DURATION_S:
            raise MediaError("media_too_long", f"{duration:.0f} s exceeds the {MAX_DURATION_S:.0f} s limit")
        size = path.stat().st_size
        bitrate = (size * 8 / 1000.0) / duration if duration else None
        return MediaProbe(
            kind="video",
            width=width,
            height=height,
            fps=fps,
            frame_count=frames,
            duration_s=duration,
            codec=_fourcc(capture),
            bitrate_kbps=bitrate,
        )
    finally:
        capture.release()


def evenly_spaced_indices(frame_count: int, samples: int) -> list[int]:
    """``samples`` frame indices spread over the video, centred in equal segments."""
    if frame_count <= 0 or samples <= 0:
        return []
    samples = min(samples, frame_count)
    step = frame_count / samples
    return sorted({min(frame_count - 1, int(step * i + step / 2)) for i in range(samples)})


def sample_frames(
    path: str | Path,
    samples: int = 32,
    media: MediaProbe | None = None,
    timeout_s: float = DECODE_TIMEOUT_S,
) -> tuple[list[SampledFrame], SamplingReport]:
    """Decode ``samples`` evenly spaced frames (RGB). An image is one frame.

    Frames that fail to decode are returned with ``rgb=None`` and counted, never
    silently dropped; zero decodable frames raises ``MediaError('unreadable_media')``.
    """
    frames, report = stream_frames(path, samples=samples, media=media, timeout_s=timeout_s)
    return list(frames), report


def stream_frames(
    path: str | Path,
    samples: int = 32,
    media: MediaProbe | None = None,
    timeout_s: float = DECODE_TIMEOUT_S,
) -> tuple[Iterator[SampledFrame], SamplingReport]:
    """:func:`sample_frames` one frame at a time, as each is decoded; the report is complete with the iterator.

    The iterator raises ``MediaError('unreadable_media')`` at its end if no frame could be decoded.
    """
    path = Path(path)
    media = media or probe(path)
    report = SamplingReport(requested=samples)
    if media.kind == "image":
        report.requested = 1
        report.decoded = 1
        return iter([SampledFrame(index=0, timestamp_s=0.0, rgb=_read_image(path))]), report
    budgeted = frames_within_pixel_budget(samples, media.width or 0, media.height or 0)
    if budgeted < samples:
        report.capped_from, report.requested, samples = samples, budgeted, budgeted
    return _counted(path, _iter_video_frames(path, media, samples, timeout_s), report), report


def _counted(path: Path, frames: Iterator[SampledFrame], report: SamplingReport) -> Iterator[SampledFrame]:
    """``frames``, each counted into ``report`` as it passes."""
    seen = 0
    for frame in frames:
        seen += 1
        if frame.rgb is None:
            report.unreadable.append(frame.index)
        else:
            report.decoded += 1
        yield frame
    report.decoded_at = time.perf_counter()
    if report.decoded == 0:
        raise MediaError("unreadable_media", f"{path.name}: none of {seen} sampled frames could be decoded")


def read_media(
    path: str | Path,
    samples: int = 32,
    kind: str | None = None,
    timeout_s: float = DECODE_TIMEOUT_S,
) -> tuple[MediaProbe, list[SampledFrame], SamplingReport]:
    """:func:`probe` then :func:`sample_frames`, decoding an image once rather than once for each."""
    media, frames, report = stream_media(path, samples=samples, kind=kind, timeout_s=timeout_s)
    return media, list(frames), report


def stream_media(
    path: str | Path,
    samples: int = 32,
    kind: str | None = None,
    timeout_s: float = DECODE_TIMEOUT_S,
) -> tuple[MediaProbe, Iterator[SampledFrame], SamplingReport]:
    """:func:`read_media` with a video's frames decoded as the iterator is read (:func:`stream_frames`)."""
    path = Path(path)
    if is_image_path(path, kind):
        rgb = _read_image(path)
        height, width = rgb.shape[:2]
        _check_dimensions(width, height)
        media = MediaProbe(kind="image", width=width, height=height, frame_count=1)
        return media, iter([SampledFrame(index=0, timestamp_s=0.0, rgb=rgb)]), SamplingReport(requested=1, decoded=1)
    media = probe(path, kind=kind)
    frames, report = stream_frames(path, samples=samples, media=media, timeout_s=timeout_s)
    return media, frames, report


def decode_ahead(frames: Iterator[SampledFrame]) -> Iterator[SampledFrame]:
    """``frames``, decoded by a thread of their own while the caller works on the frames already decoded.

    FFmpeg (PyAV, OpenCV) and torch release the GIL, so decoding runs on one core while the face search
    runs on the others. What the decoding raises (a MediaError) is raised here, after the frames decoded
    before it; a caller that stops reading stops the decoding. Frames are held as they would be in a
    list (MAX_DECODED_PIXELS bounds them).
    """
    decoded: queue.SimpleQueue = queue.SimpleQueue()
    stop = threading.Event()
    end = object()

    def decode() -> None:
        try:
            for frame in frames:
                decoded.put(frame)
                if stop.is_set():
                    return
            decoded.put(end)
        except BaseException as exc:  # handed to the reader, which raises it
            decoded.put(exc)
        finally:
            close = getattr(frames, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=decode, name="decode-ahead", daemon=True)
    thread.start()
    try:
        while (item := decoded.get()) is not end:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _iter_video_frames(path: Path, media: MediaProbe, samples: int, timeout_s: float) -> Iterator[SampledFrame]:
    """One :class:`SampledFrame` per sampled frame, in order: PyAV where it can, else OpenCV."""
    deadline = time.monotonic() + timeout_s
    # Unknown length: read sequentially and take every frame up to `samples` (OpenCV).
    wanted = evenly_spaced_indices(media.frame_count, samples) if media.frame_count else None
    if wanted is None or any(b - a > MAX_SEQUENTIAL_GAP_FRAMES for a, b in pairwise([0, *wanted])):
        yield from _iter_video_frames_opencv(path, media, wanted, samples, timeout_s, deadline)
        return
    done = 0
    try:
        for frame in _iter_video_frames_pyav(path, wanted, _fps(media), timeout_s, deadline):
            yield frame
            done += 1
        return
    except _PyAVCannotRead:
        pass
    # The frames PyAV has yielded stand; OpenCV samples the rest.
    yield from _iter_video_frames_opencv(path, media, wanted[done:], samples, timeout_s, deadline)


def _fps(media: MediaProbe) -> float:
    """The frame rate time stamps are computed from where a frame has none of its own (25 if unknown)."""
    return media.fps or 25.0


def _check_deadline(deadline: float, timeout_s: float) -> None:
    if time.monotonic() > deadline:
        raise MediaError("decode_timeout", f"decoding exceeded {timeout_s:.0f} s")


class _PyAVCannotRead(Exception):
    """PyAV cannot sample this file (container, codec or time stamps): OpenCV does instead."""


class _PresentationOrder:
    """Each frame's index (its place in presentation order) from the packets' time stamps, frames skipped or not.

    Every packet's time stamp is noted as it is read; a frame the decoder outputs is preceded by all noted
    frames with earlier stamps (a decoder outputs in presentation order, so those it has not output were
    skipped or lost). A packet's own index is known when it is read unless a frame shown before it is
    stored after it (a reference frame ahead of its B-frames): good enough to choose which packets to
    decode in full, and a frame's index, counted when it comes out, is exact.
    """

    def __init__(self) -> None:
        self.counted = 0  # frames before every stamp still noted
        self.noted: list[int] = []  # stamps of frames read but not yet passed, sorted

    def packet(self, pts: int) -> int:
        place = bisect.bisect_left(self.noted, pts)
        self.noted.insert(place, pts)
        return self.counted + place

    def frame(self, pts: int) -> int:
        place = bisect.bisect_left(self.noted, pts)
        index = self.counted + place
        del self.noted[: place + (place < len(self.noted) and self.noted[place] == pts)]
        self.counted = index + 1
        return index


def _iter_video_frames_pyav(
    path: Path, wanted: list[int], fps: float, timeout_s: float, deadline: float
) -> Iterator[SampledFrame]:
    """The ``wanted`` frames decoded by PyAV, each reported with its own index and time stamp.

    Frames no other frame refers to (H.264/MPEG B-frames, often half of them) are not decoded
    unless they are wanted: the decoder is told so packet by packet. A wanted frame is the first
    frame decoded at or after its index and before the next wanted one (that is itself unless its
    packet was damaged). Raises :class:`_PyAVCannotRead` before the first frame it cannot place,
    so that OpenCV samples the rest.
    """
    try:
        container = av.open(
            str(path), container_options={"protocol_whitelist": "file", "format_whitelist": PYAV_DEMUXERS}
        )
    except av.FFmpegError as exc:
        raise _PyAVCannotRead(str(exc)) from None
    try:
        if not container.streams.video or container.streams.video[0].time_base is None:
            raise _PyAVCannotRead("no time-stamped video stream")
        stream = container.streams.video[0]
        stream.codec_context.thread_type = PYAV_THREADING
        start = stream.start_time or 0
        pending = list(reversed(wanted))  # the next wanted frame last
        for index, decoded in _decoded_frames(container, stream, set(wanted), timeout_s, deadline):
            while len(pending) > 1 and index >= pending[-2]:
                # The decoder went past this wanted frame and the next one started: it was lost.
                missed = pending.pop()
                yield SampledFrame(missed, missed / fps, None, "decode failed")
            if pending and index >= pending[-1]:
                try:
                    rgb = decoded.to_ndarray(format="rgb24")
                except (av.FFmpegError, ValueError) as exc:  # a pixel format PyAV does not convert
                    raise _PyAVCannotRead(str(exc)) from None
                pending.pop()
                yield SampledFrame(index, float((decoded.pts - start) * stream.time_base), rgb)
            if not pending:
                return
        for missed in reversed(pending):
            yield SampledFrame(missed, missed / fps, None, "the stream ended before this frame")
    finally:
        container.close()


def _decoded_frames(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    wanted: set[int],
    timeout_s: float,
    deadline: float,
) -> Iterator[tuple[int, av.VideoFrame]]:
    """(index, frame) for every frame the decoder outputs; non-reference frames decoded only when wanted.

    A damaged packet loses its frames and decoding goes on, as FFmpeg's own tools do; a damaged
    container ends the stream where it can no longer be read.
    """
    decoder = stream.codec_context
    order = _PresentationOrder()
    packets = container.demux(stream)
    while True:
        _check_deadline(deadline, timeout_s)
        try:
            packet = next(packets)
        except StopIteration:
            break
        except av.FFmpegError:
            packet = None  # unreadable from here on: drain what the decoder holds
        if packet is not None and packet.size == 0:
            packet = None  # demux's own end-of-stream packet
        if packet is not None:
            # A packet without a time stamp is decoded in full: it may be a wanted frame. Packets the
            # container marks to be discarded (before an edit list's start) are never shown.
            place = order.packet(packet.pts) if packet.pts is not None and not packet.is_discard else None
            decoder.skip_frame = "NONREF" if place is not None and place not in wanted else "DEFAULT"
        try:
            frames = decoder.decode(packet)
        except av.FFmpegError:
            if packet is None:
                return
            continue
        for frame in frames:
            if frame.pts is None:
                raise _PyAVCannotRead("a decoded frame has no time stamp")
            yield order.frame(frame.pts), frame
        if packet is None:
            return


def _iter_video_frames_opencv(
    path: Path,
    media: MediaProbe,
    wanted: list[int] | None,
    samples: int,
    timeout_s: float,
    deadline: float,
) -> Iterator[SampledFrame]:
    """The ``wanted`` frames read by OpenCV, or with ``wanted=None`` (unknown length) the first ``samples``."""
    fps = _fps(media)
    capture = _open_video(path)
    try:
        # Sequential grab() is far faster than seeking for short clips, and keyframe-only seeking
        # is inexact in many codecs; seek only when the gap to the next wanted frame is large.
        position = 0
        targets = iter(wanted) if wanted is not None else iter(range(samples))
        for target in targets:
            _check_deadline(deadline, timeout_s)
            if target - position > MAX_SEQUENTIAL_GAP_FRAMES:
                capture.set(cv2.CAP_PROP_POS_FRAMES, target)
                position = target
            ok = True
            while position < target and ok:
                ok = capture.grab()
                position += 1
            if not ok:
                yield SampledFrame(target, target / fps, None, "grab failed")
                continue
            ok, bgr = capture.read()
            position += 1
            if not ok or bgr is None:
                if wanted is None:
                    return
                yield SampledFrame(target, target / fps, None, "decode failed")
                continue
            yield SampledFrame(target, target / fps, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()
