"""EfficientNet-B0 frame classifier (seed 001): a timm backbone with one logit out."""

from __future__ import annotations

import timm
import torch
from torch import nn

from detector.models.layers import FeatureHeadClassifier
from detector.registry import DetectorConfig, register_detector


class TimmFrameClassifier(FeatureHeadClassifier):
    """A timm backbone (created offline, ``pretrained=False``) and a one-logit head."""

    def __init__(self, backbone: str, drop_rate: float = 0.2) -> None:
        super().__init__()
        self.backbone = timm.create_model(backbone, pretrained=False, num_classes=0, drop_rate=drop_rate)
        self.head = nn.Linear(self.backbone.num_features, 1)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone.forward_features(x)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone.forward_head(features, pre_logits=True)).squeeze(-1)


@register_detector(
    DetectorConfig(
        name="efficientnet_b0",
        architecture="timm/efficientnet_b0",
        input_size=224,
        cam_layer="backbone.conv_head",
    )
)
def build_efficientnet_b0(config: DetectorConfig) -> nn.Module:
    return TimmFrameClassifier("efficientnet_b0")
