"""Library and command-line entry points: predict_image, predict_batch, analyze --json, analyze-folder."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys

import cv2
import numpy as np
import pytest

import detector
from detector import cli, predict
from detector.contract import CONTRACT_VERSION, AnalysisResult
from detector.ensemble import DEFAULT_ENSEMBLE
from detector.synthetic import astronaut_rgb

from .conftest import LABELS, label_from_thresholds, save_random_checkpoint


@pytest.fixture
def shipped_custom_cnn(tmp_path, monkeypatch):
    """A weights folder holding a custom_cnn checkpoint, used as the shipped weights."""
    weights = tmp_path / "weights"
    save_random_checkpoint("custom_cnn", weights / "custom_cnn.pt")
    monkeypatch.setenv("FORENSICS_WEIGHTS_DIR", str(weights))
    predict._models.cache_clear()
    yield weights
    predict._models.cache_clear()


def test_predict_image_takes_an_rgb_array(shipped_custom_cnn):
    out = detector.predict_image(astronaut_rgb(), detectors=["custom_cnn"], device="cpu")
    assert out["source"] == "<array>"
    assert out["faces"] == 1
    assert 0.0 <= out["score"] <= 1.0
    assert out["label"] == label_from_thresholds(out["score"], out["result"].verdict.thresholds)
    assert set(out["per_detector"]) == {"custom_cnn"}
    assert out["result"].media.kind == "image"


def test_predict_image_refuses_arrays_that_are_not_images(shipped_custom_cnn):
    with pytest.raises(ValueError, match="uint8"):
        detector.predict_image(np.zeros((64, 64, 3), dtype=np.float32), detectors=["custom_cnn"], device="cpu")


def test_predict_batch_reports_a_bad_file_and_goes_on(shipped_custom_cnn, portrait_png, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    grey = cv2.cvtColor(astronaut_rgb(), cv2.COLOR_RGB2GRAY)
    out = detector.predict_batch([portrait_png, broken, grey], detectors=["custom_cnn"], device="cpu")
    assert [o["source"] for o in out] == [str(portrait_png), str(broken), "<array>"]
    assert out[0]["error"] is None
    assert out[0]["label"] == label_from_thresholds(out[0]["score"], out[0]["result"].verdict.thresholds)
    assert out[1]["label"] is None
    assert out[1]["error"]["code"] == "unreadable_media"
    assert out[2]["faces"] == 1


def test_cli_analyze_prints_the_verdict_as_json(shipped_custom_cnn, sample_clip_path, capsys):
    code = cli.main(
        ["analyze", str(sample_clip_path), "--json", "--frames", "4", "--detectors", "custom_cnn", "--device", "cpu"]
    )
    assert code == 0
    result = AnalysisResult.from_dict(json.loads(capsys.readouterr().out))
    verdict = result.verdict
    assert 0.0 <= verdict.score <= 1.0 and set(verdict.per_detector) == {"custom_cnn"}
    assert verdict.label == label_from_thresholds(verdict.score, verdict.thresholds)
    assert result.settings.frames == 4 and result.settings.detectors == ["custom_cnn"]
    assert result.settings.face_detection["thresholds"] == [0.6, 0.7, 0.8]
    assert len(result.frames) == 4 and result.version == CONTRACT_VERSION


def test_cli_analyze_reports_unreadable_media_with_its_code(tmp_path, capsys):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 512)
    assert cli.main(["analyze", str(broken), "--json", "--detectors", "custom_cnn", "--device", "cpu"]) == 2
    assert json.loads(capsys.readouterr().err)["error"]["code"] == "unreadable_media"


def test_analyze_folder_writes_one_csv_row_per_file(shipped_custom_cnn, portrait_png, tmp_path, capsys):
    folder = tmp_path / "inbox"
    folder.mkdir()
    shutil.copy(portrait_png, folder / "a_portrait.png")
    (folder / "b_broken.mp4").write_bytes(b"\x00" * 512)
    (folder / "notes.txt").write_text("not media")
    out_csv = tmp_path / "out.csv"
    code = cli.main(
        ["analyze-folder", str(folder), "--csv", str(out_csv), "--detectors", "custom_cnn", "--device", "cpu"]
    )
    assert code == 0
    rows = list(csv.DictReader(out_csv.open()))
    assert [r["path"].rsplit("/", 1)[-1] for r in rows] == ["a_portrait.png", "b_broken.mp4"]
    assert rows[0]["label"] in LABELS and 0.0 <= float(rows[0]["score"]) <= 1.0
    assert rows[0]["kind"] == "image" and rows[0]["faces"] == "1"
    assert rows[0]["score_custom_cnn"] == rows[0]["score"]
    assert rows[1]["error_code"] == "unreadable_media" and rows[1]["label"] == ""


def test_analyze_folder_without_media_fails_clearly(tmp_path, capsys):
    assert cli.main(["analyze-folder", str(tmp_path), "--csv", str(tmp_path / "x.csv")]) == 2
    assert "no_media" in capsys.readouterr().err


class TerminalStderr(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_cli_analyze_shows_a_progress_bar_only_on_a_terminal(shipped_custom_cnn, sample_clip_path, capsys, monkeypatch):
    args = ["analyze", str(sample_clip_path), "--frames", "4", "--detectors", "custom_cnn", "--device", "cpu"]
    assert cli.main(args) == 0
    quiet = capsys.readouterr()
    assert quiet.err == ""
    assert quiet.out.startswith("verdict: ")

    terminal = TerminalStderr()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert cli.main(args) == 0
    bar = terminal.getvalue()
    for stage in ("decoding", "faces", "scoring", "aggregating"):
        assert stage in bar
    assert "400/400" in bar


def test_cli_analyze_passes_the_face_detection_settings_on(shipped_custom_cnn, sample_clip_path, capsys):
    args = ["analyze", str(sample_clip_path), "--json", "--frames", "2", "--detectors", "custom_cnn", "--device", "cpu"]
    args += ["--face-thresholds", "0.5,0.6,0.7", "--detect-max-side", "320", "--min-face", "30"]
    assert cli.main(args) == 0
    settings = json.loads(capsys.readouterr().out)["settings"]["face_detection"]
    assert settings["thresholds"] == [0.5, 0.6, 0.7]
    assert (settings["detect_max_side_px"], settings["search_min_face_px"]) == (320, 30)


@pytest.mark.parametrize(
    "bad", [["--frames", "0"], ["--face-thresholds", "0.5,0.6"], ["--face-thresholds", "a,b,c"], ["--min-face", "-3"]]
)
def test_cli_refuses_impossible_options_before_loading_anything(bad, sample_clip_path, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["analyze", str(sample_clip_path), *bad])
    assert exited.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_cli_reports_a_damaged_checkpoint_with_its_code(shipped_custom_cnn, sample_clip_path, capsys):
    checkpoint = shipped_custom_cnn / "custom_cnn.pt"
    checkpoint.write_bytes(checkpoint.read_bytes()[:-10] + b"0123456789")
    assert cli.main(["analyze", str(sample_clip_path), "--json", "--detectors", "custom_cnn", "--device", "cpu"]) == 2
    error = json.loads(capsys.readouterr().err)["error"]
    assert error["code"] == "bad_checkpoint" and "sha256" in error["message"]


def test_cli_list_names_every_detector_its_kind_and_its_shipped_weights(shipped_custom_cnn, capsys):
    assert cli.main(["list", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert sorted(rows) == detector.list()
    assert {name for name, row in rows.items() if row["default"]} == set(DEFAULT_ENSEMBLE)
    assert rows["custom_cnn"]["weights"] == "custom_cnn.pt"
    assert rows["spectral_lr"]["weights"] is None
    assert rows["resnext_lstm"]["input_kind"] == "track"
    assert cli.main(["list"]) == 0
    text = capsys.readouterr().out
    assert "custom_cnn" in text and "untrained (no shipped weights)" in text


def test_cli_analyze_takes_the_aggregation_and_the_uncertainty_band(shipped_custom_cnn, sample_clip_path, capsys):
    args = ["analyze", str(sample_clip_path), "--json", "--frames", "3", "--detectors", "custom_cnn", "--device", "cpu"]
    assert cli.main([*args, "--aggregation", "topk_mean", "--uncertainty-band", "0.2", "--min-faces", "5"]) == 0
    verdict = json.loads(capsys.readouterr().out)["verdict"]
    assert verdict["aggregation"] == "topk_mean"
    assert verdict["thresholds"]["uncertainty_band"] == 0.2 and verdict["thresholds"]["min_faces"] == 5
    # 3 sampled frames cannot make a track of 5 faces.
    assert verdict["label"] == "inconclusive" and "at least 5" in verdict["reason"]
    assert cli.main([*args, "--uncertainty-band", "0.7"]) == 2
    assert json.loads(capsys.readouterr().err)["error"]["code"] == "invalid_argument"


def test_analyze_folder_without_detectors_runs_each_files_default_kinds(
    portrait_png, sample_clip_path, tmp_path, monkeypatch
):
    """As a job: an image runs the face-swap default and the generated-face detector, a video the former only."""
    from detector.contract import DEFAULT_DETECTORS, IMAGE_DEFAULT_DETECTORS

    (swap,), (generated,) = DEFAULT_DETECTORS, IMAGE_DEFAULT_DETECTORS
    weights = tmp_path / "weights"
    save_random_checkpoint(swap, weights / f"{swap}.pt", input_size=64)
    save_random_checkpoint(generated, weights / f"{generated}.pt", input_size=64)
    monkeypatch.setenv("FORENSICS_WEIGHTS_DIR", str(weights))
    folder = tmp_path / "inbox"
    folder.mkdir()
    shutil.copy(portrait_png, folder / "a_portrait.png")
    shutil.copy(sample_clip_path, folder / "b_clip.mp4")
    out_csv = tmp_path / "out.csv"
    assert cli.main(["analyze-folder", str(folder), "--csv", str(out_csv), "--device", "cpu", "--frames", "4"]) == 0
    image, video = csv.DictReader(out_csv.open())
    assert image["kind"] == "image" and image[f"score_{generated}"] and image[f"score_{swap}"]
    assert video["kind"] == "video" and video[f"score_{swap}"] and not video[f"score_{generated}"]
    assert image["untrained_detectors"] == video["untrained_detectors"] == ""
