"""Batch-level transforms for the training recipe, a whole batch in one array operation (vision's
transforms work image by image): Standardize (each batch as it is drawn, no standardised copy of
the whole training set) and RandomShifts (each image moved by a few whole pixels)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinygrad_cnn import random as _random
from tinygrad_cnn.data.loader import standardize
from tinygrad_cnn.tensor import Tensor


def random_shifts(images: np.ndarray, max_shift: int, fill: float, rng: np.random.Generator) -> np.ndarray:
    """Each image of ``images`` (N, C, H, W) moved by its own (dy, dx), both drawn uniformly from
    [-max_shift, max_shift]; the pixels shifted in take ``fill``. A new (N, C, H, W) array of the
    same dtype: torchvision's RandomCrop((H, W), padding=max_shift, fill=fill) on every image."""
    n, c, h, w = images.shape
    m = int(max_shift)
    padded = np.full((n, c, h + 2 * m, w + 2 * m), fill, dtype=images.dtype)
    padded[:, :, m:m + h, m:m + w] = images
    windows = np.lib.stride_tricks.sliding_window_view(padded, (h, w), axis=(2, 3))  # (N, C, 2m+1, 2m+1, H, W)
    dy, dx = rng.integers(0, 2 * m + 1, size=(2, n))
    return np.ascontiguousarray(windows[np.arange(n), :, dy, dx])


class RandomShifts:
    """A dataset of ``(image, label)`` pairs (TensorDataset-like: ``batch(indices)`` giving
    ``[images (N, C, H, W), labels]``) whose images come out shifted by up to ``max_shift``
    pixels each way, filled with ``fill`` (the background: 0 for raw pixels, -mean/std once
    standardised). Draws from the package's generator (``manual_seed``; a worker thread's own)."""

    def __init__(self, dataset: Any, max_shift: int = 2, fill: float = 0.0) -> None:
        if not isinstance(max_shift, (int, np.integer)) or isinstance(max_shift, bool) or max_shift < 0:
            raise ValueError(f"RandomShifts: max_shift must be a non-negative integer, got {max_shift!r}")
        if not callable(getattr(dataset, "batch", None)):
            raise TypeError(f"RandomShifts: the dataset must have batch(indices), {type(dataset).__name__} has not")
        self.dataset = dataset
        self.max_shift = int(max_shift)
        self.fill = float(fill)

    def __len__(self) -> int:
        return len(self.dataset)

    def batch(self, indices: Sequence[int]) -> list[Tensor]:
        """``[shifted images, labels]`` of the samples at ``indices``."""
        images, *rest = self.dataset.batch(indices)
        shifted = random_shifts(images.numpy(), self.max_shift, self.fill, _random.generator())
        return [Tensor(shifted), *rest]

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(t[0] for t in self.batch([index]))


class Standardize:
    """A dataset of ``(image, label)`` pairs with ``batch(indices)`` (TensorDataset-like) whose
    images come out as ``standardize(images, mean, std)``: bit-equal to standardising the whole
    array once, without holding that copy."""

    def __init__(self, dataset: Any, mean: float, std: float) -> None:
        if not callable(getattr(dataset, "batch", None)):
            raise TypeError(f"Standardize: the dataset must have batch(indices), {type(dataset).__name__} has not")
        if not std > 0:
            raise ValueError(f"Standardize: std must be positive, got {std!r}")
        self.dataset = dataset
        self.mean = float(mean)
        self.std = float(std)

    def __len__(self) -> int:
        return len(self.dataset)

    def batch(self, indices: Sequence[int]) -> list[Tensor]:
        """``[standardised images, labels]`` of the samples at ``indices``."""
        images, *rest = self.dataset.batch(indices)
        return [Tensor(standardize(images.numpy(), self.mean, self.std)), *rest]

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(t[0] for t in self.batch([index]))
