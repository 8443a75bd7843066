"""torchvision's VGG and vgg11/vgg11_bn/vgg16, with torchvision's module names (features.N,
avgpool, classifier.0/3/6), so a torchvision checkpoint's state_dict loads unchanged."""

from __future__ import annotations

from typing import Any

import tinygrad_cnn.nn as nn
from tinygrad_cnn.models.resnet import _no_weights
from tinygrad_cnn.tensor import Tensor

cfgs: dict[str, list[int | str]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def make_layers(cfg: list[int | str], batch_norm: bool = False) -> nn.Sequential:
    """VGG's feature extractor: 3x3 conv (padding 1) [+ BatchNorm2d] + ReLU per number in ``cfg``
    (its output channels), a 2x2 max pool per "M"; input 3 channels."""
    layers: list[nn.Module] = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, int(v), kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(int(v)))
        layers.append(nn.ReLU(inplace=True))
        in_channels = int(v)
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """torchvision's VGG: ``features`` (N, 3, H, W) -> (N, 512, h, w), AdaptiveAvgPool2d((7, 7)),
    flatten, Linear 25088->4096, ReLU, Dropout, Linear 4096->4096, ReLU, Dropout, Linear
    4096->num_classes."""

    input_shape = (3, 224, 224)

    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def _vgg(cfg: str, batch_norm: bool, weights: Any, name: str, kwargs: dict[str, Any]) -> VGG:
    _no_weights(weights, name)
    return VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)


def vgg11(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-11 (configuration "A") as torchvision.models.vgg11 (132,863,336 parameters)."""
    return _vgg("A", False, weights, "vgg11", kwargs)


def vgg11_bn(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-11 with BatchNorm as torchvision.models.vgg11_bn."""
    return _vgg("A", True, weights, "vgg11_bn", kwargs)


def vgg16(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-16 (configuration "D") as torchvision.models.vgg16."""
    return _vgg("D", False, weights, "vgg16", kwargs)
