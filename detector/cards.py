"""A detector's model card (weights/NAME.md, written by ``detector.training.reproduce``) as the figures a
report quotes: the false-positive rate at the threshold on held-out real videos, AUC, and the known limits.

Standard library only. A card is used only when its sha256 row names the checkpoint that ran, so a stale
card never speaks for other weights.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

CARD_SHA256 = re.compile(r"\| sha256 \| `([0-9a-f]{64})` \|")
TEST_VIDEOS = re.compile(r"Test videos \(`EVALUATION\.md`: (\d+) real and (\d+) manipulated videos")
# "video AUC 0.618, ..." or, with its bootstrap interval, "video AUC 0.618 [0.355, 0.855] (95 % ...), ..."
VIDEO_AUC = re.compile(r"used\): video AUC (\S+?)(?: \[(\S+), (\S+?)\])?[ ,]")
FPR_TPR = re.compile(r"FPR on real videos (\S+) and TPR (\S+) at the threshold")
LIMITS_HEADING = "## Known limits"


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None  # "n/a": not measured


def parse_model_card(text: str) -> dict[str, Any]:
    """The measured figures and known limits of a model card's markdown (missing ones are None / [])."""
    flat = re.sub(r"\s+", " ", text)
    sha = CARD_SHA256.search(text)
    videos = TEST_VIDEOS.search(flat)
    auc = VIDEO_AUC.search(flat)
    rates = FPR_TPR.search(flat)
    limits: list[str] = []
    if LIMITS_HEADING in text:
        section = text.split(LIMITS_HEADING, 1)[1].split("\n## ", 1)[0]
        limits = [re.sub(r"\s+", " ", item).strip() for item in re.split(r"^- ", section, flags=re.M)[1:]]
    return {
        "checkpoint_sha256": sha.group(1) if sha else None,
        "test_videos_real": int(videos.group(1)) if videos else None,
        "test_videos_fake": int(videos.group(2)) if videos else None,
        "video_auc": _number(auc.group(1)) if auc else None,
        "video_auc_ci95": [float(auc.group(2)), float(auc.group(3))] if auc and auc.group(2) else None,
        "video_fpr": _number(rates.group(1)) if rates else None,
        "video_tpr": _number(rates.group(2)) if rates else None,
        "limits": [limit.replace("*", "") for limit in limits if limit],
    }


def card_for_checkpoint(checkpoint: str | Path | None, sha256: str | None) -> dict[str, Any]:
    """The card beside ``checkpoint`` (NAME.pt -> NAME.md) if it describes exactly these weights; {} otherwise."""
    if not checkpoint or not sha256:
        return {}
    path = Path(checkpoint).with_suffix(".md")
    if not path.is_file():
        return {}
    card = parse_model_card(path.read_text(encoding="utf-8"))
    if card.pop("checkpoint_sha256") != sha256:
        return {}
    return {**card, "source": f"model card {path.name}"}
