"""Creation functions, as torch's: tensor, as_tensor, from_numpy, empty, zeros, ones, full,
arange, linspace, logspace, eye, rand, randn, randint, randperm, normal, meshgrid, the
``*_like`` family and the legacy ``FloatTensor``-style constructors.

Each takes torch's ``dtype=``, ``device=`` (the CPU only) and ``requires_grad=``; float
factories draw or fill in their dtype directly (no float64 array is made first); random ones
take ``generator=`` (a ``tinygrad_cnn.Generator``).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from tinygrad_cnn import random as _random
from tinygrad_cnn.devices import device_arg
from tinygrad_cnn.dtypes import dtype_arg, get_default_dtype, is_floating
from tinygrad_cnn.ops.ranges import linspace_values
from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.tensor_math import ArrayLike
from tinygrad_cnn.tensor_shape import shape_arg

Size = int | Sequence[int]
_BLOCK = 1 << 16  # elements computed in float64 at a time by arange


def _made(array: np.ndarray, device: Any, requires_grad: bool, op: str) -> Tensor:
    """``array`` (not copied) as a new leaf tensor, after checking ``device``."""
    device_arg(device, op)
    out = Tensor.from_op(array, None)
    if requires_grad:
        if not is_floating(array.dtype):
            raise RuntimeError(f"{op}: only floating point tensors can require gradients, got dtype {array.dtype}")
        out.requires_grad = True
    return out


def _float_dtype(dtype: Any, op: str) -> np.dtype:
    resolved = dtype_arg(dtype, op) or get_default_dtype()
    if not is_floating(resolved):
        raise RuntimeError(f"{op}: random floats need a floating dtype, got {resolved}")
    return resolved


def _no_out(out: Any, op: str) -> None:
    if out is not None:
        raise NotImplementedError(f"{op}: out= is not supported by tinygrad_cnn's factories; assign the result instead")


def _inferred(data: Any) -> np.ndarray:
    """Python data as an array with torch.tensor's dtype: floats the default dtype, ints int64, bools bool."""
    array = np.asarray(data)
    kind = {"f": get_default_dtype(), "i": np.int64, "u": np.int64, "b": np.bool_, "c": np.complex64}.get(array.dtype.kind)
    if kind is None:
        raise TypeError(f"tensor: could not infer a dtype for data of type {type(data).__name__} ({array.dtype})")
    return array.astype(kind, copy=False)


def tensor(data: ArrayLike, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data``, its dtype inferred as torch.tensor does:
    Python floats give the default dtype (float32), ints int64, bools bool; arrays and tensors keep theirs."""
    dt = dtype_arg(dtype, "tensor")
    if isinstance(data, Tensor):
        data = data.numpy()
    if not isinstance(data, (np.ndarray, np.generic)) and dt is None:
        array = np.array(_inferred(data))
    else:
        array = np.array(data, dtype=dt)
    return _made(array, device, requires_grad, "tensor")


def as_tensor(data: ArrayLike, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` as a tensor without copying when it already is one (or an ndarray) of the
    right dtype: the result then shares memory with ``data``, as torch.as_tensor."""
    dt = dtype_arg(dtype, "as_tensor")
    if isinstance(data, Tensor):
        device_arg(device, "as_tensor")
        return data if dt is None else data.to(dt)
    if isinstance(data, np.ndarray):
        return _made(data if dt is None else data.astype(dt, copy=False), device, False, "as_tensor")
    return tensor(data, dtype=dt, device=device)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing ``ndarray``'s memory and dtype: writes to either show in the other."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(ndarray).__name__})")
    if ndarray.dtype.kind not in "biufc":
        raise TypeError(f"from_numpy: can't convert np.ndarray of type {ndarray.dtype}; supported: numbers and bool")
    return Tensor.from_op(ndarray, None)


def empty(*size: Size, out: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor of ``size`` (the default float dtype unless ``dtype``)."""
    _no_out(out, "empty")
    return _made(np.empty(shape_arg(size), dtype=dtype_arg(dtype, "empty") or get_default_dtype()), device,
                 requires_grad, "empty")


def zeros(*size: Size, out: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros of ``size`` (given as ints or one sequence)."""
    _no_out(out, "zeros")
    return _made(np.zeros(shape_arg(size), dtype=dtype_arg(dtype, "zeros") or get_default_dtype()), device,
                 requires_grad, "zeros")


def ones(*size: Size, out: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones of ``size``."""
    _no_out(out, "ones")
    return _made(np.ones(shape_arg(size), dtype=dtype_arg(dtype, "ones") or get_default_dtype()), device,
                 requires_grad, "ones")


def full(size: Size, fill_value: Any, *, out: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``; its dtype follows the value (bool,
    int64, or the default float dtype) unless ``dtype``, as torch.full."""
    _no_out(out, "full")
    dt = dtype_arg(dtype, "full") or _inferred(fill_value.item() if isinstance(fill_value, Tensor) else fill_value).dtype
    return _made(np.full(shape_arg((size,)), fill_value, dtype=dt), device, requires_grad, "full")


def _number(value: Any) -> Any:
    return value.item() if isinstance(value, (Tensor, np.ndarray, np.generic)) else value


def arange(start: float, end: float | None = None, step: float = 1, *, out: Any = None, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``: int64 when all three are
    integers, else the default float dtype (unless ``dtype``); ``start + i * step`` rounded once, as torch."""
    _no_out(out, "arange")
    start, end, step = (_number(v) for v in (start, end, step))
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    integral = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    dt = dtype_arg(dtype, "arange") or (np.dtype(np.int64) if integral else get_default_dtype())
    count = max(math.ceil((end - start) / step), 0)
    if integral and dt.kind in "iu":
        values = np.arange(start, end, step, dtype=dt)
    elif is_floating(dt):  # torch computes start + i * step in float64; here a block at a time
        values = np.empty(count, dtype=dt)
        for low in range(0, count, _BLOCK):
            values[low:low + _BLOCK] = start + np.arange(low, min(low + _BLOCK, count), dtype=np.float64) * step
    else:
        values = (start + np.arange(count) * step).astype(dt)
    return _made(values, device, requires_grad, "arange")


def linspace(start: float, end: float, steps: int, *, out: Any = None, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` (both included), computed in
    the dtype as torch does (the first half counted up from start, the second down from end)."""
    _no_out(out, "linspace")
    steps = int(steps)
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    dt = dtype_arg(dtype, "linspace") or get_default_dtype()
    work = dt if is_floating(dt) else np.dtype(np.float64)
    values = linspace_values(_number(start), _number(end), steps, work)
    return _made(values.astype(dt, copy=False), device, requires_grad, "linspace")


def logspace(start: float, end: float, steps: int, base: float = 10.0, *, out: Any = None, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """``steps`` values from base**start to base**end, evenly spaced in the exponent."""
    _no_out(out, "logspace")
    exponents = linspace(start, end, steps, dtype=dtype).numpy()
    values = np.power(exponents.dtype.type(base), exponents) if is_floating(exponents.dtype) else base ** exponents
    return _made(np.asarray(values).astype(exponents.dtype, copy=False), device, requires_grad, "logspace")


def eye(n: int, m: int | None = None, *, out: Any = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix (m defaults to n)."""
    _no_out(out, "eye")
    return _made(np.eye(n, m, dtype=dtype_arg(dtype, "eye") or get_default_dtype()), device, requires_grad, "eye")


def rand(*size: Size, generator: Any = None, out: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform [0, 1) samples of ``size`` from ``generator`` (the global one, seeded by ``manual_seed``)."""
    _no_out(out, "rand")
    dt = _float_dtype(dtype, "rand")
    draw = _random.resolve(generator, "rand").random(shape_arg(size), dtype=dt if dt.itemsize >= 4 else np.float32)
    return _made(draw.astype(dt, copy=False), device, requires_grad, "rand")


def randn(*size: Size, generator: Any = None, out: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples of ``size`` from ``generator`` (the global one, seeded by ``manual_seed``)."""
    _no_out(out, "randn")
    dt = _float_dtype(dtype, "randn")
    rng = _random.resolve(generator, "randn")
    draw = rng.standard_normal(shape_arg(size), dtype=dt if dt.itemsize >= 4 else np.float32)
    return _made(draw.astype(dt, copy=False), device, requires_grad, "randn")


def randint(*args: Any, size: Size | None = None, generator: Any = None, out: Any = None, dtype: Any = None,
            device: Any = None, requires_grad: bool = False) -> Tensor:
    """Integers uniform in [low, high) of ``size``: ``randint(high, size)`` or
    ``randint(low, high, size)`` (int64 unless ``dtype``)."""
    _no_out(out, "randint")
    values = list(args) + ([] if size is None else [size])
    if len(values) not in (2, 3):
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
    low, high, shape = ([0] + values) if len(values) == 2 else values
    low, high = int(_number(low)), int(_number(high))
    if low >= high:
        raise RuntimeError(f"randint: expected low < high, got low={low}, high={high}")
    draw = _random.resolve(generator, "randint").integers(low, high, shape_arg((shape,)), dtype=np.int64)
    return _made(draw.astype(dtype_arg(dtype, "randint") or np.int64, copy=False), device, requires_grad, "randint")


def randperm(n: int, *, generator: Any = None, out: Any = None, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """A random permutation of 0 .. n-1 (int64 unless ``dtype``)."""
    _no_out(out, "randperm")
    if int(n) < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    draw = _random.resolve(generator, "randperm").permutation(int(n))
    return _made(draw.astype(dtype_arg(dtype, "randperm") or np.int64), device, requires_grad, "randperm")


def normal(mean: Any = 0.0, std: Any = 1.0, size: Size | None = None, *, generator: Any = None, out: Any = None,
           dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Normal samples with ``mean`` and ``std`` (numbers or tensors, broadcast; numbers need
    ``size``), as torch.normal. The result is a new leaf (no gradient to mean or std)."""
    _no_out(out, "normal")
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if tensors:
        dt = tensors[0].dtype
        shape = np.broadcast_shapes(*(np.shape(v) for v in (mean, std)))
    else:
        if size is None:
            raise TypeError("normal: with a number mean and std, size must be given")
        dt, shape = _float_dtype(dtype, "normal"), shape_arg((size,))
    if np.any(np.asarray(std) < 0):
        raise RuntimeError(f"normal: std must be >= 0, got {std}")
    draw = _random.resolve(generator, "normal").standard_normal(shape, dtype=dt if dt.itemsize >= 4 else np.float32)
    values = draw * np.asarray(std, dtype=dt) + np.asarray(mean, dtype=dt)
    return _made(values.astype(dt, copy=False), device, requires_grad, "normal")


def meshgrid(*tensors: Tensor | Sequence[Tensor], indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors: with ``indexing="ij"`` (torch's default) output i
    varies along dim i; with "xy" the first two dims are swapped. Differentiable."""
    items = list(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else list(tensors)
    indexing = "ij" if indexing is None else indexing
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if any(t.ndim > 1 for t in items):
        raise RuntimeError(f"meshgrid: expects 0-D or 1-D tensors, got shapes {[tuple(t.shape) for t in items]}")
    positions = list(range(len(items)))
    if indexing == "xy" and len(items) >= 2:
        positions[0], positions[1] = 1, 0
    shape = [0] * len(items)
    for t, p in zip(items, positions):
        shape[p] = t.numel()
    grids = []
    for t, p in zip(items, positions):
        view = [1] * len(items)
        view[p] = t.numel()
        grids.append(t.reshape(view).expand(shape))
    return tuple(grids)


def _like(input: Any, dtype: Any, op: str) -> tuple[tuple[int, ...], np.dtype]:
    return tuple(np.shape(input)), dtype_arg(dtype, op) or np.asarray(input).dtype


def empty_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
               memory_format: Any = None) -> Tensor:
    """An uninitialised tensor with ``input``'s shape and dtype."""
    shape, dt = _like(input, dtype, "empty_like")
    return _made(np.empty(shape, dtype=dt), device, requires_grad, "empty_like")


def zeros_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
               memory_format: Any = None) -> Tensor:
    """Zeros with ``input``'s shape and dtype."""
    shape, dt = _like(input, dtype, "zeros_like")
    return _made(np.zeros(shape, dtype=dt), device, requires_grad, "zeros_like")


def ones_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
              memory_format: Any = None) -> Tensor:
    """Ones with ``input``'s shape and dtype."""
    shape, dt = _like(input, dtype, "ones_like")
    return _made(np.ones(shape, dtype=dt), device, requires_grad, "ones_like")


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
              memory_format: Any = None) -> Tensor:
    """``fill_value`` in ``input``'s shape and dtype."""
    shape, dt = _like(input, dtype, "full_like")
    return _made(np.full(shape, fill_value, dtype=dt), device, requires_grad, "full_like")


def rand_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
              memory_format: Any = None) -> Tensor:
    """Uniform [0, 1) samples with ``input``'s shape and (floating) dtype."""
    shape, dt = _like(input, dtype, "rand_like")
    return rand(shape, dtype=dt, device=device, requires_grad=requires_grad)


def randn_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
               memory_format: Any = None) -> Tensor:
    """Standard normal samples with ``input``'s shape and (floating) dtype."""
    shape, dt = _like(input, dtype, "randn_like")
    return randn(shape, dtype=dt, device=device, requires_grad=requires_grad)


def randint_like(input: Tensor, low: int = 0, high: int | None = None, *, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """Integers uniform in [low, high) with ``input``'s shape and dtype (``randint_like(x, high)`` too)."""
    if high is None:
        low, high = 0, low
    shape, dt = _like(input, dtype, "randint_like")
    return randint(low, high, shape, dtype=dt, device=device, requires_grad=requires_grad)


def _legacy(name: str, dtype: Any) -> Any:
    def constructor(*args: Any, device: Any = None) -> Tensor:
        if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
            return zeros(*args, dtype=dtype, device=device)  # torch: uninitialised; zeros are deterministic
        if len(args) != 1:
            raise TypeError(f"{name}: expected sizes (ints) or one sequence of data, got {args!r}")
        return tensor(args[0], dtype=dtype, device=device)

    constructor.__name__ = constructor.__qualname__ = name
    constructor.__doc__ = (f"torch.{name}(data) or torch.{name}(*sizes): a {np.dtype(dtype)} tensor of the data, "
                           "or of zeros of the sizes (torch's legacy constructor).")
    return constructor


FloatTensor = _legacy("FloatTensor", np.float32)
DoubleTensor = _legacy("DoubleTensor", np.float64)
HalfTensor = _legacy("HalfTensor", np.float16)
LongTensor = _legacy("LongTensor", np.int64)
IntTensor = _legacy("IntTensor", np.int32)
ByteTensor = _legacy("ByteTensor", np.uint8)
BoolTensor = _legacy("BoolTensor", np.bool_)
