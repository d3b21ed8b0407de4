"""Frame → track → video aggregation: the named strategies, fusion with track detectors, verdict labels."""

from __future__ import annotations

import pytest

from detector import aggregate
from detector.aggregate import (
    TrackScore,
    VerdictPolicy,
    confident_strategy,
    mean_strategy,
    topk_mean_strategy,
)
from detector.contract import VerdictLabel

POLICY = VerdictPolicy(strategy="mean", threshold=0.5, uncertainty_band=0.1, min_faces=3)


def track(track_id: int, score: float, faces: int = 10) -> TrackScore:
    return TrackScore(track_id, score, faces, aggregate.label_for(score, POLICY), list(range(faces)))


def test_mean_is_the_plain_mean():
    assert mean_strategy([0.2, 0.4, 0.9]) == pytest.approx(0.5)


def test_topk_mean_averages_the_highest_share():
    scores = [0.1] * 6 + [0.9, 0.7]
    assert topk_mean_strategy(scores, share=0.25) == pytest.approx(0.8)
    assert topk_mean_strategy([0.3], share=0.25) == pytest.approx(0.3)


def test_confident_uses_fake_frames_when_more_than_the_share_are_confidently_fake():
    scores = [0.9, 0.95, 0.85, 0.1, 0.5]  # 3 of 5 above 0.8 > 40 %
    assert confident_strategy(scores) == pytest.approx((0.9 + 0.95 + 0.85) / 3)


def test_confident_needs_strictly_more_than_the_fake_share():
    scores = [0.9, 0.9, 0.5, 0.5, 0.5]  # exactly 40 % fake: not enough, and not 90 % real either
    assert confident_strategy(scores) == pytest.approx(0.66)


def test_confident_uses_real_frames_when_nearly_all_are_confidently_real():
    scores = [0.05] * 19 + [0.5]  # 95 % below 0.2
    assert confident_strategy(scores) == pytest.approx(0.05)


def test_confident_falls_back_to_the_mean_otherwise():
    scores = [0.1, 0.1, 0.5, 0.6]
    assert confident_strategy(scores) == pytest.approx(mean_strategy(scores))


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (0.95, VerdictLabel.MANIPULATED),
        (0.6, VerdictLabel.MANIPULATED),
        (0.55, VerdictLabel.INCONCLUSIVE),
        (0.45, VerdictLabel.INCONCLUSIVE),
        (0.4, VerdictLabel.AUTHENTIC),
        (0.0, VerdictLabel.AUTHENTIC),
    ],
)
def test_scores_inside_the_uncertainty_band_are_inconclusive(score, label):
    assert aggregate.label_for(score, POLICY) == label


def test_any_manipulated_track_makes_the_video_manipulated():
    verdict = aggregate.aggregate_video_score([track(0, 0.05), track(1, 0.92), track(2, 0.1)], POLICY)
    assert verdict["label"] == VerdictLabel.MANIPULATED
    assert verdict["deciding_track"] == 1
    assert verdict["score"] == pytest.approx(0.92)


def test_all_authentic_tracks_make_an_authentic_video():
    verdict = aggregate.aggregate_video_score([track(0, 0.05), track(1, 0.2)], POLICY)
    assert verdict["label"] == VerdictLabel.AUTHENTIC
    assert verdict["deciding_track"] == 1


def test_a_short_spurious_track_does_not_decide():
    verdict = aggregate.aggregate_video_score([track(0, 0.1, faces=12), track(1, 0.99, faces=1)], POLICY)
    assert verdict["label"] == VerdictLabel.AUTHENTIC
    assert verdict["deciding_track"] == 0


def test_too_few_faces_is_inconclusive():
    verdict = aggregate.aggregate_video_score([track(0, 0.97, faces=2)], POLICY)
    assert verdict["label"] == VerdictLabel.INCONCLUSIVE
    assert "at least 3" in verdict["reason"]


def test_a_single_image_needs_only_one_face():
    verdict = aggregate.aggregate_video_score([track(0, 0.97, faces=1)], POLICY, single_image=True)
    assert verdict["label"] == VerdictLabel.MANIPULATED


def test_the_reason_speaks_of_a_face_for_an_image_and_counts_faces_in_words_for_a_video():
    image = aggregate.aggregate_video_score([track(0, 0.97, faces=1)], POLICY, single_image=True)
    assert image["reason"] == "the face decides: P(manipulated) 0.97"
    video = aggregate.aggregate_video_score([track(0, 0.97, faces=1)], aggregate.VerdictPolicy(min_faces=1))
    assert "(1 face)" in video["reason"] and "P(manipulated) 0.97" in video["reason"]


def test_no_tracks_means_no_faces_and_no_score():
    verdict = aggregate.aggregate_video_score([], POLICY)
    assert verdict["label"] == VerdictLabel.NO_FACES
    assert verdict["score"] is None


def test_aggregate_tracks_applies_the_named_strategy_per_track():
    items = {0: [(0, 0.2), (4, 0.4)], 1: [(0, 0.9), (4, 0.7), (8, 0.8)]}
    tracks = aggregate.aggregate_tracks(items, POLICY)
    assert [(t.track_id, t.faces) for t in tracks] == [(0, 2), (1, 3)]
    assert tracks[0].score == pytest.approx(0.3)
    assert tracks[1].frame_indices == [0, 4, 8]


def test_fusion_weighs_every_detector_the_same():
    frames_by_track = {0: [0, 4, 8], 1: [0, 4, 8]}
    frame_tracks = [track(0, 0.2, 3), track(1, 0.8, 3)]  # the mean of two frame detectors
    fused = aggregate.fuse_tracks(frames_by_track, frame_tracks, 2, {"lstm": {0: 0.8, 1: 0.2}}, POLICY)
    assert [t.score for t in fused] == pytest.approx([(0.2 * 2 + 0.8) / 3, (0.8 * 2 + 0.2) / 3])
    assert fused[0].detector_scores == {"lstm": 0.8}
    assert fused[0].to_dict()["detector_scores"] == {"lstm": 0.8}


def test_fusion_with_track_detectors_only_and_unscored_tracks_left_out():
    fused = aggregate.fuse_tracks({0: [0, 4, 8], 1: [4]}, [], 0, {"lstm": {0: 0.7}}, POLICY)
    assert [(t.track_id, t.score, t.faces) for t in fused] == [(0, 0.7, 3)]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"strategy": "median"},
        {"threshold": 1.5},
        {"uncertainty_band": 0.5},
        {"uncertainty_band": -0.1},
        {"min_faces": 0},
    ],
)
def test_an_impossible_policy_is_refused(kwargs):
    with pytest.raises(ValueError):
        VerdictPolicy(**kwargs)


@pytest.mark.parametrize(
    ("fake_frames", "strategy", "expected"),
    [
        # 9 of 20 frames clearly fake (0.9), the rest clearly real (0.1): mean 0.46.
        (9, "mean", VerdictLabel.INCONCLUSIVE),
        (9, "topk_mean", VerdictLabel.MANIPULATED),
        (9, "confident", VerdictLabel.MANIPULATED),  # 45 % confidently fake > 40 %: their mean, 0.9
        # 6 of 20 fake: mean 0.34; 30 % fake is too few for "confident", which falls back to the mean.
        (6, "mean", VerdictLabel.AUTHENTIC),
        (6, "topk_mean", VerdictLabel.MANIPULATED),
        (6, "confident", VerdictLabel.AUTHENTIC),
    ],
)
def test_the_named_strategy_decides_the_same_frames_differently(fake_frames, strategy, expected):
    items = {0: [(i, 0.9 if i < fake_frames else 0.1) for i in range(20)]}
    policy = VerdictPolicy(strategy=strategy, threshold=0.5, uncertainty_band=0.1, min_faces=3)
    verdict = aggregate.aggregate_video_score(aggregate.aggregate_tracks(items, policy), policy)
    assert verdict["label"] == expected
