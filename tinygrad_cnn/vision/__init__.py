"""torchvision's counterpart: ``datasets`` (MNIST, FashionMNIST, CIFAR10) and ``transforms``."""

from tinygrad_cnn.vision import datasets, transforms

__all__ = ["datasets", "transforms"]
