"""vision.datasets.MNIST / FashionMNIST: torchvision's samples and attributes, both folder layouts,
missing and damaged files, download from a local mirror, and the whole-batch fast path."""

import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tinygrad_cnn.data import MNISTError, read_idx
from tinygrad_cnn.data import mnist as idx
from tinygrad_cnn.vision import datasets
from tinygrad_cnn.vision import transforms as T

REPO_DATA = Path(__file__).resolve().parents[2] / "data"
NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
NOT_FOUND = "Dataset not found. You can use download=True to download it"


@pytest.fixture(scope="module")
def test_split():
    return datasets.MNIST(REPO_DATA, train=False)


@pytest.fixture
def torchvision_root(tmp_path):
    """root/MNIST/raw/ holding symlinks to the committed .gz files, as torchvision lays them out."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in NAMES:
        (raw / f"{name}.gz").symlink_to(REPO_DATA / "mnist" / f"{name}.gz")
    return tmp_path


def test_samples_are_pil_images_and_ints_equal_to_the_idx_files(test_split):
    images = read_idx(REPO_DATA / "mnist" / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(REPO_DATA / "mnist" / "t10k-labels-idx1-ubyte.gz")
    assert len(test_split) == 10000
    for i in (0, 1, 4321, 9999, -1):
        img, target = test_split[i]
        assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
        assert type(target) is int and target == labels[i]
        np.testing.assert_array_equal(np.asarray(img), images[i])
    assert test_split.data.dtype == np.uint8 and test_split.data.shape == (10000, 28, 28)
    assert test_split.targets.dtype == np.int64 and test_split.targets.numpy()[:5].tolist() == [7, 2, 1, 0, 4]
    assert test_split.classes[3] == "3 - three" and test_split.class_to_idx["9 - nine"] == 9


def test_train_split_and_every_layout_give_the_same_data(torchvision_root, test_split):
    train = datasets.MNIST(REPO_DATA, train=True)
    assert len(train) == 60000 and train[0][1] == 5
    for root in (torchvision_root, str(torchvision_root), REPO_DATA / "mnist"):
        other = datasets.MNIST(root, train=False)
        np.testing.assert_array_equal(other.data.numpy(), test_split.data.numpy())
        np.testing.assert_array_equal(other.targets.numpy(), test_split.targets.numpy())


def test_data_is_the_datasets_own_copy(test_split):
    other = datasets.MNIST(REPO_DATA, train=False)
    other.data.numpy()[0] = 0
    assert test_split.data.numpy()[0].max() == 255


def test_missing_files_raise_torchvisions_runtime_error(tmp_path, torchvision_root):
    with pytest.raises(RuntimeError, match=NOT_FOUND):
        datasets.MNIST(tmp_path / "empty")
    (torchvision_root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(RuntimeError, match=NOT_FOUND):
        datasets.MNIST(torchvision_root, train=False)
    assert len(datasets.MNIST(torchvision_root, train=True)) == 60000  # the train split is whole
    with pytest.raises(RuntimeError, match=NOT_FOUND):
        datasets.FashionMNIST(REPO_DATA)  # MNIST's files are not Fashion-MNIST's


def test_damaged_file_fails_its_checksum(torchvision_root):
    path = torchvision_root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[100] ^= 1
    path.unlink()
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(MNISTError, match="SHA-256"):
        datasets.MNIST(torchvision_root, train=False)


class _Mirror(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    hits: list[str] = []

    def do_GET(self):
        self.hits.append(self.path)
        body = self.files.get(self.path.strip("/"))
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def mirror():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Mirror)
    # shutdown() waits for serve_forever's next poll: 0.05 s instead of its default 0.5 s
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_download_fetches_missing_files_into_the_torchvision_layout(tmp_path, mirror, monkeypatch, test_split):
    _Mirror.files = {f"good/{n}.gz": (REPO_DATA / "mnist" / f"{n}.gz").read_bytes() for n in NAMES}
    _Mirror.hits.clear()
    monkeypatch.setattr(datasets.MNIST, "mirrors", (f"{mirror}/bad/", f"{mirror}/good/"))
    ds = datasets.MNIST(tmp_path, train=False, download=True)
    assert sorted(p.name for p in (tmp_path / "MNIST" / "raw").iterdir()) == sorted(f"{n}.gz" for n in NAMES)
    np.testing.assert_array_equal(ds.data.numpy(), test_split.data.numpy())
    assert f"/bad/{NAMES[0]}.gz" in _Mirror.hits
    _Mirror.hits.clear()
    datasets.MNIST(tmp_path, train=True, download=True)  # everything is there: no request
    assert _Mirror.hits == []


def _fake_idx(array: np.ndarray, magic: int) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def fake_fashion(tmp_path, monkeypatch):
    """Tiny Fashion-MNIST files (5 train, 3 test images) under root/FashionMNIST/raw, with the
    dataset's table patched to their shapes and MD5s."""
    rng = np.random.default_rng(0)
    arrays = {"train_images": rng.integers(0, 256, (5, 28, 28)), "train_labels": np.arange(5),
              "test_images": rng.integers(0, 256, (3, 28, 28)), "test_labels": np.array([9, 0, 3])}
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    table, blobs = {}, {}
    for key, array in arrays.items():
        spec = idx.FASHION_FILES[key]
        blobs[spec.name] = _fake_idx(array, spec.magic)
        (raw / f"{spec.name}.gz").write_bytes(blobs[spec.name])
        table[key] = idx.MNISTFile(spec.name, spec.magic, array.shape, None, hashlib.md5(blobs[spec.name]).hexdigest())
    monkeypatch.setattr(datasets.FashionMNIST, "files", table)
    return tmp_path, arrays, blobs


def test_fashion_mnist_reads_its_own_files_and_checks_their_md5(fake_fashion):
    root, arrays, blobs = fake_fashion
    ds = datasets.FashionMNIST(root, train=False, target_transform=lambda t: t * 10)
    assert len(ds) == 3 and ds.classes[9] == "Ankle boot" and ds.class_to_idx["Trouser"] == 1
    img, target = ds[0]
    assert img.mode == "L" and target == 90
    np.testing.assert_array_equal(np.asarray(img), arrays["test_images"][0])
    bad = bytearray(gzip.decompress(blobs["t10k-images-idx3-ubyte"]))
    bad[-1] ^= 1
    (root / "FashionMNIST" / "raw" / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes(bad)))
    with pytest.raises(MNISTError, match="MD5"):
        datasets.FashionMNIST(root, train=False)


def test_fashion_mnist_download_verifies_before_writing(tmp_path, fake_fashion, mirror, monkeypatch):
    _, arrays, blobs = fake_fashion
    _Mirror.files = {f"good/{n}.gz": b for n, b in blobs.items()}
    _Mirror.files.update({f"corrupt/{n}.gz": gzip.compress(b"\0\0\x08\x03" + bytes(8)) for n in blobs})
    monkeypatch.setattr(datasets.FashionMNIST, "mirrors", (f"{mirror}/corrupt/", f"{mirror}/good/"))
    ds = datasets.FashionMNIST(tmp_path / "new", train=True, download=True)
    np.testing.assert_array_equal(ds.targets.numpy(), arrays["train_labels"])
    written = tmp_path / "new" / "FashionMNIST" / "raw" / "train-images-idx3-ubyte.gz"
    assert written.read_bytes() == blobs["train-images-idx3-ubyte"]


def test_batch_fast_path_equals_sample_by_sample(test_split):
    indices = [5, 0, 9999, 17]
    compose = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    for transform in (T.ToTensor(), compose, T.PILToTensor(), T.Compose([T.PILToTensor(), T.ConvertImageDtype(np.float32)])):
        ds = datasets.MNIST(REPO_DATA, train=False, transform=transform)
        images, targets = ds.batch(indices)
        expected = np.stack([ds[i][0].numpy() for i in indices])
        assert images.dtype == expected.dtype and images.shape == (4, 1, 28, 28)
        np.testing.assert_array_equal(images.numpy(), expected)
        assert targets.dtype == np.int64 and targets.numpy().tolist() == [ds[i][1] for i in indices]
        samples = ds.__getitems__(indices)
        assert [t for _, t in samples] == targets.numpy().tolist()
        np.testing.assert_array_equal(np.stack([x.numpy() for x, _ in samples]), expected)


def test_batch_declines_what_must_run_image_by_image(test_split):
    assert test_split.batch([0, 1]) is None  # PIL images: nothing to stack
    for transform in (T.Compose([T.RandomCrop(28, padding=2), T.ToTensor()]), T.Compose([T.ToTensor(), T.Pad(1)])):
        ds = datasets.MNIST(REPO_DATA, train=False, transform=transform)
        assert ds.batch([0, 1]) is None
        assert len(ds.__getitems__([0, 1])) == 2
    ds = datasets.MNIST(REPO_DATA, train=False, transform=T.ToTensor(), target_transform=lambda t: -t)
    assert ds.batch([0]) is None and ds.__getitems__([0])[0][1] == -7
    samples = test_split.__getitems__([3, 4])
    assert [t for _, t in samples] == [0, 4] and all(isinstance(img, Image.Image) for img, _ in samples)


def test_repr_is_torchvisions(test_split):
    assert repr(test_split) == f"Dataset MNIST\n    Number of datapoints: 10000\n    Root location: {REPO_DATA}\n    Split: Test"
    ds = datasets.MNIST(str(REPO_DATA), transform=T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))]))
    assert repr(ds).splitlines()[3:] == [
        "    Split: Train", "    StandardTransform", "Transform: Compose(",
        "               ToTensor()", "               Normalize(mean=(0.5,), std=(0.5,))", "           )",
    ]


def test_the_dataset_limit_and_synthetic_data_variables(tmp_path, monkeypatch):
    from tinygrad_cnn.vision import datasets

    monkeypatch.setenv("TINYGRAD_CNN_DATASET_LIMIT", "37")
    monkeypatch.setenv("TINYGRAD_CNN_SYNTHETIC_DATA", "1")
    real = datasets.MNIST(str(REPO_DATA), train=False)
    assert len(real) == 37 and real.data.shape == (37, 28, 28)
    fashion = datasets.FashionMNIST(str(tmp_path), train=True)
    again = datasets.FashionMNIST(str(tmp_path), train=True)
    assert len(fashion) == 37 and np.array_equal(fashion.data.numpy(), again.data.numpy())
    image, label = fashion[0]
    assert image.size == (28, 28) and 0 <= label < 10
    cifar = datasets.CIFAR10(str(tmp_path), train=False, download=True)
    assert cifar.data.shape == (37, 32, 32, 3) and len(cifar.targets) == 37 and cifar.classes[0] == "airplane"
    monkeypatch.delenv("TINYGRAD_CNN_SYNTHETIC_DATA")
    with pytest.raises(RuntimeError, match="Dataset not found"):
        datasets.FashionMNIST(str(tmp_path), train=True)
    monkeypatch.setenv("TINYGRAD_CNN_DATASET_LIMIT", "zero")
    with pytest.raises(ValueError, match="TINYGRAD_CNN_DATASET_LIMIT"):
        datasets.MNIST(str(REPO_DATA), train=False)
