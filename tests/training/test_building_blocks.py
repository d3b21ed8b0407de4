"""Augmentations, losses, Mixup, metrics, config checks and progressive unfreezing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import detector
from detector.training.augment import augmentations_for, count_transforms, h264_roundtrip, training_augmentations
from detector.training.config import ConfigError, config_from_dict
from detector.training.losses import adaptive_gamma, blend_boundary, detector_loss, mixup
from detector.training.metrics import (
    best_f1_threshold,
    binary_metrics,
    expected_calibration_error,
    threshold_at_fpr,
)
from detector.training.train import (
    DevSet,
    Sample,
    apply_unfreezing,
    cosine_with_warmup,
    epoch_samples,
    feature_stages,
    parameter_groups,
)
from tests.training.conftest import face_crop_variant


def test_at_least_fifteen_augmentations_and_the_output_size_is_the_models() -> None:
    pipeline = training_augmentations(64, seed=0)
    assert count_transforms(pipeline) >= 15
    out = pipeline(image=face_crop_variant(0, size=160))["image"]
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8


def test_augmentations_are_reproducible_by_seed() -> None:
    image = face_crop_variant(1, size=96)
    a, b = training_augmentations(64), training_augmentations(64)
    a.set_random_seed(7)
    b.set_random_seed(7)
    assert np.array_equal(a(image=image)["image"], b(image=image)["image"])


def test_small_face_downscaling_follows_the_config_and_augmentation_can_be_turned_off() -> None:
    sources = {"sources": [{"path": ".", "label": "real"}]}
    config = config_from_dict(
        {"detector": "custom_cnn", "data": sources, "augment": {"downscale_range": [0.25, 0.5], "downscale_p": 1.0}}
    )
    pipeline = augmentations_for(config.augment, 64)
    (downscale,) = [t for t in pipeline.transforms if type(t).__name__ == "Downscale"]
    assert tuple(downscale.scale_range) == (0.25, 0.5) and downscale.p == 1.0
    assert augmentations_for(config_from_dict({"detector": "custom_cnn", "data": sources}).augment, 64) is not None
    off = config_from_dict({"detector": "custom_cnn", "data": sources, "augment": {"enabled": False}})
    assert augmentations_for(off.augment, 64) is None
    with pytest.raises(ConfigError, match="downscale_range"):
        config_from_dict({"detector": "custom_cnn", "data": sources, "augment": {"downscale_range": [0.9, 0.2]}})


def test_h264_round_trip_loses_more_detail_at_a_higher_crf_and_is_seeded_in_the_recipe() -> None:
    face = face_crop_variant(0, size=161)  # odd: padded for 4:2:0 and cropped back
    errors = [np.abs(h264_roundtrip(face, crf).astype(int) - face).mean() for crf in (18, 40)]
    assert h264_roundtrip(face, 18).shape == face.shape and 0 < errors[0] < errors[1]
    sources = {"sources": [{"path": ".", "label": "real"}]}
    recipe = {"pipeline": "recipe", "video_p": 1.0, "video_crf_range": [38, 40], "jpeg_p": 0.0, "downscale_p": 0.0}
    config = config_from_dict({"detector": "custom_cnn", "data": sources, "augment": recipe})
    a, b = augmentations_for(config.augment, 64), augmentations_for(config.augment, 64)
    a.set_random_seed(5), b.set_random_seed(5)
    assert np.array_equal(a(image=face)["image"], b(image=face)["image"])
    with pytest.raises(ConfigError, match="video_crf_range"):
        bad = {**recipe, "video_crf_range": [40, 60]}
        config_from_dict({"detector": "custom_cnn", "data": sources, "augment": bad})
    with pytest.raises(ConfigError, match="recipe pipeline only"):
        config_from_dict({"detector": "custom_cnn", "data": sources, "augment": {"video_p": 0.5}})


def test_focal_losses_weigh_easy_examples_less_than_bce() -> None:
    logits = torch.tensor([4.0, -4.0, 0.1])
    targets = torch.tensor([1.0, 0.0, 1.0])
    bce = detector_loss("bce", logits, targets)
    assert detector_loss("focal", logits, targets, gamma=2.0) < bce
    assert detector_loss("adaptive_focal", logits, targets) < bce
    with pytest.raises(ValueError):
        detector_loss("hinge", logits, targets)


def test_adaptive_focal_gamma_is_five_for_hard_examples_and_three_otherwise() -> None:
    gamma = adaptive_gamma(torch.tensor([-3.0, 3.0]), torch.tensor([1.0, 1.0]))
    assert gamma.tolist() == [5.0, 3.0]


def test_mixup_mixes_images_and_targets_alike() -> None:
    images = torch.stack([torch.zeros(3, 4, 4), torch.ones(3, 4, 4)])
    mixed, targets = mixup(images, torch.tensor([0.0, 1.0]), 0.4, np.random.default_rng(0))
    assert mixed.shape == images.shape
    assert torch.allclose(mixed[:, 0, 0, 0], targets)
    masks = torch.stack([torch.zeros(4, 4), torch.ones(4, 4)])
    mixed, targets, mixed_masks = mixup(images, torch.tensor([0.0, 1.0]), 0.4, np.random.default_rng(0), masks)
    assert torch.allclose(mixed_masks[:, 0, 0], targets), "a mixed image's blending mask is mixed alike"


def test_blend_boundary_is_zero_inside_and_outside_a_blend_and_peaks_on_its_edge() -> None:
    masks = torch.zeros(1, 8, 8)
    masks[0, 2:6, 2:6] = 1.0  # blended region
    masks[0, 2:6, 1] = 0.5  # its soft left edge
    boundary = blend_boundary(masks, (8, 8))
    assert boundary.shape == (1, 8, 8)
    assert boundary[0, 3, 1] == 1.0 and boundary[0, 3, 3] == 0.0 and boundary[0, 0, 0] == 0.0
    pooled = blend_boundary(masks, (2, 2))
    assert pooled.shape == (1, 2, 2) and pooled[0, 0, 0] > 0 and pooled[0, 0, 1] == 0


def test_metrics_on_a_perfect_detector() -> None:
    labels = np.array([0, 0, 0, 1, 1, 1])
    probs = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    m = binary_metrics(labels, probs, 0.5)
    assert m["auc_roc"] == 1.0 and m["accuracy"] == 1.0 and m["ece"] < 1e-6
    assert m["confusion"] == {"tn": 3, "fp": 0, "fn": 0, "tp": 3}


def test_an_auc_interval_holds_the_auc_narrows_with_more_items_and_is_reproducible() -> None:
    from sklearn.metrics import roc_auc_score

    from detector.training.metrics import auc_interval, auc_text

    rng = np.random.default_rng(3)
    widths = []
    for per_class in (10, 200):
        labels = np.repeat([0, 1], per_class)
        probs = np.concatenate([rng.normal(0.4, 0.15, per_class), rng.normal(0.6, 0.15, per_class)])
        low, high = auc_interval(labels, probs)
        assert low < roc_auc_score(labels, probs) < high
        assert auc_interval(labels, probs) == [low, high]  # seeded
        widths.append(high - low)
    assert widths[1] < widths[0] / 3  # about 1/sqrt(20) as wide
    # Ties count half, as roc_auc_score counts them: a constant score's interval is exactly [0.5, 0.5].
    assert auc_interval(np.array([0, 0, 1, 1]), np.full(4, 0.3)) == [0.5, 0.5]
    assert auc_interval(np.array([0, 0]), np.array([0.1, 0.2])) is None
    m = binary_metrics(labels, probs, 0.5, interval=True)
    assert auc_text(m) == f"{m['auc_roc']:.3f} [{m['auc_roc_ci95'][0]:.3f}, {m['auc_roc_ci95'][1]:.3f}]"
    assert "auc_roc_ci95" not in binary_metrics(labels, probs, 0.5) and auc_text({"auc_roc": None}) == "n/a"


def test_a_paired_auc_difference_interval_is_of_the_change_and_narrower_than_either_auc() -> None:
    from sklearn.metrics import roc_auc_score

    from detector.training.metrics import auc_difference_interval, auc_interval

    rng = np.random.default_rng(4)
    labels = np.repeat([0, 1], 30)
    before = np.concatenate([rng.normal(0.4, 0.15, 30), rng.normal(0.6, 0.15, 30)])
    # The same scores nudged (as a speed setting moves them): the change is small, the AUCs' spread is not.
    after = before + rng.normal(0, 0.01, 60)
    low, high = auc_difference_interval(labels, before, after)
    change = roc_auc_score(labels, after) - roc_auc_score(labels, before)
    assert low <= change <= high
    single = auc_interval(labels, before)
    assert high - low < (single[1] - single[0]) / 5
    assert auc_difference_interval(labels, before, before) == [0.0, 0.0]
    # A real improvement is outside the interval's reach of zero.
    better = before + labels * 0.3
    assert auc_difference_interval(labels, before, better)[0] > 0
    assert auc_difference_interval(np.zeros(4), before[:4], after[:4]) is None


def test_threshold_at_one_percent_fpr_lets_at_most_one_percent_of_reals_through() -> None:
    rng = np.random.default_rng(0)
    labels = np.r_[np.zeros(500), np.ones(500)]
    probs = np.r_[rng.uniform(0, 0.7, 500), rng.uniform(0.3, 1, 500)]
    threshold = threshold_at_fpr(labels, probs, 0.01)
    assert (probs[labels == 0] >= threshold).mean() <= 0.01
    f1_threshold, f1 = best_f1_threshold(labels, probs)
    assert 0.2 < f1_threshold < 0.8 and f1 > 0.7


def test_ece_of_overconfident_scores_is_large() -> None:
    labels = np.r_[np.zeros(50), np.ones(50)]
    assert expected_calibration_error(labels, np.full(100, 0.99)) > 0.4


def test_unknown_config_keys_are_refused() -> None:
    with pytest.raises(ConfigError, match="unknown key"):
        config_from_dict({"detector": "custom_cnn", "data": {"sources": [], "frame_count": 3}})
    with pytest.raises(ConfigError, match="loss"):
        config_from_dict(
            {"detector": "custom_cnn", "data": {"sources": [{"path": ".", "label": "real"}]}, "optim": {"loss": "x"}}
        )


def test_progressive_unfreezing_thaws_stages_from_the_top() -> None:
    model = detector.create("custom_cnn", device="cpu").model
    stages = feature_stages(model)
    assert len(stages) == 5
    assert apply_unfreezing(model, epoch=0, freeze_epochs=2, every=1) == 0
    assert not any(p.requires_grad for s in stages for p in s.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    assert apply_unfreezing(model, epoch=3, freeze_epochs=2, every=1) == 2
    assert all(p.requires_grad for p in stages[-1].parameters())
    assert not any(p.requires_grad for p in stages[0].parameters())
    assert apply_unfreezing(model, epoch=30, freeze_epochs=2, every=1) == 5


def test_learning_rate_warms_up_then_decays_to_the_floor() -> None:
    factor = cosine_with_warmup(10, 100, 0.01)
    assert factor(0) == pytest.approx(0.1)
    assert factor(9) == pytest.approx(1.0)
    assert factor(55) < factor(20)
    assert factor(100) == pytest.approx(0.01)


def test_the_self_blend_share_sets_how_much_of_the_fake_half_is_self_blended() -> None:
    samples = [Sample(0, k, "real") for k in range(100)] + [Sample(0, k, "sbi") for k in range(100)]
    samples += [Sample(1, k, "fake") for k in range(20)]
    for share in (0.0, 0.25, 0.5):
        drawn = epoch_samples(samples, 8000, True, seed=1, epoch=0, sbi_share=share)
        kinds = [s.kind for s in drawn]
        assert abs(kinds.count("real") / 8000 - 0.5) < 0.03
        assert abs(kinds.count("sbi") / 8000 - 0.5 * share) < 0.03
    alike = [s.kind for s in epoch_samples(samples, 8000, True, seed=1, epoch=0)]
    assert alike.count("sbi") > 4 * alike.count("fake"), "without a share every fake sample is drawn alike"


def test_dev_video_auc_scores_each_real_and_manipulated_video_by_its_crops_and_ignores_self_blends() -> None:
    dev = DevSet(np.zeros((7, 2, 2, 3), np.uint8), np.array([0, 0, 1, 1, 1, 1, 1]), np.array([0, 0, 1, 1, 2, 2, -1]))
    # Item 2 (fake) is scored below item 0 (real) by its crops' mean; the self-blend's 0.0 would reverse more.
    probs = np.array([0.5, 0.7, 0.9, 0.8, 0.4, 0.6, 0.0])
    assert dev.video_auc(probs) == 0.5
    assert dev.video_auc(np.array([0.1, 0.1, 0.9, 0.8, 0.7, 0.6, 0.0])) == 1.0
    assert DevSet(np.zeros((1, 2, 2, 3), np.uint8), np.array([0]), np.array([0])).video_auc(np.array([0.3])) is None


def test_early_stages_of_a_pretrained_backbone_can_learn_at_a_lower_rate() -> None:
    model = detector.create("efficientnet_lite0", device="cpu").model
    assert len(parameter_groups(model, 1e-3, 1.0)) == 1
    early, late = parameter_groups(model, 1e-3, 0.1)
    assert early["lr"] == pytest.approx(1e-4) and late["lr"] == 1e-3
    assert any(p is model.backbone.conv_stem.weight for p in early["params"])
    assert any(p is model.head.weight for p in late["params"])
    assert len(early["params"]) + len(late["params"]) == len(list(model.parameters()))


def test_pretrained_needs_a_detector_that_names_its_weights_and_a_share_needs_self_blends() -> None:
    sources = {"sources": [{"path": ".", "label": "real"}]}
    assert config_from_dict({"detector": "efficientnet_lite0", "data": sources, "optim": {"pretrained": True}})
    with pytest.raises(ConfigError, match="names no pretrained weights"):
        config_from_dict({"detector": "custom_cnn", "data": sources, "optim": {"pretrained": True}})
    with pytest.raises(ConfigError, match="sbi_share"):
        config_from_dict({"detector": "custom_cnn", "data": {**sources, "pseudo_fakes": "none", "sbi_share": 0.5}})
    with pytest.raises(ConfigError, match="part"):
        config_from_dict({"detector": "custom_cnn", "data": {"sources": [{"path": ".", "label": "real", "part": "x"}]}})


def test_frozen_input_stages_never_thaw_while_the_rest_trains() -> None:
    model = detector.create("efficientnet_lite0", device="cpu").model
    stages = feature_stages(model)
    trainable = apply_unfreezing(model, epoch=0, freeze_epochs=0, every=1, frozen_stages=4)
    assert trainable == len(stages) - 4
    assert not model.backbone.conv_stem.weight.requires_grad
    assert not any(p.requires_grad for p in model.backbone.blocks[1].parameters())
    assert all(p.requires_grad for p in model.backbone.blocks[2].parameters()) and model.head.weight.requires_grad
    assert apply_unfreezing(model, epoch=9, freeze_epochs=2, every=1, frozen_stages=4) == len(stages) - 4
