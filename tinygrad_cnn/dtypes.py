"""torch's dtype names as NumPy dtypes (``t.dtype == torch.float32`` holds), the default
floating dtype, and ``dtype_arg``: the one reading of a ``dtype=`` argument."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
float16 = half = np.dtype(np.float16)
int64 = long = np.dtype(np.int64)
int32 = int = np.dtype(np.int32)
int16 = short = np.dtype(np.int16)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
bool = np.dtype(np.bool_)
complex64 = cfloat = np.dtype(np.complex64)
complex128 = cdouble = np.dtype(np.complex128)

#: torch's legacy tensor type names, as ``Tensor.type()`` returns them
TYPE_NAMES = {
    float32: "torch.FloatTensor", float64: "torch.DoubleTensor", float16: "torch.HalfTensor",
    int64: "torch.LongTensor", int32: "torch.IntTensor", int16: "torch.ShortTensor", int8: "torch.CharTensor",
    uint8: "torch.ByteTensor", bool: "torch.BoolTensor",
}

__all__ = ["TYPE_NAMES", "dtype_arg", "get_default_dtype", "is_floating", "promote_types", "same_dtype",
           "scalar_type_name", "set_default_dtype"]


def scalar_type_name(dtype: Any) -> str:
    """torch's name of the scalar type of ``dtype``, as its messages give it: 'Float', 'Long', 'Bool', ..."""
    resolved = np.dtype(dtype)
    name = TYPE_NAMES.get(resolved)
    return name[len("torch."):-len("Tensor")] if name else resolved.name


def dtype_arg(dtype: Any, op: str) -> np.dtype | None:
    """A ``dtype=`` argument as a NumPy dtype (None stays None): torch's names (which are
    NumPy dtypes), NumPy dtypes and types, Python's ``float``/``int``/``bool`` (as torch:
    float64, int64, bool), or a legacy name like ``"torch.FloatTensor"``; TypeError otherwise."""
    if dtype is None:
        return None
    if isinstance(dtype, str) and dtype.startswith("torch."):
        for known, name in TYPE_NAMES.items():
            if dtype in (name, f"torch.{known.name}"):
                return known
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: dtype must be a dtype such as torch.float32, got {dtype!r}") from None
    if resolved.kind not in "biufc":
        raise TypeError(f"{op}: dtype {resolved} is not supported (numbers and bool only)")
    return resolved


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def promote_types(*dtypes: Any) -> np.dtype:
    """The dtype torch gives an op of tensors of ``dtypes`` (torch.promote_types): the highest
    category among them (bool < integer < floating < complex) wins, and within it NumPy's rule
    (int64 with float32 is float32, where NumPy says float64)."""
    resolved = [np.dtype(d) for d in dtypes]
    top = max(_CATEGORY[d.kind] for d in resolved)
    return np.result_type(*(d for d in resolved if _CATEGORY[d.kind] == top))


def same_dtype(op: str, *tensors: Any) -> None:
    """Raise torch's RuntimeError unless the tensors share one dtype (the BLAS products' rule)."""
    kinds = [t.dtype for t in tensors]
    if any(k != kinds[0] for k in kinds):
        raise RuntimeError(f"{op}: expected all tensors to have the same dtype, but got "
                           f"{', '.join(scalar_type_name(k) for k in kinds)}")


def is_floating(dtype: np.dtype) -> bool:
    """True for the floating dtypes (the ones that can carry gradients)."""
    if isinstance(dtype, np.dtype):  # the hot path (every arithmetic operator asks)
        return dtype.kind == "f"
    return np.issubdtype(dtype, np.floating)


def get_default_dtype() -> np.dtype:
    """The dtype that Python floats and the float factories give (float32 unless set)."""
    return _tensor_module().DEFAULT_DTYPE


def set_default_dtype(d: Any) -> None:
    """Make ``d`` (torch.float32 or torch.float64) the dtype of Python floats and of the
    float factories (``zeros``, ``rand``, ``tensor([1.5])``...), as torch.set_default_dtype."""
    resolved = dtype_arg(d, "set_default_dtype")
    if resolved not in (float32, float64):
        raise TypeError(f"set_default_dtype: only torch.float32 and torch.float64 are supported, got {d!r}")
    _tensor_module().DEFAULT_DTYPE = resolved


def _tensor_module() -> Any:
    # by module path: the package's attribute ``tensor`` is the factory function
    return importlib.import_module("tinygrad_cnn.tensor")
