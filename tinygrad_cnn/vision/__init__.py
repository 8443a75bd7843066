"""torchvision's counterpart: ``datasets`` (MNIST, FashionMNIST, CIFAR10), ``transforms`` and ``utils`` (make_grid)."""

from tinygrad_cnn.vision import datasets, transforms, utils

__all__ = ["datasets", "transforms", "utils"]
