"""Creation functions, as torch's: tensor, zeros, ones, full, rand, randn, arange, eye, *_like."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinygrad_cnn import random as _random
from tinygrad_cnn.tensor import DEFAULT_DTYPE, Tensor, as_array
from tinygrad_cnn.tensor_math import ArrayLike
from tinygrad_cnn.tensor_shape import shape_arg


def tensor(data: ArrayLike, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data``, its dtype inferred as torch.tensor does:
    Python floats give float32, ints int64, bools bool; arrays keep theirs."""
    if dtype is None and not isinstance(data, (Tensor, np.ndarray, np.generic)):
        inferred = np.asarray(data)
        dtype = {"f": DEFAULT_DTYPE, "i": np.int64, "u": np.int64, "b": np.bool_}.get(inferred.dtype.kind)
    return Tensor(np.array(as_array(data, dtype)), requires_grad=requires_grad)



def _factory(array: np.ndarray, dtype: Any, requires_grad: bool) -> Tensor:
    return Tensor(array.astype(DEFAULT_DTYPE if dtype is None else dtype, copy=False), requires_grad=requires_grad)


def zeros(*shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros with ``shape`` (float32 unless ``dtype``)."""
    return _factory(np.zeros(shape_arg(shape)), dtype, requires_grad)


def ones(*shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones with ``shape``."""
    return _factory(np.ones(shape_arg(shape)), dtype, requires_grad)


def full(shape: int | Sequence[int], fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value``."""
    return _factory(np.full(shape_arg((shape,)), fill_value), dtype, requires_grad)


def randn(*shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples of ``shape`` from the generator seeded by ``manual_seed``."""
    return _factory(_random.generator().standard_normal(shape_arg(shape)), dtype, requires_grad)


def rand(*shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform [0, 1) samples of ``shape`` from the generator seeded by ``manual_seed``."""
    return _factory(_random.generator().random(shape_arg(shape)), dtype, requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 for integer arguments."""
    if end is None:
        start, end = 0, start
    values = np.arange(start, end, step)
    if dtype is None and np.issubdtype(values.dtype, np.integer):
        dtype = np.int64
    return _factory(values, dtype, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix (m defaults to n)."""
    return _factory(np.eye(n, m), dtype, requires_grad)


def zeros_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with ``other``'s shape and dtype."""
    return zeros(other.shape, dtype=other.dtype if dtype is None else dtype, requires_grad=requires_grad)


def ones_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with ``other``'s shape and dtype."""
    return ones(other.shape, dtype=other.dtype if dtype is None else dtype, requires_grad=requires_grad)
