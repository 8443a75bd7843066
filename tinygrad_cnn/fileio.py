"""Files whole: writing so that nothing is ever half-written (a temporary file, then a rename),
and the digest of a file read in blocks."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import socket
from pathlib import Path

# The temporary name of a file being written: ".<name>.<pid>@<host>.<12 hex digits>.part".
_PART = re.compile(r"^\..+\.(?P<pid>\d+)@(?P<host>[^/]*)\.[0-9a-f]{12}\.part$")


def pid_alive(pid: int) -> bool:
    """True when a process with id ``pid`` runs on this machine (POSIX; elsewhere always True)."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_parts(folder: Path) -> list[Path]:
    """Delete the temporary files that a write killed part-way (SIGKILL, power loss) left in
    ``folder``: those of ``atomic_write``'s naming whose writer, a process of this machine, no
    longer runs. A write still under way is never touched. Returns the paths removed."""
    host, removed = socket.gethostname(), []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _PART.match(entry.name)
        if match and match["host"] == host and not pid_alive(int(match["pid"])):
            try:
                os.unlink(entry.path)
            except OSError:
                continue
            removed.append(Path(entry.path))
    return removed


def atomic_write(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``,
    so readers see the old file or the whole new one, never a part. The file gets the
    permissions a plain ``open(path, "wb")`` would (0o666 less the umask). Temporary files
    left in the folder by earlier writes that were killed are removed first
    (``remove_stale_parts``). An OSError names ``path``, not the temporary file; a ``path``
    below a regular file is a NotADirectoryError saying so. Returns the path."""
    path = Path(path)
    blocker = next((parent for parent in path.parents if parent.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"not a directory: {blocker} is a regular file", str(path))
    tmp = path.with_name(f".{path.name}.{os.getpid()}@{socket.gethostname()}.{secrets.token_hex(6)}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_parts(path.parent)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise _naming(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _naming(exc, path) from None
        raise
    return path


def _naming(exc: OSError, path: Path) -> OSError:
    """``exc`` (same type and errno) about ``path``: "[Errno 28] No space left on device: 'path'"."""
    if exc.errno is None:
        return exc
    return type(exc)(exc.errno, exc.strerror, str(path))


def file_digest(path: str | os.PathLike, algorithm: str) -> str:
    """The hex digest (``algorithm`` as hashlib names it: "sha256", "md5", ...) of the file at
    ``path``, read in 1 MiB blocks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
