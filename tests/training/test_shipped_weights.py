"""The shipped checkpoints: present for every default detector, hash-checked, loadable, documented."""

from __future__ import annotations

import pytest

import detector
from detector import checkpoints
from detector.ensemble import DEFAULT_ENSEMBLE, WEIGHTS_DIR

MAX_CHECKPOINT_BYTES = 50 * 1024 * 1024


@pytest.mark.parametrize("name", DEFAULT_ENSEMBLE)
def test_shipped_checkpoint_matches_its_sha256_side_file_and_loads(name: str) -> None:
    path = WEIGHTS_DIR / f"{name}.pt"
    assert path.is_file(), f"{name} is in DEFAULT_ENSEMBLE but ships no weights"
    assert path.stat().st_size < MAX_CHECKPOINT_BYTES
    assert checkpoints.expected_sha256(path) == checkpoints.file_sha256(path)
    loaded = detector.create(name, checkpoint=path, device="cpu")
    assert loaded.trained
    assert loaded.calibration.method != "identity", "shipped weights carry a fitted calibration"
    assert 0.0 < loaded.threshold < 1.0


@pytest.mark.parametrize("name", DEFAULT_ENSEMBLE)
def test_shipped_checkpoint_has_a_model_card_naming_its_hash(name: str) -> None:
    card = (WEIGHTS_DIR / f"{name}.md").read_text()
    assert checkpoints.file_sha256(WEIGHTS_DIR / f"{name}.pt") in card
    assert "Licence" in card and "Known limits" in card
