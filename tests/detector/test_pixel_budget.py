"""The decoded-pixel budget per job: a large frame count on a large picture samples fewer frames, evenly,
and says so (issue 12, hole 3). Real decoding of a generated clip."""

from __future__ import annotations

from detector import media
from detector.pipeline import input_diagnostics


def test_more_frames_than_the_pixel_budget_holds_are_not_decoded(sample_clip_path, monkeypatch):
    probe = media.probe(sample_clip_path)
    frame_px = probe.width * probe.height
    monkeypatch.setattr(media, "MAX_DECODED_PIXELS", 5 * frame_px)  # room for five frames of this clip
    frames, report = media.sample_frames(sample_clip_path, samples=20, media=probe)
    assert len(frames) == 5 and report.requested == 5 and report.capped_from == 20
    assert sum(f.rgb.size for f in frames if f.rgb is not None) <= 3 * media.MAX_DECODED_PIXELS
    indices = [f.index for f in frames]
    assert indices == media.evenly_spaced_indices(probe.frame_count, 5)  # spread over the clip, not its start
    warnings = input_diagnostics(probe, len(frames), [], [[] for _ in frames], frames_capped_from=20).warnings
    assert any("5 frames sampled instead of 20" in w for w in warnings)


def test_within_the_budget_every_frame_asked_for_is_decoded(sample_clip_path):
    frames, report = media.sample_frames(sample_clip_path, samples=8)
    assert len(frames) == 8 and report.capped_from is None


def test_the_budget_keeps_300_frames_of_8k_far_below_the_30_gb_they_would_take():
    allowed = media.frames_within_pixel_budget(300, 7680, 4320)
    assert 1 <= allowed < 300
    assert allowed * 7680 * 4320 * 3 < 1024**3  # under a gigabyte of RGB


def test_a_frame_with_more_faces_than_the_cap_keeps_the_largest_and_counts_the_rest(monkeypatch):
    import numpy as np

    from detector import faces as faces_module

    monkeypatch.setattr(faces_module, "MAX_FACES_PER_FRAME", 3)
    finder = faces_module.FaceFinder.__new__(faces_module.FaceFinder)  # no MTCNN: boxes are given
    finder.small_face_px, finder.low_confidence = 40, 0.9
    rgb = np.zeros((400, 400, 3), dtype=np.uint8)
    sizes = [20, 80, 40, 120, 60]  # square boxes along the diagonal
    boxes = np.array([[i * 70, i * 70, i * 70 + s, i * 70 + s] for i, s in enumerate(sizes)], dtype=float)
    kept = finder._faces_from_boxes(0, rgb, boxes, np.full(len(sizes), 0.99), np.zeros((0, 5, 2)), 0.3)
    assert sorted(round(f.box[2] - f.box[0]) for f in kept) == [60, 80, 120]
    assert kept.dropped == 2
    warnings = input_diagnostics(
        media.MediaProbe(kind="image", width=400, height=400, frame_count=1), 1, [], [kept]
    ).warnings
    assert any("2 faces beyond the" in w for w in warnings)
