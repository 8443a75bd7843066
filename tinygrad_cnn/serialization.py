"""torch.save / torch.load in PyTorch's own file format, without torch.

The file is PyTorch's zip archive: ``<archive>/data.pkl`` (the object, pickled with protocol 2,
each tensor as ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
OrderedDict())`` and each storage as the persistent id ``('storage', torch.FloatStorage, key,
'cpu', numel)``), the raw little-endian storages ``<archive>/data/<key>`` (each starting on a
64-byte boundary), ``.format_version``, ``.storage_alignment``, ``byteorder``, ``version`` and
``.data/serialization_id``, in torch's order. ``load`` reads such files through
weights_unpickler with torch_globals' table, which holds only what tensors, containers and
numbers need, and never runs code from the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import struct
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from typing import IO, Any

import numpy as np

from tinygrad_cnn.fileio import atomic_write
from tinygrad_cnn.safe_globals import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals, user_globals
from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.torch_globals import (ALLOWED_GLOBALS, STORAGE_NAMES, UNTYPED_DTYPES, Storage, StorageType,
                                        TorchName, parameter_class, size_class, torch_dtype_name, torch_nn_global)
from tinygrad_cnn.weights_unpickler import WeightsUnpickler

__all__ = ["add_safe_globals", "clear_safe_globals", "get_safe_globals", "load", "safe_globals", "save"]

FileLike = str | os.PathLike | IO[bytes]

_RECORD_ALIGNMENT = 64
_FILE_FORMAT_VERSION = b"3\n"
# what torch's legacy (pre-1.6) format starts with: the pickled magic number 0x1950a86a20f9469cfc6c
_LEGACY_MAGIC = b"\x80\x02\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")


# ---------------------------------------------------------------------------------------- save
def _contiguous_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)  # torch's strides for empty dims: zeros(3, 0).stride() == (1, 1)
    return tuple(reversed(strides))


class _SizeProxy:
    def __init__(self, shape: tuple) -> None:
        self.shape = tuple(shape)


class _Pickler(pickle._Pickler):  # the Python pickler: only it lets a GLOBAL be written by name
    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file: IO[bytes], protocol: int) -> None:
        super().__init__(file, protocol)
        self.storages: dict[int, Storage] = {}
        self._arrays: list[np.ndarray] = []  # keeps each id(array) in ``storages`` from being reused
        self._size_class = size_class()

    def _save_torch_name(self, obj: TorchName) -> None:
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
        self.memoize(obj)

    dispatch[TorchName] = _save_torch_name

    def persistent_id(self, obj: Any) -> tuple | None:
        if not isinstance(obj, Storage):
            return None
        if obj.dtype is None:
            return ("storage", TorchName("torch.storage", "UntypedStorage"), obj.key, "cpu", obj.raw.size)
        return ("storage", TorchName("torch", STORAGE_NAMES[obj.dtype]), obj.key, "cpu",
                obj.raw.size // obj.dtype.itemsize)

    def save(self, obj: Any, save_persistent_id: bool = True) -> None:
        if isinstance(obj, np.generic):
            obj = obj.item()
        elif isinstance(obj, np.dtype):
            obj = TorchName("torch", torch_dtype_name(obj))
        elif self._size_class is not None and type(obj) is self._size_class:
            obj = _SizeProxy(obj)
        super().save(obj, save_persistent_id)

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _SizeProxy):
            return TorchName("torch", "Size"), (obj.shape,)
        if isinstance(obj, Tensor):
            if isinstance(obj, parameter_class()):
                hooks: OrderedDict = OrderedDict()
                return TorchName("torch._utils", "_rebuild_parameter"), (Tensor(obj.numpy()), obj.requires_grad, hooks)
            return self._reduce_array(obj.numpy(), obj.requires_grad)
        if isinstance(obj, np.ndarray):
            return self._reduce_array(obj, False)
        return NotImplemented

    def _reduce_array(self, array: np.ndarray, requires_grad: bool) -> tuple:
        dtype = array.dtype.newbyteorder("=")
        torch_name = torch_dtype_name(dtype)
        storage = self.storages.get(id(array))
        if storage is None:
            data = np.ascontiguousarray(array, dtype=dtype.newbyteorder("<")).reshape(-1).view(np.uint8)
            storage = Storage(data, None if dtype in UNTYPED_DTYPES else dtype, str(len(self.storages)))
            self.storages[id(array)] = storage
            self._arrays.append(array)
        args = (storage, 0, tuple(array.shape), _contiguous_strides(array.shape), bool(requires_grad), OrderedDict())
        if storage.dtype is None:
            return TorchName("torch._utils", "_rebuild_tensor_v3"), args + (TorchName("torch", torch_name),)
        return TorchName("torch._utils", "_rebuild_tensor_v2"), args


def _archive_name(f: FileLike) -> str:
    """torch names the archive's folder after the file's stem; buffers and non-ASCII names get 'archive'."""
    if not isinstance(f, (str, os.PathLike)):
        return "archive"
    base = os.path.basename(os.fspath(f))
    stem = base[:base.rfind(".")] if "." in base else base
    return stem if stem and stem.isascii() else "archive"


def _zip_archive(archive: str, records: list[tuple[str, Any]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, data in records:
            info = zipfile.ZipInfo(f"{archive}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            zip64_extra = 20 if len(data) * 1.05 > zipfile.ZIP64_LIMIT else 0  # zipfile's own rule
            header = 30 + len(info.filename.encode()) + zip64_extra + 4
            pad = -(buffer.tell() + header) % _RECORD_ALIGNMENT
            info.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad  # torch's padding field
            zf.writestr(info, data)
    return buffer.getvalue()


def save(obj: Any, f: FileLike, pickle_module: Any = pickle, pickle_protocol: int = 2,
         _use_new_zipfile_serialization: bool = True) -> None:
    """Write ``obj`` (tensors, arrays, nested dicts/OrderedDicts/lists/tuples, numbers, strings,
    None, ...) to ``f`` (a path, written atomically, or a binary file-like object) in PyTorch's
    zip format, readable by ``torch.load(f, weights_only=True)``. Each tensor is stored contiguous
    with its dtype, shape and requires_grad; Parameters stay Parameters; ndarrays are saved as
    tensors and NumPy scalars as Python numbers; tensors holding the same array share one
    storage. ``pickle_protocol`` 2 (the default) is the one torch's weights-only loader reads;
    ``load`` here reads 2 to 5. Nothing is written when ``obj`` cannot be saved."""
    if not isinstance(f, (str, os.PathLike)) and not callable(getattr(f, "write", None)):
        raise AttributeError("torch.save: expected 'f' to be a string, path, or a file-like object "
                             f"with a 'write' attribute, got {type(f).__name__}")
    if pickle_module is not pickle:
        raise NotImplementedError("torch.save: only the standard pickle module is supported as pickle_module")
    if not _use_new_zipfile_serialization:
        raise NotImplementedError("torch.save: the legacy (pre-1.6) file format is not supported")
    if type(pickle_protocol) is not int or not 2 <= pickle_protocol <= pickle.HIGHEST_PROTOCOL:
        raise ValueError(f"torch.save: pickle_protocol must be an int in [2, {pickle.HIGHEST_PROTOCOL}], "
                         f"got {pickle_protocol!r}")
    pkl = io.BytesIO()
    pickler = _Pickler(pkl, pickle_protocol)
    pickler.dump(obj)
    data_pkl = pkl.getvalue()
    digest = hashlib.sha256(data_pkl)
    for storage in pickler.storages.values():
        digest.update(storage.raw)
    serialization_id = "".join(f"{int.from_bytes(digest.digest()[i:i + 8], 'little'):020d}" for i in (0, 8))
    records: list[tuple[str, Any]] = [
        ("data.pkl", data_pkl), (".format_version", b"1"),
        (".storage_alignment", str(_RECORD_ALIGNMENT).encode()), ("byteorder", b"little"),
        *((f"data/{s.key}", memoryview(s.raw)) for s in pickler.storages.values()),
        ("version", _FILE_FORMAT_VERSION), (".data/serialization_id", serialization_id.encode()),
    ]
    blob = _zip_archive(_archive_name(f), records)
    if isinstance(f, (str, os.PathLike)):
        atomic_write(f, blob)
    else:
        f.write(blob)
        if callable(getattr(f, "flush", None)):
            f.flush()


# ---------------------------------------------------------------------------------------- load
def _check_location(location: Any, saved: str, name: str) -> None:
    device = str(location)
    if device.split(":")[0] != "cpu":
        raise RuntimeError(
            f"{name}: a storage saved on '{saved}' would be loaded to '{device}', but tinygrad_cnn computes "
            "on the CPU only; pass map_location='cpu' (or torch.device('cpu'))")


class _Archive:
    """The records of one opened PyTorch zip file, and the storages its pickle refers to."""

    def __init__(self, handle: IO[bytes], name: str, map_location: Any, mmap_path: str | None) -> None:
        self.handle, self.name, self.map_location, self.mmap_path = handle, name, map_location, mmap_path
        try:
            self.zip = zipfile.ZipFile(handle)
            names = self.zip.namelist()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise RuntimeError(f"{name}: damaged PyTorch file, the zip archive cannot be read: {exc}") from None
        self.prefix = names[0].split("/", 1)[0] if names else ""
        if f"{self.prefix}/constants.pkl" in names:
            raise RuntimeError(f"{name}: this is a TorchScript archive (torch.jit.save), which cannot be loaded "
                               "with weights_only; only torch.save files can")
        byteorder = self.read("byteorder") if self.has("byteorder") else b"little"
        if byteorder not in (b"little", b"big"):
            raise RuntimeError(f"{name}: damaged PyTorch file, unknown byteorder {byteorder!r}")
        self.big_endian = byteorder == b"big"
        self.storages: dict[str, Storage] = {}

    def has(self, record: str) -> bool:
        return f"{self.prefix}/{record}" in self.zip.NameToInfo

    def read(self, record: str) -> bytes:
        """The bytes of ``<archive>/record``; RuntimeError naming the file if missing or damaged."""
        if not self.has(record):
            raise RuntimeError(f"{self.name}: damaged PyTorch file, it has no record '{self.prefix}/{record}'")
        try:
            return self.zip.read(f"{self.prefix}/{record}")
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
            raise RuntimeError(f"{self.name}: damaged PyTorch file, record '{self.prefix}/{record}': {exc}") from None

    def _raw(self, record: str, nbytes: int) -> np.ndarray:
        info = self.zip.NameToInfo.get(f"{self.prefix}/{record}")
        if self.mmap_path is not None and info is not None and info.compress_type == zipfile.ZIP_STORED \
                and info.file_size == nbytes and nbytes:
            self.handle.seek(info.header_offset + 26)
            name_len, extra_len = struct.unpack("<HH", self.handle.read(4))
            offset = info.header_offset + 30 + name_len + extra_len
            return np.memmap(self.mmap_path, dtype=np.uint8, mode="c", offset=offset, shape=(nbytes,))
        data = self.read(record)
        if len(data) != nbytes:
            raise RuntimeError(f"{self.name}: damaged PyTorch file, record '{self.prefix}/{record}' holds "
                               f"{len(data)} bytes, its tensor needs {nbytes}")
        return np.frombuffer(bytearray(data), dtype=np.uint8)

    def persistent_load(self, pid: tuple) -> Storage:
        """The storage a persistent id ('storage', storage type, key, location, numel) names."""
        if len(pid) != 5 or pid[0] != "storage":
            raise pickle.UnpicklingError(f"only storages can be persistent ids, got {pid!r}")
        _, storage_type, key, location, numel = pid
        if not isinstance(storage_type, StorageType) or type(key) is not str or type(location) is not str \
                or type(numel) is not int or numel < 0:
            raise pickle.UnpicklingError(f"malformed storage id {pid!r}")
        if storage_type.dtype is None and storage_type.name != "UntypedStorage":
            raise RuntimeError(f"{self.name}: storage {key} is a torch.{storage_type.name}, a dtype NumPy "
                               "does not have; convert it (e.g. .float()) before torch.save")
        if key not in self.storages:
            nbytes = numel * (storage_type.dtype.itemsize if storage_type.dtype is not None else 1)
            storage = Storage(self._raw(f"data/{key}", nbytes), storage_type.dtype, key, self.big_endian)
            self._map(storage, location)
            self.storages[key] = storage
        return self.storages[key]

    def _map(self, storage: Storage, location: str) -> None:
        target = self.map_location
        if target is None:
            target = location
        elif isinstance(target, dict):
            target = target.get(location, location)
        elif callable(target):  # torch's map_location(storage, location); only the CPU answer works here
            result = target(storage, location)
            if result is not None and result is not storage:
                raise RuntimeError(f"{self.name}: map_location returned {type(result).__name__}; here it may "
                                   "only return the storage it was given (or None)")
            target = "cpu" if result is storage else location
        _check_location(target, location, self.name)


class _TrustedUnpickler(pickle.Unpickler):
    """weights_only=False: any importable global (this runs code from the file), torch's mapped."""

    def find_class(self, module: str, name: str) -> Any:
        full = f"{module}.{name}"
        if full in ALLOWED_GLOBALS:
            return ALLOWED_GLOBALS[full]
        found = torch_nn_global(full)
        if found is not None:
            return found
        if module == "torch" or module.startswith("torch."):
            raise pickle.UnpicklingError(f"GLOBAL {full} needs PyTorch itself, which tinygrad_cnn does not use")
        return super().find_class(module, name)


@contextlib.contextmanager
def _opened(f: FileLike, name: str) -> Iterator[IO[bytes]]:
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as handle:
            yield handle
        return
    try:
        f.seek(f.tell())
    except (io.UnsupportedOperation, AttributeError) as exc:
        raise type(exc)(f"{name}: {exc}. You can only torch.load from a file that is seekable; "
                        "read it into io.BytesIO first") from None
    yield f


def load(f: FileLike, map_location: Any = None, pickle_module: Any = None, *, weights_only: bool | None = None,
         mmap: bool | None = None) -> Any:
    """Read the object a PyTorch ``torch.save`` file (or ``save`` here) holds, from a path or a
    seekable binary file-like object. Tensors come back as tinygrad_cnn Tensors (views of one
    storage keep sharing memory; Parameters stay Parameters, with requires_grad), containers
    and numbers as themselves. ``weights_only`` (default True, as in torch 2.6+) admits only
    tensors, containers, numbers and the classes and functions marked safe (``safe_globals``,
    ``add_safe_globals``: a whole pickled model's classes) and never runs other code from the
    file; False trusts the file fully. A torch.nn class a file names (torch.nn.modules.linear.Linear)
    is this package's class of that name. ``map_location``: None, 'cpu', a device or a dict of locations; a GPU raises
    RuntimeError. ``mmap=True`` maps the storages from the file (copy-on-write) instead of
    reading them. A damaged file raises RuntimeError or pickle.UnpicklingError naming it."""
    name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else str(getattr(f, "name", f"<{type(f).__name__}>"))
    if weights_only is None:
        weights_only = True
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    if pickle_module not in (None, pickle):
        raise NotImplementedError("torch.load: only the standard pickle module is supported as pickle_module")
    if mmap and not isinstance(f, (str, os.PathLike)):
        raise ValueError("f must be a file path in order to use the mmap argument")
    if isinstance(map_location, dict):
        for saved, target in map_location.items():
            _check_location(target, saved, name)
    elif map_location is not None and not callable(map_location):
        _check_location(map_location, "any device", name)
    with _opened(f, name) as handle:
        start = handle.tell()
        head = handle.read(len(_LEGACY_MAGIC))
        handle.seek(start)
        if not head.startswith(b"PK\x03\x04"):
            if head == _LEGACY_MAGIC:
                raise RuntimeError(f"{name}: this file is in torch's legacy (pre-1.6) format, which is not "
                                   "supported; re-save it with a recent torch.save")
            raise pickle.UnpicklingError(f"{name}: not a PyTorch file (it is no zip archive; starts {head[:8]!r})")
        archive = _Archive(handle, name, map_location, os.fspath(f) if mmap else None)
        data = io.BytesIO(archive.read("data.pkl"))
        try:
            if weights_only:
                allowed = {**ALLOWED_GLOBALS, **user_globals()}
                return WeightsUnpickler(data, allowed, archive.persistent_load, alias=torch_nn_global).load()
            unpickler = _TrustedUnpickler(data, encoding="utf-8")
            unpickler.persistent_load = archive.persistent_load
            return unpickler.load()
        except pickle.UnpicklingError as exc:
            raise pickle.UnpicklingError(f"{name}: Weights only load failed. {exc}" if weights_only
                                         else f"{name}: {exc}") from None
        except EOFError as exc:
            raise pickle.UnpicklingError(f"{name}: damaged data.pkl, it ends early ({exc})") from None
        except RuntimeError as exc:
            if str(exc).startswith(f"{name}: "):
                raise
            raise RuntimeError(f"{name}: {exc}") from None
