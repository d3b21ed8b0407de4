"""Faces linked into tracks across sampled frames by overlap or a short hop of the same-sized box."""

from __future__ import annotations

import numpy as np

from detector.faces import Face
from detector.registry import track_sample_indices
from detector.tracking import assign_tracks

CROP = np.zeros((4, 4, 3), dtype=np.uint8)


def face(frame: int, x: float, y: float, size: float = 80.0) -> Face:
    return Face(frame, (x, y, x + size, y + size), 0.99, CROP)


def test_two_faces_crossing_each_other_keep_their_ids():
    frames = []
    for step in range(8):
        left_to_right = face(step, 40 + 60 * step, 40)
        right_to_left = face(step, 460 - 60 * step, 200)
        frames.append([left_to_right, right_to_left] if step % 2 else [right_to_left, left_to_right])
    assert assign_tracks(frames) == 2
    for per in frames:
        by_y = {f.box[1]: f.track_id for f in per}
        assert by_y == {40: 0, 200: 1}


def test_a_face_that_hops_further_than_it_overlaps_stays_one_track():
    # 90 px per sample on an 80 px face: no overlap at all between samples.
    frames = [[face(step, 20 + 90 * step, 100)] for step in range(6)]
    assert assign_tracks(frames) == 1


def test_a_face_far_away_or_of_another_size_starts_a_new_track():
    frames = [[face(0, 0, 0)], [face(1, 400, 300)], [face(2, 400, 300, size=300)]]
    assert assign_tracks(frames) == 3


def test_a_short_gap_in_detections_does_not_split_a_track():
    frames = [[face(0, 100, 100)], [], [], [face(3, 110, 100)]]
    assert assign_tracks(frames) == 1


def test_track_sampling_spreads_long_tracks_and_repeats_short_ones_in_order():
    assert track_sample_indices(20, 8) == [1, 3, 6, 8, 11, 13, 16, 18]
    assert track_sample_indices(3, 8) == [0, 0, 0, 1, 1, 2, 2, 2]
    assert track_sample_indices(1, 4) == [0, 0, 0, 0]


def test_a_person_missed_for_many_frames_stays_one_track_where_the_boxes_say_so():
    """A 1080p DFDC clip lost its face on 15 of 32 frames and one person became tracks 0, 1 and 2 (issue 27)."""
    seen = {0, 1, 2, 9, 10, 11, 20, 21, 31}
    frames = [[face(step, 300 + 2 * step, 200)] if step in seen else [] for step in range(32)]
    assert assign_tracks(frames) == 1
    assert {f.track_id for per in frames for f in per} == {0}


def test_two_people_with_gaps_stay_two_tracks_and_a_face_elsewhere_after_a_gap_is_another():
    frames = [[face(s, 100, 100), face(s, 500, 100)] if s % 6 < 2 else [] for s in range(20)]
    assert assign_tracks(frames) == 2
    for per in frames:
        assert {f.box[0]: f.track_id for f in per} in ({}, {100: 0, 500: 1})
    elsewhere = [[face(0, 100, 100)], [], [], [], [], [], [face(6, 700, 400)]]
    assert assign_tracks(elsewhere) == 2
