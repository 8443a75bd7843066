"""load_mnist(download=True) against local HTTP mirrors: dead, missing, corrupt, slow and good ones."""

import functools
import gzip
import http.server
import os
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tinygrad_cnn.data import MNISTDownloadError, load_mnist
from tinygrad_cnn.data import mnist as mnist_module

REPO_MNIST = Path(__file__).resolve().parents[2] / "data" / "mnist"
NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


@functools.cache
def _corrupt(name: str) -> bytes:
    """The file with its last byte flipped: a valid gzip whose content fails the SHA-256 check."""
    raw = bytearray(gzip.decompress((REPO_MNIST / name).read_bytes()))
    raw[-1] ^= 0xFF
    return gzip.compress(bytes(raw), compresslevel=1)


class _Mirrors(http.server.BaseHTTPRequestHandler):
    """/good/NAME serves the real file, /corrupt/NAME a wrong byte, /truncated/NAME half of it,
    /slow/NAME answers after a delay, anything else is a 404."""

    files = {f"{name}.gz": (REPO_MNIST / f"{name}.gz").read_bytes() for name in NAMES}
    hits: list[str] = []

    def do_GET(self):
        self.hits.append(self.path)
        kind, _, name = self.path.strip("/").partition("/")
        body = self.files.get(name)
        if body is None or kind not in {"good", "corrupt", "truncated", "slow"}:
            self.send_error(404)
            return
        if kind == "slow":
            time.sleep(1.0)
        if kind == "corrupt":
            body = _corrupt(name)
        elif kind == "truncated":
            body = body[: len(body) // 2]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Mirrors)
    # shutdown() waits for serve_forever's next poll: 0.05 s instead of its default 0.5 s
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def dead_mirror():
    """A URL on a local port nobody listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def test_download_skips_bad_mirrors_and_writes_verified_files(tmp_path, server, dead_mirror, capsys):
    folder = tmp_path / "fresh" / "mnist"
    mirrors = [dead_mirror, f"{server}/missing/", f"{server}/corrupt/", f"{server}/truncated/", f"{server}/good/"]
    X_train, y_train, X_test, y_test = load_mnist(folder, download=True, mirrors=mirrors, timeout=5)
    _, y_ref, X_ref, _ = load_mnist(REPO_MNIST)
    np.testing.assert_array_equal(y_train, y_ref)
    np.testing.assert_array_equal(X_test, X_ref)
    assert sorted(os.listdir(folder)) == sorted(f"{name}.gz" for name in NAMES)
    for name in NAMES:
        assert (folder / f"{name}.gz").read_bytes() == (REPO_MNIST / f"{name}.gz").read_bytes()
    assert "downloading" in capsys.readouterr().err
    # the files are now on disk: a second load needs no network
    np.testing.assert_array_equal(load_mnist(folder, mirrors=[])[1], y_train)


def test_only_missing_files_are_fetched(tmp_path, server):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in NAMES[:3]:
        (folder / f"{name}.gz").symlink_to(REPO_MNIST / f"{name}.gz")
    _Mirrors.hits.clear()
    load_mnist(folder, download=True, mirrors=[f"{server}/good/"], timeout=5)
    assert _Mirrors.hits == ["/good/t10k-labels-idx1-ubyte.gz"]


def test_every_mirror_failing_reports_each_and_leaves_no_file(tmp_path, server, dead_mirror):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in NAMES[:3]:
        (folder / f"{name}.gz").symlink_to(REPO_MNIST / f"{name}.gz")
    mirrors = [dead_mirror, f"{server}/missing/", f"{server}/corrupt/", f"{server}/truncated/", f"{server}/slow/"]
    with pytest.raises(MNISTDownloadError) as info:
        load_mnist(folder, download=True, mirrors=mirrors, timeout=0.3)
    text = str(info.value)
    assert "t10k-labels-idx1-ubyte.gz" in text
    lines = text.splitlines()[1:]
    assert len(lines) == len(mirrors)
    assert "refused" in lines[0].lower()
    assert "404" in lines[1]
    assert "SHA-256" in lines[2]
    assert "cannot decompress" in lines[3]
    assert "timed out" in lines[4]
    assert sorted(os.listdir(folder)) == sorted(f"{name}.gz" for name in NAMES[:3])


def test_interrupted_write_leaves_neither_target_nor_temp_file(tmp_path, server, monkeypatch):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in NAMES[:3]:
        (folder / f"{name}.gz").symlink_to(REPO_MNIST / f"{name}.gz")

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(mnist_module.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        load_mnist(folder, download=True, mirrors=[f"{server}/good/"], timeout=5)
    assert sorted(os.listdir(folder)) == sorted(f"{name}.gz" for name in NAMES[:3])
