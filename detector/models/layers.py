"""Building blocks shared by the detector architectures: spectral and edge branches, attention, fusion."""

from __future__ import annotations

from collections.abc import Sequence

import timm
import torch
import torch.nn.functional as F
from torch import nn


class FeatureHeadClassifier(nn.Module):
    """Base of the frame classifiers: ``forward_features`` (what Grad-CAM hooks) then ``forward_head``.

    Subclasses set ``self.dropout`` and ``self.head`` (one logit) and define ``forward_features``;
    the default head averages a (B, C, h, w) map over positions, or takes a (B, C) vector as is.
    """

    dropout: nn.Module
    head: nn.Module

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        pooled = features.mean(dim=(-2, -1)) if features.dim() == 4 else features
        return self.head(self.dropout(pooled)).squeeze(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


class AttentionClassifier(FeatureHeadClassifier):
    """timm backbone -> an attention module over its last feature map -> average pool -> one logit."""

    def __init__(self, backbone: str, attention: type[nn.Module], drop_rate: float) -> None:
        super().__init__()
        self.backbone = timm.create_model(backbone, pretrained=False, num_classes=0, global_pool="")
        self.attention = attention(self.backbone.num_features)
        self.dropout = nn.Dropout(drop_rate)
        self.head = nn.Linear(self.backbone.num_features, 1)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.attention(self.backbone.forward_features(x))


def conv_bn_act(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


def grayscale(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) -> (B, 1, H, W); the channel mean is enough for learned branches."""
    return x.mean(dim=1, keepdim=True)


def fft_log_magnitude(x: torch.Tensor) -> torch.Tensor:
    """Centred log-magnitude spectrum of the grayscale image, standardised per image: (B, 1, H, W).

    Computed in float32 with autocast off: cuFFT has no bfloat16 kernels, and the
    high-frequency tail that betrays up-sampling is lost in low precision anyway.
    """
    with torch.autocast(device_type=x.device.type, enabled=False):
        spectrum = torch.fft.fft2(grayscale(x.float()), norm="ortho")
        magnitude = torch.fft.fftshift(torch.log1p(spectrum.abs()), dim=(-2, -1))
        mean = magnitude.mean(dim=(-2, -1), keepdim=True)
        std = magnitude.std(dim=(-2, -1), keepdim=True)
        return (magnitude - mean) / (std + 1e-6)


class ConvEmbedding(nn.Module):
    """A small stride-2 conv stack, globally average-pooled to one embedding per image."""

    def __init__(self, in_channels: int, widths: Sequence[int] = (16, 32, 64, 128)) -> None:
        super().__init__()
        layers = []
        for width in widths:
            layers.append(conv_bn_act(in_channels, width, stride=2))
            in_channels = width
        self.convs = nn.Sequential(*layers)
        self.out_dim = in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.convs(x).mean(dim=(-2, -1))


class FrequencyBranch(nn.Module):
    """Embeds the FFT log-magnitude of the input; up-sampling and blending leave periodic peaks there."""

    def __init__(self, widths: Sequence[int] = (16, 32, 64, 128)) -> None:
        super().__init__()
        self.embed = ConvEmbedding(1, widths)
        self.out_dim = self.embed.out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.embed(fft_log_magnitude(x))


class EdgeBranch(nn.Module):
    """Fixed Sobel-x, Sobel-y and Laplacian filters on the grayscale input, then a small learned conv stack.

    Blending boundaries and over-smoothed skin show up as unnatural edge statistics.
    """

    def __init__(self, widths: Sequence[int] = (16, 32, 64, 128)) -> None:
        super().__init__()
        sobel_x = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
        laplacian = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
        kernels = torch.stack([sobel_x, sobel_x.t(), laplacian]).unsqueeze(1)  # (3, 1, 3, 3)
        # Not persistent: the filters are part of the architecture, not of what a checkpoint learned.
        self.register_buffer("kernels", kernels, persistent=False)
        self.norm = nn.BatchNorm2d(3)
        self.embed = ConvEmbedding(3, widths)
        self.out_dim = self.embed.out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        edges = F.conv2d(grayscale(x), self.kernels.to(x.dtype), padding=1)
        return self.embed(self.norm(edges))


class MultiScalePooling(nn.Module):
    """Average- and max-pools each feature map of a pyramid and concatenates them: (B, 2 * sum(C))."""

    def forward(self, feature_maps: Sequence[torch.Tensor]) -> torch.Tensor:
        pooled = []
        for fmap in feature_maps:
            pooled.append(fmap.mean(dim=(-2, -1)))
            pooled.append(fmap.amax(dim=(-2, -1)))
        return torch.cat(pooled, dim=1)


class AttentionFusion(nn.Module):
    """Mixes branch embeddings with per-item softmax weights over branches (additive attention).

    Each branch is projected to a common width; a shared scorer rates each projection and
    the softmax of those ratings weights the sum, so a branch can dominate on items where
    it is informative (e.g. the frequency branch on up-sampled fakes).
    """

    def __init__(self, in_dims: Sequence[int], dim: int) -> None:
        super().__init__()
        self.projections = nn.ModuleList(
            nn.Sequential(nn.Linear(in_dim, dim), nn.LayerNorm(dim), nn.GELU()) for in_dim in in_dims
        )
        self.score = nn.Sequential(nn.Linear(dim, dim // 4), nn.Tanh(), nn.Linear(dim // 4, 1))
        self.out_dim = dim

    def branch_weights(self, projected: torch.Tensor) -> torch.Tensor:
        """(B, K, dim) projected embeddings -> (B, K, 1) weights summing to one over K."""
        return self.score(projected).softmax(dim=1)

    def forward(self, embeddings: Sequence[torch.Tensor]) -> torch.Tensor:
        projected = torch.stack([proj(e) for proj, e in zip(self.projections, embeddings, strict=True)], dim=1)
        return (self.branch_weights(projected) * projected).sum(dim=1)


class SpatialAttentionGate(nn.Module):
    """A 1x1 conv and a sigmoid give a (B, 1, h, w) map that weights the features before pooling."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.conv(x))


class CBAM(nn.Module):
    """Channel then spatial attention (Woo et al. 2018, "CBAM", Sec. 3)."""

    def __init__(self, channels: int, reduction: int = 16, spatial_kernel: int = 7) -> None:
        super().__init__()
        self.channel_mlp = nn.Sequential(
            nn.Conv2d(channels, channels // reduction, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels // reduction, channels, 1),
        )
        self.spatial = nn.Conv2d(2, 1, spatial_kernel, padding=spatial_kernel // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        avg = x.mean(dim=(-2, -1), keepdim=True)
        peak = x.amax(dim=(-2, -1), keepdim=True)
        x = x * torch.sigmoid(self.channel_mlp(avg) + self.channel_mlp(peak))  # Eq. 2
        descriptor = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.spatial(descriptor))  # Eq. 3
