"""Order statistics and nan-aware reductions on arrays: the positions picked by mode,
median/nanmedian and cummax/cummin, torch's nan-aware median of all elements, nansum,
nanmean and logcumsumexp.

The value ops reuse the gather-style ops of ``reduce``/``shape`` (the gradient goes to the
picked index only), renamed so that grad_fn reads as torch's (``ModeBackward0``, ...).
"""

from __future__ import annotations

import numpy as np

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.ops.reduce import MaxAlong, expand_reduced, reverse_accumulate
from tinygrad_cnn.ops.shape import Gather


def _is_nan(a: np.ndarray) -> np.ndarray:
    return np.isnan(a) if a.dtype.kind in "fc" else np.zeros(a.shape, dtype=bool)


def mode_indices(a: np.ndarray, order: np.ndarray, axis: int) -> np.ndarray:
    """The index (keepdims, int64) of torch.mode along ``axis``: of the most frequent value,
    the smallest among equally frequent ones, at its last occurrence; ``order`` is the stable
    ascending argsort of ``a`` along ``axis``. NaNs count as one value, the largest."""
    s = np.moveaxis(np.take_along_axis(a, order, axis), axis, -1)
    n = s.shape[-1]
    same = (s[..., 1:] == s[..., :-1]) | (_is_nan(s[..., 1:]) & _is_nan(s[..., :-1]))
    starts = np.concatenate([np.ones(s.shape[:-1] + (1,), bool), ~same], axis=-1)
    ends = np.concatenate([~same, np.ones(s.shape[:-1] + (1,), bool)], axis=-1)
    positions = np.arange(n)
    run_start = np.maximum.accumulate(np.where(starts, positions, 0), axis=-1)
    lengths = np.where(ends, positions - run_start + 1, 0)
    winner = np.argmax(lengths, axis=-1)[..., None]  # the first (smallest) run of the largest length
    picked = np.take_along_axis(np.moveaxis(order, axis, -1), winner, -1)
    return np.moveaxis(picked, -1, axis)


def median_positions(a: np.ndarray, axis: int, ignore_nan: bool) -> np.ndarray:
    """Where the lower median sits (keepdims, int64) in ``a`` sorted along ``axis`` with NaNs
    last: the ((m - 1) // 2)-th of the m non-NaN values when ``ignore_nan`` (0 when all are
    NaN), else the ((n - 1) // 2)-th, or the first NaN when there is one (torch.median)."""
    n = a.shape[axis]
    valid = np.sum(~_is_nan(a), axis=axis, keepdims=True)
    if ignore_nan:
        return np.maximum((valid - 1) // 2, 0).astype(np.int64)
    return np.where(valid < n, valid, (n - 1) // 2).astype(np.int64)


def cumulative_extreme_indices(a: np.ndarray, values: np.ndarray, axis: int) -> np.ndarray:
    """The indices of torch.cummax/cummin along ``axis``, given the running extreme
    ``values``: the last position so far holding the extreme (a NaN, once one was seen)."""
    marked = (a == values) | (_is_nan(a) & _is_nan(values))
    shape = [1] * a.ndim
    shape[axis] = a.shape[axis]
    positions = np.arange(a.shape[axis]).reshape(shape)
    return np.maximum.accumulate(np.where(marked, positions, 0), axis=axis).astype(np.int64)


class Cummax(Gather):
    """torch.cummax's values: ``a`` gathered at the running argmax (the gradient is scattered back)."""

    op_name = "cummax"


class Cummin(Gather):
    """torch.cummin's values: ``a`` gathered at the running argmin."""

    op_name = "cummin"


class ModeAlong(MaxAlong):
    """torch.mode's values along ``dim``: the gradient goes to the returned index."""

    op_name = "mode"


class KthvalueAlong(MaxAlong):
    """torch.kthvalue's values along ``dim``: the gradient goes to the returned index."""

    op_name = "kthvalue"


class NanmedianAlong(MaxAlong):
    """torch.nanmedian(dim)'s values: the gradient goes to the returned index."""

    op_name = "nanmedian"


class MedianAll(Function):
    """The lower median of all elements (0-D), NaN-propagating, or of the non-NaN ones when
    ``ignore_nan`` (torch.median() / torch.nanmedian()); NaN for no values. As torch's, the
    gradient is shared evenly among the elements equal to the median (the NaNs when it is NaN)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, ignore_nan: bool = False) -> np.ndarray:
        flat = a.reshape(-1)
        nan = _is_nan(flat)
        if nan.any() and not ignore_nan:
            value = flat[np.argmax(nan)]
        else:
            kept = np.sort(flat[~nan])
            value = kept[(kept.size - 1) // 2] if kept.size else np.array(np.nan, dtype=a.dtype)
        out = np.asarray(value, dtype=a.dtype)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        a, value = ctx.saved_tensors
        hits = np.isnan(a) if np.isnan(value) else a == value
        return hits * (grad / hits.sum(dtype=grad.dtype))


class NanSum(Function):
    """The sum over ``axis`` of the non-NaN elements; d/da = 1 there, 0 at NaNs (as torch's
    grad * ~isnan(a), so an infinite upstream gradient gives NaN at the NaNs)."""

    op_name = "nansum"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: tuple[int, ...], keepdims: bool = False) -> np.ndarray:
        ctx.valid = ~np.isnan(a)
        return np.asarray(np.nansum(a, axis=axis, keepdims=keepdims))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        g = expand_reduced(grad, ctx.valid.shape, ctx.params["axis"], ctx.params["keepdims"])
        return g * ctx.valid


class NanMean(Function):
    """The mean over ``axis`` of the non-NaN elements (NaN where there are none), as torch's
    nansum / count; d/da = 1 / count at the non-NaN elements (NaN for a slice of NaNs only, as torch's)."""

    op_name = "nanmean"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: tuple[int, ...], keepdims: bool = False) -> np.ndarray:
        ctx.valid = ~np.isnan(a)
        ctx.count = ctx.valid.sum(axis=axis, keepdims=True).astype(a.dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.nansum(a, axis=axis, keepdims=True) / ctx.count
        return np.asarray(out if keepdims else np.squeeze(out, axis=axis))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        g = expand_reduced(grad, ctx.valid.shape, ctx.params["axis"], ctx.params["keepdims"])
        with np.errstate(invalid="ignore", divide="ignore"):
            return g / ctx.count * ctx.valid


class LogCumSumExp(Function):
    """log(cumsum(exp(a))) along ``dim``, computed stably (np.logaddexp.accumulate).

    d out_j / d a_i = exp(a_i - out_j) for i <= j; the sums over j are taken in log space,
    the positive and the negative parts of the upstream gradient apart, as torch does, so
    that large inputs do not overflow.
    """

    op_name = "logcumsumexp"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, dim: int) -> np.ndarray:
        out = np.logaddexp.accumulate(a, axis=dim)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        a, out = ctx.saved_tensors
        dim = ctx.params["dim"]
        lowest = np.finfo(grad.dtype).min
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_abs = np.log(np.abs(grad))
            positive = np.where(grad > 0, log_abs, lowest)
            negative = np.where(grad < 0, log_abs, lowest)
            return (np.exp(reverse_accumulate(np.logaddexp, positive - out, dim) + a)
                    - np.exp(reverse_accumulate(np.logaddexp, negative - out, dim) + a))
