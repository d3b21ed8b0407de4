"""A job's progress moves within each stage, frame by frame and batch by batch (issue 27, point 4)."""

from __future__ import annotations

import numpy as np

from detector.contract import JobStage
from detector.ensemble import load_ensemble
from detector.pipeline import analyze

from .conftest import save_random_checkpoint


def test_progress_moves_within_the_face_and_scoring_stages_and_marks_each_start_once(
    sample_clip_path, face_finder, tmp_path
):
    checkpoints = {
        name: save_random_checkpoint(name, tmp_path / f"{name}.pt") for name in ("custom_cnn", "spectral_lr")
    }
    ensemble = load_ensemble(list(checkpoints), device="cpu", checkpoints=checkpoints)
    reports: list[tuple[str, int]] = []
    analyze(
        sample_clip_path,
        frames=8,
        ensemble=ensemble,
        face_finder=face_finder,
        progress=lambda stage, percent: reports.append((str(stage), percent)),
    )
    faces = [p for stage, p in reports if stage == JobStage.FACES]
    scoring = [p for stage, p in reports if stage == JobStage.SCORING]
    assert [p for p in faces if 0 < p < 100], f"the face stage jumped from 0 to 100: {faces}"
    assert [p for p in scoring if 0 < p < 100], f"the scoring stage jumped from 0 to 100: {scoring}"
    assert faces == sorted(faces) and scoring == sorted(scoring)
    # A report of 0 is a stage's start (the worker's checkpoints hang on it): once per stage.
    starts = [stage for stage, p in reports if p == 0]
    assert starts == [JobStage.DECODING, JobStage.FACES, JobStage.SCORING, JobStage.AGGREGATING]


def test_scores_are_the_same_whether_or_not_progress_is_reported(face_crop, tmp_path):
    checkpoint = save_random_checkpoint("custom_cnn", tmp_path / "custom_cnn.pt")
    ensemble = load_ensemble(["custom_cnn"], device="cpu", checkpoints={"custom_cnn": checkpoint})
    crops = [face_crop(96, seed) for seed in range(5)]
    shares: list[float] = []
    with_progress, _ = ensemble.score(crops, batch_size=2, progress=shares.append)
    without, _ = ensemble.score(crops, batch_size=2)
    np.testing.assert_array_equal(with_progress["custom_cnn"], without["custom_cnn"])
    assert shares == [0.4, 0.8, 1.0]
