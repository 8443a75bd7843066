"""Reductions over an axis (int, tuple or None, with keepdims), vector norms, products,
cumulative sums and products, and the softmax family."""

from __future__ import annotations

import numpy as np

from tinygrad_cnn.argcheck import out_of_range
from tinygrad_cnn.autograd import Context, Function

Axis = int | tuple[int, ...] | None


def normalize_axis(axis: Axis, ndim: int, op: str) -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative axes (all axes for None); an axis out of range
    raises DimensionError (torch's IndexError, also a ValueError), a repeated one ValueError."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise out_of_range(a, ndim, op)
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {axis} repeats an axis")
    return tuple(sorted(out))


def check_nonempty(op: str, shape: tuple[int, ...], axes: tuple[int, ...] | None) -> None:
    """Raise as torch for a max/min/argmax over nothing: IndexError naming the empty reduced
    dim, or RuntimeError when reducing all (``axes`` None) of an empty tensor."""
    if axes is None:
        if 0 in shape:
            raise RuntimeError(f"{op}(): expected reduction dim to be specified for input.numel() == 0 "
                               f"(input shape {shape}); specify dim")
        return
    for axis in axes:
        if shape and shape[axis] == 0:
            raise IndexError(f"{op}(): expected reduction dim {axis} to have non-zero size (input shape {shape})")


def expand_reduced(grad: np.ndarray, shape: tuple[int, ...], axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
    """Give a reduced gradient its size-1 axes back so that it broadcasts against ``shape``."""
    if keepdims or not shape:
        return grad
    return np.expand_dims(grad, axes)


class Sum(Function):
    """Sum over ``axis``; the gradient is broadcast back over the summed axes."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: tuple[int, ...], keepdims: bool = False) -> np.ndarray:
        ctx.shape = a.shape
        return np.asarray(a.sum(axis=axis, keepdims=keepdims))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        g = expand_reduced(grad, ctx.shape, ctx.params["axis"], ctx.params["keepdims"])
        return np.broadcast_to(g, ctx.shape)


class Mean(Function):
    """Mean over ``axis``; the gradient is 1/count broadcast back."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: tuple[int, ...], keepdims: bool = False) -> np.ndarray:
        ctx.shape = a.shape
        ctx.count = int(np.prod([a.shape[i] for i in axis]))
        return np.asarray(a.mean(axis=axis, keepdims=keepdims))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        g = expand_reduced(grad, ctx.shape, ctx.params["axis"], ctx.params["keepdims"])
        return np.broadcast_to(g / ctx.count, ctx.shape)


class Max(Function):
    """Max over ``axis``; the gradient is split evenly among tied maxima (as torch's amax)."""

    reducer = staticmethod(np.max)

    @classmethod
    def forward(cls, ctx: Context, a: np.ndarray, axis: tuple[int, ...], keepdims: bool = False) -> np.ndarray:
        check_nonempty(cls.op_name or cls.__name__.lower(), a.shape, axis if len(axis) < a.ndim else None)
        out = cls.reducer(a, axis=axis, keepdims=True)
        ctx.save_for_backward(a, out)
        return np.asarray(out if keepdims else np.squeeze(out, axis=axis))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        a, extreme = ctx.saved_tensors
        axis = ctx.params["axis"]
        g = expand_reduced(grad, a.shape, axis, ctx.params["keepdims"])
        hits = a == extreme
        return hits * (g / hits.sum(axis=axis, keepdims=True, dtype=g.dtype))


class Min(Max):
    """Min over ``axis``; the gradient is split evenly among tied minima (as torch's amin)."""

    reducer = staticmethod(np.min)


class MaxAlong(Function):
    """The values of ``a`` at ``indices`` (argmax positions, keepdims) along ``dim``: torch's
    ``max(dim)``, whose gradient goes to the returned index only, even when values tie."""

    op_name = "max"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, indices: np.ndarray, dim: int, keepdim: bool = False) -> np.ndarray:
        ctx.in_shape = a.shape
        out = np.take_along_axis(a, indices, axis=dim)
        return out if keepdim else np.squeeze(out, axis=dim)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        dim = ctx.params["dim"]
        g = grad if ctx.params["keepdim"] else np.expand_dims(grad, dim)
        out = np.zeros(ctx.in_shape, dtype=grad.dtype)
        np.put_along_axis(out, ctx.params["indices"], g, axis=dim)
        return out


class MinAlong(MaxAlong):
    """torch's ``min(dim)`` values: the gradient goes to the returned index only."""

    op_name = "min"


class Var(Function):
    """Variance over ``axis`` with Bessel's ``correction`` (torch's default 1).

    d/da = 2 (a - mean) / (count - correction).
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: tuple[int, ...], keepdims: bool = False,
                correction: int = 1) -> np.ndarray:
        count = int(np.prod([a.shape[i] for i in axis]))
        centered = a - a.mean(axis=axis, keepdims=True)
        ctx.save_for_backward(centered)
        ctx.denominator = max(count - correction, 0)
        sq = (centered * centered).sum(axis=axis, keepdims=keepdims)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(sq / np.asarray(ctx.denominator, dtype=a.dtype))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        (centered,) = ctx.saved_tensors
        g = expand_reduced(grad, centered.shape, ctx.params["axis"], ctx.params["keepdims"])
        return g * 2 * centered / centered.dtype.type(ctx.denominator)


def stable_logsumexp(a: np.ndarray, axis: int | tuple[int, ...]) -> np.ndarray:
    """log(sum(exp(a))) over ``axis`` with keepdims, shifted by the max so that 1e4 stays finite."""
    if a.size == 0:  # an empty sum is 0, its log -inf (as torch); the result may itself be empty
        return np.full(np.sum(a, axis=axis, keepdims=True).shape, -np.inf, dtype=a.dtype)
    shift = a.max(axis=axis, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0)
    return shift + np.log(np.exp(a - shift).sum(axis=axis, keepdims=True))


class LogSumExp(Function):
    """log(sum(exp(a))) over ``axis``; d/da = softmax(a)."""

    op_name = "logsumexp"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: tuple[int, ...], keepdims: bool = False) -> np.ndarray:
        out = stable_logsumexp(a, axis)
        ctx.save_for_backward(a, out)
        return np.asarray(out if keepdims else np.squeeze(out, axis=axis))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        a, out = ctx.saved_tensors
        g = expand_reduced(grad, a.shape, ctx.params["axis"], ctx.params["keepdims"])
        return g * np.exp(a - out)


class Softmax(Function):
    """exp(a) / sum(exp(a)) along ``dim``; d/da = s * (g - sum(g * s))."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, dim: int) -> np.ndarray:
        out = np.exp(a - stable_logsumexp(a, dim))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        (s,) = ctx.saved_tensors
        return s * (grad - (grad * s).sum(axis=ctx.params["dim"], keepdims=True))


class LogSoftmax(Function):
    """a - logsumexp(a) along ``dim``; d/da = g - softmax(a) * sum(g)."""

    op_name = "log_softmax"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, dim: int) -> np.ndarray:
        out = a - stable_logsumexp(a, dim)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        (out,) = ctx.saved_tensors
        return grad - np.exp(out) * grad.sum(axis=ctx.params["dim"], keepdims=True)


def _exclusive_products(a: np.ndarray, axis: int) -> np.ndarray:
    """For each position along ``axis``, the product of all the OTHER elements there
    (exact with zeros: a prefix product times a suffix product, no division)."""
    ones = np.ones_like(np.take(a, [0], axis=axis))
    before = np.concatenate([ones, np.cumprod(a, axis=axis)], axis=axis)
    after = np.flip(np.cumprod(np.flip(a, axis), axis=axis), axis)
    after = np.concatenate([after, ones], axis=axis)
    n = a.shape[axis]
    return np.take(before, range(n), axis=axis) * np.take(after, range(1, n + 1), axis=axis)


class Prod(Function):
    """Product over one ``dim`` (over everything, to a 0-D array, when None), as torch.prod; d/da_i is the
    product of the other elements (computed without division, so zeros are exact)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, dim: int | None = None, keepdim: bool = False) -> np.ndarray:
        ctx.save_for_backward(a)
        if dim is None:
            return np.asarray(np.prod(a))
        return np.asarray(np.prod(a, axis=dim, keepdims=keepdim))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        (a,) = ctx.saved_tensors
        dim, keepdim = ctx.params["dim"], ctx.params["keepdim"]
        if dim is None:
            others = _exclusive_products(a.reshape(-1), 0).reshape(a.shape)
            return grad.reshape(()) * others
        g = grad if keepdim else np.expand_dims(grad, dim)
        return g * _exclusive_products(a, dim)


def reverse_accumulate(ufunc: np.ufunc, x: np.ndarray, dim: int) -> np.ndarray:
    """``ufunc.accumulate`` (np.add, np.logaddexp, ...) along ``dim`` from its end backwards:
    out_i = x_i (op) x_{i+1} (op) ... (op) x_last."""
    return np.flip(ufunc.accumulate(np.flip(x, dim), axis=dim), dim)


class Cumsum(Function):
    """Running sum along ``dim``; the gradient is the reversed running sum of the upstream."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, dim: int) -> np.ndarray:
        return np.cumsum(a, axis=dim)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        dim = ctx.params["dim"]
        return reverse_accumulate(np.add, grad, dim)


class Cumprod(Function):
    """Running product along ``dim``; d out_j / d a_i = prod_{k <= j, k != i} a_k (exact with zeros)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, dim: int) -> np.ndarray:
        out = np.cumprod(a, axis=dim)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        a, out = ctx.saved_tensors
        dim = ctx.params["dim"]
        if np.all(a != 0):
            return reverse_accumulate(np.add, grad * out, dim) / a
        a_last, g_last = np.moveaxis(a, dim, -1), np.moveaxis(grad, dim, -1)
        result = np.empty_like(a_last)
        for i in range(a_last.shape[-1]):
            without = a_last.copy()
            without[..., i] = 1
            result[..., i] = (g_last[..., i:] * np.cumprod(without, axis=-1)[..., i:]).sum(axis=-1)
        return np.moveaxis(result, -1, dim)


class Norm(Function):
    """The vector ``p``-norm over ``axis`` (p a number, inf or -inf), as torch.linalg.vector_norm.

    d/da = sign(a) |a|^(p-1) / norm^(p-1) (0 where the norm is 0); for p = +-inf the gradient
    goes to the extreme elements, shared among ties; for p = 0 (the non-zero count) it is 0.
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, p: float, axis: tuple[int, ...], keepdims: bool = False) -> np.ndarray:
        magnitude = np.abs(a)
        if p == np.inf:
            out = magnitude.max(axis=axis, keepdims=True)
        elif p == -np.inf:
            out = magnitude.min(axis=axis, keepdims=True)
        elif p == 0:
            out = (a != 0).sum(axis=axis, keepdims=True).astype(a.dtype)
        elif p == 2:
            out = np.sqrt((a * a).sum(axis=axis, keepdims=True))
        else:
            out = (magnitude ** p).sum(axis=axis, keepdims=True) ** (1 / p)
        ctx.save_for_backward(a, out)
        return np.asarray(out if keepdims else np.squeeze(out, axis=axis))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        a, norm = ctx.saved_tensors
        p, axis = ctx.params["p"], ctx.params["axis"]
        g = expand_reduced(grad, a.shape, axis, ctx.params["keepdims"])
        if p == 0:
            return np.zeros_like(a)
        if p in (np.inf, -np.inf):
            hits = np.abs(a) == norm
            return g * np.sign(a) * hits / hits.sum(axis=axis, keepdims=True, dtype=a.dtype)
        safe = np.where(norm == 0, 1, norm)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = a / safe if p == 2 else np.sign(a) * (np.abs(a) / safe) ** (p - 1)
        return g * np.where(norm == 0, 0, scale)
