"""Smoke evaluation of the shipped ensemble on a few real files of ../shared/data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from detector.cli import main

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture
def shared_faces(tmp_path: Path) -> Path:
    """Two real and two fake face crops from shared/data, linked (never copied) into a labelled folder."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{SHARED_DATA} is missing in CI: the data-marked tests need it")
        pytest.skip(f"{SHARED_DATA} is absent")
    for label in ("real", "fake"):
        (tmp_path / label).mkdir()
        for source in sorted((SHARED_DATA / "faces" / label).iterdir())[:2]:
            (tmp_path / label / source.name).symlink_to(source)
    return tmp_path


@pytest.mark.data
def test_shipped_ensemble_scores_real_face_crops(shared_faces: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval"
    assert main(["evaluate", str(shared_faces), "--out", str(out), "--face-mode", "as_is"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["items"] == 4 and not report["untrained"]
    # Every crop got a probability from the shipped weights, and they do not all say the same.
    scores = {item["path"]: item["video_scores"]["ensemble"] for item in report["per_item"]}
    assert len(scores) == 4 and all(0.0 <= s <= 1.0 for s in scores.values())
    assert len(set(scores.values())) > 1, scores
    # The reported AUC is the one these scores give (one crop per item: frame and item scores agree).
    fake = [s for path, s in scores.items() if "/fake/" in path]
    real = [s for path, s in scores.items() if "/real/" in path]
    pairs = [(f > r) + 0.5 * (f == r) for f in fake for r in real]
    frame = report["metrics"]["frame"]["ensemble"]
    assert frame["n"] == 4 and frame["auc_roc"] == pytest.approx(sum(pairs) / len(pairs), abs=1e-6)
