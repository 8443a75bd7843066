"""Datasets: MNIST from IDX files, scikit-learn's 8x8 digits, standardisation; DataLoader and
TensorDataset re-exported from tinygrad_cnn.utils.data (the one DataLoader)."""

from tinygrad_cnn.data.loader import MNIST_MEAN, MNIST_STD, MNISTDataLoader, load_digits, shuffle_generator, standardize
from tinygrad_cnn.data.idx import MNISTError, read_idx
from tinygrad_cnn.data.mnist import MNISTDownloadError, load_mnist
from tinygrad_cnn.utils.data import DataLoader, TensorDataset

__all__ = [
    "MNIST_MEAN", "MNIST_STD", "DataLoader", "MNISTDataLoader", "MNISTDownloadError", "MNISTError", "TensorDataset",
    "load_digits", "load_mnist", "read_idx", "shuffle_generator", "standardize",
]
