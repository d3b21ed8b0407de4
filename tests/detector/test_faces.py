"""Face finding: square crops with a margin, MTCNN settings that take effect, doubtful faces flagged not dropped."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from detector.faces import SMALL_FACE_PX, FaceFinder, square_crop
from detector.mtcnn import pyramid_scales
from detector.synthetic import astronaut_rgb
from detector.tracking import iou


def coordinate_image(height: int = 300, width: int = 400) -> np.ndarray:
    """Every pixel holds its own (x, y) in the red and green channels: a crop shows where it came from."""
    ys, xs = np.mgrid[0:height, 0:width]
    return np.stack([xs % 256, ys % 256, np.zeros_like(xs)], axis=2).astype(np.uint8)


def portrait_on_canvas(scale: float, canvas_hw: tuple[int, int] = (300, 320)) -> np.ndarray:
    """The astronaut photograph shrunk by ``scale`` on a grey canvas (its face is about 105 px at scale 1)."""
    small = cv2.resize(astronaut_rgb(), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.full((*canvas_hw, 3), 118, dtype=np.uint8)
    h, w = small.shape[:2]
    canvas[20 : 20 + h, 40 : 40 + w] = small
    return canvas


def test_square_crop_is_the_box_grown_by_the_margin_and_centred_on_it():
    rgb = coordinate_image()
    crop = square_crop(rgb, (100.0, 100.0, 200.0, 150.0), margin=0.3)
    # The longer side (100 px) grows by 30 % on each side: 160 px, square whatever the box's shape.
    assert crop.shape == (160, 160, 3)
    centre_x, centre_y = crop[80, 80, 0], crop[80, 80, 1]
    assert (int(centre_x), int(centre_y)) == (150, 125)


def test_square_crop_outside_the_frame_repeats_the_edge_instead_of_black():
    rgb = coordinate_image()
    crop = square_crop(rgb, (0.0, 0.0, 50.0, 50.0), margin=0.5)
    assert crop.shape == (100, 100, 3)
    # The 25 px beyond the left and top edges repeat column 0 / row 0.
    assert (crop[:25, :25, :2] == 0).all()
    assert int(crop[50, 50, 0]) == 25 and int(crop[50, 50, 1]) == 25


def test_a_face_smaller_than_the_small_limit_is_kept_and_flagged(face_finder):
    (faces,) = face_finder.find([(7, portrait_on_canvas(0.3))])
    (face,) = faces
    assert face.frame_index == 7
    assert face.size_px < SMALL_FACE_PX
    assert face.flags == ["small"]
    assert face.flags == ["small"]


def test_faces_below_the_search_limit_are_not_searched_for():
    frame = portrait_on_canvas(0.25)  # a face of about 25 px
    (found,) = FaceFinder(search_min_face_px=12).find([(0, frame)])
    (not_searched,) = FaceFinder(search_min_face_px=80).find([(0, frame)])
    assert len(found) == 1
    assert not_searched == []


def test_lower_stage_thresholds_find_more_and_doubtful_faces_are_flagged_not_dropped():
    noise = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    (strict,) = FaceFinder().find([(0, noise)])
    (lenient,) = FaceFinder(thresholds=(0.1, 0.1, 0.1), search_min_face_px=12).find([(0, noise)])
    assert strict == []
    assert len(lenient) > 5
    assert all("low_confidence" in face.flags for face in lenient if face.probability < 0.95)
    assert any(face.probability < 0.95 for face in lenient)


def test_a_configurable_confidence_limit_flags_a_face_below_it():
    (faces,) = FaceFinder(low_confidence=0.99999).find([(0, portrait_on_canvas(0.45))])
    (face,) = faces
    assert 0.99 < face.probability < 0.99999  # MTCNN gives this face about 0.9994
    assert face.flags == ["low_confidence"]


def test_downscaled_detection_reports_boxes_in_full_frame_pixels(face_finder):
    frame = cv2.resize(astronaut_rgb(), (640, 640), interpolation=cv2.INTER_LINEAR)
    ((full,),) = face_finder.find([(0, frame)])
    ((quarter,),) = FaceFinder(detect_max_side_px=160).find([(0, frame)])
    assert full.size_px > 100
    # Detected on a 160 px copy, the box is still within a few percent of the face size in 640 px terms.
    assert np.abs(np.subtract(full.box, quarter.box)).max() < 0.15 * full.size_px


@pytest.mark.parametrize(
    ("height", "width", "search_px", "expected"),
    [
        (480, 640, 24, 24),  # detected at full scale: the search limit as given
        (1080, 1920, 24, 12),  # detected at 1/3 scale: 8 px, raised to MTCNN's 12 px window
        (2160, 3840, 120, 20),  # 4K at 1/6 scale
        (16, 16, 24, 16),  # never above the frame itself, or MTCNN builds no pyramid
    ],
)
def test_mtcnn_min_face_size_follows_the_search_limit_and_the_detection_scale(height, width, search_px, expected):
    finder = FaceFinder(search_min_face_px=search_px)
    assert finder.mtcnn_min_face_size(height, width) == expected


def test_a_frame_too_thin_to_hold_a_face_gives_none_instead_of_failing(face_finder):
    assert face_finder.find([(0, np.zeros((16, 2000, 3), dtype=np.uint8))]) == [[]]
    assert face_finder.find([(0, np.zeros((16, 16, 3), dtype=np.uint8))]) == [[]]


def test_frames_of_different_sizes_are_batched_separately_and_returned_in_order(face_finder):
    big, small = portrait_on_canvas(0.45), np.full((120, 160, 3), 118, dtype=np.uint8)
    faces = face_finder.find([(0, big), (1, small), (2, big)])
    assert [len(per) for per in faces] == [1, 0, 1]
    assert [per[0].frame_index for per in faces if per] == [0, 2]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"thresholds": (0.6, 0.7)},
        {"thresholds": (0.6, 0.7, 1.5)},
        {"detect_max_side_px": 10},
        {"search_min_face_px": 0},
        {"low_confidence": 2.0},
        {"batch_size": 0},
    ],
)
def test_impossible_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        FaceFinder(**kwargs)


def test_settings_report_what_detection_ran_with():
    finder = FaceFinder(thresholds=(0.5, 0.6, 0.9), detect_max_side_px=480, search_min_face_px=30)
    assert finder.thresholds == (0.5, 0.6, 0.9)
    settings = finder.settings()
    assert settings["thresholds"] == [0.5, 0.6, 0.9]
    assert (settings["detect_max_side_px"], settings["search_min_face_px"]) == (480, 30)
    assert settings["small_face_px"] == SMALL_FACE_PX


def test_a_detector_narrows_a_wider_crop_to_exactly_the_crop_of_its_own_margin(untrained_detector):
    det = untrained_detector("custom_cnn")
    assert det.config.crop_margin == 0.3
    rgb = coordinate_image()
    box = (100.0, 80.0, 200.0, 180.0)
    wide, own = square_crop(rgb, box, margin=0.5), square_crop(rgb, box, margin=0.3)

    (narrowed,) = det.crops_for([wide], source_margin=0.5)

    assert narrowed.shape == own.shape == (160, 160, 3)
    assert np.array_equal(narrowed, own)
    assert np.array_equal(det.score_crops([wide], source_margin=0.5), det.score_crops([own]))
    with pytest.raises(ValueError, match="margin"):
        det.crops_for([own], source_margin=0.1)


def portrait_at(
    x: int, y: int, canvas_hw: tuple[int, int] = (360, 480), noise_seed: int = 0, head_px: int = 150
) -> np.ndarray:
    """The astronaut's head (its face about 0.37 ``head_px``), top-left corner at (x, y), on a noisy grey canvas."""
    head = cv2.resize(astronaut_rgb()[0:300, 100:400], (head_px, head_px), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(noise_seed)
    canvas = np.clip(118 + rng.normal(0, 2, (*canvas_hw, 3)), 0, 255).astype(np.uint8)
    canvas[y : y + head_px, x : x + head_px] = head
    return canvas


class SearchLog:
    """Wraps a FaceFinder's MTCNN: how many frames it searched, and from which face size."""

    def __init__(self, finder: FaceFinder) -> None:
        self.frames = 0
        self.min_faces: list[float] = []
        detect = finder.mtcnn.detect

        def logged(frames, min_face_px, thresholds):
            self.frames += len(frames)
            self.min_faces.append(min_face_px)
            return detect(frames, min_face_px, thresholds)

        finder.mtcnn.detect = logged


def test_frames_between_keyframes_are_searched_on_the_full_pyramids_coarser_levels():
    # The test's faces are small (about 56 px): only a ratio above the default's leaves levels out.
    finder = FaceFinder(detect_every=4, guided_min_face_ratio=0.9)
    log = SearchLog(finder)
    frames = [(i * 10, portrait_at(100 + 3 * i, 60, noise_seed=i)) for i in range(9)]
    found = finder.find(frames)
    assert log.frames == 9  # every frame is searched
    full = finder.mtcnn_min_face_size(360, 480)
    keyframes, *between = log.min_faces
    assert keyframes == full  # 0, 4 and 8 in full, in one batch
    assert len(between) == 2 and all(b > full for b in between)  # 1-3, then 5-7, from the face's size
    # The levels of a guided search are the full search's, its finest (small faces only) left out.
    full_scales, guided_scales = pyramid_scales(360, 480, full), pyramid_scales(360, 480, between[0])
    assert 0 < len(guided_scales) < len(full_scales)
    assert guided_scales == pytest.approx(full_scales[-len(guided_scales) :])
    assert between[0] <= finder.guided_min_face_ratio * found[0][0].size_px
    assert [len(per) for per in found] == [1] * 9
    assert all(per[0].frame_index == i * 10 for i, per in enumerate(found))


def test_a_guided_search_finds_the_faces_a_full_search_finds():
    frames = [(i, portrait_at(100 + 5 * i, 60 + 2 * i, noise_seed=i)) for i in range(9)]
    every = FaceFinder(detect_every=1).find(frames)
    guided = FaceFinder(detect_every=4, guided_min_face_ratio=0.9).find(frames)
    for full, economical in zip(every, guided, strict=True):
        assert len(full) == len(economical) == 1
        # Within a pixel or two: non-maximum suppression sees fewer candidates (those of the finest levels).
        assert np.abs(np.subtract(full[0].box, economical[0].box)).max() < 0.05 * full[0].size_px
        assert iou(full[0].box, economical[0].box) > 0.9
        assert abs(full[0].probability - economical[0].probability) < 1e-3


def test_a_face_that_moved_between_keyframes_is_found_where_it_is_by_the_guided_search():
    finder = FaceFinder(detect_every=4, guided_min_face_ratio=0.9)
    log = SearchLog(finder)
    # The head sits still on the keyframes but is elsewhere on frames 1-3 (a turn away and back).
    positions = [(100, 60), (300, 150), (300, 150), (300, 150), (100, 60)]
    found = finder.find([(i, portrait_at(x, y)) for i, (x, y) in enumerate(positions)])
    assert log.frames == 5
    assert [len(per) for per in found] == [1] * 5
    assert found[2][0].box[0] > 250  # found where it really was, not where interpolation put it
    keyframe_search, again = log.min_faces
    face_px = found[0][0].size_px
    assert keyframe_search == finder.mtcnn_min_face_size(360, 480)
    assert again == finder.mtcnn_min_face_size(360, 480, finder.guided_min_face_ratio * face_px) > keyframe_search


def test_a_face_that_shrank_below_the_guided_search_between_keyframes_is_searched_for_in_full():
    finder = FaceFinder(detect_every=4)
    log = SearchLog(finder)
    # A large face on the keyframes, under a quarter of its size on the frames between (a zoom out and back).
    sizes = [330, 80, 80, 80, 330]
    found = finder.find([(i, portrait_at(40, 10, head_px=px)) for i, px in enumerate(sizes)])
    full = finder.mtcnn_min_face_size(360, 480)
    keyframes, guided, again = log.min_faces
    assert keyframes == again == full < guided
    assert log.frames == 2 + 3 + 3
    assert [len(per) for per in found] == [1] * 5
    assert found[2][0].size_px < found[0][0].size_px / 4


def test_frames_between_keyframes_with_different_faces_are_searched_for_any_size():
    finder = FaceFinder(detect_every=4)
    log = SearchLog(finder)
    blank = np.full((360, 480, 3), 118, dtype=np.uint8)
    found = finder.find([(0, blank), (1, portrait_at(100, 60)), (2, portrait_at(100, 60)), (3, portrait_at(100, 60))])
    assert log.frames == 4
    assert log.min_faces == [finder.mtcnn_min_face_size(360, 480)] * 2
    assert [len(per) for per in found] == [0, 1, 1, 1]


def test_detect_every_one_searches_every_frame():
    finder = FaceFinder(detect_every=1)
    log = SearchLog(finder)
    found = finder.find([(i, portrait_at(100, 60, noise_seed=i)) for i in range(5)])
    assert log.frames == 5
    assert log.min_faces == [finder.mtcnn_min_face_size(360, 480)]
    assert [len(per) for per in found] == [1] * 5


@pytest.mark.parametrize("kwargs", [{"detect_every": 0}, {"guided_min_face_ratio": 0.0}])
def test_impossible_face_stage_economies_are_refused(kwargs):
    with pytest.raises(ValueError):
        FaceFinder(**kwargs)


@pytest.mark.parametrize("detect_every", [1, 3])
def test_frames_still_being_decoded_are_searched_batch_by_batch_with_the_same_faces_as_a_list(detect_every):
    frames = [(i, portrait_at(100 + 12 * (i % 3), 60, noise_seed=i)) for i in range(11)]
    finder = FaceFinder(detect_every=detect_every, batch_size=2)
    log = SearchLog(finder)
    searched_when_read: list[int] = []

    def decoding():
        for frame in frames:
            searched_when_read.append(log.frames)  # frames MTCNN had searched when this one was read
            yield frame

    from_iterator = finder.find(decoding())
    from_list = finder.find(frames)
    assert searched_when_read[-1] > 0  # the search began before the last frame was read
    assert [[(f.frame_index, f.box, f.probability, f.flags) for f in per] for per in from_iterator] == [
        [(f.frame_index, f.box, f.probability, f.flags) for f in per] for per in from_list
    ]


def test_keyframes_are_searched_while_the_video_is_still_arriving():
    # With detect_every=4 a batch is the keyframes of batch_size sampled frames: 0, 4, 8 and 12 are
    # searched as soon as frame 12 is in, not after the 32nd frame (which would leave decoding and
    # MTCNN no time to overlap).
    frames = [(i, portrait_at(100, 60, noise_seed=i)) for i in range(32)]
    finder = FaceFinder(detect_every=4, batch_size=16)
    log = SearchLog(finder)
    searched_when_read: list[int] = []

    def decoding():
        for frame in frames:
            searched_when_read.append(log.frames)
            yield frame

    found = finder.find(decoding())
    assert searched_when_read[12] == 0 and searched_when_read[13] == 13  # 0, 4, 8, 12 and the frames between
    assert searched_when_read[29] == 29  # 16, 20, 24, 28 as soon as 28 was in, then 13-15, 17-19, ...
    assert log.frames == 32  # and the last frame, 31, with 29 and 30, at the end
    assert [len(per) for per in found] == [1] * 32
