"""Fully generated faces (StyleGAN / diffusion portraits): a small ConvNeXt plus two spectral branches.

A lighter sibling of ``convnext_spectral`` (issue 17), sized to train from scratch on two CPU cores:

- pixels: a four-stage ConvNeXt (timm's ``ConvNeXt`` with depths 1-1-2-1, widths 24-192, about a
  seventh of ``convnext_atto``'s compute); its 4x4 patchify stem sees every pixel, so the
  checkerboard that transposed-convolution up-sampling leaves is not averaged away before it;
- the 2-D log-magnitude FFT of the grayscale crop, embedded by a small conv stack (periodic peaks);
- the azimuthally averaged power spectrum (Durall et al. 2020, the ``spectral_lr`` feature), through a
  small MLP: generators' up-sampling bends the high-frequency end of that 1-D curve.

The three embeddings are mixed by additive attention (:class:`AttentionFusion`). Both spectra are
computed inside the model on the normalised input, i.e. on the face crop after the pipeline's own
resize to ``input_size``, so training and inference see the same spectrum.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from timm.models.convnext import ConvNeXt
from torch import nn

from detector.contract import ManipulationKind
from detector.models.layers import AttentionFusion, FeatureHeadClassifier, FrequencyBranch
from detector.models.spectral_lr import AzimuthalPowerSpectrum
from detector.registry import DetectorConfig, register_detector


class AzimuthalSpectrumBranch(nn.Module):
    """(B, 3, H, W) normalised crops -> (B, out_dim): the log azimuthal power spectrum through an MLP."""

    def __init__(self, n_bins: int, mean: Sequence[float], std: Sequence[float], out_dim: int = 64) -> None:
        super().__init__()
        self.spectrum = AzimuthalPowerSpectrum(n_bins, mean, std)
        # Batch statistics stand in for spectral_lr's fitted standardisation buffers.
        self.norm = nn.BatchNorm1d(n_bins)
        self.mlp = nn.Sequential(nn.Linear(n_bins, 128), nn.GELU(), nn.Linear(128, out_dim), nn.GELU())
        self.out_dim = out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.norm(self.spectrum(x)))


class GeneratedFaceNet(FeatureHeadClassifier):
    """Pixel ConvNeXt + FFT-image branch + azimuthal-spectrum branch, attention-fused, one logit."""

    def __init__(
        self,
        mean: Sequence[float],
        std: Sequence[float],
        depths: Sequence[int] = (1, 1, 2, 1),
        dims: Sequence[int] = (24, 48, 96, 192),
        n_bins: int = 64,
        fusion_dim: int = 128,
        drop_rate: float = 0.2,
        drop_path_rate: float = 0.05,
    ) -> None:
        super().__init__()
        self.backbone = ConvNeXt(
            in_chans=3, num_classes=0, depths=tuple(depths), dims=tuple(dims), drop_path_rate=drop_path_rate
        )
        self.fft = FrequencyBranch()
        self.azimuthal = AzimuthalSpectrumBranch(n_bins, mean, std)
        self.fusion = AttentionFusion(
            [self.backbone.num_features, self.fft.out_dim, self.azimuthal.out_dim], fusion_dim
        )
        self.dropout = nn.Dropout(drop_rate)
        self.head = nn.Linear(fusion_dim, 1)

    def branch_embeddings(self, x: torch.Tensor) -> list[torch.Tensor]:
        pixels = self.backbone.forward_head(self.backbone.forward_features(x), pre_logits=True)
        return [pixels, self.fft(x), self.azimuthal(x)]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.fusion(self.branch_embeddings(x))


@register_detector(
    DetectorConfig(
        name="genface_spectral",
        architecture="convnext_1-1-2-1_24-192+fft+azimuthal/attention-fusion",
        input_size=224,
        cam_layer="backbone.stages.3",
        kind=ManipulationKind.FULLY_GENERATED,
        extra={"n_bins": 64},
    )
)
def build_genface_spectral(config: DetectorConfig) -> nn.Module:
    return GeneratedFaceNet(config.mean, config.std, n_bins=int(config.extra.get("n_bins", 64)))
