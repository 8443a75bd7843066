"""Tensor's dtype and device methods (to, type, float, cpu, ...), the new_* factories and
the questions about a tensor (is_floating_point, element_size, stride, allclose, equal):
a mixin of Tensor."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinygrad_cnn.devices import CPU, device, device_arg
from tinygrad_cnn.dtypes import TYPE_NAMES, dtype_arg, is_floating
from tinygrad_cnn.ops import elementwise as E
from tinygrad_cnn.tensor_shape import shape_arg


def _looks_like_dtype(value: Any) -> bool:
    return isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, (np.generic, float, int, bool)))


def to_arguments(args: tuple, kwargs: dict, op: str) -> tuple[np.dtype | None, bool]:
    """The (dtype or None, copy) that ``.to(*args, **kwargs)`` asks for, in any of torch's
    forms: ``to(dtype)``, ``to(device, dtype=None)``, ``to(other_tensor)``, with the keywords
    ``device``, ``dtype``, ``non_blocking``, ``copy``, ``memory_format``. A non-CPU device
    raises RuntimeError; ``Module.to`` reads its arguments through this too."""
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy", "memory_format"}
    if unknown:
        raise TypeError(f"{op}: unexpected keyword argument(s) {sorted(unknown)}")
    dtype, dev = kwargs.get("dtype"), kwargs.get("device")
    positional = list(args)
    if positional and hasattr(positional[0], "numpy") and hasattr(positional[0], "dtype"):
        dtype = positional.pop(0).dtype  # to(other): its dtype and (always CPU) device
    for value in positional:
        if isinstance(value, bool):  # torch's positional non_blocking, copy
            continue
        if isinstance(value, (str, device)) or (isinstance(value, int) and not _looks_like_dtype(value)):
            dev = value
        elif _looks_like_dtype(value) or dtype_arg(value, op) is not None:
            dtype = value
    device_arg(dev, op)
    return dtype_arg(dtype, op), bool(kwargs.get("copy", False))


class ConvertMixin:
    """dtype/device conversions, ``new_*`` factories and queries."""

    _array: np.ndarray

    # ---------------------------------------------------------------- device
    @property
    def device(self) -> device:
        """Where the tensor lives: always ``device(type='cpu')``."""
        return CPU

    def __format__(self, format_spec: str) -> str:
        """``format(t, spec)`` / f"{t:.2f}": a 0-d tensor formats as its Python number, any other
        as its repr (a non-empty ``spec`` is then a TypeError), as torch's."""
        if self._array.ndim == 0:
            return self._array.item().__format__(format_spec)
        return object.__format__(self, format_spec)

    is_cpu = True
    # dense CPU arrays only: every other device and layout flag of torch's is False
    is_cuda = is_xpu = is_mps = is_ipu = is_maia = is_mtia = is_xla = is_vulkan = is_mkldnn = False
    is_sparse = is_sparse_csr = is_quantized = is_meta = is_nested = False

    def cpu(self) -> "Tensor":
        """self: tensors already live on the CPU."""
        return self

    def cuda(self, device: Any = None, non_blocking: bool = False) -> "Tensor":
        """Raise RuntimeError: tinygrad_cnn computes on the CPU only."""
        device_arg("cuda" if device is None else device, "Tensor.cuda")
        return self

    # ---------------------------------------------------------------- dtype
    def to(self, *args: Any, **kwargs: Any) -> "Tensor":
        """This tensor with another dtype (and/or on a device, which must be the CPU), as
        torch's ``to(dtype)``, ``to(device, dtype)``, ``to(other)``; self when nothing changes
        (unless ``copy=True``). Differentiable between float dtypes."""
        dtype, copy = to_arguments(args, kwargs, "Tensor.to")
        return self._cast(self.dtype if dtype is None else dtype, copy)

    def _cast(self, dtype: np.dtype, copy: bool = False) -> "Tensor":
        if dtype == self.dtype:
            return self.clone() if copy else self
        if is_floating(dtype) and is_floating(self.dtype):
            return E.Cast.apply(self, dtype=dtype)
        return self.from_op(self._array.astype(dtype), None)

    def astype(self, dtype: Any) -> "Tensor":
        """This tensor converted to ``dtype`` (NumPy's name for ``to(dtype)``)."""
        return self._cast(dtype_arg(dtype, "astype"))

    def type(self, dtype: Any = None, non_blocking: bool = False) -> "str | Tensor":
        """Without ``dtype``: torch's type name ("torch.FloatTensor"); with one (a dtype or a
        name such as "torch.LongTensor"): this tensor converted to it."""
        if dtype is None:
            return TYPE_NAMES.get(self.dtype, f"torch.{self.dtype.name}")
        return self._cast(dtype_arg(dtype, "Tensor.type"))

    def type_as(self, other: "Tensor") -> "Tensor":
        """This tensor converted to ``other``'s dtype."""
        return self._cast(other.dtype)

    # ---------------------------------------------------------------- new_* factories
    def _new(self, array: np.ndarray, dtype: Any, device: Any, requires_grad: bool, op: str) -> "Tensor":
        device_arg(device, op)
        resolved = self.dtype if dtype is None else dtype_arg(dtype, op)
        out = self.from_op(array.astype(resolved, copy=False), None)
        if requires_grad:
            out.requires_grad = True
        return out

    def new_tensor(self, data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> "Tensor":
        """A new tensor holding a copy of ``data``, with this tensor's dtype unless ``dtype``."""
        array = np.array(data.numpy() if hasattr(data, "numpy") else data)
        return self._new(array, dtype, device, requires_grad, "new_tensor")

    def new_zeros(self, *size: int | Sequence[int], dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> "Tensor":
        """Zeros of ``size``, with this tensor's dtype unless ``dtype``."""
        return self._new(np.zeros(shape_arg(size), dtype=dtype_arg(dtype, "new_zeros") or self.dtype),
                         dtype, device, requires_grad, "new_zeros")

    def new_ones(self, *size: int | Sequence[int], dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> "Tensor":
        """Ones of ``size``, with this tensor's dtype unless ``dtype``."""
        return self._new(np.ones(shape_arg(size), dtype=dtype_arg(dtype, "new_ones") or self.dtype),
                         dtype, device, requires_grad, "new_ones")

    def new_empty(self, *size: int | Sequence[int], dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> "Tensor":
        """An uninitialised tensor of ``size``, with this tensor's dtype unless ``dtype``."""
        return self._new(np.empty(shape_arg(size), dtype=dtype_arg(dtype, "new_empty") or self.dtype),
                         dtype, device, requires_grad, "new_empty")

    def new_full(self, size: Sequence[int], fill_value: float, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> "Tensor":
        """``size`` filled with ``fill_value``, with this tensor's dtype unless ``dtype``."""
        return self._new(np.full(shape_arg((size,)), fill_value, dtype=dtype_arg(dtype, "new_full") or self.dtype),
                         dtype, device, requires_grad, "new_full")

    # ---------------------------------------------------------------- questions
    def is_floating_point(self) -> bool:
        """True for a floating dtype (float16/32/64)."""
        return is_floating(self.dtype)

    def is_complex(self) -> bool:
        """True for a complex dtype."""
        return self._array.dtype.kind == "c"

    def element_size(self) -> int:
        """Bytes per element."""
        return self._array.itemsize

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self._array.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes of all the elements."""
        return self._array.nbytes

    def nelement(self) -> int:
        """Number of elements (torch's older name for ``numel``)."""
        return self._array.size

    def ndimension(self) -> int:
        """Number of dimensions (torch's older name for ``dim``)."""
        return self._array.ndim

    def stride(self, dim: int | None = None) -> "tuple[int, ...] | int":
        """Elements (not bytes) to step in memory per index of each dim, or of ``dim``."""
        strides = tuple(s // self._array.itemsize for s in self._array.strides)
        return strides if dim is None else strides[dim]

    def is_contiguous(self, memory_format: Any = None) -> bool:
        """True when the elements lie in memory in row-major order without gaps."""
        return self._array.flags.c_contiguous

    def allclose(self, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
        """True when |self - other| <= atol + rtol * |other| everywhere (broadcast), as torch.allclose."""
        return bool(np.allclose(self._array, np.asarray(other), rtol=rtol, atol=atol, equal_nan=equal_nan))

    def isclose(self, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> "Tensor":
        """Elementwise |self - other| <= atol + rtol * |other| (a bool tensor)."""
        return self.from_op(np.isclose(self._array, np.asarray(other), rtol=rtol, atol=atol, equal_nan=equal_nan), None)

    def equal(self, other: Any) -> bool:
        """True when ``other`` has this shape and the same values, as torch.equal."""
        other = np.asarray(other)
        return self.shape == other.shape and bool(np.array_equal(self._array, other))


def _cast_method(name: str, dtype: type, note: str) -> Any:
    def method(self: ConvertMixin) -> "Tensor":
        return self._cast(np.dtype(dtype))

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"This tensor as {np.dtype(dtype).name}{note}."
    return method


# torch's conversion methods: (name, dtype, what the docstring adds)
CAST_METHODS = [
    ("float", np.float32, ""), ("double", np.float64, ""), ("half", np.float16, ""),
    ("long", np.int64, " (no gradient)"), ("int", np.int32, " (no gradient)"), ("short", np.int16, " (no gradient)"),
    ("byte", np.uint8, " (no gradient)"), ("bool", np.bool_, ": True where non-zero (no gradient)"),
]
for _name, _dtype, _note in CAST_METHODS:
    setattr(ConvertMixin, _name, _cast_method(_name, _dtype, _note))
