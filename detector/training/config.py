"""Training configuration: one YAML file per run, read into dataclasses that refuse unknown keys."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# Threshold rules chosen on the dev part's real items as a job scores them (detector/training/calibrate.py):
# rule -> the media kind whose real items count.
DEV_ITEM_THRESHOLD_RULES = {"fpr_5pct_dev_videos": "video", "fpr_5pct_dev_photos": "image"}
SOURCE_PARTS = (None, "train", "test")
KEEP_RULES = ("best_dev_loss", "best_dev_video_auc", "last")


class ConfigError(ValueError):
    """A training config with an unknown key or an impossible value."""


@dataclass
class SourceConfig:
    path: str  # relative paths are read from the config file's folder
    label: str  # real | fake
    face_mode: str = "detect"  # detect | as_is
    group_pattern: str | None = None  # regex on the file stem; group 1 (or the match) is the group
    include: list[str] = field(default_factory=list)  # glob patterns on file names
    exclude: list[str] = field(default_factory=list)
    limit: int | None = None  # first N files (sorted by name)
    # "train": every file trains, none is split off to dev or test, and the other sources' split is the one they
    # would have without this source (extra reals added to a written-down split without moving it). "test":
    # every file is held apart for the evaluation (split.json part "test"), written down before training.
    part: str | None = None


@dataclass
class DataConfig:
    sources: list[SourceConfig] = field(default_factory=list)
    frames_per_video: int = 16
    crop_px: int = 256
    max_faces_per_frame: int = 1
    dev_share: float = 0.2
    # Share of groups per label held apart for evaluation before the dev part is drawn (seeded; split.json
    # part "test"); 0: none (the evaluation's own data is held out by source instead).
    test_share: float = 0.0
    # Groups named here are the dev part, whatever dev_share says: a dev split written down by source.
    dev_groups: list[str] = field(default_factory=list)
    # Groups named here are the test part (split.json part "test"), whatever test_share says: held apart,
    # written down before training, evaluated by reproduce with every file no split trained or tuned on.
    test_groups: list[str] = field(default_factory=list)
    pseudo_fakes: str = "sbi"  # sbi | none
    pseudo_fakes_per_real: int = 1
    # With labelled fakes and self-blends both in training: the share of the fake half of each balanced epoch
    # drawn from self-blends (the rest from the labelled fakes); None: every fake sample alike.
    sbi_share: float | None = None
    # Share of the face box added per side when crops are cached: blends are made on this wider
    # crop, then narrowed to the detector's own crop_margin (at least as wide as that margin).
    crop_margin: float = 0.3
    # Self-blend masks: "box" (ellipse/polygon inside the face box) or "landmarks" (hull of
    # MTCNN's landmarks and four box points: the recipe); ``sbi`` overrides LandmarkBlendSettings.
    sbi_mask: str = "box"
    sbi: dict[str, Any] = field(default_factory=dict)
    cache_dir: str | None = None  # default var/cache/faces


@dataclass
class AugmentConfig:
    enabled: bool = True
    strength: float = 1.0
    # Down-then-up resize of the whole crop (after self-blending): how small a face may get, and how
    # often (scaled by strength). Small, upscaled faces are blurry whether real or fake.
    downscale_range: tuple[float, float] = (0.5, 0.9)
    downscale_p: float = 0.2
    # "full": the 17-transform pipeline; "recipe": flip, down-then-up resize, JPEG (the measured recipe);
    # "synthesis": the recipe plus blur, noise and mild colour, for whole-face synthesis detectors.
    pipeline: str = "full"
    jpeg_quality_range: tuple[int, int] = (40, 95)
    jpeg_p: float = 0.5
    # "recipe" only: an H.264 round trip (4:2:0, deblocking) at a CRF in this range, on both classes.
    video_crf_range: tuple[int, int] = (23, 40)
    video_p: float = 0.0


@dataclass
class OptimConfig:
    epochs: int = 10
    batch_size: int = 32
    samples_per_epoch: int | None = None  # None: every training crop (and its pseudo-fakes) once
    lr: float = 1e-3
    min_lr: float = 1e-5
    weight_decay: float = 1e-4
    warmup_epochs: float = 1.0
    loss: str = "bce"  # bce | focal | adaptive_focal
    focal_gamma: float = 2.0
    class_balance: bool = True
    mixup_alpha: float = 0.0  # 0 turns Mixup off
    mixup_prob: float = 0.5
    # > 0: a training-only head learns the self-blend's boundary map (Face X-ray) from the features
    boundary_loss_weight: float = 0.0
    grad_clip_norm: float | None = 1.0
    amp: bool = True  # bf16 autocast, on CUDA only
    freeze_backbone_epochs: int = 0  # 0: never frozen
    # Backbone stages from the input side that never train (pretrained low-level filters kept; about 1.75x faster
    # steps for EfficientNet-Lite0 with its stem and first two blocks frozen, on two CPU cores).
    frozen_stages: int = 0
    unfreeze_every_epochs: int = 1  # then one more stage from the top every N epochs
    early_stopping_patience: int | None = 5
    num_workers: int = 0
    device: str = "auto"
    threads: int | None = None  # torch CPU threads
    schedule: str = "cosine"  # cosine (warm-up, then cosine) | onecycle (torch OneCycleLR, peak lr)
    # Which weights are kept: the epoch with the lowest dev log loss, the highest dev video AUC (the dev part's
    # real and labelled fake videos, each scored by its crops' mean probability: real manipulations, never
    # self-blends), or the last one (a schedule run to its end).
    keep: str = "best_dev_loss"
    # A shipped checkpoint (sha256-checked) whose weights start the run: a longer schedule continued from a finished
    # run, with a fresh optimizer and schedule. Relative paths resolve from base_dir.
    init_from: str | None = None
    # Start from the ImageNet weights the detector's config names (extra["pretrained"]; detector.pretrained).
    pretrained: bool = False
    # Scale of the learning rate of the backbone's stem and first half of its blocks (1: one lr for all).
    early_lr_scale: float = 1.0
    log_every_batches: int = 20  # progress line with samples/s and ETA


@dataclass
class TrainConfig:
    detector: str
    output_dir: str = "var/runs/default"
    seed: int = 0
    # Overrides of the registered DetectorConfig saved into the checkpoint (e.g. input_size: 128).
    model: dict[str, Any] = field(default_factory=dict)
    data: DataConfig = field(default_factory=DataConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    calibration: str = "temperature"  # temperature | isotonic | identity, fitted on the dev part
    # A number, "best_f1" or "fpr_1pct" (on dev frames, after calibration), or "fpr_5pct_dev_videos": the
    # lowest threshold (at least 0.5) at which at most 5 % of the dev part's real videos are flagged, their
    # scores made by the pipeline's own aggregation (detector/training/calibrate.py); "fpr_5pct_dev_photos":
    # the same on the dev part's (and calibration sources') real images.
    threshold: str | float = 0.5
    # Labelled sets with real manipulations that join the dev part's crops when calibration is fitted
    # (detector/training/calibrate.py); they are tuning data, never training data.
    calibration_sources: list[SourceConfig] = field(default_factory=list)
    # Half-width of the inconclusive zone around the threshold: a number, or "dev" (from the dev real videos'
    # score distribution, see calibrate.py); None leaves the verdict policy's default.
    uncertainty_band: str | float | None = None
    # spectral_lr: regularisation of the logistic regression and pseudo-fake draws per real crop.
    spectral_c: float = 1.0
    base_dir: str = "."  # where relative paths (sources, output_dir, cache_dir) are resolved from

    def resolve(self, path: str | Path) -> Path:
        path = Path(path)
        return path if path.is_absolute() else (Path(self.base_dir) / path).resolve()

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _build(cls: type, values: dict[str, Any], where: str) -> Any:
    if not isinstance(values, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(values).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(fields))}")
    nested = {"data": DataConfig, "augment": AugmentConfig, "optim": OptimConfig}
    kwargs = {}
    for key, value in values.items():
        if cls is TrainConfig and key in nested:
            kwargs[key] = _build(nested[key], value or {}, f"{where}.{key}")
        elif (cls is DataConfig and key == "sources") or (cls is TrainConfig and key == "calibration_sources"):
            kwargs[key] = [_build(SourceConfig, s, f"{where}.sources[{i}]") for i, s in enumerate(value or [])]
        else:
            kwargs[key] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def validate(config: TrainConfig) -> TrainConfig:
    from detector.registry import get_config

    get_config(config.detector)
    if config.optim.loss not in ("bce", "focal", "adaptive_focal"):
        raise ConfigError(f"optim.loss: {config.optim.loss!r} is not bce, focal or adaptive_focal")
    if config.data.pseudo_fakes not in ("sbi", "none"):
        raise ConfigError(f"data.pseudo_fakes: {config.data.pseudo_fakes!r} is not sbi or none")
    if config.calibration not in ("temperature", "isotonic", "identity"):
        raise ConfigError(f"calibration: {config.calibration!r} is not temperature, isotonic or identity")
    rules = ("best_f1", "fpr_1pct", *DEV_ITEM_THRESHOLD_RULES)
    if not isinstance(config.threshold, int | float) and config.threshold not in rules:
        raise ConfigError(f"threshold: {config.threshold!r} is not a number or one of {', '.join(rules)}")
    band = config.uncertainty_band
    if band is not None and band != "dev" and not (isinstance(band, int | float) and 0 <= band < 0.5):
        raise ConfigError(f"uncertainty_band: {band!r} is not a number in [0, 0.5) or 'dev'")
    if config.optim.schedule not in ("cosine", "onecycle"):
        raise ConfigError(f"optim.schedule: {config.optim.schedule!r} is not cosine or onecycle")
    if config.optim.keep not in KEEP_RULES:
        raise ConfigError(f"optim.keep: {config.optim.keep!r} is not one of {', '.join(KEEP_RULES)}")
    sbi_share = config.data.sbi_share
    if sbi_share is not None and not (0.0 <= sbi_share <= 1.0 and config.data.pseudo_fakes == "sbi"):
        raise ConfigError("data.sbi_share: a share in [0, 1], with pseudo_fakes: sbi")
    if config.optim.pretrained:
        from detector.registry import get_config as registered

        if not registered(config.detector).extra.get("pretrained"):
            raise ConfigError(f"optim.pretrained: {config.detector} names no pretrained weights")
    if config.optim.init_from is not None and not config.resolve(config.optim.init_from).is_file():
        raise ConfigError(f"optim.init_from: {config.optim.init_from} is not a file")
    if config.augment.pipeline not in ("full", "recipe", "synthesis"):
        raise ConfigError(f"augment.pipeline: {config.augment.pipeline!r} is not full, recipe or synthesis")
    if not 0.0 <= config.data.test_share < 1.0:
        raise ConfigError(f"data.test_share: {config.data.test_share} is outside [0, 1)")
    if config.data.sbi_mask not in ("box", "landmarks"):
        raise ConfigError(f"data.sbi_mask: {config.data.sbi_mask!r} is not box or landmarks")
    from detector.training.sbi import LandmarkBlendSettings

    try:
        LandmarkBlendSettings.from_dict(config.data.sbi)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"data.sbi: {exc}") from None
    low, high = config.augment.downscale_range
    if not 0.0 < low <= high < 1.0:
        raise ConfigError(f"augment.downscale_range: {[low, high]} must satisfy 0 < low <= high < 1")
    crf_low, crf_high = config.augment.video_crf_range
    if not 0 <= crf_low <= crf_high <= 51 or not 0.0 <= config.augment.video_p <= 1.0:
        raise ConfigError("augment.video_crf_range must satisfy 0 <= low <= high <= 51 and video_p lie in [0, 1]")
    if config.augment.video_p and config.augment.pipeline != "recipe":
        raise ConfigError("augment.video_p: the H.264 round trip is part of the recipe pipeline only")
    for source in config.data.sources:
        if source.part not in SOURCE_PARTS:
            raise ConfigError(f"data.sources: part {source.part!r} of {source.path} is not 'train', 'test' (or absent)")
        if source.label not in ("real", "fake"):
            raise ConfigError(f"data.sources: label {source.label!r} is not real or fake")
    if not config.data.sources:
        raise ConfigError("data.sources: at least one source is needed")
    return config


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Read a YAML config; relative paths in it are resolved from the repository root.

    So ``../shared/data/videos/real`` means the shared data next to the checkout, and
    ``var/runs/x`` a git-ignored folder inside it, whichever folder the command runs from.
    """
    from detector.training.data import REPO_ROOT

    path = Path(path)
    values = yaml.safe_load(path.read_text()) or {}
    values = {**values, **(overrides or {})}
    values.setdefault("base_dir", str(REPO_ROOT))
    return validate(_build(TrainConfig, values, path.name))


def config_from_dict(values: dict[str, Any], base_dir: str | Path = ".") -> TrainConfig:
    values = {"base_dir": str(base_dir), **values}
    return validate(_build(TrainConfig, values, "config"))
