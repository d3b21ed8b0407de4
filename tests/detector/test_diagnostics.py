"""Input diagnostics: what about the input limits a verdict, reported with every result."""

from __future__ import annotations

import numpy as np

from detector.faces import Face
from detector.media import MediaProbe
from detector.pipeline import input_diagnostics


def sharp_crop(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (64, 64, 3), dtype=np.uint8)


def flat_crop() -> np.ndarray:
    return np.full((64, 64, 3), 128, dtype=np.uint8)


def face(size: float, crop: np.ndarray, flags: list[str] | None = None) -> Face:
    return Face(0, (0.0, 0.0, size, size), 0.99, crop, flags=flags or [])


def test_a_good_input_has_no_warnings_and_reports_every_measure():
    media = MediaProbe(kind="video", width=1280, height=720, fps=25.0, frame_count=250, bitrate_kbps=2500.0)
    faces = [
        [face(200, sharp_crop(0))],
        [face(210, sharp_crop(1)), face(190, sharp_crop(2))],
        [],
        [face(205, sharp_crop(3))],
    ]
    d = input_diagnostics(media, 4, [], faces)
    assert (d.width, d.height, d.bitrate_kbps) == (1280, 720, 2500.0)
    assert d.faces_per_frame == [1, 2, 0, 1]
    assert d.frames_with_faces == 3  # 3 of 4: enough, no warning
    assert d.faces_total == 4
    assert d.face_size_px == {"min": 190.0, "median": 202.5, "max": 210.0}
    assert d.blur_laplacian_var["min"] > 1000
    assert d.frames_unreadable == 0
    assert d.warnings == []


def test_a_poor_input_is_warned_about_on_every_count():
    media = MediaProbe(kind="video", width=320, height=240, bitrate_kbps=120.0)
    faces = [[face(30, flat_crop(), ["small", "low_confidence"])], [face(32, flat_crop(), ["small"])]]
    d = input_diagnostics(media, 4, [7, 9], faces)
    assert d.frames_sampled == 4
    assert d.frames_unreadable == 2
    assert d.unreadable_frame_indices == [7, 9]
    assert d.small_faces == 2
    assert d.low_confidence_faces == 1
    assert d.blur_laplacian_var["median"] == 0.0
    text = " ".join(d.warnings)
    for expected in ("low resolution", "could not be decoded", "small", "blurred", "compression"):
        assert expected in text


def test_no_faces_is_reported_not_hidden():
    media = MediaProbe(kind="image", width=640, height=480)
    d = input_diagnostics(media, 1, [], [[]])
    assert d.faces_total == 0
    assert d.face_size_px == {"min": None, "median": None, "max": None}
    assert d.bitrate_kbps is None
    assert any("no face" in w for w in d.warnings)


def test_faces_in_too_few_sampled_frames_of_a_video_are_a_quality_concern_that_counts_them():
    media = MediaProbe(kind="video", width=1920, height=1080, bitrate_kbps=4000.0)
    faces = [[face(200, sharp_crop(i))] if i < 17 else [] for i in range(32)]
    d = input_diagnostics(media, 32, [], faces)
    assert (d.frames_with_faces, d.frames_sampled) == (17, 32)
    assert any(w.startswith("faces in 17 of 32 sampled frames") for w in d.warnings), d.warnings
    enough = [[face(200, sharp_crop(i))] if i < 23 else [] for i in range(32)]
    assert not any("sampled frames:" in w for w in input_diagnostics(media, 32, [], enough).warnings)
