"""What a model card allows a detector to say: it votes on a kind of media only where its card's AUC interval is
above chance, and an authentic verdict reads "Authentic" only on the word of detectors that catch most test fakes.

Cards here are made up (``write_model_card``): the shipped cards' numbers change whenever a detector is retrained.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from detector import cards, contract
from detector.aggregate import VerdictPolicy
from detector.contract import VerdictLabel
from detector.ensemble import load_ensemble
from detector.pipeline import analyze

from .conftest import save_random_checkpoint, write_model_card

CHANCE_ON_VIDEOS = (0.62, 0.36, 0.86, 0.0, 0.0)  # the interval reaches below 0.5: no better than chance
ABOVE_CHANCE = (0.85, 0.70, 0.95, 0.05, 0.80)
ABOVE_CHANCE_FEW_CAUGHT = (0.80, 0.66, 0.92, 0.02, 0.10)
# A threshold no random-weight score reaches: every verdict is authentic.
ALWAYS_AUTHENTIC = VerdictPolicy(threshold=1.0, uncertainty_band=0.0, min_faces=1)


def card(**figures) -> dict:
    return {"video_auc": None, "image_auc": None, **figures}


def test_a_detector_votes_on_a_kind_of_media_only_where_its_card_interval_is_above_chance():
    chance = card(video_auc=0.618, video_auc_ci95=[0.355, 0.855], image_auc=0.655, image_auc_ci95=[0.605, 0.706])
    reason = cards.abstention_reason(chance, "video")
    assert reason and "0.618" in reason and "0.355" in reason and "videos" in reason
    assert cards.abstention_reason(chance, "image") is None
    # A card that measured nothing on a kind of media shows nothing either way: the detector votes there.
    assert cards.abstention_reason(card(video_auc=0.9, video_auc_ci95=[0.8, 0.95]), "image") is None
    assert cards.abstention_reason({}, "video") is None
    # A card written before intervals: the AUC itself must be above chance.
    assert cards.abstention_reason(card(video_auc=0.45), "video")


def test_the_absence_caveat_names_how_many_test_fakes_each_weak_detector_caught():
    weak = card(video_auc=0.618, video_tpr=0.0, test_videos_fake=10)
    strong = card(video_auc=0.9, video_tpr=0.8, test_videos_fake=10)
    caveat = cards.absence_caveat({"weak_cnn": weak, "strong_cnn": strong}, "video")
    assert caveat.startswith("weak_cnn caught 0 of 10 test fakes") and "strong_cnn" not in caveat
    assert caveat.endswith("absence of a finding is not evidence of authenticity.")
    assert cards.absence_caveat({"strong_cnn": strong}, "video") == ""
    assert "has no measured catch rate on test images" in cards.absence_caveat({"strong_cnn": strong}, "image")


def test_an_unsupported_authentic_verdict_reads_no_manipulation_found_and_scores_read_as_p_manipulated():
    assert contract.verdict_label_text("authentic") == "No manipulation found"
    assert contract.verdict_label_text("authentic", authentic_supported=True) == "Authentic"
    assert contract.verdict_label_text("manipulated") == "Manipulated"
    assert contract.p_manipulated_text(0.4567) == "P(manipulated) 0.46"


def test_a_card_gives_both_rates_on_videos_and_the_figures_on_held_apart_images(tmp_path):
    checkpoint = tmp_path / "made_up.pt"
    checkpoint.write_bytes(b"weights")
    path = write_model_card(checkpoint, video=(0.355, 0.127, 0.6, 0.0, 0.1), image=(0.655, 0.605, 0.706, 0.091, 0.155))
    parsed = cards.parse_model_card(path.read_text())
    assert (parsed["video_fpr"], parsed["video_tpr"], parsed["test_videos_fake"]) == (0.0, 0.1, 10)
    assert parsed["image_auc"] == 0.655 and parsed["image_auc_ci95"] == [0.605, 0.706]
    assert (parsed["image_fpr"], parsed["image_tpr"]) == (0.091, 0.155)
    assert (parsed["test_images_real"], parsed["test_images_fake"]) == (220, 220)
    assert cards.caught_text(parsed, "image") == "caught 34 of 220 test fakes"


@pytest.fixture
def carded(tmp_path):
    """``carded(name, video=..., image=...)``: a random-weight checkpoint of ``name`` with a made-up card."""

    def build(name: str, **figures) -> Path:
        checkpoint = save_random_checkpoint(name, tmp_path / f"{name}.pt")
        write_model_card(checkpoint, **figures)
        return checkpoint

    return build


def test_a_detector_no_better_than_chance_on_videos_scores_a_video_but_does_not_vote(
    sample_clip_path, face_finder, carded
):
    checkpoints = {
        "custom_cnn": carded("custom_cnn", video=CHANCE_ON_VIDEOS),
        "spectral_lr": carded("spectral_lr", video=ABOVE_CHANCE),
    }
    ensemble = load_ensemble(["custom_cnn", "spectral_lr"], device="cpu", checkpoints=checkpoints)
    result = analyze(sample_clip_path, frames=4, ensemble=ensemble, face_finder=face_finder)
    verdict = result.verdict
    assert list(verdict.abstained) == ["custom_cnn"] and "not above chance" in verdict.abstained["custom_cnn"]
    # Its scores are still shown; the verdict and each face's score are the voter's alone.
    assert set(verdict.per_detector) == {"custom_cnn", "spectral_lr"}
    assert verdict.score == pytest.approx(verdict.per_detector["spectral_lr"], abs=1e-6)
    assert [k.detectors for k in verdict.per_kind] == [["spectral_lr"]]
    face = result.faces()[0]
    assert set(face.detector_scores) == {"custom_cnn", "spectral_lr"}
    assert face.score == pytest.approx(face.detector_scores["spectral_lr"], abs=1e-5)


def test_when_no_detector_beats_chance_on_videos_the_verdict_is_inconclusive_without_a_score(
    sample_clip_path, face_finder, carded
):
    checkpoints = {"custom_cnn": carded("custom_cnn", video=CHANCE_ON_VIDEOS)}
    ensemble = load_ensemble(["custom_cnn"], device="cpu", checkpoints=checkpoints)
    result = analyze(sample_clip_path, frames=4, ensemble=ensemble, face_finder=face_finder)
    verdict = result.verdict
    assert (verdict.label, verdict.score, verdict.confidence) == (VerdictLabel.INCONCLUSIVE, None, None)
    assert "chance" in verdict.reason and list(verdict.abstained) == ["custom_cnn"]
    assert verdict.per_kind == [] and "custom_cnn" in verdict.per_detector
    assert contract.AnalysisResult.from_dict(result.to_dict()).verdict.abstained == verdict.abstained


def test_a_detector_of_generated_faces_votes_on_images_where_its_card_is_above_chance(
    portrait_png, face_finder, carded
):
    checkpoints = {"genface_spectral": carded("genface_spectral", video=CHANCE_ON_VIDEOS, image=ABOVE_CHANCE)}
    ensemble = load_ensemble(["genface_spectral"], device="cpu", checkpoints=checkpoints)
    result = analyze(portrait_png, ensemble=ensemble, face_finder=face_finder)
    assert result.verdict.abstained == {} and result.verdict.score is not None


@pytest.mark.parametrize(
    ("figures", "supported", "label_text"),
    [(ABOVE_CHANCE_FEW_CAUGHT, False, "No manipulation found"), (ABOVE_CHANCE, True, "Authentic")],
)
def test_an_authentic_verdict_is_supported_only_by_detectors_that_catch_most_test_fakes(
    sample_clip_path, face_finder, carded, figures, supported, label_text
):
    checkpoints = {"custom_cnn": carded("custom_cnn", video=figures)}
    ensemble = load_ensemble(["custom_cnn"], device="cpu", checkpoints=checkpoints)
    result = analyze(sample_clip_path, frames=4, ensemble=ensemble, face_finder=face_finder, policy=ALWAYS_AUTHENTIC)
    verdict = result.verdict
    assert verdict.label == VerdictLabel.AUTHENTIC and verdict.authentic_supported is supported
    assert contract.verdict_label_text(verdict.label, verdict.authentic_supported) == label_text
    if not supported:
        assert verdict.caveat.startswith("custom_cnn caught 1 of 10 test fakes")


def test_the_shipped_catalogue_names_each_detectors_kind_defaults_and_card_without_loading_a_model(
    tmp_path, monkeypatch
):
    from detector.ensemble import shipped_catalogue

    (generated_name,) = contract.IMAGE_DEFAULT_DETECTORS
    (default_name,) = contract.DEFAULT_DETECTORS
    checkpoint = tmp_path / f"{generated_name}.pt"
    checkpoint.write_bytes(b"weights")
    (tmp_path / f"{generated_name}.pt.sha256").write_text(f"{hashlib.sha256(b'weights').hexdigest()}  x\n")
    write_model_card(checkpoint, video=CHANCE_ON_VIDEOS, image=ABOVE_CHANCE)
    monkeypatch.setenv("FORENSICS_WEIGHTS_DIR", str(tmp_path))
    catalogue = {entry["name"]: entry for entry in shipped_catalogue()}
    assert list(catalogue) == list(contract.SHIPPED_DETECTORS)
    generated = catalogue[generated_name]
    assert (generated["kind"], generated["kind_name"], generated["default_for"]) == (
        "fully_generated",
        "fully generated face",
        ["image"],
    )
    assert generated["card"]["image_auc_ci95"] == [0.70, 0.95]
    assert catalogue["genface_spectral"]["default_for"] == []  # opt-in: runs only when a job names it
    assert catalogue[default_name]["default_for"] == ["video", "image"]
    assert catalogue[default_name]["card"] == {}  # no weights in this folder: no card speaks for them
