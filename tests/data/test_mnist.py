"""load_mnist on the committed files: values, raw and gzipped IDX, damaged files, root resolution."""

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from tinygrad_cnn.data import MNISTDataLoader, MNISTError, load_mnist, read_idx
from tinygrad_cnn.data import mnist as mnist_module

REPO_MNIST = Path(__file__).resolve().parents[2] / "data" / "mnist"
NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def raw_bytes(name: str) -> bytes:
    return gzip.decompress((REPO_MNIST / f"{name}.gz").read_bytes())


@pytest.fixture
def mnist_copy(tmp_path):
    """A folder with symlinks to the committed .gz files (tests replace one of them)."""
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in NAMES:
        (folder / f"{name}.gz").symlink_to(REPO_MNIST / f"{name}.gz")
    return folder


def test_committed_files_load_with_the_documented_values():
    X_train, y_train, X_test, y_test = load_mnist(REPO_MNIST)
    assert X_train.shape == (60000, 1, 28, 28) and X_test.shape == (10000, 1, 28, 28)
    assert X_train.dtype == np.float32 and X_test.dtype == np.float32
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    # pixel values are the file's bytes / 255
    raw = np.frombuffer(raw_bytes("t10k-images-idx3-ubyte"), np.uint8, offset=16).reshape(10000, 1, 28, 28)
    np.testing.assert_array_equal(X_test, raw.astype(np.float32) / np.float32(255))


def test_returned_arrays_are_fresh_each_call():
    X_train, y_train, _, _ = load_mnist(REPO_MNIST)
    X_train[0] = 7.0
    y_train[0] = 3
    X_again, y_again, _, _ = load_mnist(REPO_MNIST)
    assert X_again[0].max() == 1.0 and y_again[0] == 5


def test_raw_idx_files_load_like_gzipped_ones(mnist_copy):
    for name in ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]:
        (mnist_copy / f"{name}.gz").unlink()
        (mnist_copy / name).write_bytes(raw_bytes(name))
    _, _, X_test, y_test = load_mnist(mnist_copy)
    _, _, X_ref, y_ref = load_mnist(REPO_MNIST)
    np.testing.assert_array_equal(X_test, X_ref)
    np.testing.assert_array_equal(y_test, y_ref)


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]


DAMAGE = {
    "truncated gzip": (lambda: (REPO_MNIST / "train-labels-idx1-ubyte.gz").read_bytes()[:5000], ".gz",
                       "cannot decompress"),
    "truncated raw": (lambda: raw_bytes("train-labels-idx1-ubyte")[:-100], "", "truncated: 59908 bytes"),
    "header only": (lambda: raw_bytes("train-labels-idx1-ubyte")[:6], "", "truncated"),
    "one label changed": (lambda: gzip.compress(_flip(raw_bytes("train-labels-idx1-ubyte"), 5000)), ".gz",
                          "SHA-256"),
    "trailing bytes": (lambda: raw_bytes("train-labels-idx1-ubyte") + b"\0\0", "", "2 unexpected bytes"),
    # altered copies (an intact one is recognised by its checksum: tests/hardening/test_8_mnist_files.py)
    "test labels under the train name": (lambda: _flip(raw_bytes("t10k-labels-idx1-ubyte"), 500), "",
                                         "holds 10000 items where train-labels-idx1-ubyte has 60000"),
    "images under a labels name": (lambda: _flip(raw_bytes("t10k-images-idx3-ubyte"), 500), "",
                                   "0x00000803 (an image file)"),
    "not an IDX file": (lambda: b"<html>404 not found</html>", "", "not an IDX file"),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_damaged_file_raises_naming_file_and_fault(mnist_copy, case):
    make, suffix, message = DAMAGE[case]
    (mnist_copy / "train-labels-idx1-ubyte.gz").unlink()
    (mnist_copy / f"train-labels-idx1-ubyte{suffix}").write_bytes(make())
    with pytest.raises(MNISTError) as info:
        load_mnist(mnist_copy)
    assert f"train-labels-idx1-ubyte{suffix}" in str(info.value)
    assert message in str(info.value)


def test_missing_folder_says_where_it_looked_and_how_to_fix(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(missing)
    text = str(info.value)
    assert str(missing) in text and "TINYGRAD_CNN_DATA" in text and "download=True" in text


def test_default_search_lists_every_place_it_looked(tmp_path, monkeypatch):
    monkeypatch.delenv("TINYGRAD_CNN_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(mnist_module, "_repo_data_dir", lambda: None)
    with pytest.raises(FileNotFoundError) as info:
        load_mnist()
    text = str(info.value)
    assert str(tmp_path / "cache" / "tinygrad_cnn" / "mnist") in text
    assert str(tmp_path / "data" / "mnist") in text


def test_missing_file_is_named(mnist_copy):
    (mnist_copy / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match=r"t10k-labels-idx1-ubyte\(\.gz\) is missing from .*download=True"):
        load_mnist(mnist_copy)


def test_root_resolution_order(mnist_copy, tmp_path, monkeypatch):
    monkeypatch.delenv("TINYGRAD_CNN_DATA", raising=False)
    assert mnist_module.resolve_root() == REPO_MNIST
    monkeypatch.setenv("TINYGRAD_CNN_DATA", str(mnist_copy))
    assert mnist_module.resolve_root() == mnist_copy
    assert mnist_module.resolve_root(REPO_MNIST) == REPO_MNIST
    # a folder holding mnist/ (as the repository's data/) is accepted too
    assert mnist_module.resolve_root(mnist_copy.parent) == mnist_copy
    monkeypatch.setenv("TINYGRAD_CNN_DATA", str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError, match="TINYGRAD_CNN_DATA"):
        load_mnist()


def test_read_idx_reads_any_idx_dtype(tmp_path):
    values = (np.arange(24).reshape(2, 3, 4) - 5).astype(">i4")
    header = bytes([0, 0, 0x0C, 3]) + np.array([2, 3, 4], dtype=">u4").tobytes()
    (tmp_path / "x.idx").write_bytes(header + values.tobytes())
    (tmp_path / "x.idx.gz").write_bytes(gzip.compress(header + values.tobytes()))
    for name in ["x.idx", "x.idx.gz"]:
        out = read_idx(tmp_path / name)
        assert out.shape == (2, 3, 4)
        np.testing.assert_array_equal(out, values)


def test_mnist_data_loader_official_split_by_default():
    X_train, y_train, X_test, y_test = MNISTDataLoader(REPO_MNIST.parent).load_data()
    assert X_train.shape == (60000, 1, 28, 28) and X_test.shape == (10000, 1, 28, 28)
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_mnist_data_loader_default_folder_falls_back_to_the_search(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TINYGRAD_CNN_DATA", raising=False)
    _, y_train, _, _ = MNISTDataLoader().load_data()
    assert len(y_train) == 60000


def test_mnist_data_loader_stratified_resplit():
    loader = MNISTDataLoader(REPO_MNIST)
    X_train, y_train, X_test, y_test = loader.load_data(test_size=0.2, random_state=0)
    assert X_train.shape == (56000, 1, 28, 28) and X_test.shape == (14000, 1, 28, 28)
    all_counts = np.bincount(np.concatenate([y_train, y_test]))
    np.testing.assert_allclose(np.bincount(y_test) / 14000, all_counts / 70000, atol=1e-4)
    again = loader.load_data(test_size=0.2, random_state=0)
    np.testing.assert_array_equal(again[3], y_test)
    other = loader.load_data(test_size=0.2, random_state=1)
    assert not np.array_equal(other[3], y_test)


def test_copied_folder_loads(tmp_path):
    shutil.copytree(REPO_MNIST, tmp_path / "copy")
    _, y_train, _, _ = load_mnist(tmp_path / "copy")
    assert y_train[:3].tolist() == [5, 0, 4]
