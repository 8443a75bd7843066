"""Image datasets with torchvision's names: MNIST, FashionMNIST, CIFAR10 (and their base VisionDataset)."""

from tinygrad_cnn.vision.datasets.cifar import CIFAR10
from tinygrad_cnn.vision.datasets.mnist import MNIST, FashionMNIST
from tinygrad_cnn.vision.datasets.vision import VisionDataset

__all__ = ["CIFAR10", "MNIST", "FashionMNIST", "VisionDataset"]
