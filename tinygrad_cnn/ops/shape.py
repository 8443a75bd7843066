"""Ops that move data without arithmetic: reshape, permute, expand, indexing, pad, cat, stack."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.autograd import Context, Function


class Reshape(Function):
    """The same values in a new ``shape``; the gradient is reshaped back."""

    is_view = True

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        ctx.in_shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return grad.reshape(ctx.in_shape)


class Permute(Function):
    """Axes reordered by ``dims`` (a view); the gradient is permuted by the inverse."""

    is_view = True

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
        return a.transpose(dims)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return grad.transpose(np.argsort(ctx.params["dims"]))


class Expand(Function):
    """A broadcast view of ``a`` with ``shape``; the engine sums the gradient back."""

    is_view = True

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return grad


class GetItem(Function):
    """``a[index]`` for ints, slices, None, Ellipsis, integer arrays and boolean masks.

    The gradient is scattered back with ``np.add.at`` so that repeated indices accumulate.
    """

    op_name = "getitem"
    is_view = True

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, index: Any) -> np.ndarray:
        ctx.in_shape = a.shape
        return np.asarray(a[index])

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        out = np.zeros(ctx.in_shape, dtype=grad.dtype)
        np.add.at(out, ctx.params["index"], grad)
        return out


class Pad(Function):
    """Constant padding; ``pad_width`` is NumPy's ((before, after), ...) for every axis."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, pad_width: tuple[tuple[int, int], ...], value: float = 0.0) -> np.ndarray:
        return np.pad(a, pad_width, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        index = tuple(slice(before, grad.shape[i] - after) for i, (before, after) in enumerate(ctx.params["pad_width"]))
        return grad[index]


class Cat(Function):
    """Inputs joined along an existing ``dim``; the gradient is split at the same offsets."""

    @staticmethod
    def forward(ctx: Context, *arrays: np.ndarray, dim: int) -> np.ndarray:
        ctx.sizes = [a.shape[dim] for a in arrays]
        return np.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return tuple(np.split(grad, np.cumsum(ctx.sizes)[:-1], axis=ctx.params["dim"]))


class Stack(Function):
    """Inputs of one shape joined along a new ``dim``; the gradient is unstacked."""

    @staticmethod
    def forward(ctx: Context, *arrays: np.ndarray, dim: int) -> np.ndarray:
        return np.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        dim = ctx.params["dim"]
        return tuple(np.take(grad, i, axis=dim) for i in range(grad.shape[dim]))
