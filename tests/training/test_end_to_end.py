"""Tiny runs on generated faces: train → checkpoint → load → evaluate, through the real CLI, in seconds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import detector
from detector import checkpoints
from detector.cli import main
from tests.training.conftest import write_face_folder

TINY_OPTIM = {
    "epochs": 2,
    "batch_size": 8,
    "samples_per_epoch": 16,
    "lr": 0.003,
    "warmup_epochs": 0.5,
    "loss": "adaptive_focal",
    "mixup_alpha": 0.4,
    "mixup_prob": 1.0,
    "boundary_loss_weight": 0.5,
    "grad_clip_norm": 1.0,
    "freeze_backbone_epochs": 1,
    "early_stopping_patience": 3,
    "threads": 1,
}


def write_config(tmp_path: Path, face_folder: Path, detector_name: str, **changes: Any) -> Path:
    config = {
        "detector": detector_name,
        "output_dir": str(tmp_path / "run"),
        "seed": 3,
        "model": {"input_size": 32} if detector_name == "custom_cnn" else {},
        "data": {
            "crop_px": 64,
            "dev_share": 0.25,
            "cache_dir": str(tmp_path / "cache"),
            "sources": [
                {
                    "path": str(face_folder / "real"),
                    "label": "real",
                    "face_mode": "as_is",
                    "group_pattern": r"^(id\d+)_",
                },
                {
                    "path": str(face_folder / "fake"),
                    "label": "fake",
                    "face_mode": "as_is",
                    "group_pattern": r"^(fk\d+)_",
                },
            ],
        },
        "augment": {"enabled": True, "strength": 1.0},
        "optim": TINY_OPTIM,
        "threshold": "best_f1",
        **changes,
    }
    path = tmp_path / f"{detector_name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def assert_tensorboard_scalars(folder: Path, epochs: int) -> None:
    """TensorBoard itself reads the run's event files back: one point per epoch for each curve."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder)).Reload()
    assert {"train/loss", "train/lr", "dev/log_loss", "dev/auc_roc"} <= set(events.Tags()["scalars"])
    assert [e.step for e in events.Scalars("dev/log_loss")] == list(range(epochs))


def test_train_then_evaluate_a_cnn_from_the_command_line(tmp_path: Path, face_folder: Path) -> None:
    config = write_config(tmp_path, face_folder, "custom_cnn")
    assert main(["train", str(config)]) == 0
    run = tmp_path / "run"
    checkpoint = run / "custom_cnn.pt"
    assert checkpoints.expected_sha256(checkpoint) == checkpoints.file_sha256(checkpoint)
    assert (run / "last.pt").is_file() and (run / "metrics.csv").is_file()
    assert_tensorboard_scalars(run / "tensorboard", epochs=TINY_OPTIM["epochs"])
    assert main(["train", str(config)]) == 0, "a fresh run in the same folder"
    assert_tensorboard_scalars(run / "tensorboard", epochs=TINY_OPTIM["epochs"])
    curves = (run / "metrics.csv").read_text().splitlines()
    assert sum(line.startswith("0,dev/log_loss,") for line in curves) == 1, "the earlier run's curves are gone"
    split = json.loads((run / "split.json").read_text())["parts"]
    assert {r["group"] for r in split["train"]}.isdisjoint({r["group"] for r in split["dev"]})

    loaded = detector.create("custom_cnn", checkpoint=checkpoint, device="cpu")
    assert loaded.trained and loaded.config.input_size == 32, "the checkpoint's config overrides the registry's"
    assert loaded.calibration.method == "temperature"
    assert "dev" in loaded.metrics

    out = tmp_path / "eval"
    args = ["evaluate", str(face_folder), "--detectors", "custom_cnn", "--checkpoint", f"custom_cnn={checkpoint}"]
    args += ["--out", str(out), "--face-mode", "as_is"]
    assert main(args) == 0
    report = json.loads((out / "report.json").read_text())
    for level in ("frame", "video"):
        metrics = report["metrics"][level]["ensemble"]
        assert {"auc_roc", "pr_auc", "accuracy", "log_loss", "ece", "confusion", "best_f1_threshold"} <= set(metrics)
        assert "threshold_at_1pct_fpr" in metrics
        for plot in ("roc", "pr", "reliability", "confusion"):
            assert (out / f"{plot}_{level}.png").stat().st_size > 1000
    assert "# Evaluation of custom_cnn" in (out / "report.md").read_text()
    assert isinstance(report["misclassified"]["video"], list)


def test_training_resumes_from_the_last_epoch(tmp_path: Path, face_folder: Path, capsys: pytest.CaptureFixture) -> None:
    one_epoch = write_config(tmp_path, face_folder, "custom_cnn", optim={**TINY_OPTIM, "epochs": 1})
    assert main(["train", str(one_epoch)]) == 0
    two_epochs = write_config(tmp_path, face_folder, "custom_cnn")
    assert main(["train", str(two_epochs), "--resume"]) == 0
    out = capsys.readouterr().out
    assert "resumed from" in out and "epoch 2/2" in out and "epoch 1/2" not in out.split("resumed from")[1]


def test_a_run_can_start_from_a_finished_checkpoint(
    tmp_path: Path, face_folder: Path, capsys: pytest.CaptureFixture
) -> None:
    import torch

    first = write_config(tmp_path, face_folder, "custom_cnn", optim={**TINY_OPTIM, "epochs": 1})
    assert main(["train", str(first)]) == 0
    finished = tmp_path / "first.pt"
    (tmp_path / "run" / "custom_cnn.pt").rename(finished)
    zero_lr = {**TINY_OPTIM, "epochs": 1, "lr": 1e-12, "min_lr": 1e-12, "mixup_alpha": 0.0, "init_from": str(finished)}
    second = write_config(tmp_path, face_folder, "custom_cnn", output_dir=str(tmp_path / "second"), optim=zero_lr)
    assert main(["train", str(second)]) == 0
    assert "weights from" in capsys.readouterr().out
    before = checkpoints.load(finished).state_dict
    after = checkpoints.load(tmp_path / "second" / "custom_cnn.pt").state_dict
    weights = [k for k in before if k.endswith("weight") and before[k].dim() > 1]
    assert weights and all(torch.allclose(before[k], after[k], atol=1e-6) for k in weights), "trained on, not anew"

    other = write_config(
        tmp_path, face_folder, "efficientnet_b0", output_dir=str(tmp_path / "third"), optim={**zero_lr, "epochs": 1}
    )
    with pytest.raises(RuntimeError, match="holds custom_cnn, not efficientnet_b0"):
        main(["train", str(other)])
    missing = write_config(
        tmp_path, face_folder, "custom_cnn", optim={**TINY_OPTIM, "init_from": str(tmp_path / "no.pt")}
    )
    assert main(["train", str(missing)]) == 2


def test_a_train_only_source_joins_training_without_moving_the_split(tmp_path: Path, face_folder: Path) -> None:
    from detector.training.config import load_config
    from detector.training.train import prepare_data

    extra = write_face_folder(tmp_path / "extra", reals=8, fakes=0) / "real"
    for path in extra.iterdir():
        path.rename(path.with_name("cam" + path.name))
    test_share = {"test_share": 0.25}

    def split_of(*sources: dict[str, Any], name: str) -> dict[str, set[str]]:
        config = write_config(tmp_path, face_folder, "custom_cnn", output_dir=str(tmp_path / name))
        values = yaml.safe_load(config.read_text())
        values["data"] = {**values["data"], **test_share, "sources": values["data"]["sources"] + list(sources)}
        config.write_text(yaml.safe_dump(values))
        prepare_data(load_config(config), log=lambda _: None)
        parts = json.loads((tmp_path / name / "split.json").read_text())["parts"]
        return {part: {Path(r["path"]).name for r in rows} for part, rows in parts.items()}

    without = split_of(name="without")
    added = {"path": str(extra), "label": "real", "face_mode": "as_is", "group_pattern": r"^(camid\d+)_"}
    with_extra = split_of({**added, "part": "train"}, name="with")
    extra_names = {p.name for p in extra.iterdir()}
    assert with_extra["train"] == without["train"] | extra_names
    assert with_extra["dev"] == without["dev"] and with_extra["test"] == without["test"] and without["test"]
    same_groups = {**added, "part": "train", "group_pattern": r"^cam(id\d+)_"}
    with pytest.raises(ValueError, match="share groups with dev or test"):
        split_of(same_groups, name="leak")
    with pytest.raises(ValueError, match="test-only sources share groups with train or dev"):
        split_of({**same_groups, "part": "test"}, name="seen")
    held = split_of({**added, "part": "test"}, name="held")
    assert held["test"] == without["test"] | extra_names and held["train"] == without["train"]
    with pytest.raises(Exception, match="is not 'train', 'test'"):
        split_of({**added, "part": "dev"}, name="bad")


def test_spectral_detector_is_fitted_without_the_training_loop(tmp_path: Path, face_folder: Path) -> None:
    config = write_config(tmp_path, face_folder, "spectral_lr", optim={"samples_per_epoch": 24}, spectral_c=1.0)
    assert main(["train", str(config)]) == 0
    loaded = detector.create("spectral_lr", checkpoint=tmp_path / "run" / "spectral_lr.pt", device="cpu")
    assert loaded.trained and loaded.metrics["train_samples"] == 24


def test_evaluation_reports_an_opt_in_detector_beside_an_ensemble_it_does_not_join(
    tmp_path: Path, face_folder: Path
) -> None:
    from detector.training.evaluate import evaluate

    config = write_config(tmp_path, face_folder, "spectral_lr", optim={"samples_per_epoch": 24}, spectral_c=1.0)
    assert main(["train", str(config)]) == 0
    cnn = write_config(tmp_path, face_folder, "custom_cnn", output_dir=str(tmp_path / "cnn"))
    assert main(["train", str(cnn)]) == 0
    trained = {"spectral_lr": tmp_path / "run" / "spectral_lr.pt", "custom_cnn": tmp_path / "cnn" / "custom_cnn.pt"}
    report = evaluate(
        face_folder,
        ["spectral_lr", "custom_cnn"],
        tmp_path / "eval",
        checkpoints_by_name=trained,
        face_mode="as_is",
        ensemble_of=["custom_cnn"],
        log=lambda _: None,
    )
    assert report["detectors"] == ["spectral_lr", "custom_cnn"] and report["ensemble_of"] == ["custom_cnn"]
    assert all(row["median_face_px"] > 0 for row in report["per_item"]), "each item names its face size"
    frame = report["metrics"]["frame"]
    assert frame["ensemble"]["log_loss"] == pytest.approx(frame["custom_cnn"]["log_loss"])
    assert frame["ensemble"]["log_loss"] != pytest.approx(frame["spectral_lr"]["log_loss"])


def test_a_config_with_an_unknown_key_fails_before_any_work(tmp_path: Path, face_folder: Path) -> None:
    config = write_config(tmp_path, face_folder, "custom_cnn", learning_rate=0.1)
    assert main(["train", str(config)]) == 2
    assert not (tmp_path / "run").exists()


def test_recipe_run_calibrates_threshold_and_band_on_its_dev_videos(tmp_path: Path, face_folder: Path) -> None:
    """Landmark self-blends on a wide crop, one-cycle, keep-last; then the threshold is chosen on the dev
    clips as the pipeline scores them, and a job loading the checkpoint decides with that threshold and band."""
    from detector.ensemble import load_ensemble
    from detector.synthetic import write_moving_face_clip

    clips = tmp_path / "clips"
    for n, size in enumerate((150, 170, 190)):
        write_moving_face_clip(clips / f"cam{n}_take.mp4", seconds=1.0, fps=8, face_px=size)
    config = write_config(
        tmp_path,
        face_folder,
        "custom_cnn",
        data={
            "crop_px": 96,
            "crop_margin": 0.6,
            "frames_per_video": 4,
            "cache_dir": str(tmp_path / "cache"),
            "dev_groups": ["cam2"],
            "sbi_mask": "landmarks",
            "sbi": {"mask_deform_p": 0.5, "partial_mask_p": 0.5},
            "sources": [{"path": str(clips), "label": "real", "group_pattern": r"^(cam\d)_"}],
        },
        augment={"pipeline": "recipe", "jpeg_quality_range": [30, 90]},
        optim={**TINY_OPTIM, "schedule": "onecycle", "keep": "last", "early_stopping_patience": None},
        calibration_sources=[
            {"path": str(face_folder / "real"), "label": "real", "face_mode": "as_is"},
            {"path": str(face_folder / "fake"), "label": "fake", "face_mode": "as_is"},
        ],
        threshold="fpr_5pct_dev_videos",
        uncertainty_band="dev",
    )
    assert main(["train", str(config)]) == 0
    checkpoint = checkpoints.load(tmp_path / "run" / "custom_cnn.pt")
    report = checkpoint.metrics["calibration_dev"]
    assert list(report["dev_real_videos"]) == ["cam2_take.mp4"], "the dev clip, scored as a job scores it"
    assert checkpoint.threshold >= 0.5 and checkpoint.threshold > report["dev_real_videos"]["cam2_take.mp4"]
    assert report["dev_real_video_fpr"] == 0.0
    assert 0.05 <= checkpoint.uncertainty_band <= 0.2
    assert report["frames"]["n_fake"] == 4, "the labelled fakes of the calibration sources joined the fit"
    assert checkpoints.expected_sha256(checkpoint.path) == checkpoint.sha256, "rewritten with its side file"
    policy = load_ensemble(["custom_cnn"], device="cpu", checkpoints={"custom_cnn": checkpoint.path}).verdict_policy()
    assert policy.threshold == pytest.approx(checkpoint.threshold)
    assert policy.uncertainty_band == pytest.approx(checkpoint.uncertainty_band)
