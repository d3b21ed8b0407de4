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
    for name in DEFAULT_ENSEMBLE:
        dev_auc = checkpoints.load(WEIGHTS_DIR / f"{name}.pt").metrics["dev"]["auc_roc"]
        assert dev_auc >= MIN_DEFAULT_DEV_AUC, f"{name} is a default detector with dev AUC {dev_auc:.3f}"


@pytest.mark.parametrize("name", DEFAULT_ENSEMBLE)
def test_default_detectors_carry_a_threshold_and_band_chosen_on_dev_real_videos(name: str) -> None:
    loaded = checkpoints.load(WEIGHTS_DIR / f"{name}.pt")
    report = loaded.metrics["calibration_dev"]
    assert report["threshold_rule"] == "fpr_5pct_dev_videos" and report["dev_real_videos"]
    assert report["dev_real_video_fpr"] <= 0.05
    assert loaded.threshold == pytest.approx(report["threshold"])
    assert loaded.uncertainty_band == pytest.approx(report["uncertainty_band"])


# Media no shipped detector may train or tune on: the labelled clips of the families kept for testing
# (Celeb-DF, DFDC, DeeperForensics, GenConViT samples), the unlabelled clip, and the face crops of the test clips.
TEST_FILE_PREFIXES = (
    "videos/unknown/",
    *(f"videos/{label}/{family}_" for label in ("real", "fake") for family in ("celebdf", "deeperforensics", "dfdc")),
    "videos/fake/genconvit_",
    *(
        f"faces/{label}/dfdc_{clip}"
        for label in ("real", "fake")
        for clip in ("abofeumbvv", "abqwwspghj", "aajsqyyjni", "anndvqgoko", "knqhpwoigk")
    ),
)


def _relative(row: dict) -> str:
    return row["path"].split("/shared/data/", 1)[-1]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_split_is_written_down_and_leaves_the_test_media_out(name: str) -> None:
    from detector.training.data import read_split

    parts = read_split(WEIGHTS_DIR / f"{name}.split.json")
    assert parts["train"] and parts["dev"]
    train_groups = {row["group"] for row in parts["train"]}
    assert train_groups.isdisjoint({row["group"] for row in parts["dev"]}), "a group on both sides of the split"
    for part, rows in parts.items():
        if part == "test":
            assert train_groups.isdisjoint({row["group"] for row in rows}), "a test group was trained on"
            continue
        for row in rows:
            assert not _relative(row).startswith(TEST_FILE_PREFIXES), f"{_relative(row)} is test media"


def test_no_shipped_detector_trains_or_tunes_on_another_ones_test_videos() -> None:
    """The video evaluation scores every detector on the test videos, so none may have seen one. (A test image of
    genface_spectral's faces140k part is scored only by detectors that never held it: holdout.py's ``seen_by``.)"""
    from detector.training.data import read_split

    splits = {name: read_split(WEIGHTS_DIR / f"{name}.split.json") for name in SHIPPED}
    tested = {
        row["sha256"]: name
        for name, parts in splits.items()
        for row in parts.get("test", [])
        if _relative(row).startswith("videos/")
    }
    for name, parts in splits.items():
        for part, rows in parts.items():
            if part == "test":
                continue
            for row in rows:
                assert row["sha256"] not in tested, f"{name} {part}: {_relative(row)} is {tested[row['sha256']]}'s test"


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
