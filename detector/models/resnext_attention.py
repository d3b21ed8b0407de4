"""ResNeXt-50 (32x4d) whose last feature map is weighted by a learned spatial attention map (seed 004)."""

from __future__ import annotations

from torch import nn

from detector.models.layers import AttentionClassifier, SpatialAttentionGate
from detector.registry import DetectorConfig, register_detector


@register_detector(
    DetectorConfig(
        name="resnext50_attention",
        architecture="timm/resnext50_32x4d+spatial-attention",
        input_size=224,
        cam_layer="attention",
    )
)
def build_resnext50_attention(config: DetectorConfig) -> nn.Module:
    return AttentionClassifier("resnext50_32x4d", SpatialAttentionGate, drop_rate=0.3)
