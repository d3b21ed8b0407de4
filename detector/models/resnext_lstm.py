"""ResNeXt-26 per-frame features and a bidirectional LSTM over one face track (seed 007).

Input is (B, T, 3, H, W): T crops of the same face in time order; temporal flicker of
blending boundaries and identity drift is what the LSTM is there to see.
"""

from __future__ import annotations

import timm
import torch
from torch import nn

from detector.registry import DetectorConfig, register_detector


class TrackLSTMClassifier(nn.Module):
    """``forward_features``: (B, T, 3, H, W) -> per-frame embeddings (B, T, D); ``forward_head``: LSTM -> logit."""

    def __init__(self, backbone: str, embed_dim: int = 256, hidden_dim: int = 256, drop_rate: float = 0.3) -> None:
        super().__init__()
        self.backbone = timm.create_model(backbone, pretrained=False, num_classes=0)
        # Projecting 2048 -> 256 before the LSTM cuts its parameters ~8x and keeps the checkpoint under 50 MB.
        self.projection = nn.Sequential(
            nn.Linear(self.backbone.num_features, embed_dim), nn.ReLU(inplace=True), nn.Dropout(drop_rate)
        )
        self.lstm = nn.LSTM(embed_dim, hidden_dim, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden_dim, 1)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        batch, steps = x.shape[:2]
        frames = self.backbone(x.flatten(0, 1))
        return self.projection(frames).view(batch, steps, -1)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        # float32 with autocast off: a small recurrent layer gains nothing from bfloat16 and drifts in it.
        with torch.autocast(device_type=features.device.type, enabled=False):
            outputs, _ = self.lstm(features.float())
            return self.head(outputs.mean(dim=1)).squeeze(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register_detector(
    DetectorConfig(
        name="resnext_lstm",
        architecture="timm/resnext26ts+bilstm",
        input_size=224,
        input_kind="track",
        cam_layer="backbone.stages.3",
        extra={"sequence_length": 8},
    )
)
def build_resnext_lstm(config: DetectorConfig) -> nn.Module:
    return TrackLSTMClassifier("resnext26ts")
