"""EfficientNet-B0 with channel and spatial attention (CBAM) on its last feature map (seed 005)."""

from __future__ import annotations

from torch import nn

from detector.models.layers import CBAM, AttentionClassifier
from detector.registry import DetectorConfig, register_detector


@register_detector(
    DetectorConfig(
        name="efficientnet_attention",
        architecture="timm/efficientnet_b0+cbam",
        input_size=224,
        cam_layer="attention",
    )
)
def build_efficientnet_attention(config: DetectorConfig) -> nn.Module:
    return AttentionClassifier("efficientnet_b0", CBAM, drop_rate=0.2)
