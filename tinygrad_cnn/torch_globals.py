"""What the torch globals in a PyTorch file stand for here, without torch.

A ``.pt`` file's pickle names torch objects: storage classes (``torch.FloatStorage``), dtypes
(``torch.float32``), ``torch.Size`` and the rebuild functions (``torch._utils._rebuild_tensor_v2``).
``TorchName`` writes such a name when saving; ``ALLOWED_GLOBALS`` maps each name that
torch's weights-only unpickler accepts for tensors, containers and numbers to a stand-in that
builds tinygrad_cnn Tensors from NumPy arrays. The stand-ins check every argument (they get
them from the file) and raise pickle.UnpicklingError or RuntimeError, never run anything else.
"""

from __future__ import annotations

import pickle
from collections import Counter, OrderedDict
from typing import Any

import numpy as np

from tinygrad_cnn.tensor import Size, Tensor

# torch's legacy storage class for each dtype (torch.storage._dtype_to_storage_type_map)
STORAGE_NAMES = {
    np.dtype(np.float64): "DoubleStorage", np.dtype(np.float32): "FloatStorage",
    np.dtype(np.float16): "HalfStorage", np.dtype(np.int64): "LongStorage", np.dtype(np.int32): "IntStorage",
    np.dtype(np.int16): "ShortStorage", np.dtype(np.int8): "CharStorage", np.dtype(np.uint8): "ByteStorage",
    np.dtype(np.bool_): "BoolStorage", np.dtype(np.complex64): "ComplexFloatStorage",
    np.dtype(np.complex128): "ComplexDoubleStorage",
}
# dtypes torch saves as an UntypedStorage plus the dtype (torch.storage._new_dtypes)
UNTYPED_DTYPES = (np.dtype(np.uint16), np.dtype(np.uint32), np.dtype(np.uint64))
_TORCH_DTYPES = {dtype: "bool" if dtype == np.bool_ else dtype.name for dtype in [*STORAGE_NAMES, *UNTYPED_DTYPES]}
# storages of dtypes NumPy has no equivalent for
_UNSUPPORTED_STORAGES = ("BFloat16Storage", "QInt8Storage", "QInt32Storage", "QUInt8Storage",
                         "QUInt4x2Storage", "QUInt2x4Storage")


class TorchName:
    """Stands for the torch global ``module.name``; the saving pickler writes it as a GLOBAL."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __repr__(self) -> str:
        return f"{self.module}.{self.name}"

    def __call__(self, *args: Any) -> Any:  # pickle's save_reduce requires a callable; never called
        raise TypeError(f"{self!r} is only a name here and cannot be called")


class StorageType:
    """What a storage class (torch.FloatStorage, torch.storage.UntypedStorage) stands for when
    loading: its name and element dtype (None for untyped bytes and unsupported dtypes)."""

    def __init__(self, name: str, dtype: np.dtype | None) -> None:
        self.name, self.dtype = name, dtype

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class Storage:
    """One storage of a file: its bytes ``raw`` (1-D uint8), its element ``dtype`` (None when
    untyped) and its ``key`` in the archive. ``big_endian`` when the file says so."""

    def __init__(self, raw: np.ndarray, dtype: np.dtype | None, key: str, big_endian: bool = False) -> None:
        self.raw, self.dtype, self.key, self._big_endian = raw, dtype, key, big_endian
        self._views: dict[np.dtype, np.ndarray] = {}

    def typed(self, dtype: np.dtype) -> np.ndarray:
        """The storage's elements as a 1-D array of ``dtype``, one array per dtype, so tensors
        that share the storage share memory."""
        if dtype not in self._views:
            if self.raw.size % dtype.itemsize:
                raise RuntimeError(f"storage {self.key} of {self.raw.size} bytes does not hold whole "
                                   f"{dtype} elements")
            view = self.raw.view(dtype.newbyteorder(">" if self._big_endian else "<"))
            self._views[dtype] = view.astype(dtype) if self._big_endian else view
        return self._views[dtype]


def torch_dtype_name(dtype: np.dtype) -> str:
    """torch's name for a NumPy dtype ('float32', 'int64', 'bool', ...); TypeError if it has none."""
    name = _TORCH_DTYPES.get(np.dtype(dtype).newbyteorder("="))
    if name is None:
        raise TypeError(f"torch.save: PyTorch has no dtype for NumPy's {dtype}; supported: "
                        f"{sorted(set(_TORCH_DTYPES.values()))}")
    return name


def size_class() -> type:
    """tinygrad_cnn's Size (the tuple subclass Tensor.size() returns, as torch.Size)."""
    return Size


def parameter_class() -> type:
    """tinygrad_cnn.nn.Parameter, imported when first needed (nn sits above tensor)."""
    from tinygrad_cnn.nn.parameter import Parameter

    return Parameter


# torch.nn.modules' submodules: torch pickles an nn class as torch.nn.modules.<submodule>.<Name>
TORCH_NN_SUBMODULES = frozenset((
    "activation", "adaptive", "batchnorm", "channelshuffle", "container", "conv", "distance", "dropout", "flatten",
    "fold", "instancenorm", "lazy", "linear", "loss", "module", "normalization", "padding", "pixelshuffle",
    "pooling", "rnn", "sparse", "transformer", "upsampling",
))


def torch_nn_global(full_name: str) -> Any:
    """This package's object for a torch.nn name a pickled module holds: the class torch pickles as
    ``torch.nn.modules.<submodule>.<Name>`` (-> tinygrad_cnn.nn.<Name>) or the function
    ``torch.nn.functional.<name>`` (a TransformerEncoderLayer's activation); None for any other name."""
    parts = full_name.split(".")
    if len(parts) == 5 and parts[:3] == ["torch", "nn", "modules"] and parts[3] in TORCH_NN_SUBMODULES:
        import tinygrad_cnn.nn as home
    elif len(parts) == 4 and parts[:3] == ["torch", "nn", "functional"]:
        import tinygrad_cnn.nn.functional as home
    else:
        return None
    found = getattr(home, parts[-1], None)
    return found if callable(found) else None


# ------------------------------------------------------------------ the stand-ins for loading
def _ints(value: Any, what: str) -> tuple[int, ...]:
    if type(value) not in (tuple, list) or not all(type(v) is int and v >= 0 for v in value):
        raise pickle.UnpicklingError(f"a tensor's {what} must be a tuple of non-negative ints, got {value!r}")
    return tuple(value)


def _rebuild(storage: Any, offset: Any, size: Any, stride: Any, requires_grad: Any, dtype: np.dtype) -> Tensor:
    if not isinstance(storage, Storage) or type(offset) is not int or offset < 0 or type(requires_grad) is not bool:
        raise pickle.UnpicklingError(f"malformed tensor record: storage {storage!r}, offset {offset!r}, "
                                     f"requires_grad {requires_grad!r}")
    size, stride = _ints(size, "size"), _ints(stride, "stride")
    if len(size) != len(stride):
        raise pickle.UnpicklingError(f"a tensor's size {size} and stride {stride} differ in length")
    array = storage.typed(dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else offset - 1
    if last >= array.size:
        raise RuntimeError(f"a tensor of size {size}, stride {stride} and offset {offset} reaches past the "
                           f"end of storage {storage.key} ({array.size} elements)")
    view = np.lib.stride_tricks.as_strided(array[offset:], shape=size, strides=[s * dtype.itemsize for s in stride])
    return Tensor(view, requires_grad=requires_grad)


def _check_metadata(metadata: Any) -> None:
    if metadata:
        raise pickle.UnpicklingError(f"tensor metadata {metadata!r} (conj/neg bits) is not supported")


def _rebuild_tensor_v2(storage: Any, storage_offset: Any, size: Any, stride: Any, requires_grad: Any,
                       backward_hooks: Any, metadata: Any = None) -> Tensor:
    """torch._utils._rebuild_tensor_v2: the tensor of ``size``/``stride`` viewing a typed storage."""
    _check_metadata(metadata)
    if not isinstance(storage, Storage) or storage.dtype is None:
        raise pickle.UnpicklingError(f"_rebuild_tensor_v2 needs a typed storage, got {storage!r}")
    return _rebuild(storage, storage_offset, size, stride, requires_grad, storage.dtype)


def _rebuild_tensor(storage: Any, storage_offset: Any, size: Any, stride: Any) -> Tensor:
    """torch._utils._rebuild_tensor: the older form, without requires_grad."""
    return _rebuild_tensor_v2(storage, storage_offset, size, stride, False, None)


def _rebuild_tensor_v3(storage: Any, storage_offset: Any, size: Any, stride: Any, requires_grad: Any,
                       backward_hooks: Any, dtype: Any, metadata: Any = None) -> Tensor:
    """torch._utils._rebuild_tensor_v3: the tensor viewing an untyped storage as ``dtype``."""
    _check_metadata(metadata)
    if not isinstance(dtype, np.dtype):
        raise pickle.UnpicklingError(f"_rebuild_tensor_v3 needs a dtype, got {dtype!r}")
    return _rebuild(storage, storage_offset, size, stride, requires_grad, dtype)


def _rebuild_parameter(data: Any, requires_grad: Any, backward_hooks: Any) -> Tensor:
    """torch._utils._rebuild_parameter: an nn.Parameter holding ``data``'s array."""
    if not isinstance(data, Tensor) or type(requires_grad) is not bool:
        raise pickle.UnpicklingError(f"_rebuild_parameter needs a tensor and a bool, got {data!r}, {requires_grad!r}")
    return parameter_class()(data.numpy(), requires_grad=requires_grad)


def _rebuild_parameter_with_state(data: Any, requires_grad: Any, backward_hooks: Any, state: Any) -> Tensor:
    """torch._utils._rebuild_parameter_with_state, for a Parameter without Python attributes."""
    if state:
        raise pickle.UnpicklingError("a Parameter with Python attributes cannot be loaded")
    return _rebuild_parameter(data, requires_grad, backward_hooks)


_TORCH_TENSOR, _TORCH_PARAMETER = TorchName("torch", "Tensor"), TorchName("torch.nn.parameter", "Parameter")
_REBUILDERS = (_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter,
               _rebuild_parameter_with_state)


def _rebuild_from_type_v2(func: Any, new_type: Any, args: Any, state: Any) -> Tensor:
    """torch._tensor._rebuild_from_type_v2, for a plain Tensor or Parameter without attributes."""
    if not any(func is f for f in _REBUILDERS) or new_type not in (_TORCH_TENSOR, _TORCH_PARAMETER) \
            or state or type(args) is not tuple:
        raise pickle.UnpicklingError(f"only plain tensors can be rebuilt, got {new_type!r} with state {state!r}")
    return func(*args)


def _encode(text: Any, encoding: Any = "utf-8") -> bytes:
    """_codecs.encode as protocol 2 uses it for bytes: latin1 text back to bytes."""
    if type(text) is not str or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode is allowed only for bytes pickled as latin1 text")
    return text.encode("latin1")


def _bytearray(data: Any = b"") -> bytearray:
    if type(data) is not bytes:
        raise pickle.UnpicklingError("bytearray is allowed only from bytes")
    return bytearray(data)


def _size(shape: Any) -> tuple:
    """torch.Size: tinygrad_cnn's Size when it has one, else a tuple."""
    return Size(_ints(shape, "torch.Size"))


ALLOWED_GLOBALS: dict[str, Any] = {
    "collections.OrderedDict": OrderedDict, "collections.Counter": Counter,
    "builtins.set": set, "builtins.frozenset": frozenset, "builtins.complex": complex,
    "builtins.bytearray": _bytearray, "_codecs.encode": _encode, "torch.Size": _size,
    "torch.Tensor": _TORCH_TENSOR, "torch.nn.parameter.Parameter": _TORCH_PARAMETER,
    "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
    "torch.storage.UntypedStorage": StorageType("UntypedStorage", None),
    **{f"torch._utils.{f.__name__}": f for f in _REBUILDERS},
    **{f"torch.{name}": StorageType(name, dtype) for dtype, name in STORAGE_NAMES.items()},
    **{f"torch.{name}": StorageType(name, None) for name in _UNSUPPORTED_STORAGES},
    **{f"torch.{name}": dtype for dtype, name in _TORCH_DTYPES.items()},
}
