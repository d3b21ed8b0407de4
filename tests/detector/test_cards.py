"""Model cards as the report quotes them: the figures and limits of the card beside the weights that ran."""

from __future__ import annotations

import pytest

from detector import contract
from detector.cards import card_for_checkpoint
from detector.checkpoints import expected_sha256
from detector.ensemble import WEIGHTS_DIR


@pytest.mark.parametrize("name", contract.SHIPPED_DETECTORS)
def test_every_shipped_detector_has_a_card_with_its_fpr_at_the_threshold_and_its_limits(name):
    checkpoint = WEIGHTS_DIR / f"{name}.pt"
    card = card_for_checkpoint(checkpoint, expected_sha256(checkpoint))
    assert card["source"] == f"model card {name}.md"
    assert 0.0 <= card["video_fpr"] <= 1.0 and 0.0 <= card["video_auc"] <= 1.0
    low, high = card["video_auc_ci95"]  # the AUC's bootstrap interval over the test videos
    assert 0.0 <= low <= card["video_auc"] <= high <= 1.0
    assert card["test_videos_real"] > 0 and card["test_videos_fake"] > 0
    # The card's last limit is read off the held-out numbers (detector.training.reproduce.measured_limit).
    assert len(card["limits"]) >= 3 and any(f"{card['video_auc']:.3f}" in limit for limit in card["limits"])


def test_a_card_that_describes_other_weights_is_not_used(tmp_path):
    checkpoint = tmp_path / "efficientnet_b0.pt"
    checkpoint.write_bytes(b"weights")
    (tmp_path / "efficientnet_b0.md").write_text((WEIGHTS_DIR / "efficientnet_b0.md").read_text())
    assert card_for_checkpoint(checkpoint, "ff" * 32) == {}
    assert card_for_checkpoint(None, None) == {}
