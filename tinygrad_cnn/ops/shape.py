"""Ops that move data without arithmetic: reshape (and flatten), permute, expand, indexing, pad, cat, stack,
gather, scatter, tile, roll, flip, clone."""

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


class Flatten(Reshape):
    """torch.flatten: a Reshape to ``shape`` that records the dims it merged (``start_dim``..
    ``end_dim``, non-negative), so the graph shows the flatten that was called."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, shape: tuple[int, ...], start_dim: int, end_dim: int) -> np.ndarray:
        return Reshape.forward(ctx, a, shape)


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


def along(index: np.ndarray, dim: int) -> tuple[np.ndarray, ...]:
    """The fancy index that picks ``x[..., index[i, j, ...], ...]`` along ``dim`` for every
    position of ``index`` (torch's gather/scatter addressing), as a tuple of broadcast arrays."""
    grid = list(np.indices(index.shape, sparse=True))
    grid[dim] = index
    return tuple(grid)


def corner(shape: tuple[int, ...], dim: int) -> tuple[slice, ...]:
    """The slices taking the leading ``shape`` of an array in every dim except ``dim``."""
    return tuple(slice(None) if d == dim else slice(0, n) for d, n in enumerate(shape))


class Gather(Function):
    """``out[i][j] = a[index[i][j]][j]`` for dim 0 (and so on), as torch.gather; ``index`` is
    an int64 array of a's ndim, no larger than ``a`` outside ``dim``. The gradient is
    scattered back, repeated indices accumulating."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, index: np.ndarray, dim: int) -> np.ndarray:
        ctx.in_shape = a.shape
        return a[along(index, dim)]

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        out = np.zeros(ctx.in_shape, dtype=grad.dtype)
        np.add.at(out, along(ctx.params["index"], ctx.params["dim"]), grad)
        return out


class Scatter(Function):
    """A copy of ``a`` with ``src`` written at ``index`` along ``dim`` (torch.scatter), or
    added there when ``add`` (torch.scatter_add). Only src's corner of index's shape is used.
    d/da is 1 except at overwritten places; d/dsrc gathers the gradient at ``index``."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, src: np.ndarray, index: np.ndarray, dim: int,
                add: bool = False) -> np.ndarray:
        ctx.src_shape = src.shape
        out = a.copy()
        values = src[corner(index.shape, dim)] if src.ndim else src
        if add:
            np.add.at(out, along(index, dim), values)
        else:
            out[along(index, dim)] = values
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        index, dim = ctx.params["index"], ctx.params["dim"]
        grad_a = grad_src = None
        if ctx.needs_input_grad[0]:
            grad_a = grad
            if not ctx.params["add"]:
                grad_a = grad.copy()
                grad_a[along(index, dim)] = 0
        if ctx.needs_input_grad[1]:
            grad_src = np.zeros(ctx.src_shape, dtype=grad.dtype)
            grad_src[corner(index.shape, dim)] = grad[along(index, dim)]
        return grad_a, grad_src


class Tile(Function):
    """``a`` repeated ``reps[i]`` times along dim i, as torch's ``repeat`` (len(reps) >= a.ndim;
    leading dims are added); the gradient sums the copies."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, reps: tuple[int, ...]) -> np.ndarray:
        ctx.in_shape = a.shape
        return np.tile(a, reps)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        reps = ctx.params["reps"]
        sizes = (1,) * (len(reps) - len(ctx.in_shape)) + ctx.in_shape
        split = grad.reshape(tuple(n for pair in zip(reps, sizes) for n in pair))
        return split.sum(axis=tuple(range(0, 2 * len(reps), 2))).reshape(ctx.in_shape)


class Roll(Function):
    """``a`` rolled by ``shifts`` along ``dims`` (flattened when dims is None), as torch.roll;
    the gradient is rolled back."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, shifts: int | tuple[int, ...], dims: int | tuple[int, ...] | None = None
                ) -> np.ndarray:
        return np.roll(a, shifts, dims)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        shifts = ctx.params["shifts"]
        back = tuple(-s for s in shifts) if isinstance(shifts, tuple) else -shifts
        return np.roll(grad, back, ctx.params["dims"])


class Flip(Function):
    """A copy of ``a`` with the order along ``dims`` reversed; the gradient is flipped back."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
        return np.flip(a, dims).copy()

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return np.flip(grad, ctx.params["dims"])


class Clone(Function):
    """A copy of ``a`` in new memory; the gradient passes unchanged."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        return a.copy()

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return grad
