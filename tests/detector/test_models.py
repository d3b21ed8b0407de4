"""Every registered detector is tested the same way: forward contract, determinism, checkpoints."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest
import torch

import detector
from detector import Detector
from detector.checkpoints import CheckpointError, save
from detector.models.spectral_lr import fit_spectral_lr
from detector.registry import default_precision

DETECTORS = detector.list_detectors()
# Every architecture down-samples by at most 32, so 64 px still leaves a 2x2 map and keeps the suite fast on CPU.
SMALL_SIZE_PX = 64
TRACK_STEPS = 3
BATCH = 2


def small_batch(det: Detector, seed: int = 1) -> torch.Tensor:
    shape = (BATCH, 3, SMALL_SIZE_PX, SMALL_SIZE_PX)
    if det.config.input_kind == "track":
        shape = (BATCH, TRACK_STEPS, *shape[1:])
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def save_checkpoint(det: Detector, path) -> str:
    return save(path, config=det.config.to_dict(), state_dict=det.model.state_dict())


def test_every_seed_architecture_is_registered():
    assert set(DETECTORS) >= {
        "efficientnet_b0",
        "efficientnet_b4_multibranch",
        "convnext_spectral",
        "resnext50_attention",
        "efficientnet_attention",
        "custom_cnn",
        "resnext_lstm",
        "spectral_lr",
    }


@pytest.mark.parametrize("name", DETECTORS)
def test_forward_returns_one_float32_logit_per_item(name, untrained_detector):
    det = untrained_detector(name)
    with torch.inference_mode():
        logits = det.model(small_batch(det))
    assert logits.shape == (BATCH,)
    assert logits.dtype == torch.float32
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("name", DETECTORS)
def test_forward_is_forward_head_of_forward_features(name, untrained_detector):
    det = untrained_detector(name)
    x = small_batch(det)
    with torch.inference_mode():
        assert torch.equal(det.model(x), det.model.forward_head(det.model.forward_features(x)))


@pytest.mark.parametrize("name", DETECTORS)
def test_same_input_twice_gives_identical_logits_in_eval_mode(name, untrained_detector):
    det = untrained_detector(name)
    x = small_batch(det)
    assert not det.model.training
    assert torch.equal(det.logits(x), det.logits(x.clone()))


@pytest.mark.parametrize("name", DETECTORS)
def test_config_names_a_real_cam_layer_and_track_models_their_length(name, untrained_detector):
    det = untrained_detector(name)
    if det.config.cam_layer is not None:
        det.model.get_submodule(det.config.cam_layer)
    assert det.config.input_kind in {"frame", "track"}
    if det.config.input_kind == "track":
        assert det.config.extra["sequence_length"] > 1


@pytest.mark.parametrize("name", DETECTORS)
def test_checkpoint_round_trip_gives_identical_logits_and_records_sha256(name, untrained_detector, tmp_path):
    det = untrained_detector(name)
    path = tmp_path / f"{name}.pt"
    sha = save_checkpoint(det, path)

    loaded = detector.create(name, checkpoint=path, device="cpu")

    assert loaded.checkpoint_sha256 == sha
    assert loaded.trained
    assert loaded.config == det.config
    x = small_batch(det)
    assert torch.equal(loaded.logits(x), det.logits(x))


@pytest.mark.parametrize("name", DETECTORS)
def test_checkpoint_with_altered_bytes_is_refused(name, untrained_detector, tmp_path):
    det = untrained_detector(name)
    path = tmp_path / f"{name}.pt"
    save_checkpoint(det, path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    with pytest.raises(CheckpointError, match="sha256"):
        detector.create(name, checkpoint=path, device="cpu")


@pytest.mark.parametrize("name", DETECTORS)
def test_checkpoint_of_another_architecture_is_refused(name, untrained_detector, tmp_path):
    other = "spectral_lr" if name != "spectral_lr" else "custom_cnn"  # the two smallest checkpoints
    path = tmp_path / f"{other}.pt"
    save_checkpoint(untrained_detector(other), path)

    with pytest.raises(CheckpointError, match="holds a"):
        detector.create(name, checkpoint=path, device="cpu")


def test_spectrum_layer_of_spectral_lr_has_nothing_to_train(untrained_detector):
    model = untrained_detector("spectral_lr").model
    assert list(model.spectrum.parameters()) == []
    assert [name for name, _ in model.named_parameters()] == ["head.weight", "head.bias"]


def crops_with_and_without_high_frequency_noise(count_per_class: int, size: int = 224):
    """Class 0: smooth shading; class 1: the same kind of image plus per-pixel noise, as up-sampling leaves."""
    import cv2

    rng = np.random.default_rng(0)
    crops, labels = [], []
    for index in range(2 * count_per_class):
        label = index % 2
        coarse = rng.uniform(40, 215, size=(8, 8, 3)).astype(np.float32)
        crop = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
        if label:
            crop += rng.normal(0.0, 6.0, size=crop.shape)
        crops.append(np.clip(crop, 0, 255).astype(np.uint8))
        labels.append(label)
    return crops, np.array(labels)


def test_spectral_lr_fits_high_frequency_noise_in_seconds_and_scores_it_after_saving(tmp_path):
    crops, labels = crops_with_and_without_high_frequency_noise(count_per_class=30)

    started = time.perf_counter()
    model = fit_spectral_lr(crops, labels)
    fit_s = time.perf_counter() - started

    config = detector.get_config("spectral_lr")
    save(tmp_path / "spectral_lr.pt", config=config.to_dict(), state_dict=model.state_dict())
    fitted = detector.create("spectral_lr", checkpoint=tmp_path / "spectral_lr.pt", device="cpu")
    accuracy = ((fitted.score_crops(crops) > 0.5) == labels).mean()
    assert accuracy > 0.9
    assert fit_s < 30.0  # seconds on a shared CPU; it is meant to take about one


def test_spectral_lr_refuses_labels_of_one_class():
    crops, _ = crops_with_and_without_high_frequency_noise(count_per_class=2, size=32)
    with pytest.raises(ValueError, match="both"):
        fit_spectral_lr(crops, [0, 0, 0, 0])


def test_list_is_the_registry_and_an_unknown_name_lists_the_known_ones():
    assert detector.list() == DETECTORS
    with pytest.raises(KeyError, match="custom_cnn"):
        detector.create("no_such_detector")


def test_cpu_detectors_run_in_float32_and_cuda_ones_in_bf16(untrained_detector):
    det = untrained_detector("custom_cnn")
    assert det.precision == "float32"
    assert det.describe()["precision"] == "float32" and det.describe()["device"] == "cpu"
    assert default_precision(torch.device("cuda")) == "bf16"
    assert default_precision(torch.device("cpu")) == "float32"
    with pytest.raises(ValueError, match="precision"):
        dataclasses.replace(det, precision="fp8")


def matmul_output_dtypes(model: torch.nn.Module, run) -> set[torch.dtype]:
    """The dtypes every convolution, linear layer and LSTM produced while ``run()`` ran."""
    seen: set[torch.dtype] = set()

    def record(_module, _inputs, output):
        seen.add((output if isinstance(output, torch.Tensor) else output[0]).dtype)

    kinds = (torch.nn.Conv2d, torch.nn.Linear, torch.nn.LSTM)
    handles = [m.register_forward_hook(record) for m in model.modules() if isinstance(m, kinds)]
    try:
        run()
    finally:
        for handle in handles:
            handle.remove()
    return seen


@pytest.mark.parametrize("name", DETECTORS)
def test_bf16_autocast_runs_the_layers_in_bf16_and_returns_float32_logits_close_to_float32(name, untrained_detector):
    # CPU autocast stands in for the CUDA path here: the same Detector.logits code with the GPU's
    # precision. It catches ops without bf16 kernels (FFT) and logits that leave in bf16.
    det = untrained_detector(name)
    half = dataclasses.replace(det, precision="bf16")
    x = small_batch(det)
    reference = det.logits(x)
    holder = {}
    dtypes = matmul_output_dtypes(det.model, lambda: holder.setdefault("logits", half.logits(x)))
    logits = holder["logits"]
    assert torch.bfloat16 in dtypes
    assert logits.dtype == torch.float32 and torch.isfinite(logits).all()
    assert torch.allclose(logits, reference, atol=0.02, rtol=0.02)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_cuda_a_detector_scores_in_bf16_and_returns_float64_probabilities(face_crop):
    torch.manual_seed(0)
    det = detector.create("custom_cnn", device="cuda")
    assert det.precision == "bf16"
    scores = det.score_crops([face_crop(96, seed=1), face_crop(96, seed=2)])
    assert scores.dtype == np.float64 and ((scores >= 0) & (scores <= 1)).all()


def test_calibration_saved_in_the_checkpoint_is_applied_to_every_score(untrained_detector, face_crop, tmp_path):
    det = untrained_detector("custom_cnn")
    crops = [face_crop(80, seed=s) for s in range(4)]
    logits = det.logits(det.preprocess(crops)).numpy().astype(np.float64)
    temperature = {"method": "temperature", "temperature": 0.05, "bias": 0.7}
    save(tmp_path / "t.pt", config=det.config.to_dict(), state_dict=det.model.state_dict(), calibration=temperature)
    isotonic = {"method": "isotonic", "x": [0.0, 0.5, 1.0], "y": [0.1, 0.2, 0.9]}
    save(tmp_path / "i.pt", config=det.config.to_dict(), state_dict=det.model.state_dict(), calibration=isotonic)

    scaled = detector.create("custom_cnn", checkpoint=tmp_path / "t.pt", device="cpu")
    mapped = detector.create("custom_cnn", checkpoint=tmp_path / "i.pt", device="cpu")

    np.testing.assert_allclose(scaled.score_crops(crops), 1 / (1 + np.exp(-(logits / 0.05 + 0.7))), rtol=1e-5)
    np.testing.assert_allclose(
        mapped.score_crops(crops), np.interp(1 / (1 + np.exp(-logits)), [0, 0.5, 1], [0.1, 0.2, 0.9]), rtol=1e-5
    )
    assert scaled.describe()["calibration"] == temperature
    assert mapped.describe()["calibration"] == isotonic
    # Uncalibrated (identity) scores are the plain sigmoid.
    np.testing.assert_allclose(det.score_crops(crops), 1 / (1 + np.exp(-logits)), rtol=1e-5)


def test_preprocessing_follows_the_checkpoints_config(untrained_detector, tmp_path):
    det = untrained_detector("custom_cnn")
    config = {**det.config.to_dict(), "input_size": 32, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
    save(tmp_path / "small.pt", config=config, state_dict=det.model.state_dict())

    loaded = detector.create("custom_cnn", checkpoint=tmp_path / "small.pt", device="cpu")
    batch = loaded.preprocess([np.full((100, 100, 3), 128, dtype=np.uint8)])

    assert loaded.config.input_size == 32 and loaded.config.mean == (0.5, 0.5, 0.5)
    assert batch.shape == (1, 3, 32, 32)
    assert torch.allclose(batch, torch.full_like(batch, (128 / 255 - 0.5) / 0.25), atol=1e-6)


def test_a_checkpoint_whose_weights_do_not_fit_is_refused(untrained_detector, tmp_path):
    det = untrained_detector("custom_cnn")
    state = dict(det.model.state_dict())
    state.pop(next(iter(state)))
    save(tmp_path / "partial.pt", config=det.config.to_dict(), state_dict=state)
    with pytest.raises(CheckpointError, match="do not fit"):
        detector.create("custom_cnn", checkpoint=tmp_path / "partial.pt", device="cpu")


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path):
    torch.save({"format": "forensics-detector/1", "weights": {}}, tmp_path / "odd.pt")
    with pytest.raises(CheckpointError, match="config and state_dict"):
        detector.create("custom_cnn", checkpoint=tmp_path / "odd.pt", device="cpu")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        detector.create("custom_cnn", checkpoint=tmp_path / "text.pt", device="cpu")
    with pytest.raises(CheckpointError, match="not found"):
        detector.create("custom_cnn", checkpoint=tmp_path / "missing.pt", device="cpu")


@pytest.mark.parametrize("name", ["custom_cnn", "efficientnet_b0"])
def test_scoring_switches_to_channels_last_without_changing_scores_or_breaking_gradcam(name, face_crop):
    from detector.explain import gradcam

    torch.manual_seed(0)
    det = detector.create(name, device="cpu")
    x = small_batch(det)
    with torch.inference_mode():
        before = det.model(x)

    after = det.logits(x)

    conv = next(m for m in det.model.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(after, before, atol=1e-5, rtol=1e-4)
    (cam,) = gradcam(det, [face_crop(64, seed=9)])  # the converted weights still take part in autograd
    assert cam.shape == (64, 64)


@pytest.mark.parametrize(
    "override",
    [{"face_alignment": "similarity"}, {"input_kind": "clip"}, {"input_size": 4}, {"std": [0.2, 0.0, 0.2]}],
)
def test_a_checkpoint_config_preprocessing_cannot_honour_is_refused(override, untrained_detector, tmp_path):
    det = untrained_detector("custom_cnn")
    save(tmp_path / "odd.pt", config={**det.config.to_dict(), **override}, state_dict=det.model.state_dict())
    with pytest.raises(ValueError, match=next(iter(override))):
        detector.create("custom_cnn", checkpoint=tmp_path / "odd.pt", device="cpu")


def test_a_compiled_detector_scores_as_the_eager_one_and_says_it_was_compiled(face_crop):
    # TorchInductor compiles once for every batch size from 2 up; a single crop stays eager.
    torch.manual_seed(0)
    det = detector.create("custom_cnn", device="cpu")
    crops = [face_crop(160, seed) for seed in range(7)]
    eager = det.score_crops(crops, batch_size=4)
    assert det.describe()["compiled"] is False
    assert det.compile() is True and det.compile() is True
    assert det.describe()["compiled"] is True
    assert np.allclose(det.score_crops(crops, batch_size=4), eager, atol=1e-4)  # batches of 4 and 3
    assert np.allclose(det.score_crops(crops[:1]), eager[:1], atol=1e-6)


def test_a_detector_that_cannot_be_compiled_keeps_scoring_eagerly(face_crop, monkeypatch, caplog):
    torch.manual_seed(0)
    det = detector.create("custom_cnn", device="cpu")
    crops = [face_crop(160, seed) for seed in range(3)]
    eager = det.score_crops(crops)

    def no_compiler(model, **kwargs):
        def fails(*args, **kw):
            raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found")

        return fails

    monkeypatch.setattr(torch, "compile", no_compiler)
    assert det.compile() is False
    assert "No working C++ compiler" in caplog.text and det.describe()["compiled"] is False
    assert np.array_equal(det.score_crops(crops), eager)
