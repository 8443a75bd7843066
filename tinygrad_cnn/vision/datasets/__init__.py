"""Image datasets with torchvision's names: MNIST, FashionMNIST, CIFAR10, FakeData, DatasetFolder and
ImageFolder (and their base VisionDataset)."""

from tinygrad_cnn.vision.datasets.cifar import CIFAR10
from tinygrad_cnn.vision.datasets.fakedata import FakeData
from tinygrad_cnn.vision.datasets.folder import DatasetFolder, ImageFolder
from tinygrad_cnn.vision.datasets.mnist import MNIST, FashionMNIST
from tinygrad_cnn.vision.datasets.vision import VisionDataset

__all__ = ["CIFAR10", "DatasetFolder", "FakeData", "FashionMNIST", "ImageFolder", "MNIST", "VisionDataset"]
