"""The shipped checkpoints: present for every shipped detector, hash-checked, loadable, documented;
the default ensemble is made of shipped detectors that clear the dev bar."""

from __future__ import annotations

import pytest

import detector
from detector import checkpoints
from detector.ensemble import DEFAULT_ENSEMBLE, MIN_DEFAULT_DEV_AUC, WEIGHTS_DIR
from detector.training.reproduce import CONFIG_DIR, SHIPPED

MAX_CHECKPOINT_BYTES = 50 * 1024 * 1024


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_matches_its_sha256_side_file_and_loads(name: str) -> None:
    path = WEIGHTS_DIR / f"{name}.pt"
    assert path.is_file(), f"make train ships {name} but detector/weights has no checkpoint for it"
    assert path.stat().st_size < MAX_CHECKPOINT_BYTES
    assert checkpoints.expected_sha256(path) == checkpoints.file_sha256(path)
    loaded = detector.create(name, checkpoint=path, device="cpu")
    assert loaded.trained
    assert loaded.calibration.method != "identity", "shipped weights carry a fitted calibration"
    assert 0.0 < loaded.threshold < 1.0


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_has_a_model_card_naming_its_hash(name: str) -> None:
    card = (WEIGHTS_DIR / f"{name}.md").read_text()
    assert checkpoints.file_sha256(WEIGHTS_DIR / f"{name}.pt") in card
    assert "Licence" in card and "Known limits" in card


@pytest.mark.parametrize("name", SHIPPED)
def test_make_train_ships_every_detector_from_its_own_config(name: str) -> None:
    from detector.training.config import load_config

    assert load_config(CONFIG_DIR / f"{name}.yaml").detector == name


def test_default_ensemble_is_shipped_detectors_that_clear_the_dev_bar() -> None:
    assert set(DEFAULT_ENSEMBLE) <= set(SHIPPED), "make train must ship everything the pipeline runs by default"
    for name in SHIPPED:
        dev_auc = checkpoints.load(WEIGHTS_DIR / f"{name}.pt").metrics["dev"]["auc_roc"]
        if name in DEFAULT_ENSEMBLE:
            assert dev_auc >= MIN_DEFAULT_DEV_AUC, f"{name} is a default detector with dev AUC {dev_auc:.3f}"
        else:
            assert dev_auc < MIN_DEFAULT_DEV_AUC, f"{name} clears the dev bar ({dev_auc:.3f}) but is left opt-in"


# The evaluation part of ../shared/data: no shipped detector may have trained or tuned on it.
EVALUATION_FILE_PREFIXES = (
    "videos/fake/",
    "videos/unknown/",
    "faces/",
    "videos/real/videoretalking_",
    "videos/real/sadtalker_",
    "videos/real/face_recognition_",
    "videos/real/facenet_pytorch_",
)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_split_is_written_down_and_leaves_the_evaluation_media_out(name: str) -> None:
    from detector.training.data import read_split

    parts = read_split(WEIGHTS_DIR / f"{name}.split.json")
    assert parts["train"] and parts["dev"]
    train_groups = {row["group"] for row in parts["train"]}
    assert train_groups.isdisjoint({row["group"] for row in parts["dev"]}), "a group on both sides of the split"
    for rows in parts.values():
        for row in rows:
            relative = row["path"].split("/shared/data/", 1)[-1]
            assert not relative.startswith(EVALUATION_FILE_PREFIXES), f"{relative} is evaluation media"


def test_evaluate_only_refuses_options_that_would_train_or_ship(capsys: pytest.CaptureFixture) -> None:
    from detector.training.reproduce import main

    with pytest.raises(SystemExit) as exited:
        main(["--evaluate-only", "--only", "custom_cnn"])
    assert exited.value.code == 2
    assert "--evaluate-only trains and ships nothing" in capsys.readouterr().err


def test_evaluation_names_the_detectors_a_run_did_not_retrain() -> None:
    from detector.training.reproduce import training_time_line

    line = training_time_line({"custom_cnn": 1098.0, "spectral_lr": 84.0}, ["spectral_lr"], 30.0)
    assert line.startswith("Training wall time (CPU, two shared cores): custom_cnn 18.3 min, spectral_lr 1.4 min")
    assert "(spectral_lr: shipped weights kept, not retrained in this run)" in line and "took 0.5 min" in line
