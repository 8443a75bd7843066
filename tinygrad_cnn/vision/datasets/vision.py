"""VisionDataset, the base of the image datasets: root, transforms, torchvision's repr and batch fast path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np


LIMIT_VARIABLE = "TINYGRAD_CNN_DATASET_LIMIT"
SYNTHETIC_VARIABLE = "TINYGRAD_CNN_SYNTHETIC_DATA"


def dataset_limit() -> int | None:
    """N from ``TINYGRAD_CNN_DATASET_LIMIT=N``: every split of every vision dataset keeps only
    its first N samples (a documented way to shorten a PyTorch program without editing it)."""
    text = os.environ.get(LIMIT_VARIABLE)
    if text is None:
        return None
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{LIMIT_VARIABLE} must be a positive integer, got {text!r}")
    return int(text)


def synthetic_wanted() -> bool:
    """True when ``TINYGRAD_CNN_SYNTHETIC_DATA=1``: a dataset whose files are absent serves
    random images of its real shape instead (for programs whose data is not on the machine)."""
    return os.environ.get(SYNTHETIC_VARIABLE) == "1"


def synthetic_images(name: str, train: bool, count: int, shape: tuple[int, ...],
                     classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic random uint8 images (count, *shape) and int64 labels for ``name``'s split,
    the same on every call (seeded by the name and split, not by the global generator)."""
    seed = int.from_bytes(f"{name}/{'train' if train else 'test'}".encode(), "little") % (2 ** 32)
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, size=(count, *shape), dtype=np.uint8),
            rng.integers(0, classes, size=count, dtype=np.int64))


def limited(array: Any) -> Any:
    """``array`` cut to the first ``dataset_limit()`` samples (unchanged without the variable)."""
    limit = dataset_limit()
    return array if limit is None else array[:limit]


class VisionDataset:
    """Base of the image datasets (torchvision's): ``root``, ``transform``, ``target_transform``.

    Subclasses provide ``__getitem__``, ``__len__`` and ``_raw_batch(indices)`` (the uint8
    images at ``indices`` as an (N, H, W, C) array and their int64 targets), which
    ``__getitems__`` and ``batch`` use to transform a whole batch at once.
    """

    _repr_indent = 4

    def __init__(self, root: str | os.PathLike | None = None, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        if root is not None and not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"{type(self).__name__}: root must be a str or path, got {type(root).__name__}")
        self.root = os.path.expanduser(root) if isinstance(root, str) else root
        self.transform = transform
        self.target_transform = target_transform

    @property
    def _root_dir(self) -> Path:
        """``root`` as a Path."""
        return Path(self.root).expanduser()

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError

    def _raw_batch(self, indices: Sequence[int]) -> tuple[np.ndarray, np.ndarray] | None:
        """None here: a dataset without uint8 arrays in memory has no whole-batch path."""
        return None

    def _transformed(self, img: Any, target: Any) -> tuple[Any, Any]:
        """``(img, target)`` through ``transform`` and ``target_transform``, each where given
        (torchvision's StandardTransform): what ``__getitem__`` returns."""
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def batch(self, indices: Sequence[int]):
        """The samples at ``indices`` already collated, or None when that cannot be done in one go.

        Returns ``(images, targets)``: images a float32 (or uint8, for PILToTensor) Tensor of
        shape (N, C, H, W), targets an int64 Tensor of shape (N,), equal to
        ``default_collate([self[i] for i in indices])``. Possible when ``transform`` is made
        only of ToTensor, PILToTensor, ConvertImageDtype and Normalize (alone or in a
        Compose) and ``target_transform`` is None; otherwise (random transforms, PIL
        transforms, no transform at all) it returns None and the caller fetches sample by
        sample (``__getitems__``). A DataLoader calls this first for whole-batch speed.
        """
        from tinygrad_cnn.tensor import Tensor
        from tinygrad_cnn.vision.transforms import apply_to_batch

        if self.transform is None or self.target_transform is not None:
            return None
        raw = self._raw_batch(indices)
        if raw is None:
            return None
        images, targets = raw
        out = apply_to_batch(self.transform, images)
        if out is None:
            return None
        return out, Tensor(targets, dtype=np.int64)

    def __getitems__(self, indices: Sequence[int]) -> list:
        """``[self[i] for i in indices]``, the images transformed in one array operation when
        ``batch`` can do it (each sample then being a (C, H, W) Tensor view of the batch)."""
        from tinygrad_cnn.tensor import Tensor

        indices = list(indices)
        result = self.batch(indices)
        if result is None:
            return [self[i] for i in indices]
        images, targets = result
        array = images.numpy()
        return [(Tensor(array[k]), int(t)) for k, t in enumerate(targets.numpy())]

    def extra_repr(self) -> str:
        """Extra lines of the repr: the split, for a dataset with a ``train`` flag (MNIST, CIFAR10)."""
        train = getattr(self, "train", None)
        return "" if train is None else f"Split: {'Train' if train is True else 'Test'}"

    def __repr__(self) -> str:
        # as torchvision: the StandardTransform block is one body entry, so only its first line is indented
        body = [f"Number of datapoints: {len(self)}"] + ([] if self.root is None else [f"Root location: {self.root}"])
        body += self.extra_repr().splitlines()
        if self.transform is not None or self.target_transform is not None:
            block = ["StandardTransform"]
            for head, transform in (("Transform: ", self.transform), ("Target transform: ", self.target_transform)):
                if transform is not None:
                    lines = repr(transform).splitlines()
                    block += [head + lines[0]] + [" " * len(head) + line for line in lines[1:]]
            body.append("\n".join(block))
        return "\n".join([f"Dataset {type(self).__name__}"] + [" " * self._repr_indent + line for line in body])
