"""The IDX file format (MNIST's): header, dtypes and dims, gzip (with a size limit), as arrays.

``read_idx(path)`` reads any IDX file, gzipped or raw; ``parse_idx(raw)`` parses uncompressed bytes.
Whatever is wrong (truncated, trailing bytes, not IDX, a gzip stream or file larger than the
limit) raises ``MNISTError`` naming the file and the fault.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801

_IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

MAX_IDX_BYTES = 64 * 1024 * 1024  # a decompressed file larger than this is refused


class MNISTError(ValueError):
    """An MNIST file is truncated, corrupted, or not the file its name says."""


def describe_magic(magic: int) -> str:
    """What an IDX magic number says the file is: "an image file", "a label file" or "an IDX file"."""
    if magic == IMAGES_MAGIC:
        return "an image file"
    if magic == LABELS_MAGIC:
        return "a label file"
    return "an IDX file"


def idx_header(raw: bytes, name: str) -> tuple[int, tuple[int, ...], int]:
    """(magic, dims, header length) of an IDX file, or MNISTError for a malformed header."""
    if len(raw) < 4:
        raise MNISTError(f"{name}: file is truncated: {len(raw)} bytes, too short for an IDX header")
    magic = int.from_bytes(raw[:4], "big")
    code, ndim = raw[2], raw[3]
    if raw[:2] != b"\0\0" or code not in _IDX_TYPES or ndim == 0:
        raise MNISTError(f"{name}: not an IDX file (magic number 0x{magic:08x})")
    length = 4 + 4 * ndim
    if len(raw) < length:
        raise MNISTError(f"{name}: file is truncated: {len(raw)} bytes, too short for a {ndim}-d IDX header")
    return magic, struct.unpack(f">{ndim}I", raw[4:length]), length


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """The array stored in the uncompressed IDX bytes ``raw`` (read-only, the file's dtype and dims).

    Raises MNISTError (mentioning ``name``) when the header is malformed or the data is
    shorter or longer than the dims say.
    """
    magic, dims, offset = idx_header(raw, name)
    dtype = _IDX_TYPES[raw[2]]
    expected = offset + int(np.prod(dims)) * dtype.itemsize
    if len(raw) < expected:
        raise MNISTError(
            f"{name}: file is truncated: {len(raw)} bytes where an IDX array of shape {dims} needs {expected}"
        )
    if len(raw) > expected:
        raise MNISTError(f"{name}: {len(raw) - expected} unexpected bytes after the IDX array of shape {dims}")
    return np.frombuffer(raw, dtype=dtype, offset=offset).reshape(dims)


def decompress(data: bytes, name: str) -> bytes:
    """``data`` itself, or its gunzipped bytes when it is gzip; MNISTError naming ``name`` when the
    stream is damaged or would decompress to more than the limit (a gzip bomb never fills memory)."""
    if data[:2] != b"\x1f\x8b":
        return data
    try:  # read at most the limit: a gzip bomb must not become a MemoryError
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as file:
            raw = file.read(MAX_IDX_BYTES + 1)
    except (EOFError, OSError, zlib.error) as exc:
        raise MNISTError(
            f"{name}: cannot decompress ({exc}); the file is truncated or corrupted: delete it and download it again"
        ) from None
    if len(raw) > MAX_IDX_BYTES:
        raise MNISTError(f"{name}: decompresses to more than {MAX_IDX_BYTES} bytes (the limit; MNIST's largest file "
                         "is 47,040,016): not an IDX file of this dataset (a gzip bomb?)")
    return raw


def read_limited(path: Path, name: str) -> bytes:
    """The bytes of the file at ``path``; MNISTError naming it when it is larger than any IDX file of these datasets."""
    size = path.stat().st_size
    if size > MAX_IDX_BYTES:
        raise MNISTError(f"{name}: {size} bytes, more than {MAX_IDX_BYTES} bytes (the limit; MNIST's largest file "
                         "is 47,040,016): not an IDX file of this dataset")
    return path.read_bytes()


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The array in the IDX file at ``path`` (gzipped or raw), read-only, with the file's dims."""
    path = Path(path)
    return parse_idx(decompress(read_limited(path, path.name), path.name), path.name)
