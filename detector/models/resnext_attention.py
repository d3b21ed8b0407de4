"""ResNeXt-50 (32x4d) whose last feature map is weighted by a learned spatial attention map (seed 004)."""

from __future__ import annotations

import timm
import torch
from torch import nn

from detector.models.layers import SpatialAttentionGate
from detector.registry import DetectorConfig, register_detector


class SpatialAttentionClassifier(nn.Module):
    """timm backbone -> 1x1-conv sigmoid attention over positions -> average pool -> one logit."""

    def __init__(self, backbone: str, drop_rate: float = 0.3) -> None:
        super().__init__()
        self.backbone = timm.create_model(backbone, pretrained=False, num_classes=0, global_pool="")
        self.attention = SpatialAttentionGate(self.backbone.num_features)
        self.dropout = nn.Dropout(drop_rate)
        self.head = nn.Linear(self.backbone.num_features, 1)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.attention(self.backbone.forward_features(x))

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(features.mean(dim=(-2, -1)))).squeeze(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register_detector(
    DetectorConfig(
        name="resnext50_attention",
        architecture="timm/resnext50_32x4d+spatial-attention",
        input_size=224,
        cam_layer="attention",
    )
)
def build_resnext50_attention(config: DetectorConfig) -> nn.Module:
    return SpatialAttentionClassifier("resnext50_32x4d")
