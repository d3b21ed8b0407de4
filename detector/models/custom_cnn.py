"""A small plain CNN at 128 px (seed 006): the baseline that trains in minutes on a CPU."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from detector.models.layers import FeatureHeadClassifier, conv_bn_act
from detector.registry import DetectorConfig, register_detector


class PlainCNN(FeatureHeadClassifier):
    """Stride-2 stem, then conv-bn-relu blocks each followed by 2x max-pooling except the last.

    At 128 px the last block sees an 8x8 map: coarse, but enough for Grad-CAM to point at
    a region of the face.
    """

    def __init__(self, widths: Sequence[int] = (32, 64, 128, 256), stem_width: int = 24, drop_rate: float = 0.3):
        super().__init__()
        blocks: list[nn.Module] = [conv_bn_act(3, stem_width, stride=2)]
        in_channels = stem_width
        for width in widths[:-1]:
            blocks.append(nn.Sequential(conv_bn_act(in_channels, width), nn.MaxPool2d(2)))
            in_channels = width
        blocks.append(conv_bn_act(in_channels, widths[-1]))
        self.features = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(drop_rate)
        self.head = nn.Linear(widths[-1], 1)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


@register_detector(
    DetectorConfig(
        name="custom_cnn",
        architecture="custom_cnn/plain-5block",
        input_size=128,
        cam_layer="features.4",
    )
)
def build_custom_cnn(config: DetectorConfig) -> nn.Module:
    return PlainCNN()
