"""Datasets and mini-batches: MNIST from IDX files, scikit-learn's 8x8 digits, DataLoader."""

from tinygrad_cnn.data.loader import MNIST_MEAN, MNIST_STD, DataLoader, MNISTDataLoader, load_digits
from tinygrad_cnn.data.mnist import MNISTDownloadError, MNISTError, load_mnist, read_idx

__all__ = [
    "MNIST_MEAN", "MNIST_STD", "DataLoader", "MNISTDataLoader", "MNISTDownloadError", "MNISTError",
    "load_digits", "load_mnist", "read_idx",
]
