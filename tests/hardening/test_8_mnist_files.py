"""Class 8 of issue 16: MNIST files identify themselves. The cache of verified files is keyed by
their content (a file changed in place, even with its size and mtime kept, is verified again; the
same bytes under another path are not); train and test files swapped, or linked to each other, are
refused by their checksums with a message saying which file is which; a file or gzip stream larger
than any of the dataset's is an MNISTError naming the size limit, never a MemoryError."""

import gzip
import os
import shutil
import zlib
from pathlib import Path

import numpy as np
import pytest

from tinygrad_cnn.data import idx, mnist
from tinygrad_cnn.data import read_idx
from tinygrad_cnn.data.mnist import FILES, MNISTError, load_files, load_mnist

REPO_MNIST = Path(__file__).resolve().parents[2] / "data" / "mnist"
NAMES = {key: spec.name for key, spec in FILES.items()}
ROLE = {"train_images": "MNIST's training images", "train_labels": "MNIST's training labels",
        "test_images": "MNIST's test images", "test_labels": "MNIST's test labels"}


def copy_folder(folder: Path) -> Path:
    folder.mkdir()
    for name in NAMES.values():
        shutil.copyfile(REPO_MNIST / f"{name}.gz", folder / f"{name}.gz")
    return folder


def labels_only(folder: Path, key: str = "train_labels") -> dict[str, np.ndarray]:
    return load_files(folder, {key: FILES[key]})


@pytest.fixture
def counted(monkeypatch):
    """How many times a file's bytes are read and verified."""
    calls = {"read": 0, "verify": 0}
    read, verify = mnist.read_limited, mnist.verify_file

    def counting_read(*args):
        calls["read"] += 1
        return read(*args)

    def counting_verify(*args):
        calls["verify"] += 1
        return verify(*args)

    monkeypatch.setattr(mnist, "read_limited", counting_read)
    monkeypatch.setattr(mnist, "verify_file", counting_verify)
    return calls


def test_a_file_changed_in_place_with_its_size_and_mtime_kept_is_verified_again(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    path = folder / "train-labels-idx1-ubyte"
    good = gzip.decompress((REPO_MNIST / "train-labels-idx1-ubyte.gz").read_bytes())
    path.write_bytes(good)
    expected = labels_only(folder)["train_labels"]
    stat = path.stat()
    changed = bytearray(good)
    changed[-1] = (changed[-1] + 1) % 10  # one label changed: same size
    path.write_bytes(bytes(changed))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    with pytest.raises(MNISTError, match="train-labels-idx1-ubyte: SHA-256 of the uncompressed bytes is"):
        labels_only(folder)
    path.write_bytes(good)
    np.testing.assert_array_equal(labels_only(folder)["train_labels"], expected)


def test_the_same_bytes_are_verified_once_whatever_their_path(tmp_path, counted):
    first = labels_only(copy_folder(tmp_path / "a"))["train_labels"]
    verified = counted["verify"]
    second = copy_folder(tmp_path / "b")
    assert labels_only(second)["train_labels"] is first  # the content's cache entry
    assert counted["verify"] == verified
    reads = counted["read"]
    labels_only(second)  # unchanged since: not even read again
    assert counted["read"] == reads


def test_replacing_a_file_under_the_same_path_is_seen(tmp_path):
    """Another valid MNIST file moved over a path already loaded is refused, not served from the cache."""
    folder = copy_folder(tmp_path / "mnist")
    labels_only(folder)
    os.replace(folder / "t10k-labels-idx1-ubyte.gz", folder / "train-labels-idx1-ubyte.gz")
    with pytest.raises(MNISTError, match="MNIST's test labels"):
        labels_only(folder)


SWAPS = [("train_images", "test_images", True), ("train_labels", "test_labels", True),
         ("train_labels", "train_images", True), ("train_labels", "test_labels", False)]


@pytest.mark.parametrize("a, b, gzipped", SWAPS)
def test_swapped_files_are_refused_saying_which_is_which(tmp_path, a, b, gzipped):
    folder = tmp_path / "mnist"
    folder.mkdir()
    suffix = ".gz" if gzipped else ""
    for key, name in NAMES.items():
        source = NAMES[{a: b, b: a}.get(key, key)]
        data = (REPO_MNIST / f"{source}.gz").read_bytes()
        (folder / f"{name}{suffix}").write_bytes(data if gzipped else gzip.decompress(data))
    for key in (a, b):
        other = b if key == a else a
        with pytest.raises(MNISTError) as info:
            load_files(folder, {key: FILES[key]})
        message = str(info.value)
        assert message.startswith(f"{NAMES[key]}{suffix}: by its SHA-256 this file is {ROLE[other]} ({NAMES[other]})")
        assert f"not {NAMES[key]}" in message and "swapped" in message
    with pytest.raises(MNISTError, match="swapped"):
        load_mnist(folder)


@pytest.mark.parametrize("link, target", [("train_images", "test_images"), ("test_labels", "train_labels")])
def test_a_file_linked_to_another_is_refused_naming_the_link_and_what_it_holds(tmp_path, link, target):
    folder = copy_folder(tmp_path / "mnist")
    (folder / f"{NAMES[link]}.gz").unlink()
    (folder / f"{NAMES[link]}.gz").symlink_to(folder / f"{NAMES[target]}.gz")
    with pytest.raises(MNISTError) as info:
        load_mnist(folder)
    message = str(info.value)
    assert message.startswith(f"{NAMES[link]}.gz (a link to {folder / NAMES[target]}.gz): by its SHA-256 this file is "
                              f"{ROLE[target]}")


def test_a_fashion_file_checked_against_mnist_bytes_is_named():
    """Fashion-MNIST's table knows only the MD5s of its .gz files: an MNIST .gz under a
    Fashion-MNIST name is still named by its SHA-256."""
    data = (REPO_MNIST / "t10k-labels-idx1-ubyte.gz").read_bytes()
    with pytest.raises(MNISTError, match="by its SHA-256 this file is MNIST's test labels"):
        mnist.verify_file(data, mnist.FASHION_FILES["train_labels"], "train-labels-idx1-ubyte.gz")


def bomb(nbytes: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1 << 20)
    body = b"".join(compressor.compress(chunk) for _ in range(nbytes >> 20))
    return body + compressor.flush()


def test_a_gzip_bomb_is_an_mnist_error_with_the_limit(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(bomb(idx.MAX_IDX_BYTES + (1 << 20)))
    assert path.stat().st_size < 1 << 20
    with pytest.raises(MNISTError, match=f"decompresses to more than {idx.MAX_IDX_BYTES} bytes"):
        read_idx(path)
    with pytest.raises(MNISTError, match=f"train-images-idx3-ubyte.gz: decompresses to more than"):
        load_files(tmp_path, {"train_images": FILES["train_images"]})


def test_a_raw_file_larger_than_the_limit_is_refused_before_it_is_read(tmp_path, counted):
    path = tmp_path / "train-images-idx3-ubyte"
    with open(path, "wb") as file:  # sparse: no disk used
        file.truncate(idx.MAX_IDX_BYTES + 1)
    with pytest.raises(MNISTError, match=f"{idx.MAX_IDX_BYTES + 1} bytes, more than {idx.MAX_IDX_BYTES}"):
        read_idx(path)
    with pytest.raises(MNISTError, match="train-images-idx3-ubyte: .* more than"):
        load_files(tmp_path, {"train_images": FILES["train_images"]})
    assert counted["verify"] == 0


@pytest.mark.parametrize("cut", [5, 20, -3])
def test_damaged_gzip_is_an_mnist_error(tmp_path, cut):
    raw = np.arange(12, dtype=np.uint8)
    data = b"\x00\x00\x08\x01" + (12).to_bytes(4, "big") + raw.tobytes()
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(data)[:cut])
    with pytest.raises(MNISTError, match="cannot decompress"):
        read_idx(path)
    path.write_bytes(gzip.compress(data))
    np.testing.assert_array_equal(read_idx(path), raw)
