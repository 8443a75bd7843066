"""CIFAR10 as torchvision's dataset, from the python-pickle batches, unpickled without arbitrary globals."""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from tinygrad_cnn.fileio import atomic_write, file_digest
from tinygrad_cnn.vision.datasets.vision import (SYNTHETIC_VARIABLE, VisionDataset, dataset_limit, limited,
                                                 synthetic_images, synthetic_wanted)

# Everything a CIFAR batch (a dict of str, bytes, lists and uint8 arrays) needs to be rebuilt;
# _codecs.encode is how protocol-2 pickles written by Python 3 spell bytes.
_ALLOWED_GLOBALS = {
    ("_codecs", "encode"): ("_codecs", "encode"),
    ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"): ("numpy._core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"): ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"): ("numpy", "ndarray"),
    ("numpy", "dtype"): ("numpy", "dtype"),
}


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that can build NumPy arrays, bytes and plain containers, and nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        target = _ALLOWED_GLOBALS.get((module, name))
        if target is None:
            raise pickle.UnpicklingError(
                f"CIFAR10: refusing to load global {module}.{name} from a batch file "
                "(only NumPy array reconstruction is allowed)"
            )
        __import__(target[0])
        return getattr(sys.modules[target[0]], target[1])


def load_batch(path: str | os.PathLike) -> dict:
    """The dict in a CIFAR python-pickle batch file (latin-1 strings), refusing any global but NumPy's."""
    with open(path, "rb") as f:
        return _ArrayUnpickler(f, encoding="latin1").load()


class CIFAR10(VisionDataset):
    """CIFAR-10 as torchvision's ``datasets.CIFAR10``: ``(PIL RGB image, int)`` samples.

    Reads ``root/cifar-10-batches-py/`` (``data_batch_1`` .. ``data_batch_5``, ``test_batch``,
    ``batches.meta``), each checked against torchvision's MD5. ``data`` is a uint8 ndarray
    (N, 32, 32, 3), ``targets`` a list of ints (as torchvision). ``download=True`` fetches
    the tar.gz (MD5-checked) and unpacks it. Raises RuntimeError when files are missing or
    corrupted and ``download`` is False.
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names", "md5": "5ff9c542aee3614f3951f8cda6e48888"}
    CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

    def __init__(self, root: str | os.PathLike, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if synthetic_wanted() and not self._check_integrity():
            count = (50000 if train else 10000) if dataset_limit() is None else dataset_limit()
            self.data, labels = synthetic_images(type(self).__name__, train, count, (32, 32, 3), len(self.CLASSES))
            self.targets, self.classes = [int(t) for t in labels], list(self.CLASSES)
            print(f"tinygrad_cnn: {type(self).__name__} files not found under {self.root}; serving {count} random "
                  f"images ({SYNTHETIC_VARIABLE}=1)", file=sys.stderr)
        else:
            if download:
                self.download()
            if not self._check_integrity():
                raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")
            data, targets = [], []
            for name, _ in self.train_list if train else self.test_list:
                entry = load_batch(self._folder / name)
                data.append(np.asarray(entry["data"], dtype=np.uint8))
                targets.extend(int(t) for t in (entry["labels"] if "labels" in entry else entry["fine_labels"]))
            self.data = limited(np.vstack(data).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1)))
            self.targets = limited(targets)
            self.classes = list(load_batch(self._folder / self.meta["filename"])[self.meta["key"]])
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    @property
    def _folder(self) -> Path:
        return self._root_dir / self.base_folder

    def _check_integrity(self) -> bool:
        files = self.train_list + self.test_list + [[self.meta["filename"], self.meta["md5"]]]
        return all((self._folder / name).is_file() and file_digest(self._folder / name, "md5") == md5 for name, md5 in files)

    def download(self) -> None:
        """Fetch and unpack the archive into ``root`` unless verified files are already there."""
        if self._check_integrity():
            print("Files already downloaded and verified", file=sys.stderr)
            return
        archive = self._root_dir / self.filename
        if not archive.is_file() or file_digest(archive, "md5") != self.tgz_md5:
            print(f"tinygrad_cnn: downloading {self.url}", file=sys.stderr)
            request = urllib.request.Request(self.url, headers={"User-Agent": "tinygrad_cnn"})
            with urllib.request.urlopen(request, timeout=60) as response:
                data = response.read()
            digest = hashlib.md5(data).hexdigest()
            if digest != self.tgz_md5:
                raise RuntimeError(f"CIFAR10: {self.url} has MD5 {digest}, expected {self.tgz_md5}")
            atomic_write(archive, data)
        # unpack beside the target and rename, so a failed extraction leaves no half folder
        with tempfile.TemporaryDirectory(dir=self._root_dir) as tmp:
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(tmp, filter="data")
            shutil.rmtree(self._folder, ignore_errors=True)
            os.replace(Path(tmp) / self.base_folder, self._folder)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """``(image, target)``: the image a PIL RGB image (through ``transform``), the target an int."""
        from PIL import Image

        return self._transformed(Image.fromarray(self.data[index]), self.targets[index])

    def _raw_batch(self, indices: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        index = np.asarray(indices, dtype=np.int64)
        return self.data[index], np.asarray(self.targets, dtype=np.int64)[index]
