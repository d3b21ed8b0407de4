"""genface_spectral, the fully-generated-face detector: its spectral features, its kind, and that it learns."""

from __future__ import annotations

import numpy as np
import torch

import detector
from detector.checkpoints import save
from detector.contract import KIND_NAMES, ManipulationKind
from detector.models.layers import fft_log_magnitude
from detector.registry import DetectorConfig, normalise
from detector.training.train import apply_unfreezing, feature_stages

SIZE_PX = 64


def smooth_and_upsampled_crops(count_per_class: int, size: int = SIZE_PX, seed: int = 0):
    """Class 0: smooth shading plus camera-like noise; class 1: the same scene with a periodic 2-px
    checkerboard, the trace a transposed-convolution up-sampler leaves (Odena et al. 2016)."""
    import cv2

    rng = np.random.default_rng(seed)
    checker = (np.indices((size, size)).sum(axis=0) % 2 * 2 - 1)[..., None].astype(np.float32)
    crops, labels = [], []
    for index in range(2 * count_per_class):
        label = index % 2
        coarse = rng.uniform(40, 215, size=(6, 6, 3)).astype(np.float32)
        crop = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC) + rng.normal(0, 2.0, (size, size, 3))
        if label:
            crop += 6.0 * checker
        crops.append(np.clip(crop, 0, 255).astype(np.uint8))
        labels.append(label)
    return np.stack(crops), np.array(labels)


def test_it_looks_for_fully_generated_faces_and_the_face_swap_detectors_say_so_too():
    assert detector.get_config("genface_spectral").kind == ManipulationKind.FULLY_GENERATED
    assert detector.get_config("efficientnet_b0").kind == ManipulationKind.FACE_SWAP
    assert KIND_NAMES[ManipulationKind.FULLY_GENERATED] == "fully generated face"
    assert KIND_NAMES[ManipulationKind.FACE_SWAP] == "face swap / re-enactment"


def test_kind_survives_a_checkpoint_and_an_older_checkpoint_without_it_is_a_face_swap_one(tmp_path):
    det = detector.create("genface_spectral", device="cpu")
    save(tmp_path / "g.pt", config=det.config.to_dict(), state_dict=det.model.state_dict())
    assert detector.create("genface_spectral", checkpoint=tmp_path / "g.pt").config.kind == "fully_generated"
    assert det.describe()["kind"] == "fully_generated"

    old = {k: v for k, v in detector.get_config("custom_cnn").to_dict().items() if k != "kind"}
    assert DetectorConfig.from_dict(old).kind == ManipulationKind.FACE_SWAP


def test_an_unknown_kind_is_refused():
    import pytest

    with pytest.raises(ValueError, match="kind"):
        DetectorConfig(name="x", architecture="y", kind="morph")


def test_spectral_branches_see_the_checkerboard_that_pixels_hide_in_their_mean():
    crops, labels = smooth_and_upsampled_crops(4)
    model = detector.create("genface_spectral", device="cpu").model.eval()
    batch = normalise(crops, detector.get_config("genface_spectral"))
    with torch.no_grad():
        spectrum = fft_log_magnitude(batch)
        rings = model.azimuthal.spectrum(batch)
    centre = SIZE_PX // 2
    # fftshift puts the Nyquist frequency of both axes at the corner (0, 0): the checkerboard's peak.
    corner = spectrum[:, 0, 0, 0]
    assert (corner[labels == 1] > corner[labels == 0].max()).all()
    assert spectrum.shape == (8, 1, SIZE_PX, SIZE_PX) and torch.isfinite(spectrum[:, :, centre, centre]).all()
    assert rings.shape == (8, 64)


def test_azimuthal_branch_puts_a_periodic_trace_in_the_ring_of_its_frequency():
    """A period-4 pattern (a 4x up-sampler's) is at half the Nyquist frequency: ring 32 of 64."""
    crops, labels = smooth_and_upsampled_crops(4)
    stripes = 6.0 * np.cos(np.pi / 2 * np.arange(SIZE_PX))[None, :, None]
    crops = np.where(labels[:, None, None, None] == 1, np.clip(crops + stripes, 0, 255), crops).astype(np.uint8)
    model = detector.create("genface_spectral", device="cpu").model.eval()
    with torch.no_grad():
        rings = model.azimuthal.spectrum(normalise(crops, detector.get_config("genface_spectral")))
    assert (rings[labels == 1, 32] > rings[labels == 0, 32].max() + 1.0).all()


def test_it_learns_the_upsampling_trace_in_a_few_dozen_steps():
    torch.manual_seed(0)
    crops, labels = smooth_and_upsampled_crops(12, size=32)
    config = detector.get_config("genface_spectral")
    x, y = normalise(crops, config), torch.tensor(labels, dtype=torch.float32)
    model = detector.create("genface_spectral", device="cpu").model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3)
    for _ in range(30):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 2.0)
        optimiser.step()
    held_out, held_labels = smooth_and_upsampled_crops(8, size=32, seed=1)
    model.eval()
    with torch.no_grad():
        scores = model(normalise(held_out, config)).numpy()
    assert ((scores > 0) == held_labels).mean() >= 0.9


def test_progressive_unfreezing_thaws_the_pixel_convnext_and_never_freezes_the_spectral_branches():
    model = detector.create("genface_spectral", device="cpu").model
    stages = feature_stages(model)
    assert len(stages) == 6  # the stem, four ConvNeXt stages and the pooled features' norm
    assert apply_unfreezing(model, epoch=0, freeze_epochs=1, every=1) == 0
    assert not any(p.requires_grad for s in stages for p in s.parameters())
    for branch in (model.fft, model.azimuthal, model.fusion, model.head):
        assert all(p.requires_grad for p in branch.parameters())
    assert apply_unfreezing(model, epoch=2, freeze_epochs=1, every=1) == 2
    assert all(p.requires_grad for p in stages[-1].parameters())
    assert not any(p.requires_grad for p in stages[0].parameters())
