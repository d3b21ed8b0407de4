"""EVALUATION.md's per-family rows and the re-encoded copies of test clips they are also measured on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from detector.media import probe, sample_frames
from detector.synthetic import write_moving_face_clip
from detector.training.data import MediaItem
from detector.training.evaluate import ENSEMBLE, family_metrics
from detector.training.reencode import reencode_h264, reencoded_folder


def _row(name: str, label: int, score: float) -> dict:
    return {
        "path": f"/data/videos/{'fake' if label else 'real'}/{name}.mp4",
        "label": label,
        "video_scores": {ENSEMBLE: score},
    }


def test_each_family_is_ranked_against_its_own_data_sets_originals_or_else_every_real() -> None:
    rows = [
        _row("ffpp_c23_134", 0, 0.2),
        _row("ffpp_c23_192", 0, 0.6),
        _row("ffpp_c23_df_134_192", 1, 0.9),
        _row("ffpp_c23_fs_192_134", 1, 0.5),
        _row("celebdf_id21_0009_seg1", 0, 0.7),
        _row("celebdf_id10_id12_0004_seg1", 1, 0.4),
        _row("sadtalker_still_full_e", 1, 0.65),
    ]
    report = {"per_item": rows, "metrics": {"video": {ENSEMBLE: {"threshold": 0.55}}}}
    families = family_metrics(report)
    assert list(families) == ["FF++ Deepfakes", "FF++ FaceSwap", "Celeb-DF", "SadTalker talking heads", "all"]
    assert families["FF++ Deepfakes"]["auc_roc"] == 1.0 and families["FF++ Deepfakes"]["n_real"] == 2
    assert families["FF++ FaceSwap"]["auc_roc"] == 0.5 and families["FF++ FaceSwap"]["against"] == "ffpp originals"
    assert families["Celeb-DF"]["auc_roc"] == 0.0 and families["Celeb-DF"]["n_real"] == 1
    talking = families["SadTalker talking heads"]
    assert talking["against"] == "every real test video" and talking["n_real"] == 3
    assert talking["auc_roc"] == pytest.approx(2 / 3) and talking["tpr"] == 1.0
    assert families["all"]["n_fake"] == 4 and families["all"]["auc_roc_ci95"] is not None


def test_a_clip_re_encoded_at_a_high_crf_keeps_its_frames_rate_and_size_but_loses_detail(tmp_path: Path) -> None:
    source = write_moving_face_clip(tmp_path / "clip.mp4", seconds=1.0, fps=10, size=(161, 120), face_px=60)
    copy = reencode_h264(source, tmp_path / "out" / "clip.mp4", crf=40)
    before, after = probe(source), probe(copy)
    assert (after.codec, after.fps, after.frame_count) == ("h264", before.fps, before.frame_count)
    assert (after.width, after.height) == (160, 120), "odd sizes are cut to even ones (4:2:0)"
    first = sample_frames(source, samples=1)[0][0].rgb[:, :160]
    again = sample_frames(copy, samples=1)[0][0].rgb
    assert np.abs(first.astype(int) - again.astype(int)).mean() > 0
    assert not list((tmp_path / "out").glob("*.partial.*")), "no half-written file is left"
    folder = reencoded_folder([MediaItem(source, 1, "g", "video")], tmp_path / "crf40", crf=40)
    made = folder / "fake" / "clip.mp4"
    assert made.is_file()
    stamp = made.stat().st_mtime_ns
    reencoded_folder([MediaItem(source, 1, "g", "video")], tmp_path / "crf40", crf=40)
    assert made.stat().st_mtime_ns == stamp, "a copy is made once and reused"
