"""The training loop behind ``python -m detector train CONFIG.yaml [--resume]``.

Reads labelled sources, caches their face crops, splits them by group (written to
``split.json``), trains on reals + self-blended pseudo-fakes + labelled fakes, checkpoints
every epoch (``last.pt``, resumable), keeps the best epoch by dev log loss, fits calibration
and a threshold on the dev part, and writes ``<detector>.pt`` with ``detector.checkpoints.save``.
Scikit-learn detectors (``spectral_lr``) are fitted in one pass instead of the loop.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from detector import checkpoints
from detector.calibration import Calibration, fit_isotonic, fit_temperature
from detector.faces import narrow_crop
from detector.registry import Detector, DetectorConfig, create, normalise, resolve_device
from detector.training.augment import augmentations_for
from detector.training.calibrate import calibrate_checkpoint, needs_dev_calibration
from detector.training.config import DEV_ITEM_THRESHOLD_RULES, AugmentConfig, TrainConfig
from detector.training.data import (
    FaceCache,
    FaceCrops,
    MediaItem,
    link_groups,
    scan_source,
    split_train_dev_test,
    write_split,
)
from detector.training.losses import BoundaryHead, boundary_loss, detector_loss, mixup
from detector.training.metrics import best_f1_threshold, binary_metrics, threshold_at_fpr
from detector.training.sbi import LandmarkBlendSettings, landmark_blend, self_blend

Log = Callable[[str], None]
DEV_PSEUDO_FAKE_SEED = 10_007  # dev pseudo-fakes never change between epochs or runs
SKLEARN_DETECTORS = ("spectral_lr",)


@dataclass(frozen=True)
class Sample:
    """One training example: a crop of one item, as it is ("real"/"fake") or self-blended ("sbi")."""

    item: int
    crop: int
    kind: str

    @property
    def label(self) -> int:
        return 0 if self.kind == "real" else 1


def build_samples(faces: list[FaceCrops], pseudo_fakes_per_real: int, sbi: bool) -> list[Sample]:
    samples = []
    for i, crops in enumerate(faces):
        for j in range(len(crops)):
            if crops.item.label == 1:
                samples.append(Sample(i, j, "fake"))
                continue
            samples.append(Sample(i, j, "real"))
            if sbi:
                samples.extend(Sample(i, j, "sbi") for _ in range(pseudo_fakes_per_real))
    return samples


def resize_like_inference(crop: np.ndarray, size: int) -> np.ndarray:
    interpolation = cv2.INTER_AREA if crop.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interpolation)


@dataclass(frozen=True)
class RenderSpec:
    """How a cached crop becomes a training input: blend on the wide crop, narrow to the model's margin, size."""

    size: int
    source_margin: float = 0.3  # the margin the face cache cut crops with
    margin: float = 0.3  # the detector's own crop_margin (what inference feeds it)
    sbi_mask: str = "box"
    sbi: LandmarkBlendSettings = field(default_factory=LandmarkBlendSettings)

    @classmethod
    def of(cls, config: TrainConfig, detector_config: DetectorConfig) -> RenderSpec:
        if config.data.crop_margin + 1e-9 < detector_config.crop_margin:
            raise ValueError(
                f"data.crop_margin {config.data.crop_margin} is narrower than {config.detector}'s crop_margin "
                f"{detector_config.crop_margin}: the inference crop cannot be cut from the cached one"
            )
        return cls(
            size=detector_config.input_size,
            source_margin=config.data.crop_margin,
            margin=detector_config.crop_margin,
            sbi_mask=config.data.sbi_mask,
            sbi=LandmarkBlendSettings.from_dict(config.data.sbi),
        )


def render_sample(
    faces: list[FaceCrops], sample: Sample, rng: np.random.Generator, augment: Any | None, spec: RenderSpec
) -> tuple[np.ndarray, np.ndarray]:
    """One sample at ``spec.size``: self-blend (if "sbi") on the cached crop, narrow it, then augment (if given).

    Returns the uint8 image and its float32 blending mask (zeros unless self-blended), which
    every geometric augmentation moves with the image.
    """
    crops = faces[sample.item]
    image = crops.crops[sample.crop]
    mask = np.zeros(image.shape[:2], dtype=np.float32)
    if sample.kind == "sbi":
        if spec.sbi_mask == "landmarks":
            box, marks = crops.face_boxes[sample.crop], crops.landmarks[sample.crop]
            image, mask = landmark_blend(image, box, marks, rng, spec.sbi)
        else:
            image, mask = self_blend(image, crops.face_boxes[sample.crop], rng)
    image = narrow_crop(image, spec.source_margin, spec.margin)
    mask = narrow_crop(mask, spec.source_margin, spec.margin)
    if augment is not None:
        augment.set_random_seed(int(rng.integers(0, 2**31 - 1)))
        out = augment(image=image, mask=mask)
        return out["image"], out["mask"]
    return resize_like_inference(image, spec.size), resize_like_inference(mask, spec.size)


class FaceSampleDataset(Dataset):
    """Samples of one epoch; item ``k`` is a pure function of (seed, epoch, k): reproducible and resumable."""

    def __init__(
        self,
        faces: list[FaceCrops],
        samples: list[Sample],
        config: DetectorConfig,
        seed: int,
        epoch: int,
        augment: AugmentConfig,
        spec: RenderSpec,
    ) -> None:
        self.faces = faces
        self.samples = samples
        self.config = config
        self.seed = seed
        self.epoch = epoch
        self.spec = spec
        self.augment = augmentations_for(augment, config.input_size)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        sample = self.samples[k]
        rng = np.random.default_rng([self.seed, self.epoch, k])
        image, mask = render_sample(self.faces, sample, rng, self.augment, self.spec)
        return normalise(image[None], self.config)[0], torch.tensor(float(sample.label)), torch.from_numpy(mask)


def epoch_samples(
    samples: list[Sample], count: int | None, balance: bool, seed: int, epoch: int, sbi_share: float | None = None
) -> list[Sample]:
    """This epoch's draw: all samples shuffled, or ``count`` drawn, half per class when ``balance``.

    ``sbi_share`` (with ``balance``): of the fake half, this share is drawn from self-blends and the rest from
    labelled fakes (when both kinds exist; otherwise the kind there is takes the whole half).
    """
    rng = np.random.default_rng([seed, epoch, 1])
    labels = np.array([s.label for s in samples])
    if balance and len(np.unique(labels)) == 2:
        weights = np.where(labels == 1, 0.5 / (labels == 1).sum(), 0.5 / (labels == 0).sum())
        kinds = np.array([s.kind for s in samples])
        n_sbi, n_fake = int((kinds == "sbi").sum()), int((kinds == "fake").sum())
        if sbi_share is not None and n_sbi and n_fake:
            weights = np.select(
                [kinds == "sbi", kinds == "fake"],
                [0.5 * sbi_share / n_sbi, 0.5 * (1.0 - sbi_share) / n_fake],
                weights,
            )
        picks = rng.choice(len(samples), size=count or len(samples), replace=True, p=weights)
    elif count:
        picks = rng.choice(len(samples), size=count, replace=count > len(samples))
    else:
        picks = rng.permutation(len(samples))
    return [samples[i] for i in picks]


def feature_stages(model: nn.Module) -> list[nn.Module]:
    """The backbone's stages, input side first: what progressive unfreezing thaws from the top."""
    root = getattr(model, "backbone", None) or getattr(model, "features", None)
    if root is None:
        return []
    stages: list[nn.Module] = []
    for name, child in root.named_children():
        if name in ("blocks", "stages", "layers") and isinstance(child, nn.Sequential):
            stages.extend(child.children())
        else:
            stages.append(child)
    return [s for s in stages if any(p.numel() for p in s.parameters())]


def apply_unfreezing(model: nn.Module, epoch: int, freeze_epochs: int, every: int, frozen_stages: int = 0) -> int:
    """Freeze the backbone for ``freeze_epochs``, then thaw one stage from the top every ``every`` epochs; the
    first ``frozen_stages`` (input side) never thaw.

    Returns how many stages are trainable this epoch.
    """
    stages = feature_stages(model)
    if freeze_epochs <= 0 or not stages:
        thawed = len(stages)
    else:
        thawed = 0 if epoch < freeze_epochs else 1 + (epoch - freeze_epochs) // max(1, every)
    thawed = min(thawed, len(stages) - min(frozen_stages, len(stages)))
    for p in model.parameters():
        p.requires_grad_(True)
    for stage in stages[: len(stages) - thawed]:
        for p in stage.parameters():
            p.requires_grad_(False)
    return thawed


def cosine_with_warmup(warmup_steps: int, total_steps: int, min_ratio: float) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / max(1, warmup_steps)
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


class ScalarLog:
    """Scalars to ``metrics.csv`` always and to TensorBoard event files when tensorboard is installed."""

    def __init__(self, directory: Path) -> None:
        self.csv_path = directory / "metrics.csv"
        self.writer = None
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(directory / "tensorboard"))
        except ImportError:
            self.writer = None

    def add(self, step: int, values: dict[str, float]) -> None:
        new = not self.csv_path.exists()
        with self.csv_path.open("a", newline="") as fh:
            writer = csv.writer(fh)
            if new:
                writer.writerow(["step", "name", "value"])
            for name, value in values.items():
                writer.writerow([step, name, f"{value:.6g}"])
        if self.writer is not None:
            for name, value in values.items():
                self.writer.add_scalar(name, value, step)
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


@dataclass
class PreparedData:
    train_items: list[MediaItem]
    dev_items: list[MediaItem]
    train_faces: list[FaceCrops]
    dev_faces: list[FaceCrops]


def prepare_data(config: TrainConfig, log: Log = print) -> PreparedData:
    """Scan sources, split by group (seeded; written to ``split.json``), load or extract face crops."""
    source_parts: list[str | None] = []
    scanned: list[MediaItem] = []
    for source in config.data.sources:
        found = scan_source(source, config.resolve)
        scanned.extend(found)
        source_parts.extend([source.part] * len(found))
    # Items that share an identity (a face swap and both people's originals) are one group across sources.
    linked = link_groups(scanned)
    by_part = {
        part: [i for i, p in zip(linked, source_parts, strict=True) if p == part] for part in (None, "train", "test")
    }
    data = config.data
    train_items, dev_items, test_items = split_train_dev_test(
        by_part[None], data.test_share, data.dev_share, config.seed, data.dev_groups, data.test_groups
    )
    train_only, test_only = by_part["train"], by_part["test"]
    held_apart = {i.group for i in (*dev_items, *test_items, *test_only)} & {i.group for i in train_only}
    if held_apart:
        raise ValueError(f"train-only sources share groups with dev or test: {', '.join(sorted(held_apart))}")
    seen = {i.group for i in (*train_items, *dev_items)} & {i.group for i in test_only}
    if seen:
        raise ValueError(f"test-only sources share groups with train or dev: {', '.join(sorted(seen))}")
    train_items += train_only
    test_items += test_only
    output = config.resolve(config.output_dir)
    parts = {"train": train_items, "dev": dev_items}
    if test_items:
        parts["test"] = test_items  # never trained or tuned on: detector/training/holdout.py evaluates it
    write_split(output / "split.json", parts, config.seed)
    cache = FaceCache(
        config.resolve(config.data.cache_dir) if config.data.cache_dir else None,
        frames_per_video=config.data.frames_per_video,
        crop_px=config.data.crop_px,
        margin=config.data.crop_margin,
        max_faces_per_frame=config.data.max_faces_per_frame,
        device="cuda" if resolve_device(config.optim.device).type == "cuda" else "cpu",
    )
    started = time.perf_counter()

    def load(part: list[MediaItem]) -> list[FaceCrops]:
        out = []
        for n, item in enumerate(part, 1):
            out.append(cache.faces(item))
            if n % 50 == 0:
                log(f"faces: {n}/{len(part)} items ({time.perf_counter() - started:.0f} s)")
        return [f for f in out if len(f)]

    train_faces, dev_faces = load(train_items), load(dev_items)
    log(
        f"data: {len(train_items)} train items ({sum(len(f) for f in train_faces)} crops), "
        f"{len(dev_items)} dev items ({sum(len(f) for f in dev_faces)} crops), "
        f"{len({i.group for i in train_items})}/{len({i.group for i in dev_items})} groups"
    )
    return PreparedData(train_items, dev_items, train_faces, dev_faces)


@dataclass
class DevSet:
    """Dev crops as the model sees them: every real crop, one fixed pseudo-fake per real (if SBI), every fake."""

    images: np.ndarray  # (N, S, S, 3) uint8
    labels: np.ndarray  # (N,) 0 real, 1 fake or self-blend
    items: np.ndarray  # (N,) index of the dev item a crop comes from; -1 for self-blends (no video of their own)

    def video_auc(self, probs: np.ndarray) -> float | None:
        """AUC over the dev videos and images that are real or really manipulated, each scored by the mean
        probability of its crops: what model selection reads (self-blends are training's proxy, not the goal)."""
        from sklearn.metrics import roc_auc_score

        kept = self.items >= 0
        item_ids = np.unique(self.items[kept])
        scores = np.array([probs[self.items == i].mean() for i in item_ids])
        labels = np.array([self.labels[self.items == i][0] for i in item_ids])
        return float(roc_auc_score(labels, scores)) if len(np.unique(labels)) == 2 else None


def dev_images(faces: list[FaceCrops], config: TrainConfig, spec: RenderSpec) -> DevSet:
    samples = build_samples(faces, 1, config.data.pseudo_fakes == "sbi")
    images = [
        render_sample(faces, s, np.random.default_rng([DEV_PSEUDO_FAKE_SEED, k]), None, spec)[0]
        for k, s in enumerate(samples)
    ]
    return DevSet(
        np.asarray(images, dtype=np.uint8).reshape(-1, spec.size, spec.size, 3),
        np.array([s.label for s in samples], dtype=np.int64),
        np.array([-1 if s.kind == "sbi" else s.item for s in samples], dtype=np.int64),
    )


def fit_calibration(method: str, logits: np.ndarray, labels: np.ndarray) -> Calibration:
    if method == "identity" or len(np.unique(labels)) < 2:
        return Calibration.identity()
    if method == "isotonic":
        return fit_isotonic(logits, labels)
    return fit_temperature(logits, labels)


def choose_threshold(rule: str | float, labels: np.ndarray, probs: np.ndarray) -> float:
    if isinstance(rule, int | float):
        return float(rule)
    if len(np.unique(labels)) < 2:
        return 0.5
    if rule == "best_f1":
        return best_f1_threshold(labels, probs)[0]
    if rule in DEV_ITEM_THRESHOLD_RULES:
        return 0.5  # chosen on the dev items once the checkpoint exists (detector/training/calibrate.py)
    return threshold_at_fpr(labels, probs, 0.01)


def predict_logits(scorer: Detector, batch: torch.Tensor, batch_size: int = 64) -> np.ndarray:
    """Raw logits of a normalised batch, scored as inference scores it (:meth:`Detector.logits`)."""
    scorer.model.eval()
    out = [scorer.logits(batch[start : start + batch_size]).numpy() for start in range(0, len(batch), batch_size)]
    return np.concatenate(out).astype(np.float64) if out else np.zeros(0)


def progress_line(
    epoch: int,
    batch_no: int,
    batches: int,
    optim: Any,
    epoch_started: float,
    steps_this_run: int,
    run_started: float,
    losses: list[float],
) -> str:
    """Where training is: samples/s (this run, loader included) and the time left for every epoch."""
    elapsed = time.perf_counter() - run_started
    rate = steps_this_run * optim.batch_size / max(elapsed, 1e-9)
    remaining = ((optim.epochs - epoch - 1) * batches + (batches - batch_no)) * optim.batch_size
    eta_min = remaining / max(rate, 1e-9) / 60.0
    recent = float(np.mean(losses[-optim.log_every_batches :]))
    return (
        f"epoch {epoch + 1}/{optim.epochs} batch {batch_no}/{batches}: loss {recent:.4f}, "
        f"{rate:.1f} samples/s, ETA {eta_min:.1f} min (epoch {time.perf_counter() - epoch_started:.0f} s)"
    )


def detector_config_for(config: TrainConfig) -> DetectorConfig:
    base = create(config.detector, device="cpu").config
    return dataclasses.replace(base, **config.model) if config.model else base


def finish(
    config: TrainConfig,
    detector_config: DetectorConfig,
    state_dict: dict[str, torch.Tensor],
    dev_logits: np.ndarray,
    dev_labels: np.ndarray,
    extra_metrics: dict[str, Any],
    log: Log,
) -> Path:
    """Fit calibration and threshold on dev, then write ``<output_dir>/<detector>.pt``."""
    calibration = fit_calibration(config.calibration, dev_logits, dev_labels)
    probs = calibration.apply_logits(dev_logits)
    threshold = choose_threshold(config.threshold, dev_labels, probs)
    metrics = {"dev": binary_metrics(dev_labels, probs, threshold), **extra_metrics}
    saved_config = {**detector_config.to_dict(), "training": config.to_dict()}
    path = config.resolve(config.output_dir) / f"{config.detector}.pt"
    sha = checkpoints.save(
        path,
        config=saved_config,
        state_dict=state_dict,
        calibration=calibration.to_dict(),
        threshold=threshold,
        metrics=metrics,
    )
    (path.parent / "dev_metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    dev = metrics["dev"]
    log(
        f"saved {path} sha256 {sha[:12]}: dev AUC {dev['auc_roc']}, log loss {dev['log_loss']:.4f}, "
        f"ECE {dev['ece']:.4f}, threshold {threshold:.3f}, calibration {calibration.to_dict()}"
    )
    return path


def train_sklearn(config: TrainConfig, data: PreparedData, log: Log) -> Path:
    """``spectral_lr``: logistic regression on spectra of augmented reals, pseudo-fakes and fakes."""
    from detector.models.spectral_lr import fit_spectral_lr

    started = time.perf_counter()
    detector_config = detector_config_for(config)
    spec = RenderSpec.of(config, detector_config)
    augment = augmentations_for(config.augment, spec.size)
    samples = build_samples(data.train_faces, config.data.pseudo_fakes_per_real, config.data.pseudo_fakes == "sbi")
    samples = epoch_samples(samples, config.optim.samples_per_epoch, config.optim.class_balance, config.seed, 0)
    images = [
        render_sample(data.train_faces, s, np.random.default_rng([config.seed, 0, k]), augment, spec)[0]
        for k, s in enumerate(samples)
    ]
    labels = [s.label for s in samples]
    model = fit_spectral_lr(images, labels, regularisation_c=config.spectral_c)
    dev = dev_images(data.dev_faces, config, spec)
    dev_y = dev.labels
    scorer = Detector(detector_config, model, torch.device("cpu"))
    dev_logits = predict_logits(scorer, normalise(dev.images, detector_config))
    elapsed = time.perf_counter() - started
    log(f"spectral_lr fitted on {len(samples)} samples in {elapsed:.1f} s")
    extra = {"train_samples": len(samples), "train_seconds": round(elapsed, 1)}
    return finish(config, detector_config, model.state_dict(), dev_logits, dev_y, extra, log)


def parameter_groups(model: nn.Module, lr: float, early_lr_scale: float) -> list[dict[str, Any]]:
    """AdamW groups: the stem and the first half of the backbone's stages at ``lr * early_lr_scale`` (pretrained
    low-level filters move less), everything else at ``lr``; one group when the scale is 1."""
    stages = feature_stages(model)
    if early_lr_scale == 1.0 or not stages:
        return [{"params": list(model.parameters()), "lr": lr}]
    early = {id(p) for stage in stages[: len(stages) // 2] for p in stage.parameters()}
    return [
        {"params": [p for p in model.parameters() if id(p) in early], "lr": lr * early_lr_scale},
        {"params": [p for p in model.parameters() if id(p) not in early], "lr": lr},
    ]


def make_boundary_head(model: nn.Module, size: int, device: torch.device) -> BoundaryHead:
    """The training-only boundary head, sized from the model's feature map (it must be a map)."""
    if not hasattr(model, "forward_features"):
        raise ValueError("boundary_loss_weight needs a frame classifier with forward_features")
    with torch.no_grad():
        model.eval()
        features = model.forward_features(torch.zeros(1, 3, size, size, device=device))
        model.train()
    if features.dim() != 4:
        raise ValueError(f"boundary_loss_weight needs a feature map, the model gives shape {tuple(features.shape)}")
    return BoundaryHead(features.shape[1]).to(device)


def train(config: TrainConfig, resume: bool = False, log: Log = print) -> Path:
    """Train ``config.detector``; return the path of the final checkpoint."""
    torch.manual_seed(config.seed)
    if config.optim.threads:
        torch.set_num_threads(config.optim.threads)
    output = config.resolve(config.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    (output / "config.json").write_text(json.dumps(config.to_dict(), indent=1) + "\n")
    data = prepare_data(config, log)
    if not data.train_faces:
        raise RuntimeError("no face crops in the training part: check the sources and the face detector")
    if config.detector in SKLEARN_DETECTORS:
        return train_sklearn(config, data, log)

    optim = config.optim
    device = resolve_device(optim.device)
    detector_config = detector_config_for(config)
    model = create(config.detector, device="cpu").model.to(device)
    if device.type == "cpu":
        model = model.to(memory_format=torch.channels_last)
    if optim.init_from is not None:
        start = checkpoints.load(config.resolve(optim.init_from))
        if start.config.get("name") != config.detector:
            raise RuntimeError(
                f"optim.init_from: {optim.init_from} holds {start.config.get('name')}, not {config.detector}"
            )
        model.load_state_dict(start.state_dict)
        log(f"weights from {optim.init_from} (sha256 {start.sha256[:12]})")
    elif optim.pretrained and not (resume and (output / "last.pt").is_file()):
        source = detector_config.extra["pretrained"]
        sha = model.load_pretrained(source)
        log(f"ImageNet weights of {source} (sha256 {sha[:12]})")
    spec = RenderSpec.of(config, detector_config)
    size = spec.size
    samples = build_samples(data.train_faces, config.data.pseudo_fakes_per_real, config.data.pseudo_fakes == "sbi")
    per_epoch = optim.samples_per_epoch or len(samples)
    steps_per_epoch = max(1, per_epoch // optim.batch_size)
    dev_set = dev_images(data.dev_faces, config, spec)
    dev_y = dev_set.labels
    dev_batch = normalise(dev_set.images, detector_config)
    # Dev batches are scored as inference scores crops (precision, memory format) by a Detector around the model.
    scorer = Detector(detector_config, model, device)
    log(f"train samples {len(samples)} ({per_epoch} per epoch), dev {len(dev_y)} ({int(dev_y.sum())} fake)")

    boundary_head = None
    groups = parameter_groups(model, optim.lr, optim.early_lr_scale)
    if optim.boundary_loss_weight > 0:
        boundary_head = make_boundary_head(model, size, device)
        groups.append({"params": list(boundary_head.parameters()), "lr": optim.lr})
    optimizer = torch.optim.AdamW(groups, lr=optim.lr, weight_decay=optim.weight_decay)
    if optim.schedule == "onecycle":
        scheduler: torch.optim.lr_scheduler.LRScheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=[g["lr"] for g in groups], total_steps=optim.epochs * steps_per_epoch
        )
    else:
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            cosine_with_warmup(
                round(optim.warmup_epochs * steps_per_epoch), optim.epochs * steps_per_epoch, optim.min_lr / optim.lr
            ),
        )
    # Class balance by sampling when the epoch draw is balanced; otherwise weight the positives.
    labels_all = np.array([s.label for s in samples])
    pos_weight = 1.0
    if optim.class_balance and optim.samples_per_epoch is None and labels_all.sum():
        pos_weight = float((labels_all == 0).sum() / labels_all.sum())
    balance_by_sampling = optim.class_balance and optim.samples_per_epoch is not None

    state_path = output / "last.pt"
    start_epoch, best_loss, best_state, bad_epochs, step = 0, math.inf, None, 0, 0
    start_step = 0
    trained_before_s = 0.0  # training time of the epochs a resumed run already did
    if resume and state_path.is_file():
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        if boundary_head is not None:
            boundary_head.load_state_dict(state["boundary_head"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, best_loss, bad_epochs, step = (
            state["epoch"] + 1,
            state["best_loss"],
            state["bad_epochs"],
            state["step"],
        )
        best_state = state["best_model"]
        trained_before_s = float(state.get("train_seconds", 0.0))
        start_step = step
        torch.set_rng_state(state["torch_rng"])
        log(f"resumed from {state_path} after epoch {state['epoch']}")
    if not (resume and state_path.is_file()):
        # A fresh run's curves start empty: an earlier, abandoned run in the same folder must not prefix them.
        (output / "metrics.csv").unlink(missing_ok=True)
        shutil.rmtree(output / "tensorboard", ignore_errors=True)
    scalars = ScalarLog(output)
    started = time.perf_counter()
    use_amp = optim.amp and device.type == "cuda"
    for epoch in range(start_epoch, optim.epochs):
        if optim.early_stopping_patience is not None and bad_epochs >= optim.early_stopping_patience:
            log(f"early stop: dev log loss did not improve for {bad_epochs} epochs")
            break
        thawed = apply_unfreezing(
            model, epoch, optim.freeze_backbone_epochs, optim.unfreeze_every_epochs, optim.frozen_stages
        )
        drawn = epoch_samples(samples, per_epoch, balance_by_sampling, config.seed, epoch, config.data.sbi_share)
        dataset = FaceSampleDataset(data.train_faces, drawn, detector_config, config.seed, epoch, config.augment, spec)
        loader = DataLoader(
            dataset, batch_size=optim.batch_size, shuffle=False, drop_last=True, num_workers=optim.num_workers
        )
        mix_rng = np.random.default_rng([config.seed, epoch, 2])
        model.train()
        losses = []
        epoch_started = time.perf_counter()
        for batch_no, (images, targets, masks) in enumerate(loader, 1):
            images, targets, masks = images.to(device), targets.to(device), masks.to(device)
            if device.type == "cpu":
                images = images.contiguous(memory_format=torch.channels_last)
            if optim.mixup_alpha > 0 and mix_rng.random() < optim.mixup_prob:
                images, targets, masks = mixup(images, targets, optim.mixup_alpha, mix_rng, masks)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                if boundary_head is None:
                    logits = model(images)
                else:
                    features = model.forward_features(images)
                    logits = model.forward_head(features)
            loss = detector_loss(optim.loss, logits, targets, gamma=optim.focal_gamma, pos_weight=pos_weight)
            if boundary_head is not None:
                loss = loss + optim.boundary_loss_weight * boundary_loss(boundary_head, features, masks)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if optim.grad_clip_norm:
                nn.utils.clip_grad_norm_(model.parameters(), optim.grad_clip_norm)
            optimizer.step()
            scheduler.step()
            step += 1
            losses.append(loss.item())
            if optim.log_every_batches and batch_no % optim.log_every_batches == 0:
                done = step - start_step
                log(progress_line(epoch, batch_no, len(loader), optim, epoch_started, done, started, losses))
        dev_logits = predict_logits(scorer, dev_batch)
        dev_probs = Calibration.identity().apply_logits(dev_logits)
        dev = binary_metrics(dev_y, dev_probs, 0.5)
        video_auc = dev_set.video_auc(dev_probs)
        values = {
            "train/loss": float(np.mean(losses)) if losses else float("nan"),
            "train/lr": optimizer.param_groups[0]["lr"],
            "train/stages_trainable": thawed,
            "dev/log_loss": dev["log_loss"],
            "dev/auc_roc": dev["auc_roc"] if dev["auc_roc"] is not None else float("nan"),
            "dev/accuracy": dev["accuracy"],
            "dev/video_auc": video_auc if video_auc is not None else float("nan"),
        }
        scalars.add(epoch, values)
        # best_loss holds the selection criterion, lower is better: log loss, or minus the dev video AUC.
        criterion = -(video_auc or 0.0) if optim.keep == "best_dev_video_auc" else dev["log_loss"]
        improved = criterion < best_loss - 1e-4
        if improved:
            best_loss, bad_epochs = criterion, 0
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        else:
            bad_epochs += 1
        torch.save(
            {
                "epoch": epoch,
                "step": step,
                "model": model.state_dict(),
                "boundary_head": boundary_head.state_dict() if boundary_head is not None else None,
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "best_loss": best_loss,
                "best_model": best_state,
                "bad_epochs": bad_epochs,
                "torch_rng": torch.get_rng_state(),
                "train_seconds": trained_before_s + time.perf_counter() - started,
            },
            state_path,
        )
        log(
            f"epoch {epoch + 1}/{optim.epochs}: loss {values['train/loss']:.4f} dev loss {dev['log_loss']:.4f} "
            f"dev AUC {values['dev/auc_roc']:.4f} video AUC {values['dev/video_auc']:.4f} acc {dev['accuracy']:.3f} "
            f"{'*' if improved else ' '} ({time.perf_counter() - started:.0f} s)"
        )
    scalars.close()
    if best_state is not None and optim.keep != "last":
        model.load_state_dict(best_state)
    dev_logits = predict_logits(scorer, dev_batch)
    extra = {
        "train_seconds": round(trained_before_s + time.perf_counter() - started, 1),
        "train_samples": len(samples),
        "dev_video_auc": dev_set.video_auc(Calibration.identity().apply_logits(dev_logits)),
    }
    path = finish(config, detector_config, model.state_dict(), dev_logits, dev_y, extra, log)
    if needs_dev_calibration(config):
        calibrate_checkpoint(path, config, output / "split.json", log)
    return path
