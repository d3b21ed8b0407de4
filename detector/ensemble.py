"""The ensemble: every trained detector scores every face crop; their calibrated scores are averaged.

A detector without a checkpoint (random weights) is listed with ``trained: false`` and its
scores are never computed into a result: random weights are not evidence. A trained detector whose
model card shows it no better than chance on a kind of media (``detector.cards.abstention_reason``)
still scores every face there, but does not vote on that kind of media (:meth:`Ensemble.voting_on`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from detector import contract
from detector.aggregate import VerdictPolicy
from detector.cards import absence_caveat, abstention_reason, card_for_checkpoint
from detector.checkpoints import expected_sha256
from detector.registry import Detector, create, get_config, resolve_device

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
# The detectors a job runs when it names none. Each must ship a checkpoint in weights/ and reach
# MIN_DEFAULT_DEV_AUC on its own dev split (necessary, not sufficient: the shipping gate in
# weights/EXPERIMENTS.md chose efficientnet_b0 alone over custom_cnn and over their mean).
DEFAULT_ENSEMBLE = contract.DEFAULT_DETECTORS
MIN_DEFAULT_DEV_AUC = 0.70
# Shipped with weights (and evaluated) but run only when a job names them: below the dev bar, or not
# chosen by the gate.
OPT_IN_SHIPPED = contract.OPT_IN_DETECTORS
# Every detector that ships weights, in the order make train builds and evaluates them.
SHIPPED = contract.SHIPPED_DETECTORS


def weights_dir() -> Path:
    return Path(os.environ.get("FORENSICS_WEIGHTS_DIR") or WEIGHTS_DIR)


def shipped_checkpoint(name: str) -> Path | None:
    path = weights_dir() / f"{name}.pt"
    return path if path.is_file() else None


def shipped_catalogue() -> list[dict[str, Any]]:
    """What a person choosing detectors reads about each shipped one, without loading a model: its name, the kind
    of manipulation it looks for, the kinds of media it runs on by default, its checkpoint's sha256 and its model
    card (``detector.cards``; {} when no card describes these weights). Workers record it for the web process."""
    out = []
    for name in SHIPPED:
        checkpoint = shipped_checkpoint(name)
        sha256 = expected_sha256(checkpoint) if checkpoint else None
        kind = contract.ManipulationKind(get_config(name).kind)
        out.append(
            {
                "name": name,
                "kind": str(kind),
                "kind_name": contract.KIND_NAMES[kind],
                "default_for": [media for media in ("video", "image") if name in contract.default_detectors(media)],
                "sha256": sha256,
                "card": card_for_checkpoint(checkpoint, sha256),
            }
        )
    return out


@dataclass
class Ensemble:
    detectors: list[Detector]

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.detectors]

    @property
    def trained(self) -> list[Detector]:
        """Frame detectors with checkpoint weights: the ones that score every face crop."""
        return [d for d in self.detectors if d.trained and d.config.input_kind == "frame"]

    @property
    def trained_track(self) -> list[Detector]:
        """Track detectors with checkpoint weights: the ones that score each face track as a sequence."""
        return [d for d in self.detectors if d.trained and d.config.input_kind == "track"]

    @property
    def threshold(self) -> float:
        """Decision threshold of the ensemble: the mean of its trained members' calibrated thresholds."""
        members = self.trained + self.trained_track
        return float(np.mean([d.threshold for d in members])) if members else 0.5

    @property
    def uncertainty_band(self) -> float | None:
        """Half-width of the inconclusive zone: the mean of the trained members' dev-chosen bands, or None."""
        bands = [d.uncertainty_band for d in self.trained + self.trained_track if d.uncertainty_band is not None]
        return float(np.mean(bands)) if bands else None

    def verdict_policy(self, **overrides: Any) -> VerdictPolicy:
        """The verdict policy its checkpoints chose on dev (threshold, inconclusive band); ``overrides`` win."""
        values: dict[str, Any] = {"threshold": self.threshold}
        if self.uncertainty_band is not None:
            values["uncertainty_band"] = self.uncertainty_band
        values.update({k: v for k, v in overrides.items() if v is not None})
        return VerdictPolicy(**values)

    @property
    def crop_margin(self) -> float | None:
        """The widest margin of the trained members: crops are cut once with it, and each detector
        narrows them to its own (Detector.crops_for)."""
        members = self.trained + self.trained_track
        return max(d.config.crop_margin for d in members) if members else None

    def by_kind(self) -> dict[str, Ensemble]:
        """The trained detectors grouped by the manipulation kind they look for, in ``contract.KIND_ORDER``."""
        members = self.trained + self.trained_track
        return {
            kind: Ensemble([d for d in members if d.config.kind == kind])
            for kind in contract.KIND_ORDER
            if any(d.config.kind == kind for d in members)
        }

    def voting_on(self, media_kind: str | None) -> tuple[Ensemble, dict[str, str]]:
        """The members that vote on ``media_kind`` ("video" or "image"), and why each trained one that does
        not was left out: its model card shows it no better than chance on that kind of media.

        Read from the card of the weights that run (``detector.cards.card_for_checkpoint``), so a retrained
        detector votes or not by its own card. ``media_kind`` None: everyone votes (evaluation, calibration).
        """
        abstained: dict[str, str] = {}
        if media_kind is not None:
            for d in self.trained + self.trained_track:
                reason = abstention_reason(card_for_checkpoint(d.checkpoint_path, d.checkpoint_sha256), media_kind)
                if reason:
                    abstained[d.name] = reason
        return Ensemble([d for d in self.detectors if d.name not in abstained]), abstained

    def absence_caveat(self, media_kind: str) -> str:
        """The line an authentic verdict of these members carries when their cards do not show that they catch
        most test fakes of ``media_kind`` ("" when they do): see ``detector.cards.absence_caveat``."""
        cards = {
            d.name: card_for_checkpoint(d.checkpoint_path, d.checkpoint_sha256)
            for d in self.trained + self.trained_track
        }
        return absence_caveat(cards, media_kind)

    def describe(self) -> list[dict[str, Any]]:
        return [d.describe() for d in self.detectors]

    def score(
        self,
        crops: list[np.ndarray],
        batch_size: int = 64,
        source_margin: float | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
        """Per-detector calibrated scores and their mean, for trained frame detectors only.

        ``progress(share)`` is told the share of (detector, crop) scores done after each batch: a job's bar moves
        while a long video's faces are scored. Batches are the ones ``score_crops`` would make, so the scores
        are the same with or without it.
        """
        per_detector: dict[str, np.ndarray] = {}
        total = len(crops) * len(self.trained)
        done = 0
        for d in self.trained:
            parts = []
            for start in range(0, len(crops), batch_size):
                batch = crops[start : start + batch_size]
                parts.append(d.score_crops(batch, batch_size=batch_size, source_margin=source_margin))
                done += len(batch)
                if progress is not None:
                    progress(done / total)
            per_detector[d.name] = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float64)
        if not per_detector:
            return {}, None
        return per_detector, np.mean(np.stack(list(per_detector.values())), axis=0)

    def score_tracks(
        self, tracks: dict[int, list[np.ndarray]], batch_size: int = 4, source_margin: float | None = None
    ) -> dict[str, dict[int, float]]:
        """``{detector: {track_id: score}}`` from every trained track detector; crops in time order."""
        ids = sorted(tracks)
        out: dict[str, dict[int, float]] = {}
        for det in self.trained_track:
            scores = det.score_tracks([tracks[i] for i in ids], batch_size=batch_size, source_margin=source_margin)
            out[det.name] = {i: float(s) for i, s in zip(ids, scores, strict=True)}
        return out


def load_ensemble(
    names: list[str] | tuple[str, ...] | None = None,
    device: str | None = None,
    checkpoints: dict[str, str | Path] | None = None,
    media_kind: str | None = None,
) -> Ensemble:
    """Build the named detectors (default: :data:`DEFAULT_ENSEMBLE`) with their shipped weights.

    ``media_kind``: with no names, the default detectors of that kind of media (``contract.default_detectors``).
    """
    names = list(names or contract.default_detectors(media_kind))
    dev = resolve_device(device)
    detectors = []
    for name in names:
        get_config(name)  # unknown names fail here with the list of known ones
        checkpoint = (checkpoints or {}).get(name) or shipped_checkpoint(name)
        detectors.append(create(name, checkpoint=checkpoint, device=dev))
    return Ensemble(detectors)
