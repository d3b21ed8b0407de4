"""The pipeline end to end on generated media: faces, tracks, track detectors, verdicts, heatmaps, failures."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import detector
from detector.contract import AnalysisResult, VerdictLabel
from detector.ensemble import Ensemble, load_ensemble
from detector.media import MediaError
from detector.pipeline import analyze

from .conftest import label_from_thresholds, save_random_checkpoint

# Small inputs keep the ResNeXt track model cheap on CPU; a checkpoint's config overrides the registry's.
TRACK_INPUT_PX = 64
TRACK_STEPS = 3


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("weights")
    return {
        "custom_cnn": save_random_checkpoint("custom_cnn", folder / "custom_cnn.pt"),
        "spectral_lr": save_random_checkpoint("spectral_lr", folder / "spectral_lr.pt"),
        "resnext_lstm": save_random_checkpoint(
            "resnext_lstm",
            folder / "resnext_lstm.pt",
            input_size=TRACK_INPUT_PX,
            extra={"sequence_length": TRACK_STEPS},
        ),
    }


@pytest.fixture(scope="session")
def cnn_result(sample_clip_path, face_finder, checkpoints, tmp_path_factory) -> tuple[AnalysisResult, Path]:
    artifacts = tmp_path_factory.mktemp("artifacts")
    ensemble = load_ensemble(["custom_cnn"], device="cpu", checkpoints=checkpoints)
    result = analyze(sample_clip_path, frames=8, ensemble=ensemble, face_finder=face_finder, artifacts_dir=artifacts)
    return result, artifacts


@pytest.fixture(scope="session")
def frame_and_track_result(sample_clip_path, face_finder, checkpoints, tmp_path_factory) -> tuple[AnalysisResult, Path]:
    artifacts = tmp_path_factory.mktemp("artifacts_track")
    ensemble = load_ensemble(["custom_cnn", "resnext_lstm"], device="cpu", checkpoints=checkpoints)
    result = analyze(
        sample_clip_path,
        frames=6,
        ensemble=ensemble,
        face_finder=face_finder,
        artifacts_dir=artifacts,
        heatmap_faces=2,
        heatmap_detectors="all",
    )
    return result, artifacts


def test_faces_are_found_on_every_sampled_frame_of_the_astronaut_clip(cnn_result):
    result, _ = cnn_result
    assert len(result.frames) == 8
    assert result.diagnostics.faces_per_frame == [1] * 8


def test_the_moving_face_stays_one_track(cnn_result):
    result, _ = cnn_result
    assert result.tracks == 1
    assert {face.track_id for face in result.faces()} == {0}
    assert [t.faces for t in result.verdict.per_track] == [8]


def test_a_trained_detector_gives_a_valid_label_and_a_probability(cnn_result):
    verdict = cnn_result[0].verdict
    assert verdict.label == label_from_thresholds(verdict.score, verdict.thresholds)
    assert 0.0 <= verdict.score <= 1.0
    assert verdict.untrained is False
    assert set(verdict.per_detector) == {"custom_cnn"}
    assert verdict.deciding_track == 0
    assert all(0.0 <= face.score <= 1.0 for face in cnn_result[0].faces())


def test_result_names_the_checkpoint_hash(cnn_result, checkpoints):
    (described,) = cnn_result[0].detectors
    assert described.trained is True
    assert described.sha256 == Path(f"{checkpoints['custom_cnn']}.sha256").read_text().split()[0]


def test_heatmaps_are_written_for_the_top_faces_of_the_deciding_track(cnn_result):
    result, artifacts = cnn_result
    explanations = result.explanations
    assert explanations.skipped is None
    assert explanations.detectors == ["custom_cnn"]
    assert len(explanations.files) == 6
    with_heatmap = [face for face in result.faces() if face.heatmap_path]
    assert len(with_heatmap) == 6
    scores_with = sorted(face.score for face in with_heatmap)
    scores_without = [face.score for face in result.faces() if not face.heatmap_path]
    assert min(scores_with) >= max(scores_without)
    for face in with_heatmap:
        assert face.heatmap_path.startswith("heatmaps/f") and face.heatmap_path.endswith("_custom_cnn.png")
        png = cv2.imread(str(artifacts / face.heatmap_path))
        assert png is not None and png.shape == (224, 224, 3)
        assert face.heatmap_paths == {"custom_cnn": face.heatmap_path}
        assert (artifacts / face.crop_path).is_file()


def test_a_track_detector_scores_each_track_and_reports_it(frame_and_track_result):
    verdict = frame_and_track_result[0].verdict
    (track,) = verdict.per_track
    assert set(track.detector_scores) == {"custom_cnn", "resnext_lstm"}
    assert set(verdict.per_detector) == {"custom_cnn", "resnext_lstm"}
    # Both detectors weigh the same in the track's score.
    expected = np.mean(list(track.detector_scores.values()))
    assert track.score == pytest.approx(expected, abs=1e-5)
    assert verdict.score == pytest.approx(track.score, abs=1e-5)
    # Per-face scores stay frame-detector scores: the track model has no per-face score.
    assert all(set(face.detector_scores) == {"custom_cnn"} for face in frame_and_track_result[0].faces())


def test_heatmaps_for_all_detectors_include_the_track_model(frame_and_track_result):
    result, artifacts = frame_and_track_result
    assert result.explanations.detectors == ["custom_cnn", "resnext_lstm"]
    explained = [face for face in result.faces() if face.heatmap_paths]
    assert len(explained) == 2
    for face in explained:
        assert set(face.heatmap_paths) == {"custom_cnn", "resnext_lstm"}
        assert all((artifacts / p).is_file() for p in face.heatmap_paths.values())


def test_a_track_detector_alone_decides_the_verdict(sample_clip_path, face_finder, checkpoints):
    ensemble = load_ensemble(["resnext_lstm"], device="cpu", checkpoints=checkpoints)
    result = analyze(sample_clip_path, frames=6, ensemble=ensemble, face_finder=face_finder)
    verdict = result.verdict
    assert verdict.label == label_from_thresholds(verdict.score, verdict.thresholds)
    assert 0.0 <= verdict.score <= 1.0
    assert set(verdict.per_detector) == {"resnext_lstm"}
    assert all(face.score is None for face in result.faces())
    assert result.explanations.skipped == "no artifacts directory"


def test_without_a_cnn_detector_no_heatmap_is_made_and_nothing_breaks(
    sample_clip_path, face_finder, checkpoints, tmp_path
):
    ensemble = load_ensemble(["spectral_lr"], device="cpu", checkpoints=checkpoints)
    result = analyze(sample_clip_path, frames=4, ensemble=ensemble, face_finder=face_finder, artifacts_dir=tmp_path)
    assert result.verdict.score is not None
    assert "cam_layer" in result.explanations.skipped
    assert not (tmp_path / "heatmaps").exists()
    assert all(face.heatmap_path is None for face in result.faces())


def test_untrained_only_ensemble_is_inconclusive_without_a_score(sample_clip_path, face_finder, tmp_path):
    torch.manual_seed(0)
    ensemble = Ensemble([detector.create("custom_cnn", device="cpu")])
    result = analyze(sample_clip_path, frames=4, ensemble=ensemble, face_finder=face_finder, artifacts_dir=tmp_path)
    verdict = result.verdict
    assert verdict.label == VerdictLabel.INCONCLUSIVE
    assert verdict.score is None
    assert verdict.untrained is True
    assert verdict.untrained_detectors == ["custom_cnn"]
    assert verdict.per_detector == {}
    assert result.explanations.files == []
    assert all(face.score is None for face in result.faces())


def test_blank_clip_has_no_faces_and_no_score(blank_clip_path, face_finder, checkpoints):
    ensemble = load_ensemble(["custom_cnn"], device="cpu", checkpoints=checkpoints)
    result = analyze(blank_clip_path, frames=4, ensemble=ensemble, face_finder=face_finder)
    assert result.verdict.label == VerdictLabel.NO_FACES
    assert result.verdict.score is None
    assert result.diagnostics.faces_total == 0
    assert result.diagnostics.frames_with_faces == 0


def test_an_image_is_one_frame_and_one_face_is_enough(portrait_png, face_finder, checkpoints):
    ensemble = load_ensemble(["custom_cnn"], device="cpu", checkpoints=checkpoints)
    result = analyze(portrait_png, ensemble=ensemble, face_finder=face_finder)
    assert result.media.kind == "image"
    assert len(result.frames) == 1
    assert result.diagnostics.faces_per_frame == [1]
    assert result.verdict.label == label_from_thresholds(result.verdict.score, result.verdict.thresholds)
    assert 0.0 <= result.verdict.score <= 1.0


@pytest.mark.parametrize("damage", ["random_bytes", "truncated"])
def test_corrupt_or_truncated_video_is_unreadable_media(damage, sample_clip_path, tmp_path, face_finder, checkpoints):
    broken = tmp_path / "broken.mp4"
    if damage == "random_bytes":
        broken.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    else:
        broken.write_bytes(sample_clip_path.read_bytes()[:2048])
    ensemble = load_ensemble(["custom_cnn"], device="cpu", checkpoints=checkpoints)
    with pytest.raises(MediaError) as caught:
        analyze(broken, frames=4, ensemble=ensemble, face_finder=face_finder)
    assert caught.value.code == "unreadable_media"


def test_diagnostics_of_a_real_run_cover_the_input(cnn_result):
    diagnostics = cnn_result[0].diagnostics
    assert (diagnostics.width, diagnostics.height) == (480, 360)
    assert diagnostics.bitrate_kbps > 0
    assert diagnostics.frames_sampled == 8
    assert diagnostics.frames_unreadable == 0
    assert diagnostics.face_size_px["min"] > 40
    assert diagnostics.blur_laplacian_var["median"] > 50


def test_timings_cover_every_stage(cnn_result):
    assert set(cnn_result[0].timings) == {"decode_s", "faces_s", "scoring_s", "aggregate_s", "heatmaps_s", "total_s"}


def test_an_image_is_decoded_once_per_analysis(portrait_png, face_finder, checkpoints, monkeypatch):
    ensemble = load_ensemble(["spectral_lr"], device="cpu", checkpoints=checkpoints)
    decodes = []
    real_imdecode = cv2.imdecode
    monkeypatch.setattr(cv2, "imdecode", lambda *a, **k: decodes.append(1) or real_imdecode(*a, **k))
    result = analyze(portrait_png, ensemble=ensemble, face_finder=face_finder)
    assert len(decodes) == 1
    assert result.media.kind == "image" and result.diagnostics.faces_total == 1


def test_the_result_records_the_face_detection_settings(cnn_result, face_finder):
    assert cnn_result[0].settings.face_detection == face_finder.settings()


def test_members_with_different_margins_each_see_their_own_crop(sample_clip_path, face_finder, checkpoints, tmp_path):
    wide = save_random_checkpoint("spectral_lr", tmp_path / "spectral_lr_wide.pt", crop_margin=0.5)
    both = load_ensemble(["custom_cnn", "spectral_lr"], device="cpu", checkpoints={**checkpoints, "spectral_lr": wide})
    alone = load_ensemble(["custom_cnn"], device="cpu", checkpoints=checkpoints)
    assert both.crop_margin == 0.5

    mixed = analyze(sample_clip_path, frames=3, ensemble=both, face_finder=face_finder, artifacts_dir=tmp_path / "a")
    single = analyze(sample_clip_path, frames=3, ensemble=alone, face_finder=face_finder)

    # custom_cnn (margin 0.3) scores the same faces whether the crops were cut at 0.3 or narrowed from 0.5.
    mixed_scores = [face.detector_scores["custom_cnn"] for face in mixed.faces()]
    single_scores = [face.detector_scores["custom_cnn"] for face in single.faces()]
    assert mixed_scores == pytest.approx(single_scores, abs=2e-3)
    assert mixed.explanations.skipped is None and mixed.explanations.files
    assert (mixed.settings.crop_margin, single.settings.crop_margin) == (0.5, 0.3)


def test_decoded_frames_are_dropped_once_their_faces_are_cut_before_the_models_run(
    sample_clip_path, face_finder, monkeypatch
):
    """A job holds its decoded frames (up to media.MAX_DECODED_PIXELS) through the face stage only."""
    import gc
    import weakref

    from detector import pipeline

    decoded: list[weakref.ref] = []
    alive_when_scoring: list[int] = []
    stream_media, score_faces = pipeline.stream_media, pipeline.score_faces

    def read_and_watch(*args, **kwargs):
        media, frames, report = stream_media(*args, **kwargs)

        def watched():
            for frame in frames:
                if frame.rgb is not None:
                    decoded.append(weakref.ref(frame.rgb))
                yield frame

        return media, watched(), report

    def count_then_score(*args, **kwargs):
        gc.collect()
        alive_when_scoring.append(sum(ref() is not None for ref in decoded))
        return score_faces(*args, **kwargs)

    monkeypatch.setattr(pipeline, "stream_media", read_and_watch)
    monkeypatch.setattr(pipeline, "score_faces", count_then_score)
    ensemble = Ensemble([detector.create("custom_cnn", device="cpu")])
    result = analyze(sample_clip_path, frames=6, ensemble=ensemble, face_finder=face_finder)
    assert len(decoded) == 6 and alive_when_scoring == [0]
    assert all(frame.readable for frame in result.frames) and len(result.faces()) >= 6


@pytest.fixture(scope="session")
def two_kinds_checkpoints(checkpoints, tmp_path_factory) -> dict[str, Path]:
    """A face-swap detector and a fully-generated-face one, with thresholds far apart so a mix would show."""
    folder = tmp_path_factory.mktemp("two_kinds")
    generated = save_random_checkpoint("genface_spectral", folder / "genface_spectral.pt", input_size=64)
    return {"custom_cnn": checkpoints["custom_cnn"], "genface_spectral": generated}


def test_an_image_job_names_both_kinds_of_manipulation_and_scores_each(
    portrait_png, face_finder, two_kinds_checkpoints
):
    from detector.contract import KIND_NAMES, ManipulationKind

    ensemble = load_ensemble(["custom_cnn", "genface_spectral"], device="cpu", checkpoints=two_kinds_checkpoints)
    result = analyze(portrait_png, ensemble=ensemble, face_finder=face_finder)

    kinds = {k.kind: k for k in result.verdict.per_kind}
    assert list(kinds) == ["face_swap", "fully_generated"]
    assert kinds["face_swap"].name == KIND_NAMES[ManipulationKind.FACE_SWAP] == "face swap / re-enactment"
    assert kinds["fully_generated"].name == "fully generated face"
    assert kinds["face_swap"].detectors == ["custom_cnn"] and kinds["fully_generated"].detectors == ["genface_spectral"]
    (face,) = result.faces()
    assert set(face.detector_scores) == {"custom_cnn", "genface_spectral"}
    # Each kind decides on its own detector's score: the two are never averaged into one.
    assert kinds["face_swap"].score == pytest.approx(face.detector_scores["custom_cnn"], abs=1e-5)
    assert kinds["fully_generated"].score == pytest.approx(face.detector_scores["genface_spectral"], abs=1e-5)
    assert set(result.verdict.per_detector) == {"custom_cnn", "genface_spectral"}
    deciding = max(
        result.verdict.per_kind, key=lambda k: ({"manipulated": 2, "inconclusive": 1}.get(k.label, 0), k.score)
    )
    assert (result.verdict.label, result.verdict.score) == (deciding.label, deciding.score)
    assert result.verdict.reason.startswith(deciding.name)
    assert face.score == pytest.approx(deciding.score, abs=1e-5)
    assert {d.name: d.kind for d in result.detectors} == {
        "custom_cnn": "face_swap",
        "genface_spectral": "fully_generated",
    }
    assert AnalysisResult.from_dict(result.to_dict()).verdict.per_kind == result.verdict.per_kind


def test_an_image_runs_the_generated_face_detector_by_default_and_a_video_does_not():
    from detector.contract import DEFAULT_DETECTORS, IMAGE_DEFAULT_DETECTORS, ManipulationKind, default_detectors

    kinds = {detector.get_config(n).kind for n in IMAGE_DEFAULT_DETECTORS}
    assert kinds == {ManipulationKind.FULLY_GENERATED}
    assert default_detectors("image") == (*DEFAULT_DETECTORS, *IMAGE_DEFAULT_DETECTORS)
    assert default_detectors("video") == DEFAULT_DETECTORS


def test_one_kind_of_detector_gives_one_kind_verdict(portrait_png, face_finder, checkpoints):
    ensemble = load_ensemble(["custom_cnn"], device="cpu", checkpoints=checkpoints)
    result = analyze(portrait_png, ensemble=ensemble, face_finder=face_finder)
    (only,) = result.verdict.per_kind
    assert (only.kind, only.label, only.score) == ("face_swap", result.verdict.label, result.verdict.score)
