"""MNIST-style IDX files: verification, root resolution and download (the IDX format itself: data/idx.py).

One loader serves MNIST (``FILES``) and Fashion-MNIST (``FASHION_FILES``), which share
the four file names and shapes. The files are read gzipped (``*.gz``) or raw. Each one is
checked before use: the IDX magic number (images or labels), the item count and image
size, the exact byte length, and its checksum: the SHA-256 of the uncompressed bytes
where the table has one (MNIST), else the MD5 of the ``.gz`` that torchvision publishes
(Fashion-MNIST; a raw Fashion-MNIST file gets the structural checks only). A file whose checksum
is that of another known file (train and test swapped, or one a link to the other) is refused
saying which file it is; a file, or a gzip stream, larger than any of these datasets' is refused
before it fills memory. Whatever is wrong raises ``MNISTError`` naming the file and the fault.
Verified arrays are cached per process by the SHA-256 of the file's bytes (an unchanged file,
by device, inode, size, mtime and ctime, is not hashed again), so a second ``load_mnist``
costs only the conversion to float32 and a file changed in place is verified again.

Where the files are looked for (first match wins):

1. the ``root`` argument;
2. the ``TINYGRAD_CNN_DATA`` environment variable;
3. ``data/mnist`` of the source checkout that holds this package, then
   ``~/.cache/tinygrad_cnn/mnist``, then ``./data/mnist``.

``download=True`` puts missing files in the first of these folders (the checkout's
data/mnist, or the user cache for an installed package).

A folder holding a ``mnist/`` subfolder (such as the repository's ``data/``) works too.
"""

from __future__ import annotations

import hashlib
import os
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from tinygrad_cnn.data.idx import (
    IMAGES_MAGIC, LABELS_MAGIC, MNISTError, decompress, describe_magic, idx_header, parse_idx, read_limited,
)
from tinygrad_cnn.fileio import atomic_write

ENV_VAR = "TINYGRAD_CNN_DATA"

DEFAULT_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
FASHION_MIRRORS: tuple[str, ...] = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)

_MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024


class MNISTDownloadError(OSError):
    """No mirror delivered a verified copy of an MNIST file."""


@dataclass(frozen=True)
class MNISTFile:
    """One IDX file: its name (without .gz), IDX magic, shape and checksum.

    ``sha256`` is of the uncompressed bytes; ``md5`` of the published ``.gz`` (checked
    only on gzipped copies). At least one of them is set.
    """

    name: str
    magic: int
    shape: tuple[int, ...]
    sha256: str | None
    md5: str | None = None

    @property
    def nbytes(self) -> int:
        """Length of the uncompressed file: header plus one byte per value."""
        return 4 + 4 * len(self.shape) + int(np.prod(self.shape))


# key -> (file name, IDX magic, shape): the layout MNIST and Fashion-MNIST share
_LAYOUT: dict[str, tuple[str, int, tuple[int, ...]]] = {
    "train_images": ("train-images-idx3-ubyte", IMAGES_MAGIC, (60000, 28, 28)),
    "train_labels": ("train-labels-idx1-ubyte", LABELS_MAGIC, (60000,)),
    "test_images": ("t10k-images-idx3-ubyte", IMAGES_MAGIC, (10000, 28, 28)),
    "test_labels": ("t10k-labels-idx1-ubyte", LABELS_MAGIC, (10000,)),
}

FILES: dict[str, MNISTFile] = {key: MNISTFile(*_LAYOUT[key], sha256) for key, sha256 in {
    "train_images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train_labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "test_images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "test_labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}.items()}

FASHION_FILES: dict[str, MNISTFile] = {key: MNISTFile(*_LAYOUT[key], None, md5) for key, md5 in {
    "train_images": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train_labels": "25c81989df183df01b3e8a0aad5dffbe",
    "test_images": "bef4ecab320f06d8554ea6380940ec79",
    "test_labels": "bb300cfdad3c16e7a12a480ee83cd310",
}.items()}

# every file whose checksum is known, by checksum: what a misplaced file really is
_KNOWN: dict[str, str] = {
    checksum: f"{dataset}'s {key.replace('_', ' ').replace('train ', 'training ')} ({spec.name})"
    for dataset, table in (("MNIST", FILES), ("Fashion-MNIST", FASHION_FILES))
    for key, spec in table.items() for checksum in (spec.sha256, spec.md5) if checksum is not None
}

# verified arrays by (SHA-256 of the file's bytes, spec); the stat key of a file (device, inode,
# size, mtime, ctime: ctime changes with every write) -> that SHA-256, so an unchanged file is
# not read again and a changed one always is
_CACHE: dict[tuple[str, MNISTFile], np.ndarray] = {}
_DIGESTS: dict[tuple[int, ...], str] = {}


# ---------------------------------------------------------------------------- verification
def _refuse_misplaced(checksum: str, spec: MNISTFile, name: str, kind: str) -> None:
    """MNISTError when ``checksum`` (of kind "SHA-256" or "MD5") is that of another known file than ``spec``'s."""
    what = _KNOWN.get(checksum)
    if what is not None and checksum not in (spec.sha256, spec.md5):
        raise MNISTError(f"{name}: by its {kind} this file is {what}, not {spec.name}; are two files swapped, "
                         "or one a link to another? Each name must hold its own file")


def verify_mnist_bytes(raw: bytes, spec: MNISTFile, name: str) -> np.ndarray:
    """Check uncompressed bytes against ``spec`` (magic, counts, size, SHA-256 if known); return the array.

    A file that is, by its SHA-256, another file of MNIST (train and test swapped, or one a link to
    the other) is refused saying which file it is."""
    digest = hashlib.sha256(raw).hexdigest()
    _refuse_misplaced(digest, spec, name, "SHA-256")
    magic, dims, _ = idx_header(raw, name)
    if magic != spec.magic:
        raise MNISTError(
            f"{name}: magic number 0x{magic:08x} ({describe_magic(magic)}) where {spec.name} needs "
            f"0x{spec.magic:08x} ({describe_magic(spec.magic)}); is this file under the wrong name?"
        )
    if dims[0] != spec.shape[0]:
        raise MNISTError(
            f"{name}: holds {dims[0]} items where {spec.name} has {spec.shape[0]}; is this file under the wrong name?"
        )
    if dims != spec.shape:
        raise MNISTError(f"{name}: holds an array of shape {dims} where {spec.name} has {tuple(spec.shape)}")
    array = parse_idx(raw, name)
    if spec.sha256 is not None and digest != spec.sha256:
        raise MNISTError(
            f"{name}: SHA-256 of the uncompressed bytes is {digest}, expected {spec.sha256}; "
            "the file is corrupted: delete it and download it again"
        )
    return array


def verify_file(data: bytes, spec: MNISTFile, name: str) -> np.ndarray:
    """Check a file's bytes (gzipped or raw) against ``spec``, the .gz MD5 included; return the array.

    A file that is, by its checksum, another known file (of MNIST or Fashion-MNIST) is refused
    saying which file it is."""
    if spec.md5 is not None and data[:2] == b"\x1f\x8b":
        digest = hashlib.md5(data).hexdigest()
        if digest != spec.md5:
            _refuse_misplaced(digest, spec, name, "MD5")
            _refuse_misplaced(hashlib.sha256(decompress(data, name)).hexdigest(), spec, name, "SHA-256")
            raise MNISTError(
                f"{name}: MD5 of the gzipped file is {digest}, expected {spec.md5}; "
                "the file is corrupted: delete it and download it again"
            )
    return verify_mnist_bytes(decompress(data, name), spec, name)


# ---------------------------------------------------------------------------- where the files live
def _repo_data_dir() -> Path | None:
    """data/mnist of the source checkout holding this package, or None for an installed package."""
    repo = Path(__file__).resolve().parents[2]
    if (repo / "pyproject.toml").is_file():
        return repo / "data" / "mnist"
    return None


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tinygrad_cnn" / "mnist"


def _has_files(folder: Path, files: Mapping[str, MNISTFile] = FILES) -> bool:
    return any(locate(folder, spec) is not None for spec in files.values())


def _explicit(folder: Path) -> Path:
    """An explicitly named folder, or its mnist/ subfolder when only that holds the files."""
    if not _has_files(folder) and _has_files(folder / "mnist"):
        return folder / "mnist"
    return folder


def candidate_roots(root: str | os.PathLike | None = None) -> list[tuple[Path, str]]:
    """The folders searched for the files, in order, each with where it came from."""
    if root is not None:
        return [(_explicit(Path(root).expanduser()), "root argument")]
    if os.environ.get(ENV_VAR):
        return [(_explicit(Path(os.environ[ENV_VAR]).expanduser()), f"${ENV_VAR}")]
    found = []
    repo = _repo_data_dir()
    if repo is not None:
        found.append((repo, "the repository's data/mnist"))
    found.append((_cache_dir(), "the user cache"))
    found.append((Path.cwd() / "data" / "mnist", "./data/mnist"))
    return found


def resolve_root(root: str | os.PathLike | None = None, download: bool = False) -> Path:
    """The folder holding (or, with ``download``, to receive) the MNIST files.

    Raises FileNotFoundError saying where it looked and how to fix it when no
    candidate holds the files and ``download`` is False.
    """
    candidates = candidate_roots(root)
    for folder, _ in candidates:
        if _has_files(folder):
            return folder
    if download:
        return candidates[0][0]
    looked = "\n".join(f"  {folder}  ({origin})" for folder, origin in candidates)
    raise FileNotFoundError(
        "MNIST data folder not found; looked in:\n"
        f"{looked}\n"
        "Fix: pass the folder holding the four IDX files (root=... in Python, --data on the command line), "
        f"set {ENV_VAR}=/path/to/mnist, or download them with load_mnist(download=True) "
        "(tinygrad-cnn train --download)."
    )


def locate(folder: Path, spec: MNISTFile) -> Path | None:
    """The file of ``spec`` in ``folder`` (raw or .gz; the .gz first when only its MD5 is known), or None."""
    order = (spec.name, spec.name + ".gz") if spec.sha256 is not None else (spec.name + ".gz", spec.name)
    for candidate in (folder / name for name in order):
        if candidate.is_file():
            return candidate
    return None


# ---------------------------------------------------------------------------- reading and download
def _stat_key(path: Path) -> tuple[int, ...]:
    stat = path.stat()
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


def _load_file(path: Path, spec: MNISTFile) -> np.ndarray:
    """The verified array of ``spec`` in the file at ``path``, from the cache when its content was verified before."""
    key = _stat_key(path)
    digest = _DIGESTS.get(key)
    if digest is not None and (digest, spec) in _CACHE:
        return _CACHE[digest, spec]
    name = f"{path.name} (a link to {path.resolve()})" if path.is_symlink() else path.name
    data = read_limited(path, name)
    digest = hashlib.sha256(data).hexdigest()
    if (digest, spec) not in _CACHE:
        _CACHE[digest, spec] = verify_file(data, spec, name)
    _DIGESTS[key] = digest
    return _CACHE[digest, spec]


def _fetch(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "tinygrad_cnn"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        data = response.read(_MAX_DOWNLOAD_BYTES + 1)
    if len(data) > _MAX_DOWNLOAD_BYTES:
        raise MNISTError(f"{url}: more than {_MAX_DOWNLOAD_BYTES} bytes, not an IDX file of this dataset")
    return data


def download_file(spec: MNISTFile, folder: Path, mirrors: Sequence[str] = DEFAULT_MIRRORS,
                  timeout: float = 30.0) -> Path:
    """Fetch ``spec``'s .gz from the first mirror that serves a verified copy; write it atomically.

    Each mirror is tried in turn (``timeout`` seconds per connection and read); a copy
    that fails verification is discarded. Raises MNISTDownloadError listing every
    mirror's failure when none succeeds. Returns the written path.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (spec.name + ".gz")
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + target.name
        print(f"tinygrad_cnn: downloading {url}", file=sys.stderr)
        try:
            data = _fetch(url, timeout)
            array = verify_file(data, spec, url)
        except (OSError, MNISTError) as exc:
            failures.append(f"  {url}: {exc}")
            continue
        atomic_write(target, data)
        digest = hashlib.sha256(data).hexdigest()
        _CACHE[digest, spec] = array
        _DIGESTS[_stat_key(target)] = digest
        return target
    raise MNISTDownloadError(f"could not download {target.name} from any mirror:\n" + "\n".join(failures))


def load_files(folder: Path, files: Mapping[str, MNISTFile], download: bool = False,
               mirrors: Sequence[str] = DEFAULT_MIRRORS, timeout: float = 30.0) -> dict[str, np.ndarray]:
    """The verified, read-only arrays of ``files`` (key -> spec) found in ``folder``, by key.

    With ``download``, missing files are fetched from ``mirrors`` first. Raises
    FileNotFoundError naming a missing file, MNISTError for a damaged one and
    MNISTDownloadError when no mirror delivers.
    """
    arrays = {}
    for key, spec in files.items():
        path = locate(folder, spec)
        if path is None:
            if not download:
                raise FileNotFoundError(
                    f"IDX file {spec.name}(.gz) is missing from {folder}; copy it there, or pass "
                    "download=True (tinygrad-cnn train --download) to fetch it"
                )
            path = download_file(spec, folder, mirrors, timeout)
        arrays[key] = _load_file(path, spec)
    return arrays


def load_mnist(root: str | os.PathLike | None = None, download: bool = False, *,
               mirrors: Sequence[str] = DEFAULT_MIRRORS,
               timeout: float = 30.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST as ``(X_train, y_train, X_test, y_test)``.

    X: float32 in [0, 1] of shape (60000, 1, 28, 28) and (10000, 1, 28, 28); y: int64
    labels 0-9 of shape (60000,) and (10000,). ``root`` is the folder of the four IDX
    files (see the module docstring for how it is found when None). With ``download``,
    missing files are fetched from ``mirrors`` (tried in order, ``timeout`` seconds each)
    and verified before being written. Raises FileNotFoundError when files are missing,
    MNISTError when one is damaged, MNISTDownloadError when no mirror delivers.
    """
    arrays = load_files(resolve_root(root, download), FILES, download, mirrors, timeout)

    def images(u8: np.ndarray) -> np.ndarray:
        return np.divide(u8, np.float32(255), dtype=np.float32)[:, None, :, :]

    return (
        images(arrays["train_images"]),
        arrays["train_labels"].astype(np.int64),
        images(arrays["test_images"]),
        arrays["test_labels"].astype(np.int64),
    )
