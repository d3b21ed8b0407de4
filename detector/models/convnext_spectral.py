"""ConvNeXt-Atto with an FFT spectral branch joined by attention fusion (seed 003).

Atto (3.4 M parameters) keeps the checkpoint far under the 50 MB ensemble limit and
trains on CPU; larger ConvNeXts did not fit that budget.
"""

from __future__ import annotations

import timm
import torch
from torch import nn

from detector.models.layers import AttentionFusion, FeatureHeadClassifier, FrequencyBranch
from detector.registry import DetectorConfig, register_detector


class SpectralConvNeXt(FeatureHeadClassifier):
    """ConvNeXt pooled embedding and an FFT log-magnitude embedding, fused by attention.

    ``forward_features`` returns the fused embedding (B, fusion_dim); ``forward_head`` the logit.
    """

    def __init__(self, backbone: str, fusion_dim: int = 256, drop_rate: float = 0.3) -> None:
        super().__init__()
        self.backbone = timm.create_model(backbone, pretrained=False, num_classes=0)
        self.spectral = FrequencyBranch()
        self.fusion = AttentionFusion([self.backbone.num_features, self.spectral.out_dim], fusion_dim)
        self.dropout = nn.Dropout(drop_rate)
        self.head = nn.Linear(fusion_dim, 1)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        rgb = self.backbone.forward_head(self.backbone.forward_features(x), pre_logits=True)
        return self.fusion([rgb, self.spectral(x)])


@register_detector(
    DetectorConfig(
        name="convnext_spectral",
        architecture="timm/convnext_atto+fft/attention-fusion",
        input_size=224,
        cam_layer="backbone.stages.3",
    )
)
def build_convnext_spectral(config: DetectorConfig) -> nn.Module:
    return SpectralConvNeXt("convnext_atto")
