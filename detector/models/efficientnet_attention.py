"""EfficientNet-B0 with channel and spatial attention (CBAM) on its last feature map (seed 005)."""

from __future__ import annotations

import timm
import torch
from torch import nn

from detector.models.layers import CBAM
from detector.registry import DetectorConfig, register_detector


class CBAMClassifier(nn.Module):
    """timm backbone -> CBAM -> average pool -> one logit."""

    def __init__(self, backbone: str, drop_rate: float = 0.2) -> None:
        super().__init__()
        self.backbone = timm.create_model(backbone, pretrained=False, num_classes=0, global_pool="")
        self.attention = CBAM(self.backbone.num_features)
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
        name="efficientnet_attention",
        architecture="timm/efficientnet_b0+cbam",
        input_size=224,
        cam_layer="attention",
    )
)
def build_efficientnet_attention(config: DetectorConfig) -> nn.Module:
    return CBAMClassifier("efficientnet_b0")
