"""Class 8 of issue 16 (the gzip part): a gzip bomb is an MNISTError naming the size limit,
never a MemoryError; damaged gzip data is an MNISTError too."""

import gzip
import zlib

import numpy as np
import pytest

from tinygrad_cnn.data import mnist
from tinygrad_cnn.data.mnist import MNISTError, read_idx


def bomb(nbytes: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1 << 20)
    body = b"".join(compressor.compress(chunk) for _ in range(nbytes >> 20))
    return body + compressor.flush()


def test_a_gzip_bomb_is_an_mnist_error_with_the_limit(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(bomb(mnist._MAX_IDX_BYTES + (1 << 20)))
    assert path.stat().st_size < 1 << 20
    with pytest.raises(MNISTError, match=f"more than {mnist._MAX_IDX_BYTES} bytes"):
        read_idx(path)


@pytest.mark.parametrize("cut", [5, 20, -3])
def test_damaged_gzip_is_an_mnist_error(tmp_path, cut):
    raw = np.arange(12, dtype=np.uint8)
    idx = b"\x00\x00\x08\x01" + (12).to_bytes(4, "big") + raw.tobytes()
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx)[:cut])
    with pytest.raises(MNISTError, match="cannot decompress"):
        read_idx(path)
    path.write_bytes(gzip.compress(idx))
    np.testing.assert_array_equal(read_idx(path), raw)
