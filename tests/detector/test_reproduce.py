"""The reproducibility manifest in every result, and ``python -m detector reproduce``: run, re-run, compare."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch

from detector import cli
from detector.contract import AnalysisResult, FaceResult, FrameResult
from detector.ensemble import load_ensemble
from detector.pipeline import analyze
from detector.reproduce import DIFFERENT, IDENTICAL, WITHIN_TOLERANCE, ReproduceError, compare, reproduce

from .conftest import save_random_checkpoint

FRAMES = 4


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    return save_random_checkpoint("custom_cnn", tmp_path_factory.mktemp("weights") / "custom_cnn.pt")


@pytest.fixture(scope="module")
def recorded(sample_clip_path, face_finder, weights, tmp_path_factory) -> tuple[AnalysisResult, Path]:
    """One analysis and its result as a file, as ``analyze --json`` or the platform writes it."""
    ensemble = load_ensemble(["custom_cnn"], device="cpu", checkpoints={"custom_cnn": weights})
    result = analyze(sample_clip_path, frames=FRAMES, ensemble=ensemble, face_finder=face_finder)
    path = tmp_path_factory.mktemp("manifest") / "result.json"
    path.write_text(json.dumps(result.to_dict()))
    return result, path


def reproduce_cli(capsys, *args: str) -> tuple[int, str]:
    code = cli.main(["reproduce", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_every_result_carries_a_manifest_naming_what_it_ran_with(recorded, sample_clip_path, weights):
    result, _ = recorded
    manifest = result.manifest
    assert manifest is not None
    assert manifest.media_sha256 == hashlib.sha256(sample_clip_path.read_bytes()).hexdigest()
    assert manifest.frames_requested == FRAMES
    assert manifest.frame_indices == [f.frame_index for f in result.frames] and len(manifest.timestamps_s) == FRAMES
    (entry,) = manifest.detectors
    assert entry["name"] == "custom_cnn" and entry["sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert {"strategy", "threshold", "uncertainty_band", "min_faces"} <= set(manifest.policy)
    assert manifest.face_detection["detector"] == "mtcnn" and manifest.crop_margin
    assert {"python", "torch", "timm", "numpy", "facenet-pytorch", "opencv"} <= set(manifest.libraries)
    assert manifest.code_version.startswith("0.1.0") and manifest.device == "cpu"
    assert AnalysisResult.from_dict(json.loads(json.dumps(result.to_dict()))).manifest == manifest


def test_a_rerun_on_the_same_machine_is_identical(recorded, sample_clip_path, weights, capsys):
    _, path = recorded
    code, out = reproduce_cli(capsys, str(path), str(sample_clip_path), "--checkpoint", f"custom_cnn={weights}")
    assert code == 0, out
    assert out.startswith(f"{IDENTICAL}: ") and "largest difference 0 " in out and "mismatch" not in out


def test_a_score_that_was_changed_is_named(recorded, sample_clip_path, weights, capsys, tmp_path):
    result, _ = recorded
    document = result.to_dict()
    face = next(f for frame in document["frames"] for f in frame["faces"])
    face["detector_scores"]["custom_cnn"] = round(face["detector_scores"]["custom_cnn"] + 0.05, 6)
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(document))
    code, out = reproduce_cli(capsys, str(edited), str(sample_clip_path), "--checkpoint", f"custom_cnn={weights}")
    assert code == 1 and out.startswith(f"{DIFFERENT}: ")
    assert f"mismatch: frame {face['frame_index']} track {face['track_id']} custom_cnn" in out


def test_another_original_or_other_weights_are_refused(recorded, sample_clip_path, blank_clip_path, capsys, tmp_path):
    _, path = recorded
    code, out = reproduce_cli(capsys, str(path), str(blank_clip_path))
    assert code == 2 and "cannot_reproduce" in out and "the analysis was of" in out
    other = save_random_checkpoint("custom_cnn", tmp_path / "other.pt", version="9.9.9")
    code, out = reproduce_cli(capsys, str(path), str(sample_clip_path), "--checkpoint", f"custom_cnn={other}")
    assert code == 2 and "checkpoint sha256" in out


def test_other_weights_are_refused_by_their_hash_before_they_are_loaded(
    recorded, sample_clip_path, tmp_path, monkeypatch
):
    _, path = recorded
    other = save_random_checkpoint("custom_cnn", tmp_path / "other.pt", version="9.9.9")
    loads: list = []
    monkeypatch.setattr(torch, "load", lambda *args, **kwargs: loads.append(args))
    with pytest.raises(ReproduceError, match=r"detector custom_cnn: checkpoint sha256 \w+ is not the recorded"):
        reproduce(json.loads(path.read_text()), sample_clip_path, checkpoints={"custom_cnn": other})
    assert loads == []  # nothing of the other file was unpickled, not even with weights_only


def test_small_differences_across_devices_are_within_the_stated_tolerance():
    def frames(score: float) -> list[FrameResult]:
        face = FaceResult(0, 0, [1.0, 2.0, 30.0, 40.0], 0.99, detector_scores={"a": score}, score=score)
        return [FrameResult(0, 0.0, faces=[face])]

    verdict = {"label": "authentic", "score": 0.2, "per_detector": {"a": 0.2}}
    assert compare(frames(0.2), verdict, frames(0.2), verdict).status == IDENTICAL
    close = compare(frames(0.2), verdict, frames(0.20004), verdict, tolerance=1e-3)
    assert close.status == WITHIN_TOLERANCE and close.max_score_diff == pytest.approx(4e-5)
    far = compare(frames(0.2), verdict, frames(0.25), verdict, tolerance=1e-3)
    assert far.status == DIFFERENT and not far.reproduced
