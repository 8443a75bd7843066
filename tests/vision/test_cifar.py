"""vision.datasets.CIFAR10 on tiny fake python-pickle batches: torchvision's layout and samples,
MD5 checks, the restricted unpickler, and download + unpack from a local server."""

import hashlib
import http.server
import io
import os
import pickle
import tarfile
import threading
import warnings

import numpy as np
import pytest
from PIL import Image

from tinygrad_cnn.vision import datasets
from tinygrad_cnn.vision import transforms as T
from tinygrad_cnn.vision.datasets.cifar import load_batch

LABELS = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _batch(n: int, seed: int, protocol: int) -> tuple[bytes, np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = rng.integers(0, 10, n).tolist()
    entry = {"batch_label": f"batch {seed}", "labels": labels, "data": data,
             "filenames": [f"img_{seed}_{i}.png" for i in range(n)]}
    return pickle.dumps(entry, protocol=protocol), data, labels


def _write_fake(folder, monkeypatch) -> dict:
    """data_batch_1..5 (2 images each), test_batch (3), batches.meta; the class's MD5 tables patched."""
    folder.mkdir(parents=True, exist_ok=True)
    files, arrays = {}, {}
    for k in range(1, 6):
        files[f"data_batch_{k}"], *arrays[f"data_batch_{k}"] = _batch(2, k, protocol=2 if k % 2 else 5)
    files["test_batch"], *arrays["test_batch"] = _batch(3, 0, protocol=2)
    files["batches.meta"] = pickle.dumps({"label_names": LABELS, "num_cases_per_batch": 2}, protocol=2)
    for name, blob in files.items():
        (folder / name).write_bytes(blob)
    md5 = {name: hashlib.md5(blob).hexdigest() for name, blob in files.items()}
    monkeypatch.setattr(datasets.CIFAR10, "train_list", [[f"data_batch_{k}", md5[f"data_batch_{k}"]] for k in range(1, 6)])
    monkeypatch.setattr(datasets.CIFAR10, "test_list", [["test_batch", md5["test_batch"]]])
    monkeypatch.setattr(datasets.CIFAR10, "meta", {**datasets.CIFAR10.meta, "md5": md5["batches.meta"]})
    return {"files": files, "arrays": arrays}


@pytest.fixture
def fake_cifar(tmp_path, monkeypatch):
    return tmp_path, _write_fake(tmp_path / "cifar-10-batches-py", monkeypatch)


def test_samples_are_rgb_images_with_torchvisions_pixel_layout(fake_cifar):
    root, fake = fake_cifar
    test = datasets.CIFAR10(root, train=False)
    data, labels = fake["arrays"]["test_batch"]
    assert len(test) == 3 and test.classes == LABELS and test.class_to_idx["cat"] == 3
    img, target = test[1]
    assert isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (32, 32)
    assert target == labels[1] and type(target) is int
    pixels = np.asarray(img)
    # a row of the batch is the red plane, then green, then blue, each 32 x 32 row-major
    np.testing.assert_array_equal(pixels[..., 0].ravel(), data[1, :1024])
    np.testing.assert_array_equal(pixels[..., 2].ravel(), data[1, 2048:])
    train = datasets.CIFAR10(root, train=True)
    assert train.data.shape == (10, 32, 32, 3) and train.data.dtype == np.uint8
    assert train.targets == [t for k in range(1, 6) for t in fake["arrays"][f"data_batch_{k}"][1]]
    assert repr(train).splitlines()[1:] == ["    Number of datapoints: 10", f"    Root location: {root}",
                                           "    Split: Train"]


def test_batch_fast_path_on_rgb(fake_cifar):
    root, _ = fake_cifar
    ds = datasets.CIFAR10(root, train=True, transform=T.Compose([T.ToTensor(), T.Normalize((0.5, 0.4, 0.3), (0.2, 0.25, 0.3))]))
    images, targets = ds.batch([3, 0, 9])
    np.testing.assert_array_equal(images.numpy(), np.stack([ds[i][0].numpy() for i in (3, 0, 9)]))
    assert targets.numpy().tolist() == [ds.targets[i] for i in (3, 0, 9)]


def test_missing_or_corrupted_files_raise_torchvisions_error(fake_cifar):
    root, _ = fake_cifar
    message = "Dataset not found or corrupted. You can use download=True to download it"
    with pytest.raises(RuntimeError, match=message):
        datasets.CIFAR10(root / "elsewhere")
    (root / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"garbage")
    with pytest.raises(RuntimeError, match=message):
        datasets.CIFAR10(root, train=False)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_batches_pickled_by_old_numpy_load_without_warnings(tmp_path):
    """The real batches name numpy.core.multiarray._reconstruct (NumPy 1's path); it maps to NumPy 2's."""
    blob, data, labels = _batch(4, 7, protocol=2)
    old = blob.replace(b"cnumpy._core.multiarray\n_reconstruct", b"cnumpy.core.multiarray\n_reconstruct")
    assert old != blob
    (tmp_path / "batch").write_bytes(old)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        entry = load_batch(tmp_path / "batch")
    np.testing.assert_array_equal(entry["data"], data)
    assert entry["labels"] == labels


def test_restricted_unpickler_refuses_foreign_globals(tmp_path, monkeypatch):
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps({"data": _Evil()}))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global"):
        load_batch(path)
    folder = tmp_path / "cifar-10-batches-py"
    _write_fake(folder, monkeypatch)
    (folder / "test_batch").write_bytes(path.read_bytes())
    monkeypatch.setattr(datasets.CIFAR10, "test_list", [["test_batch", hashlib.md5(path.read_bytes()).hexdigest()]])
    with pytest.raises(pickle.UnpicklingError):
        datasets.CIFAR10(tmp_path, train=False)


def test_download_checks_the_archive_md5_then_unpacks(tmp_path, monkeypatch, capsys):
    fake = _write_fake(tmp_path / "staging" / "cifar-10-batches-py", monkeypatch)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(tmp_path / "staging" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    archive = buffer.getvalue()

    class Server(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(archive)))
            self.end_headers()
            self.wfile.write(archive)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Server)
    # shutdown() waits for serve_forever's next poll: 0.05 s instead of its default 0.5 s
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        monkeypatch.setattr(datasets.CIFAR10, "url", f"http://127.0.0.1:{httpd.server_address[1]}/c.tar.gz")
        monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", "0" * 32)
        with pytest.raises(RuntimeError, match="MD5"):
            datasets.CIFAR10(tmp_path / "root", download=True)
        assert not (tmp_path / "root" / "cifar-10-batches-py").exists()
        monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", hashlib.md5(archive).hexdigest())
        ds = datasets.CIFAR10(tmp_path / "root", train=False, download=True)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert len(ds) == 3 and ds.targets == fake["arrays"]["test_batch"][1]
    assert sorted(os.listdir(tmp_path / "root")) == ["cifar-10-batches-py", "cifar-10-python.tar.gz"]
    datasets.CIFAR10(tmp_path / "root", download=True)
    assert "Files already downloaded and verified" in capsys.readouterr().err
