"""Files whole: writing so that nothing is ever half-written (a temporary file, then a rename),
and the digest of a file read in blocks."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path


def atomic_write(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``,
    so readers see the old file or the whole new one, never a part. The file gets the
    permissions a plain ``open(path, "wb")`` would (0o666 less the umask). Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def file_digest(path: str | os.PathLike, algorithm: str) -> str:
    """The hex digest (``algorithm`` as hashlib names it: "sha256", "md5", ...) of the file at
    ``path``, read in 1 MiB blocks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
