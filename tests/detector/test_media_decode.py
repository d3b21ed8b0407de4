"""Sampling a video's frames with PyAV (non-reference frames skipped unless sampled) and OpenCV's fallback:
the frames sampled are the real decoded frames at the indices and times reported, and every failure keeps
its MediaError code (issue 16). Real encoding and decoding of generated clips."""

from __future__ import annotations

import threading
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from detector import media

FPS = 30
FRAMES = 90
SIZE = (320, 240)


def write_h264_clip(path: Path, faststart: bool = False, frame_ms: list[int] | None = None) -> Path:
    """A clip x264 encodes with B-frames (its defaults: 3, some not referenced), every frame different.

    ``frame_ms``: each frame's duration in milliseconds, for a variable frame rate (default: FPS).
    """
    width, height = SIZE
    rng = np.random.default_rng(0)
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.options = {"g": "30", "bf": "3"}
        shown_ms = 0
        for i in range(FRAMES):
            canvas = np.full((height, width, 3), 90, dtype=np.uint8)
            canvas[:, : (i * width) // FRAMES] = 200  # a bar that grows by frame: no two frames alike
            canvas[40:120, 40:120] = rng.integers(0, 256, (80, 80, 3), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(canvas, format="rgb24")
            frame.pts, frame.time_base = shown_ms, Fraction(1, 1000)
            shown_ms += frame_ms[i] if frame_ms else round(1000 * (i + 1) / FPS) - round(1000 * i / FPS)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def every_frame(path: Path) -> list[np.ndarray]:
    """Every frame of ``path`` in presentation order, nothing skipped: what each index must show."""
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


@pytest.fixture(scope="module")
def h264_clip(tmp_path_factory) -> Path:
    return write_h264_clip(tmp_path_factory.mktemp("h264") / "bframes.mp4")


@pytest.fixture
def opencv_only(monkeypatch):
    """Sampling as before PyAV: no demuxer is PyAV's, so OpenCV samples every video."""
    monkeypatch.setattr(media, "PYAV_DEMUXERS", "none")


def test_the_generated_clip_has_frames_no_other_frame_refers_to(h264_clip):
    with av.open(str(h264_clip)) as container:
        container.streams.video[0].codec_context.skip_frame = "NONREF"
        decoded = sum(1 for _ in container.decode(video=0))
    assert decoded < FRAMES  # otherwise the tests below would not exercise skipping


def test_sampled_frames_are_the_decoded_frames_at_the_indices_and_times_they_report(h264_clip):
    truth = every_frame(h264_clip)
    frames, report = media.sample_frames(h264_clip, samples=16)
    assert [f.index for f in frames] == media.evenly_spaced_indices(FRAMES, 16)
    assert report.decoded == 16 and report.unreadable == []
    for frame in frames:
        assert np.array_equal(frame.rgb, truth[frame.index]), frame.index
        assert frame.timestamp_s == pytest.approx(frame.index / FPS, abs=1e-3)  # stamped in ms


def test_non_reference_frames_are_decoded_only_when_sampled(h264_clip, monkeypatch):
    decoded = []
    frames_of = media._decoded_frames

    def counting(*args, **kwargs):
        for index, frame in frames_of(*args, **kwargs):
            decoded.append(index)
            yield index, frame

    monkeypatch.setattr(media, "_decoded_frames", counting)
    frames, _ = media.sample_frames(h264_clip, samples=4)
    assert len(frames) == 4 and all(f.rgb is not None for f in frames)
    assert len(decoded) < frames[-1].index + 1  # fewer frames decoded than read past


def test_a_variable_frame_rate_clip_is_sampled_by_frame_count_and_stamped_with_real_times(tmp_path, monkeypatch):
    durations = [100 if i % 3 == 0 else 33 for i in range(FRAMES)]  # a frame held now and then
    clip = write_h264_clip(tmp_path / "vfr.mp4", frame_ms=durations)
    truth = every_frame(clip)
    frames, _ = media.sample_frames(clip, samples=8)
    assert [f.index for f in frames] == media.evenly_spaced_indices(FRAMES, 8)  # spread over all frames
    for frame in frames:
        assert np.array_equal(frame.rgb, truth[frame.index])
        assert frame.timestamp_s == pytest.approx(sum(durations[: frame.index]) / 1000, abs=1e-3)
    monkeypatch.setattr(media, "PYAV_DEMUXERS", "none")
    with_opencv, _ = media.sample_frames(clip, samples=8)
    assert [f.index for f in with_opencv] == [f.index for f in frames]


def test_pyav_and_opencv_sample_the_same_pixels(h264_clip, sample_clip_path, monkeypatch):
    for clip in (h264_clip, sample_clip_path):  # H.264 with B-frames; MPEG-4 Part 2 from OpenCV's writer
        with_pyav, _ = media.sample_frames(clip, samples=8)
        monkeypatch.setattr(media, "PYAV_DEMUXERS", "none")
        with_opencv, _ = media.sample_frames(clip, samples=8)
        monkeypatch.undo()
        assert [f.index for f in with_pyav] == [f.index for f in with_opencv]
        for a, b in zip(with_pyav, with_opencv, strict=True):
            assert np.array_equal(a.rgb, b.rgb), (clip.name, a.index)


def test_a_frame_pyav_cannot_place_hands_the_rest_of_the_clip_to_opencv(h264_clip, monkeypatch):
    expected, _ = media.sample_frames(h264_clip, samples=8)
    frames_of = media._decoded_frames

    def losing_a_time_stamp(*args, **kwargs):
        for index, frame in frames_of(*args, **kwargs):
            if index >= expected[3].index:
                raise media._PyAVCannotRead("a decoded frame has no time stamp")
            yield index, frame

    monkeypatch.setattr(media, "_decoded_frames", losing_a_time_stamp)
    frames, _ = media.sample_frames(h264_clip, samples=8)
    assert [f.index for f in frames] == [f.index for f in expected]
    for a, b in zip(frames, expected, strict=True):
        assert np.array_equal(a.rgb, b.rgb), a.index


def test_a_truncated_clip_reports_the_frames_past_the_cut_as_unreadable(tmp_path):
    # With its index (moov) first, a cut file still opens: the frames past the cut are missing.
    whole = write_h264_clip(tmp_path / "whole.mp4", faststart=True)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    probe = media.probe(whole)
    frames, report = media.sample_frames(cut, samples=8, media=probe)
    assert [f.index for f in frames] == media.evenly_spaced_indices(FRAMES, 8)
    assert 0 < report.decoded < 8
    unreadable = [f.index for f in frames if f.rgb is None]
    assert report.unreadable == unreadable == [f.index for f in frames][report.decoded :]
    assert all(f.error for f in frames if f.rgb is None)


@pytest.mark.parametrize("sampler", ["pyav", "opencv"])
def test_a_clip_cut_before_its_first_frame_is_unreadable_media(sampler, tmp_path, request):
    if sampler == "opencv":
        request.getfixturevalue("opencv_only")
    whole = write_h264_clip(tmp_path / "whole.mp4", faststart=True)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[:2048])
    with pytest.raises(media.MediaError) as caught:
        media.sample_frames(cut, samples=8, media=media.probe(whole))
    assert caught.value.code == "unreadable_media"


@pytest.mark.parametrize("sampler", ["pyav", "opencv"])
def test_decoding_past_its_time_limit_is_a_decode_timeout(sampler, h264_clip, request):
    if sampler == "opencv":
        request.getfixturevalue("opencv_only")
    probe = media.probe(h264_clip)
    with pytest.raises(media.MediaError) as caught:
        media.sample_frames(h264_clip, samples=8, media=probe, timeout_s=-1.0)
    assert caught.value.code == "decode_timeout"


def test_sampling_does_not_follow_a_playlist_that_passed_for_a_probed_video(tmp_path, h264_clip):
    playlist = tmp_path / "evidence.mp4"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{h264_clip}\n#EXT-X-ENDLIST\n")
    probe = media.probe(h264_clip)  # as if the playlist had been probed as that clip
    with pytest.raises(media.MediaError) as caught:
        media.sample_frames(playlist, samples=8, media=probe)
    assert caught.value.code == "unreadable_media"


def test_frames_decoded_ahead_come_in_order_and_a_decoding_error_after_them(h264_clip):
    frames, _ = media.stream_frames(h264_clip, samples=6)

    def then_fail():
        yield from frames
        raise media.MediaError("decode_timeout", "decoding exceeded 0 s")

    received = []
    with pytest.raises(media.MediaError) as caught:
        for frame in media.decode_ahead(then_fail()):
            received.append(frame.index)
    assert received == media.evenly_spaced_indices(FRAMES, 6)
    assert caught.value.code == "decode_timeout"


def test_a_reader_that_stops_ends_the_decoding_thread_and_closes_the_file(h264_clip):
    frames, _ = media.stream_frames(h264_clip, samples=30)
    closed = threading.Event()

    def watched():
        try:
            yield from frames
        finally:
            closed.set()

    ahead = media.decode_ahead(watched())
    next(ahead)
    ahead.close()
    assert closed.is_set()
    assert not any(thread.name == "decode-ahead" for thread in threading.enumerate())


def test_an_unreadable_stream_says_so_at_its_end_with_its_code(tmp_path, h264_clip):
    whole = write_h264_clip(tmp_path / "whole.mp4", faststart=True)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[:2048])
    frames, report = media.stream_frames(cut, samples=8, media=media.probe(whole))
    received = []
    with pytest.raises(media.MediaError) as caught:
        received.extend(media.decode_ahead(frames))
    assert caught.value.code == "unreadable_media"
    assert received == [] and report.decoded == 0
