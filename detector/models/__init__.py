"""Built-in detector architectures; importing this package registers every one of them."""

from detector.models import (  # noqa: F401
    convnext_spectral,
    custom_cnn,
    efficientnet,
    efficientnet_attention,
    efficientnet_multibranch,
    genface_spectral,
    resnext_attention,
    resnext_lstm,
    spectral_lr,
)
