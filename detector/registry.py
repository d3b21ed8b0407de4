"""One registry and one factory for every face-manipulation detector (timm-style).

Architectures register a builder with ``@register_detector(DetectorConfig(...))``;
``create(name, checkpoint=..., device=...)`` returns a ready :class:`Detector` whose
preprocessing is read from its config, never hard-coded by callers.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from detector import checkpoints
from detector.calibration import Calibration
from detector.cards import card_for_checkpoint
from detector.contract import ManipulationKind
from detector.faces import narrow_crop

logger = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Crops per track for a track detector whose config does not say (extra["sequence_length"]).
DEFAULT_SEQUENCE_LENGTH = 8
PRECISIONS = ("bf16", "float32")
# Face alignments preprocessing implements; a config naming another would be scored on crops it was not trained on.
FACE_ALIGNMENTS = ("none",)
INPUT_KINDS = ("frame", "track")
# Batch sizes a compiled detector is run with once before its first job (Detector.compile).
COMPILE_WARMUP_BATCHES = (2, 32)


@dataclass(frozen=True)
class DetectorConfig:
    """What preprocessing and the platform need to know about one detector."""

    name: str
    architecture: str
    version: str = "0.1.0"
    input_size: int = 224
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    # Share of the face box added on every side before the square crop (DFDC winners used ~0.3).
    crop_margin: float = 0.3
    face_alignment: str = "none"
    # "frame": scores one crop at a time; "track": scores a sequence of crops of one face.
    input_kind: str = "frame"
    # Tells Grad-CAM which module to hook; None for detectors without a spatial map.
    cam_layer: str | None = None
    # What it looks for (detector.contract.ManipulationKind); checkpoints written before it existed are face-swap ones.
    kind: str = ManipulationKind.FACE_SWAP
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.face_alignment not in FACE_ALIGNMENTS:
            raise ValueError(f"{self.name}: face_alignment {self.face_alignment!r} is not one of {FACE_ALIGNMENTS}")
        if self.input_kind not in INPUT_KINDS:
            raise ValueError(f"{self.name}: input_kind {self.input_kind!r} is not one of {INPUT_KINDS}")
        if self.kind not in tuple(ManipulationKind):
            raise ValueError(f"{self.name}: kind {self.kind!r} is not one of {tuple(ManipulationKind)}")
        object.__setattr__(self, "kind", ManipulationKind(self.kind))
        if self.input_size < 16:
            raise ValueError(f"{self.name}: input_size {self.input_size} is below 16 px")
        if not 0.0 <= self.crop_margin <= 2.0:
            raise ValueError(f"{self.name}: crop_margin {self.crop_margin} is outside [0, 2]")
        if len(self.mean) != 3 or len(self.std) != 3 or min(self.std) <= 0:
            raise ValueError(f"{self.name}: mean and std need three values, std positive")

    def to_dict(self) -> dict[str, Any]:
        # Plain strings only: checkpoints are read back with weights_only=True, which refuses enum objects.
        return {**dataclasses.asdict(self), "kind": str(self.kind.value)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DetectorConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("mean", "std"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)


ModelBuilder = Callable[[DetectorConfig], nn.Module]
_REGISTRY: dict[str, tuple[DetectorConfig, ModelBuilder]] = {}


def register_detector(config: DetectorConfig) -> Callable[[ModelBuilder], ModelBuilder]:
    """Register ``builder(config) -> nn.Module`` under ``config.name``.

    The module's ``forward(x)`` takes a float batch normalised with the config's
    mean/std, shape (B, 3, H, W) (or (B, T, 3, H, W) for track detectors), and
    returns one logit per item, shape (B,): positive means manipulated.
    """

    def decorator(builder: ModelBuilder) -> ModelBuilder:
        if config.name in _REGISTRY:
            raise ValueError(f"detector {config.name!r} is registered twice")
        _REGISTRY[config.name] = (config, builder)
        return builder

    return decorator


def _ensure_builtin_models_registered() -> None:
    import detector.models  # noqa: F401  (registers every built-in architecture)


def list_detectors() -> list[str]:
    _ensure_builtin_models_registered()
    return sorted(_REGISTRY)


def get_config(name: str) -> DetectorConfig:
    _ensure_builtin_models_registered()
    try:
        return _REGISTRY[name][0]
    except KeyError:
        raise KeyError(f"unknown detector {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None


@dataclass
class Detector:
    """A model with its config, provenance and calibration: what scores face crops."""

    config: DetectorConfig
    model: nn.Module
    device: torch.device
    checkpoint_path: str | None = None
    checkpoint_sha256: str | None = None
    calibration: Calibration = field(default_factory=Calibration.identity)
    threshold: float = 0.5
    metrics: dict[str, Any] = field(default_factory=dict)
    # Half-width of the inconclusive zone around ``threshold`` (chosen on dev; None: the policy default).
    uncertainty_band: float | None = None
    # "bf16" (autocast) or "float32"; None: bf16 on CUDA, float32 elsewhere (see default_precision).
    precision: str | None = None
    _channels_last: bool = field(default=False, init=False, repr=False)
    _compiled: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.precision = self.precision or default_precision(self.device)
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {self.precision!r}")

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def trained(self) -> bool:
        """True only when weights came from a checkpoint on disk whose hash was checked."""
        return self.checkpoint_sha256 is not None

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.config.name,
            "architecture": self.config.architecture,
            "version": self.config.version,
            "input_size": self.config.input_size,
            "kind": str(self.config.kind.value),
            "checkpoint": Path(self.checkpoint_path).name if self.checkpoint_path else None,
            "sha256": self.checkpoint_sha256,
            "trained": self.trained,
            "calibration": self.calibration.to_dict(),
            "threshold": self.threshold,
            "uncertainty_band": self.uncertainty_band,
            "device": self.device.type,
            "precision": self.precision,
            "compiled": self.compiled,
            "card": card_for_checkpoint(self.checkpoint_path, self.checkpoint_sha256),
        }

    def crops_for(self, crops: list[np.ndarray], source_margin: float | None = None) -> list[np.ndarray]:
        """Crops cut with ``source_margin`` narrowed to this detector's own ``crop_margin``.

        An ensemble cuts faces once with its widest margin and each detector takes its own
        (:func:`detector.faces.narrow_crop`).
        """
        own = self.config.crop_margin
        if source_margin is None or abs(source_margin - own) < 1e-9:
            return crops
        if own > source_margin:
            raise ValueError(f"{self.name!r} needs crops with margin {own}; these have only {source_margin}")
        return [narrow_crop(crop, source_margin, own) for crop in crops]

    def preprocess(self, crops: list[np.ndarray], source_margin: float | None = None) -> torch.Tensor:
        """RGB uint8 crops (square, any size, cut with ``source_margin``) -> normalised (B, 3, S, S) tensor."""
        import cv2

        crops = self.crops_for(crops, source_margin)
        size = self.config.input_size
        batch = np.stack(
            [
                cv2.resize(c, (size, size), interpolation=cv2.INTER_AREA if c.shape[0] > size else cv2.INTER_LINEAR)
                for c in crops
            ]
        )
        return normalise(batch, self.config)

    @property
    def sequence_length(self) -> int:
        """Crops per track a track detector sees (config ``extra["sequence_length"]``); 1 for frame detectors."""
        if self.config.input_kind != "track":
            return 1
        return int(self.config.extra.get("sequence_length", DEFAULT_SEQUENCE_LENGTH))

    def preprocess_tracks(self, tracks: list[list[np.ndarray]], source_margin: float | None = None) -> torch.Tensor:
        """Tracks of RGB uint8 crops (time order, any length >= 1) -> (B, T, 3, S, S), T = sequence_length."""
        steps = self.sequence_length
        picked = [[track[i] for i in track_sample_indices(len(track), steps)] for track in tracks]
        flat = self.preprocess([crop for track in picked for crop in track], source_margin)
        return flat.view(len(tracks), steps, *flat.shape[1:])

    def score_tracks(
        self, tracks: list[list[np.ndarray]], batch_size: int = 4, source_margin: float | None = None
    ) -> np.ndarray:
        """Calibrated probability of manipulation for each track, float64 array (N,); track detectors only."""
        if self.config.input_kind != "track":
            raise ValueError(f"detector {self.name!r} scores single crops; use score_crops")
        if not tracks:
            return np.zeros(0, dtype=np.float64)
        if any(len(track) == 0 for track in tracks):
            raise ValueError("every track needs at least one crop")
        raw = []
        for start in range(0, len(tracks), batch_size):
            raw.append(self.logits(self.preprocess_tracks(tracks[start : start + batch_size], source_margin)).numpy())
        return self.calibration.apply_logits(np.concatenate(raw).astype(np.float64))

    def logits(self, batch: torch.Tensor) -> torch.Tensor:
        """Raw logits (float32, on the CPU) for a preprocessed batch, run at the detector's precision.

        Inference runs channels-last (NHWC): oneDNN and cuDNN convolutions are faster in it (about
        35 % less CPU time for efficientnet_b0 and custom_cnn, bench/RESULTS.md). The model is
        converted on the first call rather than in :func:`create`, so training, which takes
        ``create(...).model``, keeps the memory format it was written for.
        """
        self._to_channels_last()
        return self._logits(batch)

    def _to_channels_last(self) -> None:
        if not self._channels_last:
            # Outside inference mode: weights converted inside it would become inference tensors,
            # which Grad-CAM's backward pass refuses.
            with torch.inference_mode(False), torch.no_grad():
                self.model.to(memory_format=torch.channels_last)
            self._channels_last = True

    @property
    def compiled(self) -> bool:
        return self._compiled is not None

    def compile(self) -> bool:
        """Score through ``torch.compile`` (TorchInductor) from now on; False, eager kept, where it cannot.

        On two CPU cores it cuts efficientnet_b0's time for 32 crops by about 40 % (bench/RESULTS.md) for a
        one-time compilation of about 45 s: worth it in a worker that scores clip after clip, not in a one-shot
        command. It is compiled once for every batch size from 2 up; a single crop stays eager (a batch of one
        would be compiled again). Logits differ from eager ones by about 1e-3 (another order of floating-point
        operations); :meth:`describe` says which ran. TorchInductor generates C++ on a CPU: without a compiler
        (or on any other failure) this logs why and keeps eager inference. Frame detectors only.
        """
        if self._compiled is not None:
            return True
        if self.config.input_kind != "frame":
            return False
        blank = np.zeros((self.config.input_size, self.config.input_size, 3), dtype=np.uint8)
        self._compiled = torch.compile(self.model, dynamic=True)
        try:
            # Through the scoring path itself, so the compiled graphs' guards are those of real batches.
            # TorchInductor picks its CPU convolutions for small batches (2-15) and large ones apart: both are
            # compiled now, or a job's first batch of 16 or more would wait for a second compilation.
            for batch in COMPILE_WARMUP_BATCHES:
                self.raw_logits([blank] * batch, batch_size=batch)
        except Exception as exc:  # any compiler failure: eager inference still works
            logger.warning("%s: torch.compile failed, scoring eagerly: %s", self.name, exc)
            self._compiled = None
            return False
        return True

    @torch.inference_mode()
    def _logits(self, batch: torch.Tensor) -> torch.Tensor:
        model = self._compiled if self._compiled is not None and len(batch) >= 2 else self.model
        return self._run(model, batch)

    @torch.inference_mode()
    def _run(self, model: Any, batch: torch.Tensor) -> torch.Tensor:
        batch = batch.to(self.device, non_blocking=True)
        if batch.dim() == 4:
            batch = batch.contiguous(memory_format=torch.channels_last)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            out = model(batch)
        return out.float().reshape(-1).cpu()

    def score_crops(
        self, crops: list[np.ndarray], batch_size: int = 64, source_margin: float | None = None
    ) -> np.ndarray:
        """Calibrated probability of manipulation for each crop, float64 array (N,).

        ``source_margin``: the margin the crops were cut with, when it may be wider than this
        detector's own (see :meth:`crops_for`); None means they were cut with its own.
        """
        return self.calibration.apply_logits(self.raw_logits(crops, batch_size, source_margin))

    def raw_logits(
        self, crops: list[np.ndarray], batch_size: int = 64, source_margin: float | None = None
    ) -> np.ndarray:
        """Uncalibrated logits for crops, float64 (N,): what :meth:`score_crops` calibrates and calibration fits."""
        if not crops:
            return np.zeros(0, dtype=np.float64)
        raw = []
        for start in range(0, len(crops), batch_size):
            raw.append(self.logits(self.preprocess(crops[start : start + batch_size], source_margin)).numpy())
        return np.concatenate(raw).astype(np.float64)


def normalise(images: np.ndarray, config: DetectorConfig) -> torch.Tensor:
    """(B, S, S, 3) uint8 RGB → the (B, 3, S, S) float batch a model takes, with the config's mean and std.

    Inference (:meth:`Detector.preprocess`) and training both normalise through here.
    """
    tensor = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(config.mean).view(1, 3, 1, 1)
    std = torch.tensor(config.std).view(1, 3, 1, 1)
    return (tensor - mean) / std


def track_sample_indices(length: int, steps: int) -> list[int]:
    """``steps`` indices into a track of ``length`` crops, evenly spread and in time order.

    A long track is subsampled evenly; a short one repeats its crops in order (each crop held
    for a few steps, like a slowed-down clip) rather than padding with blanks the model never saw.
    """
    if length <= 0 or steps <= 0:
        raise ValueError(f"need a non-empty track and steps > 0, got length={length}, steps={steps}")
    return [min(length - 1, int((i + 0.5) * length / steps)) for i in range(steps)]


def default_precision(device: torch.device) -> str:
    """bf16 autocast on CUDA (tensor cores, half the memory traffic); float32 on CPU, where bf16
    is emulated on most processors and slower than float32."""
    return "bf16" if device.type == "cuda" else "float32"


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def create(
    name: str,
    checkpoint: str | Path | None = None,
    device: str | torch.device | None = None,
    precision: str | None = None,
) -> Detector:
    """Build detector ``name``; with ``checkpoint``, load its weights (sha256 checked).

    The checkpoint's own config (input size, mean/std, crop margin, ...) overrides the
    registered one, so preprocessing always matches what the weights were trained with.
    Without a checkpoint the weights are random: ``Detector.trained`` is False and
    callers must not present its scores as evidence. ``precision``: see :func:`default_precision`.
    """
    config = get_config(name)
    builder = _REGISTRY[name][1]
    dev = resolve_device(device)
    calibration = Calibration.identity()
    threshold = 0.5
    uncertainty_band = None
    metrics: dict[str, Any] = {}
    sha = None
    if checkpoint is not None:
        loaded = checkpoints.load(checkpoint)
        if loaded.config.get("architecture") != config.architecture:
            raise checkpoints.CheckpointError(
                f"{checkpoint}: holds a {loaded.config.get('architecture')!r} model, not {config.architecture!r}"
            )
        config = DetectorConfig.from_dict({**config.to_dict(), **loaded.config, "name": name})
        model = builder(config)
        try:
            model.load_state_dict(loaded.state_dict)
        except RuntimeError as exc:  # missing, unexpected or mis-shaped tensors
            raise checkpoints.CheckpointError(f"{checkpoint}: weights do not fit {name!r}: {exc}") from exc
        calibration = Calibration.from_dict(loaded.calibration)
        threshold = loaded.threshold
        uncertainty_band = loaded.uncertainty_band
        metrics = loaded.metrics
        sha = loaded.sha256
    else:
        model = builder(config)
    model.eval().to(dev)
    return Detector(
        config=config,
        model=model,
        device=dev,
        checkpoint_path=str(checkpoint) if checkpoint else None,
        checkpoint_sha256=sha,
        calibration=calibration,
        threshold=threshold,
        uncertainty_band=uncertainty_band,
        metrics=metrics,
        precision=precision,
    )
