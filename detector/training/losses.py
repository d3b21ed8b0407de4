"""Losses and batch mixing for one-logit detectors: BCE, focal, adaptive focal; Mixup; blending-boundary supervision."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def focal_loss_with_logits(
    logits: torch.Tensor,
    targets: torch.Tensor,
    gamma: float | torch.Tensor,
    pos_weight: float = 1.0,
) -> torch.Tensor:
    """Binary focal loss (Lin et al. 2017) on soft targets: BCE scaled by (1 - p_t) ** gamma."""
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    prob = torch.sigmoid(logits)
    p_t = prob * targets + (1 - prob) * (1 - targets)
    weight = targets * pos_weight + (1 - targets)
    return (weight * (1 - p_t).pow(gamma) * bce).mean()


def adaptive_gamma(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Sample-dependent gamma of Mukhoti et al. 2020 (FLSD-53): 5 when p_t < 0.2, else 3.

    Hard examples get a stronger focus while easy ones are still pushed less than with plain
    BCE, which is what keeps the focal-trained model calibrated (their Table 1).
    """
    with torch.no_grad():
        prob = torch.sigmoid(logits)
        p_t = prob * targets + (1 - prob) * (1 - targets)
        return torch.where(p_t < 0.2, torch.full_like(p_t, 5.0), torch.full_like(p_t, 3.0))


def detector_loss(
    kind: str, logits: torch.Tensor, targets: torch.Tensor, *, gamma: float = 2.0, pos_weight: float = 1.0
) -> torch.Tensor:
    """``kind``: "bce", "focal" (fixed gamma) or "adaptive_focal"; ``pos_weight`` balances the classes."""
    logits = logits.float()
    targets = targets.float()
    if kind == "bce":
        weight = targets * pos_weight + (1 - targets)
        return (weight * F.binary_cross_entropy_with_logits(logits, targets, reduction="none")).mean()
    if kind == "focal":
        return focal_loss_with_logits(logits, targets, gamma, pos_weight)
    if kind == "adaptive_focal":
        return focal_loss_with_logits(logits, targets, adaptive_gamma(logits, targets), pos_weight)
    raise ValueError(f"unknown loss {kind!r}: use bce, focal or adaptive_focal")


def mixup(
    images: torch.Tensor, targets: torch.Tensor, alpha: float, rng: np.random.Generator, *more: torch.Tensor
) -> tuple[torch.Tensor, ...]:
    """Mixup (Zhang et al. 2018): convex mixes of shuffled pairs, targets (and ``more``) mixed the same way."""
    lam = float(rng.beta(alpha, alpha))
    order = torch.from_numpy(rng.permutation(images.shape[0]))
    return tuple(lam * t + (1 - lam) * t[order] for t in (images, targets, *more))


def blend_boundary(masks: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Face X-ray's target (Li et al., CVPR 2020): ``4 m (1 - m)`` of the blending mask, pooled to ``size``.

    It is zero where the image is all one source (a real face, or the middle of a blended
    region) and peaks on the blending boundary: the one trace every face swap leaves.
    """
    boundary = 4.0 * masks * (1.0 - masks)
    return F.adaptive_avg_pool2d(boundary.unsqueeze(1), size).squeeze(1)


class BoundaryHead(nn.Module):
    """A 1x1 convolution from the classifier's feature map to a blending-boundary map (training only).

    It lives beside the model, not in it: the checkpoint and inference stay the classifier alone,
    while the boundary loss teaches the features *where* a blend is, a denser signal than one label.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, 1, kernel_size=1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.conv(features).squeeze(1)


def boundary_loss(head: BoundaryHead, features: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    logits = head(features.float())
    target = blend_boundary(masks, tuple(logits.shape[-2:]))
    return F.binary_cross_entropy_with_logits(logits, target.clamp(0.0, 1.0))
