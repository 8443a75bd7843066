"""Mini-batches for training: DataLoader, the notebook-style MNISTDataLoader, and load_digits."""

from __future__ import annotations

import math
import os
from typing import Any, Iterator

import numpy as np

from tinygrad_cnn import random as _random
from tinygrad_cnn.data.mnist import load_mnist
from tinygrad_cnn.tensor import Tensor

MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


def _as_numpy(a: Any) -> np.ndarray:
    return a.numpy() if isinstance(a, Tensor) else np.asarray(a)


class DataLoader:
    """Iterates ``(Tensor x, Tensor y)`` mini-batches over arrays ``X`` (N, ...) and ``y`` (N,).

    Each batch gathers its own rows (``X[indices]``), so an epoch never copies the whole
    dataset. ``shuffle`` draws a fresh permutation every epoch from the loader's own
    ``numpy.random.Generator``, seeded by ``seed`` or, when seed is None, by one draw from
    ``tinygrad_cnn.random.generator()`` (so ``manual_seed`` makes it reproducible).
    ``drop_last`` skips a final short batch. ``normalize`` standardises each batch as
    ``(x - mean) / std``: True uses MNIST's (0.1307, 0.3081), or pass a ``(mean, std)``
    pair. Float inputs keep their dtype; integer inputs become float32 when normalised.
    ``len(loader)`` is the number of batches per epoch.
    """

    def __init__(self, X: Any, y: Any, batch_size: int = 64, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None, normalize: bool | tuple[float, float] = False) -> None:
        X, y = _as_numpy(X), _as_numpy(y)
        if X.ndim == 0 or y.ndim != 1 or len(X) != len(y):
            raise ValueError(
                f"DataLoader: X must be (N, ...) and y (N,) with the same N, got X {X.shape} and y {y.shape}"
            )
        if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if normalize is True:
            normalize = (MNIST_MEAN, MNIST_STD)
        if normalize is not False:
            mean, std = normalize
            if not std > 0:
                raise ValueError(f"DataLoader: normalize std must be positive, got {std!r}")
        self.X = X
        self.y = y
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.normalize: tuple[float, float] | None = None if normalize is False else (float(mean), float(std))
        if seed is None:
            seed = int(_random.generator().integers(2**63))
        self.generator = np.random.default_rng(seed)

    @property
    def num_samples(self) -> int:
        """Number of samples one epoch visits (all of them, less a dropped last batch)."""
        n = len(self.X)
        return n - n % self.batch_size if self.drop_last else n

    def __len__(self) -> int:
        n = len(self.X)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _batch_x(self, x: np.ndarray) -> np.ndarray:
        if self.normalize is None:
            return x
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float32)
        mean, std = self.normalize
        return (x - dtype.type(mean)) / dtype.type(std)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        n = self.num_samples
        order = self.generator.permutation(len(self.X)) if self.shuffle else None
        for start in range(0, n, self.batch_size):
            stop = min(start + self.batch_size, n)
            rows = slice(start, stop) if order is None else order[start:stop]
            yield Tensor(self._batch_x(self.X[rows])), Tensor(self.y[rows])

    def state_dict(self) -> dict[str, Any]:
        """The shuffling generator's state (for checkpoints: resuming reshuffles identically)."""
        return {"generator": self.generator.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the shuffling generator's state saved by ``state_dict``."""
        self.generator.bit_generator.state = state["generator"]

    def __repr__(self) -> str:
        return (f"DataLoader(samples={len(self.X)}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, normalize={self.normalize})")


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
