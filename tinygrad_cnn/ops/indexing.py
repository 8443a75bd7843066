"""Ops that read or write a tensor at indices or through strides: index_add, index_copy,
index_fill, index_put, scatter_reduce, masked_scatter, take, put, and the views unfold and
as_strided (plus rot90). Each writing op returns a new array (the in-place methods copy
it back into the tensor); indices arrive checked, as int64 arrays or tuples of them."""

from __future__ import annotations

import numpy as np

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.ops.shape import along


def on_axis(index: np.ndarray, dim: int) -> tuple:
    """The index that picks the entries ``index`` of axis ``dim`` (all of the other axes)."""
    return (slice(None),) * dim + (index,)


def leading(shape: tuple[int, ...]) -> tuple[slice, ...]:
    """The slices taking the leading ``shape`` of an array (the part of src a scatter uses)."""
    return tuple(slice(0, n) for n in shape)


def zeroed(grad: np.ndarray, region: tuple) -> np.ndarray:
    """A copy of ``grad`` with ``region`` set to 0: the gradient of values that were overwritten."""
    out = grad.copy()
    out[region] = 0
    return out


class IndexAdd(Function):
    """``a`` (at least 1-D) with ``alpha * src`` added along ``dim`` at the 1-D ``index``:
    ``out[..., index[i], ...] += alpha * src[..., i, ...]``, repeats accumulating. The
    gradient of a passes; src's is ``alpha * grad[..., index, ...]``."""

    op_name = "index_add"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, src: np.ndarray, index: np.ndarray, dim: int, alpha: float = 1
                ) -> np.ndarray:
        out = a.copy()
        np.add.at(out, on_axis(index, dim), src if alpha == 1 else (src * alpha).astype(a.dtype))
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        alpha = ctx.params["alpha"]
        picked = np.take(grad, ctx.params["index"], axis=ctx.params["dim"]) if ctx.needs_input_grad[1] else None
        return grad, None if picked is None else picked * alpha


class IndexCopy(Function):
    """``a`` (at least 1-D) with ``out[..., index[i], ...] = src[..., i, ...]`` along ``dim``.
    The overwritten entries of a get no gradient; src's is ``grad[..., index, ...]``."""

    op_name = "index_copy"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, src: np.ndarray, index: np.ndarray, dim: int) -> np.ndarray:
        out = a.copy()
        out[on_axis(index, dim)] = src
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        index, dim = ctx.params["index"], ctx.params["dim"]
        grad_a = zeroed(grad, on_axis(index, dim)) if ctx.needs_input_grad[0] else None
        grad_src = np.take(grad, index, axis=dim) if ctx.needs_input_grad[1] else None
        return grad_a, grad_src


class IndexFill(IndexCopy):
    """``a`` (at least 1-D) with the entries ``index`` (non-negative) of ``dim`` set to the
    0-D ``value`` (IndexCopy's forward, the value broadcast). The filled entries of a get no
    gradient; value's is their gradients' sum."""

    op_name = "index_fill"

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        region = on_axis(np.unique(ctx.params["index"]), ctx.params["dim"])
        grad_a = zeroed(grad, region) if ctx.needs_input_grad[0] else None
        return grad_a, grad[region].sum() if ctx.needs_input_grad[1] else None


class IndexPut(Function):
    """``a`` with ``a[indices] = values`` (``indices`` a tuple of integer arrays, ``values``
    broadcast to the indexed shape), or ``+=`` with repeats accumulating when ``accumulate``.
    a's gradient is zeroed where overwritten; values' is ``grad[indices]``."""

    op_name = "index_put"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, values: np.ndarray, indices: tuple, accumulate: bool = False
                ) -> np.ndarray:
        out = a.copy()
        if accumulate:
            np.add.at(out, indices, values)
        else:
            out[indices] = values
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        indices = ctx.params["indices"]
        grad_a = None
        if ctx.needs_input_grad[0]:
            grad_a = grad if ctx.params["accumulate"] else zeroed(grad, indices)
        return grad_a, grad[indices] if ctx.needs_input_grad[1] else None


SCATTER_UFUNCS = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}


def _identity(reduce: str, dtype: np.dtype):
    """The value a position starts from when ``include_self`` is False."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    low, high = (-np.inf, np.inf) if dtype.kind == "f" else (info.min, info.max)
    return low if reduce == "amax" else high


def scatter_reduced(a: np.ndarray, src: np.ndarray, place: tuple, reduce: str, include_self: bool) -> np.ndarray:
    """``a`` with each ``src`` value reduced into its position ``a[place]`` (not the mean's division)."""
    out = a.copy()
    if not include_self:
        out[place] = _identity(reduce, a.dtype)
    SCATTER_UFUNCS[reduce].at(out, place, src)
    return out


class ScatterReduce(Function):
    """torch.scatter_reduce: ``a`` with ``src[i][j]`` reduced (sum, prod, mean, amax, amin)
    into ``a[index[i][j]][j]`` for dim 0 (and so on); ``include_self`` False leaves a's own
    values out of the reduction where something is scattered. An integer mean rounds down.
    Gradients as torch's: the mean's divided by the count, amax/amin's shared among the tied
    winners, prod's the product of the others (zeros handled without division)."""

    op_name = "scatter_reduce"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, src: np.ndarray, index: np.ndarray, dim: int, reduce: str,
                include_self: bool = True) -> np.ndarray:
        place, values = along(index, dim), src[leading(index.shape)]
        out = scatter_reduced(a, values, place, reduce, include_self)
        if reduce == "mean":
            count = np.full(a.shape, 1 if include_self else 0, dtype=np.int64)
            np.add.at(count, place, 1)
            ctx.count = np.maximum(count, 1)
            out = (out / ctx.count if a.dtype.kind == "f" else out // ctx.count).astype(a.dtype)
        ctx.save_for_backward(a, src, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        a, src_full, out = ctx.saved_tensors
        index, dim, reduce, include_self = (ctx.params[k] for k in ("index", "dim", "reduce", "include_self"))
        place, region = along(index, dim), leading(index.shape)
        src = src_full[region]
        if reduce == "sum":
            grad_a, grad_src = grad, grad[place]
        elif reduce == "mean":
            grad_a = grad / ctx.count
            grad_src = grad_a[place]
        elif reduce == "prod":
            grad_a, grad_src = _prod_grads(a, src, out, grad, place, include_self)
        else:
            self_wins = (a == out).astype(grad.dtype)
            if not include_self:  # a left out of the reduction shares in no tie
                self_wins[place] = 0
            src_wins = (src == out[place]).astype(grad.dtype)
            winners = self_wins.copy()
            np.add.at(winners, place, src_wins)
            shared = grad / winners
            grad_a, grad_src = self_wins * shared, src_wins * shared[place]
        if not include_self:
            grad_a = zeroed(grad_a, place)
        grad_src_full = np.zeros(src_full.shape, dtype=grad.dtype)
        grad_src_full[region] = grad_src
        return grad_a, grad_src_full


def _prod_grads(a: np.ndarray, src: np.ndarray, out: np.ndarray, grad: np.ndarray, place: tuple,
                include_self: bool) -> tuple[np.ndarray, np.ndarray]:
    """The gradients of a scattered product, as torch's: each factor's is the product of the
    others, computed by division where that factor is not 0 and by leaving it out where it is."""
    masked_a = np.where(a == 0, 1, a)
    grad_a = grad * scatter_reduced(masked_a, src, place, "prod", include_self) / masked_a
    src_zero = src == 0
    zeros_there = np.zeros(a.shape, dtype=np.int64)
    np.add.at(zeros_there, place, src_zero)
    lone_zero = src_zero & (zeros_there[place] == 1)
    without_zero = scatter_reduced(a, np.where(lone_zero, 1, src), place, "prod", include_self)
    grad_src = np.where(lone_zero, (grad * without_zero)[place], (grad * out)[place] / np.where(src_zero, 1, src))
    return grad_a, grad_src


class MaskedScatter(Function):
    """``a`` broadcast to ``mask``'s shape with the elements where ``mask`` is True replaced,
    in row-major order, by the first elements of ``source``. a's gradient is zeroed there;
    source's first elements get the gradient read from there, the rest none."""

    op_name = "masked_scatter"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, source: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out = np.broadcast_to(a, mask.shape).copy()
        ctx.count, ctx.source_shape = int(mask.sum()), source.shape
        out[mask] = source.reshape(-1)[:ctx.count]
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        mask = ctx.params["mask"]
        grad_a = np.where(mask, 0, grad) if ctx.needs_input_grad[0] else None
        grad_source = None
        if ctx.needs_input_grad[1]:
            grad_source = np.zeros(int(np.prod(ctx.source_shape)), dtype=grad.dtype)
            grad_source[:ctx.count] = grad[mask]
            grad_source = grad_source.reshape(ctx.source_shape)
        return grad_a, grad_source


class Take(Function):
    """The elements of ``a`` flattened, at the positions ``index`` (any shape, negative from
    the end): the result has index's shape. The gradient is added back, repeats accumulating."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, index: np.ndarray) -> np.ndarray:
        ctx.in_shape = a.shape
        return a.reshape(-1)[index]

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        out = np.zeros(int(np.prod(ctx.in_shape)), dtype=grad.dtype)
        np.add.at(out, ctx.params["index"], grad)
        return out.reshape(ctx.in_shape)


class Put(Function):
    """``a`` with its flattened elements at ``index`` set to (or, with ``accumulate``,
    increased by) the elements of ``source`` in order (index and source hold as many)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, source: np.ndarray, index: np.ndarray, accumulate: bool = False
                ) -> np.ndarray:
        out = a.copy()
        ctx.source_shape = source.shape
        if accumulate:
            np.add.at(out.reshape(-1), index.reshape(-1), source.reshape(-1))
        else:
            out.reshape(-1)[index.reshape(-1)] = source.reshape(-1)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        flat_index = ctx.params["index"].reshape(-1)
        grad_a = grad_source = None
        if ctx.needs_input_grad[0]:
            grad_a = grad
            if not ctx.params["accumulate"]:
                grad_a = grad.copy()
                grad_a.reshape(-1)[flat_index] = 0
        if ctx.needs_input_grad[1]:
            grad_source = grad.reshape(-1)[flat_index].reshape(ctx.source_shape)
        return grad_a, grad_source


class Unfold(Function):
    """Tensor.unfold: the windows of ``size`` entries along ``dimension``, one every ``step``,
    as a view: that dim counts the windows and a last dim of ``size`` runs through each (a
    0-D ``a`` gives shape (1,)). Overlapping windows (step < size) are read-only. The
    gradient adds each window's back into place."""

    is_view = True

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, dimension: int, size: int, step: int) -> np.ndarray:
        ctx.in_shape = a.shape
        if a.ndim == 0:
            return a.reshape(1)
        windows = np.lib.stride_tricks.sliding_window_view(a, size, axis=dimension, writeable=step >= size)
        return windows[on_axis(slice(None, None, step), dimension)]

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        if not ctx.in_shape:
            return grad.reshape(())
        dim, size, step = ctx.params["dimension"], ctx.params["size"], ctx.params["step"]
        out = np.zeros(ctx.in_shape, dtype=grad.dtype)
        count = grad.shape[dim]
        for k in range(size):  # the k-th entry of every window at once
            out[on_axis(slice(k, k + step * (count - 1) + 1, step), dim)] += grad[..., k]
        return out


def strided_positions(size: tuple[int, ...], stride: tuple[int, ...], storage_offset: int) -> np.ndarray:
    """The flat positions that a ``size``/``stride`` view from ``storage_offset`` reads."""
    positions = np.full(size, storage_offset, dtype=np.int64)
    for axis, (n, s) in enumerate(zip(size, stride)):
        positions += (np.arange(n) * s).reshape((n,) + (1,) * (len(size) - axis - 1))
    return positions


class AsStrided(Function):
    """torch.as_strided on ``a``'s elements in row-major order (its storage, when ``a`` is
    contiguous): the view of ``size`` whose entry (i, j, ...) is element ``storage_offset +
    i * stride[0] + j * stride[1] + ...``. A view that reaches one element twice is
    read-only. The gradient adds back to the elements read, repeats accumulating."""

    is_view = True

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, size: tuple[int, ...], stride: tuple[int, ...],
                storage_offset: int = 0) -> np.ndarray:
        ctx.in_shape = a.shape
        positions = strided_positions(size, stride, storage_offset)
        unique = np.unique(positions).size == positions.size
        flat = a.reshape(-1)[storage_offset:]
        return np.lib.stride_tricks.as_strided(flat, size, tuple(s * a.itemsize for s in stride), writeable=unique)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        out = np.zeros(int(np.prod(ctx.in_shape)), dtype=grad.dtype)
        np.add.at(out, strided_positions(*(ctx.params[k] for k in ("size", "stride", "storage_offset"))), grad)
        return out.reshape(ctx.in_shape)


class Rot90(Function):
    """``a`` rotated by 90 degrees ``k`` times in the plane of ``dims`` (from the first axis
    towards the second), a copy; the gradient is rotated back."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, k: int, dims: tuple[int, int]) -> np.ndarray:
        return np.rot90(a, k, dims).copy()

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return np.rot90(grad, -ctx.params["k"], ctx.params["dims"])
