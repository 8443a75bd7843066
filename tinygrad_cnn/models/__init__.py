"""Ready-made models for MNIST (SimpleCNN, LeNet, LeNet5, ResNet20) and torchvision's ResNet and
VGG definitions (same state_dict keys, for porting checkpoints), built from tinygrad_cnn.nn
only, and the registry the CLI reads.

``from tinygrad_cnn.models import LeNet``. In a source checkout the old ``from models import
LeNet`` still works (the repository's ``models/`` is a shim re-exporting this package).
"""

from __future__ import annotations

from typing import Any

from tinygrad_cnn.models.lenet import LeNet, LeNet5
from tinygrad_cnn.models.resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50
from tinygrad_cnn.models.resnet20 import ResNet20
from tinygrad_cnn.models.simple_cnn import SimpleCNN
from tinygrad_cnn.models.vgg import VGG, vgg11, vgg11_bn, vgg16
from tinygrad_cnn.nn import Module

MODELS: dict[str, type[Module]] = {"simple_cnn": SimpleCNN, "lenet": LeNet, "lenet5": LeNet5, "resnet": ResNet20}


def get_model(name: str, **kwargs: Any) -> Module:
    """A new model by registry name ("simple_cnn", "lenet", "lenet5"); ``kwargs`` go to its
    constructor (e.g. ``num_classes``). An unknown name raises a ValueError listing the valid ones."""
    if name not in MODELS:
        raise ValueError(f"get_model: unknown model {name!r}; valid names: {', '.join(sorted(MODELS))}")
    return MODELS[name](**kwargs)


__all__ = [
    "MODELS", "VGG", "BasicBlock", "Bottleneck", "LeNet", "LeNet5", "ResNet", "ResNet20", "SimpleCNN", "get_model",
    "resnet18", "resnet34", "resnet50", "vgg11", "vgg11_bn", "vgg16",
]
