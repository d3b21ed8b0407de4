"""Classical frequency detector (seed 008): azimuthally averaged power spectrum + logistic regression.

After Durall et al. 2020, "Watch your Up-Convolution": generators' up-sampling distorts the
high-frequency end of the 1-D power spectrum, which a linear model separates. Written in
torch so it is saved, loaded and served like every other detector; fitted in seconds with
scikit-learn by :func:`fit_spectral_lr`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from detector.registry import DetectorConfig, create, register_detector

# Rec. 601 luma weights; the spectrum is taken on brightness, as in Durall et al.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


class AzimuthalPowerSpectrum(nn.Module):
    """Fixed layer: (B, 3, H, W) normalised crops -> (B, n_bins) log mean power per frequency ring.

    Ring k holds the frequencies whose radius is in [k, k + 1) / n_bins of the Nyquist
    frequency; the corners beyond Nyquist are left out so every direction counts equally.
    """

    def __init__(self, n_bins: int, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.n_bins = n_bins
        # Not persistent: they come from the config, which the checkpoint already carries.
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("luma", torch.tensor(LUMA_WEIGHTS).view(1, 3, 1, 1), persistent=False)

    def ring_index(self, height: int, width: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """Flat ring number of each frequency (-1 beyond Nyquist) and the size of each ring."""
        fy = torch.fft.fftfreq(height, device=device).view(-1, 1)
        fx = torch.fft.fftfreq(width, device=device).view(1, -1)
        radius = torch.sqrt(fy**2 + fx**2) / 0.5  # 1.0 at the Nyquist frequency
        index = (radius * self.n_bins).floor().long().flatten()
        index[index >= self.n_bins] = -1
        counts = torch.bincount(index[index >= 0], minlength=self.n_bins).clamp_min(1)
        return index, counts

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device_type=x.device.type, enabled=False):
            pixels = x.float() * self.std + self.mean
            luma = (pixels * self.luma).sum(dim=1)
            power = torch.fft.fft2(luma, norm="ortho").abs().square().flatten(1)
            index, counts = self.ring_index(x.shape[-2], x.shape[-1], x.device)
            inside = index >= 0
            rings = power.new_zeros(power.shape[0], self.n_bins).index_add_(1, index[inside], power[:, inside])
            return torch.log(rings / counts + 1e-10)


class SpectralLogisticRegression(nn.Module):
    """Fixed spectrum layer, standardisation buffers fitted on training data, one linear layer."""

    def __init__(self, n_bins: int, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.spectrum = AzimuthalPowerSpectrum(n_bins, mean, std)
        self.register_buffer("feature_mean", torch.zeros(n_bins))
        self.register_buffer("feature_std", torch.ones(n_bins))
        self.head = nn.Linear(n_bins, 1)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return (self.spectrum(x) - self.feature_mean) / self.feature_std

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(features).squeeze(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register_detector(
    DetectorConfig(
        name="spectral_lr",
        architecture="spectral_lr/azimuthal-power-64",
        input_size=224,
        cam_layer=None,
        extra={"n_bins": 64},
    )
)
def build_spectral_lr(config: DetectorConfig) -> nn.Module:
    return SpectralLogisticRegression(config.extra["n_bins"], config.mean, config.std)


def fit_spectral_lr(
    crops_rgb_uint8: Sequence[np.ndarray],
    labels: Sequence[int],
    *,
    regularisation_c: float = 1.0,
    batch_size: int = 64,
) -> SpectralLogisticRegression:
    """Fit the detector on RGB uint8 crops (label 1 = manipulated) with scikit-learn; CPU, seconds.

    Crops are preprocessed exactly as :class:`detector.Detector` will at scoring time. The
    returned module is ready for ``detector.checkpoints.save(..., state_dict=model.state_dict())``.
    """
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(labels, dtype=np.int64)
    if len(crops_rgb_uint8) != len(y):
        raise ValueError(f"{len(crops_rgb_uint8)} crops but {len(y)} labels")
    if set(np.unique(y).tolist()) != {0, 1}:
        raise ValueError("labels must contain both 0 (real) and 1 (manipulated)")

    untrained = create("spectral_lr", device="cpu")
    model: SpectralLogisticRegression = untrained.model
    with torch.no_grad():
        spectra = torch.cat(
            [
                model.spectrum(untrained.preprocess(list(crops_rgb_uint8[start : start + batch_size])))
                for start in range(0, len(y), batch_size)
            ]
        )
        mean = spectra.mean(dim=0)
        std = spectra.std(dim=0).clamp_min(1e-6)
        features = ((spectra - mean) / std).numpy()
        classifier = LogisticRegression(C=regularisation_c, max_iter=1000).fit(features, y)
        model.feature_mean.copy_(mean)
        model.feature_std.copy_(std)
        model.head.weight.copy_(torch.from_numpy(classifier.coef_).float())
        model.head.bias.copy_(torch.from_numpy(classifier.intercept_).float())
    return model.eval()
