"""A detector's model card (weights/NAME.md, written by ``detector.training.reproduce``) as the figures a
report quotes: AUC with its interval, the false-positive and true-positive rates at the threshold on held-out
videos (and, for an image detector, on held-apart images), and the known limits.

It also says what those figures allow: whether a detector votes on a kind of media (its AUC interval there
must be above chance) and whether "authentic" may be said on its word (it must catch most test fakes).

Standard library only. A card is used only when its sha256 row names the checkpoint that ran, so a stale
card never speaks for other weights.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from detector.contract import card_figures

CARD_SHA256 = re.compile(r"\| sha256 \| `([0-9a-f]{64})` \|")
TEST_VIDEOS = re.compile(r"Test videos \(`EVALUATION\.md`: (\d+) real and (\d+) manipulated videos")
# "video AUC 0.618, ..." or, with its bootstrap interval, "video AUC 0.618 [0.355, 0.855] (95 % ...), ..."
VIDEO_AUC = re.compile(r"used\): video AUC (\S+?)(?: \[(\S+), (\S+?)\])?[ ,]")
FPR_TPR = re.compile(r"FPR on real videos (\S+) and TPR (\S+) at the threshold")
# An image detector's held-apart test part (detector.training.generated_report): "scored as image jobs (...):
# AUC 0.655 [0.605, 0.706] as distributed (95 % bootstrap interval); FPR 0.091, TPR 0.155 at the threshold".
IMAGE_FIGURES = re.compile(
    r"scored as image jobs \([^)]*\): AUC (\S+?)(?: \[(\S+), (\S+?)\])? as distributed[^;]*; "
    r"FPR (\S+?), TPR (\S+?) at the threshold"
)
# Its first variant row ("as distributed") counts the images: "| 220 real + 220 fake |".
TEST_IMAGES = re.compile(r"\| (\d+) real \+ (\d+) fake \|")
LIMITS_HEADING = "## Known limits"

# A detector votes on a kind of media only if its card's AUC there is above chance: the lower end of the
# AUC's 95 % interval (the AUC itself on cards without an interval) must exceed this.
CHANCE_AUC = 0.5
# "Authentic" may be said only on the word of detectors that caught at least this share of the card's test
# fakes at their threshold; below it the page says "No manipulation found" and how many they caught.
MIN_TPR_FOR_AUTHENTIC = 0.5


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
    image = IMAGE_FIGURES.search(flat)
    images = TEST_IMAGES.search(flat)
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
        "test_images_real": int(images.group(1)) if image and images else None,
        "test_images_fake": int(images.group(2)) if image and images else None,
        "image_auc": _number(image.group(1)) if image else None,
        "image_auc_ci95": [float(image.group(2)), float(image.group(3))] if image and image.group(2) else None,
        "image_fpr": _number(image.group(4)) if image else None,
        "image_tpr": _number(image.group(5)) if image else None,
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


def _auc_text(figures: dict[str, Any]) -> str:
    text = f"held-out {figures['media_kind']} AUC {figures['auc']:.3f}"
    if figures.get("auc_ci95"):
        low, high = figures["auc_ci95"]
        text += f" (95 % interval {low:.3f}–{high:.3f})"
    return text


def abstention_reason(card: dict[str, Any] | None, media_kind: str) -> str | None:
    """Why a detector does not vote on ``media_kind``: its card shows it no better than chance there.

    None (it votes) when the card's AUC interval on that kind of media is above chance, or when the card
    measured nothing on it (the card then shows nothing either way; the verdict's caveat says so).
    """
    figures = card_figures(card, media_kind)
    if figures is None:
        return None
    low = figures["auc_ci95"][0] if figures.get("auc_ci95") else figures["auc"]
    if low > CHANCE_AUC:
        return None
    return f"its model card's {_auc_text(figures)} is not above chance ({CHANCE_AUC}) on {media_kind}s"


def caught_text(card: dict[str, Any] | None, media_kind: str) -> str:
    """How many of its card's test fakes of ``media_kind`` a detector caught at its threshold, in words."""
    figures = card_figures(card, media_kind)
    if figures is None or figures.get("tpr") is None:
        return f"has no measured catch rate on test {media_kind}s"
    if figures.get("fake"):
        return f"caught {round(figures['tpr'] * figures['fake'])} of {figures['fake']} test fakes"
    return f"caught {figures['tpr']:.0%} of its test fakes"


def catches_manipulations(card: dict[str, Any] | None, media_kind: str) -> bool:
    """True when the card shows the detector catches most test fakes of ``media_kind`` at its threshold."""
    figures = card_figures(card, media_kind)
    return bool(figures and figures.get("tpr") is not None and figures["tpr"] >= MIN_TPR_FOR_AUTHENTIC)


def absence_caveat(cards: dict[str, dict[str, Any]], media_kind: str) -> str:
    """The one line beside a "no manipulation found" verdict when the detectors that decided it (``{name:
    card}``) do not all catch most test fakes; "" when they do, and "authentic" may be said."""
    weak = [
        f"{name} {caught_text(card, media_kind)}"
        for name, card in cards.items()
        if not catches_manipulations(card, media_kind)
    ]
    if not weak:
        return ""
    return f"{'; '.join(weak)} at the threshold: absence of a finding is not evidence of authenticity."
