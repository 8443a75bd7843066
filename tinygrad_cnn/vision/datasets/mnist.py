"""MNIST and FashionMNIST as torchvision's datasets, read by the one IDX loader of tinygrad_cnn.data.mnist."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from tinygrad_cnn.data import mnist as idx
from tinygrad_cnn.vision.datasets.vision import (SYNTHETIC_VARIABLE, VisionDataset, dataset_limit, limited,
                                                 synthetic_images, synthetic_wanted)


class MNIST(VisionDataset):
    """The MNIST digits as torchvision's ``datasets.MNIST``: ``(PIL image mode 'L', int)`` samples.

    Files are looked for (all of the split's two, first match wins) in torchvision's
    ``root/MNIST/raw/``, in this project's layout ``root/mnist/`` (so ``root="data"`` reads
    the repository's data/mnist) and in ``root`` itself, each gzipped or raw, and verified
    (see tinygrad_cnn.data.mnist). ``download=True`` fetches missing files, checksummed,
    into ``root/MNIST/raw/``. ``data`` is a uint8 Tensor (N, 28, 28), ``targets`` an int64
    Tensor (N,). Raises RuntimeError when the files are absent and ``download`` is False,
    MNISTError when a file is damaged. ``TINYGRAD_CNN_DATASET_LIMIT=N`` keeps the first N
    samples; ``TINYGRAD_CNN_SYNTHETIC_DATA=1`` serves random images where the files are absent.
    """

    files: Mapping[str, idx.MNISTFile] = idx.FILES
    mirrors: Sequence[str] = idx.DEFAULT_MIRRORS
    project_folder: str | None = "mnist"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root: str | os.PathLike, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        from tinygrad_cnn.tensor import Tensor

        self.train = train
        split = "train" if train else "test"
        needed = {key: self.files[key] for key in (f"{split}_images", f"{split}_labels")}
        folder = self._find_folder(needed)
        if folder is None and synthetic_wanted():
            count = (60000 if train else 10000) if dataset_limit() is None else dataset_limit()
            images, labels = synthetic_images(type(self).__name__, train, count, (28, 28), len(self.classes))
            print(f"tinygrad_cnn: {type(self).__name__} files not found under {self.root}; serving {count} random "
                  f"images ({SYNTHETIC_VARIABLE}=1)", file=sys.stderr)
        else:
            if folder is None:
                if not download:
                    raise RuntimeError("Dataset not found. You can use download=True to download it")
                folder, needed = Path(self.raw_folder), dict(self.files)
            arrays = idx.load_files(folder, needed, download, self.mirrors)
            images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        self.data = Tensor(np.array(limited(images), dtype=np.uint8))
        self.targets = Tensor(limited(labels), dtype=np.int64)

    @property
    def raw_folder(self) -> str:
        """torchvision's folder of the raw files: ``root/<ClassName>/raw``."""
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def class_to_idx(self) -> dict[str, int]:
        """Class name -> label."""
        return {name: i for i, name in enumerate(self.classes)}

    def _find_folder(self, needed: Mapping[str, idx.MNISTFile]) -> Path | None:
        root = self._root_dir
        candidates = [Path(self.raw_folder).expanduser()]
        if self.project_folder is not None:
            candidates.append(root / self.project_folder)
        candidates.append(root)
        for folder in candidates:
            if all(idx.locate(folder, spec) is not None for spec in needed.values()):
                return folder
        return None

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """``(image, target)``: the image a PIL 'L' image (through ``transform``), the target an int."""
        from PIL import Image

        return self._transformed(Image.fromarray(self.data.numpy()[index]), int(self.targets.numpy()[index]))

    def _raw_batch(self, indices: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        index = np.asarray(indices, dtype=np.int64)
        return self.data.numpy()[index][..., None], self.targets.numpy()[index]


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST as torchvision's ``datasets.FashionMNIST``: as MNIST, with its
    own files (``root/FashionMNIST/raw/`` or ``root``), MD5 checksums and mirror."""

    files = idx.FASHION_FILES
    mirrors = idx.FASHION_MIRRORS
    project_folder = None
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
