"""Arrays for training: standardize, shuffle_generator, the notebook-style MNISTDataLoader, and
load_digits. Batches
come from ``utils.data.DataLoader(TensorDataset(Tensor(X), Tensor(y)), ...)``."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from tinygrad_cnn import random as _random
from tinygrad_cnn.data.mnist import load_mnist
from tinygrad_cnn.tensor import Tensor

MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


def standardize(X: Any, mean: float = MNIST_MEAN, std: float = MNIST_STD) -> np.ndarray:
    """``(X - mean) / std`` once over the whole array (by default MNIST's 0.1307, 0.3081), as
    the training recipe feeds its ``TensorDataset``: float inputs keep their dtype, integer
    inputs become float32. The same arithmetic as ``transforms.Normalize`` per image."""
    X = X.numpy() if isinstance(X, Tensor) else np.asarray(X)
    if not std > 0:
        raise ValueError(f"standardize: std must be positive, got {std!r}")
    dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.dtype(np.float32)
    return (X.astype(dtype, copy=False) - dtype.type(mean)) / dtype.type(std)


def shuffle_generator() -> np.random.Generator:
    """A numpy Generator seeded by one draw from the package's generator, for a loader's
    ``generator=``: its shuffling is then reproducible under ``manual_seed`` and saved by
    ``loader.state_dict()`` (resumable checkpoints), apart from the package's own stream."""
    return np.random.default_rng(int(_random.generator().integers(2**63)))


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 digits as ``(X, y)``: X float32 (1797, 1, 8, 8) in [0, 1], y int64."""
    from sklearn.datasets import load_digits as sk_load_digits

    digits = sk_load_digits()
    X = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    return X, digits.target.astype(np.int64)


class MNISTDataLoader:
    """MNIST as the seed notebook loads it: ``MNISTDataLoader("data").load_data()``.

    ``data_dir`` is the folder of the IDX files or one holding a ``mnist/`` subfolder.
    The default ``"data"``, when no such folder exists here, falls back to load_mnist's
    search (``TINYGRAD_CNN_DATA``, then the repository's data/mnist).
    """

    def __init__(self, data_dir: str | os.PathLike = "data", download: bool = False) -> None:
        self.data_dir = data_dir
        self.download = download

    def load_data(self, test_size: float | int | None = None,
                  random_state: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(X_train, y_train, X_test, y_test)``: the official 60k/10k split when ``test_size``
        is None, else a stratified split of all 70,000 images (scikit-learn's train_test_split
        with ``test_size`` as a fraction or a count, and ``random_state``)."""
        root = self.data_dir
        if os.fspath(root) == "data" and not os.path.isdir(root):
            root = None
        X_train, y_train, X_test, y_test = load_mnist(root, download=self.download)
        if test_size is None:
            return X_train, y_train, X_test, y_test
        from sklearn.model_selection import train_test_split

        X = np.concatenate([X_train, X_test])
        y = np.concatenate([y_train, y_test])
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=test_size, random_state=random_state, stratify=y
        )
        return X_train, y_train, X_test, y_test
