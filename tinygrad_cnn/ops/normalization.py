"""Normalization ops: batch norm (one fused op, direct backward), layer norm and group norm.

Each standardises x over some axes, xhat = (x - mean) * invstd with invstd = 1/sqrt(var + eps)
(var biased), then applies an optional affine y = xhat * weight + bias. With dxhat = g * weight
and means taken over the same axes, the input gradient is the closed form

    dx = invstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))

and d weight = sum(g * xhat), d bias = sum(g) over the other axes. Batch norm works on a free
3-D view (A, C, B) of its input whose reduction axes are 0 and 2: (1, C, H*W*N) for the
(C, H, W, N) memory that conv2d returns, (N, C, H*W) for plain NCHW, so no copy is forced and
the output keeps the input's memory order.
"""

from __future__ import annotations

import functools

import numpy as np

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.ops import parallel
from tinygrad_cnn.ops.parallel import split


def channel_view(x: np.ndarray, channel_major: bool | None = None) -> tuple[np.ndarray, bool]:
    """``x`` (N, C, *) as a 3-D (A, C, B) array over which batch norm reduces axes 0 and 2, and
    whether it is the channel-major form (1, C, prod(*) * N) (else (N, C, prod(*))). Free for
    batch-innermost (C, *, N) memory and for C-contiguous memory; ``channel_major`` forces a form
    (a copy when the memory does not match)."""
    n, c = x.shape[:2]
    moved = np.moveaxis(x, 0, -1)  # (C, *, N)
    if channel_major is None:
        channel_major = moved.flags.c_contiguous or not x.flags.c_contiguous
    if channel_major:
        return moved.reshape(1, c, -1), True
    return x.reshape(n, c, -1), False


def restore(view: np.ndarray, shape: tuple[int, ...], channel_major: bool) -> np.ndarray:
    """A (A, C, B) array from ``channel_view`` back to the (N, C, *) ``shape``, keeping its memory."""
    if channel_major:
        return np.moveaxis(view.reshape(shape[1:] + shape[:1]), -1, 0)
    return view.reshape(shape)


def _channel_sum(v: np.ndarray) -> np.ndarray:
    """Sum of the (A, C, B) array ``v`` over axes 0 and 2, as (C,); BLAS for the one-sided cases."""
    if v.shape[0] == 1:
        return v[0] @ np.ones(v.shape[2], dtype=v.dtype)
    if v.shape[2] == 1:
        return np.ones(v.shape[0], dtype=v.dtype) @ v[:, :, 0]
    return v.sum(axis=(0, 2))


def _channel_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum(a * b) over axes 0 and 2 of two (A, C, B) arrays, as (C,), without a temporary."""
    return np.einsum("acb,acb->c", a, b)


def _per_channel(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Per-channel (C,) values as a (1, C, 1) array of ``dtype`` to meet an (A, C, B) view."""
    return values.astype(dtype, copy=False).reshape(1, -1, 1)


_PART_SIZE = 1 << 18  # elements (1 MiB of float32): a part's arrays stay in cache between passes


def _channel_parts(v: np.ndarray) -> list[slice]:
    """The channel slices batch norm handles as independent parts, one after the other on one
    thread or at once on parallel's threads: about _PART_SIZE elements each, so that the several
    passes of a part find its data in cache (on ResNet20's 64 x 16 x 28 x 28 activations,
    backward took a third of the time of one pass over the whole array). The split depends on
    the shape alone, never on the thread count, and so does the result."""
    return split(v.shape[1], max(1, v.size // _PART_SIZE))


class BatchNorm(Function):
    """Batch normalization of x (N, C, *) per channel, then ``xhat * weight + bias`` when the
    inputs are (x, weight (C,), bias (C,)) rather than (x,) alone.

    In ``training`` mode the statistics are the batch's (over N and the spatial axes) and,
    when ``running_mean``/``running_var`` arrays (C,) are given, those are updated in place,
    running = (1 - momentum) * running + momentum * batch statistic, with the unbiased variance,
    as torch's kernel does. Otherwise the running statistics normalise and the op is affine in x.

    Forward keeps the centred input x - mean and the per-channel 1/sqrt(var + eps) for backward
    (xhat is their product, never formed); forward and backward work on parts of the channels
    (``_channel_parts``), written into preallocated arrays.
    """

    op_name = "batch_norm"
    fresh_grads = True

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, weight: np.ndarray | None = None, bias: np.ndarray | None = None, *,
                running_mean: np.ndarray | None = None, running_var: np.ndarray | None = None,
                training: bool = True, momentum: float = 0.1, eps: float = 1e-5) -> np.ndarray:
        v, channel_major = channel_view(x)
        count = v.shape[0] * v.shape[2]
        dtype = v.dtype
        centered, out = np.empty_like(v), np.empty_like(v)
        mean = np.empty(v.shape[1], dtype=dtype) if training else running_mean
        var = np.empty(v.shape[1], dtype=dtype) if training else running_var
        invstd = np.empty(v.shape[1], dtype=np.float64)

        def part(c: slice) -> None:
            vc, cc, oc = v[:, c], centered[:, c], out[:, c]
            if training:
                mean[c] = _channel_sum(vc) / count
            np.subtract(vc, _per_channel(mean[c], dtype), out=cc)
            if training:
                var[c] = _channel_dot(cc, cc) / count
            invstd[c] = 1.0 / np.sqrt(var[c].astype(np.float64) + eps)
            scale = invstd[c] if weight is None else invstd[c] * weight[c]
            np.multiply(cc, _per_channel(scale, dtype), out=oc)
            if bias is not None:
                oc += _per_channel(bias[c], dtype)

        parallel.run([functools.partial(part, c) for c in _channel_parts(v)])
        if training and running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean
            running_var *= 1 - momentum
            running_var += (momentum * count / max(count - 1, 1)) * var
        ctx.channel_major = channel_major
        ctx.save_for_backward(centered, invstd)
        return restore(out, x.shape, channel_major)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        centered, invstd = ctx.saved_tensors
        g, _ = channel_view(grad, ctx.channel_major)
        count = centered.shape[0] * centered.shape[2]
        needs = ctx.needs_input_grad
        affine = len(ctx.inputs) == 3
        training = ctx.params["training"]
        weight = ctx.inputs[1].numpy() if affine else None
        channels = centered.shape[1]
        sums = any(needs[1:]) or training
        sum_g = np.empty(channels, dtype=g.dtype) if sums else None
        sum_gx = np.empty(channels, dtype=g.dtype) if sums else None  # sum(g * xhat) = d weight
        dx = np.empty_like(g) if needs[0] else None

        def part(c: slice) -> None:
            gc, cc = g[:, c], centered[:, c]
            if sums:
                sum_g[c] = _channel_sum(gc)
                sum_gx[c] = _channel_dot(gc, cc) * invstd[c]
            if dx is None:
                return
            scale = invstd[c] if weight is None else invstd[c] * weight[c]
            dc = dx[:, c]
            np.multiply(gc, _per_channel(scale, g.dtype), out=dc)
            if training:
                # dx = scale * (g - mean(g) - xhat * mean(g * xhat)), xhat = centered * invstd
                correction = cc * _per_channel(scale * invstd[c] * sum_gx[c] / count, g.dtype)
                correction += _per_channel(scale * sum_g[c] / count, g.dtype)
                dc -= correction

        parallel.run([functools.partial(part, c) for c in _channel_parts(g)])
        if dx is not None:
            dx = restore(dx, grad.shape, ctx.channel_major)
        if not affine:
            return dx
        return dx, (sum_gx if needs[1] else None), (sum_g if needs[2] else None)


class _Standardize(Function):
    """x viewed as ``view``, standardised over its ``axes``, then ``xhat * weight + bias`` with
    weight and bias reshaped to ``affine`` (a shape broadcasting against ``view``) when the
    inputs are (x, weight, bias) rather than (x,) alone. Layer norm and group norm are this
    op with different views."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, weight: np.ndarray | None = None, bias: np.ndarray | None = None, *,
                view: tuple[int, ...], axes: tuple[int, ...], affine: tuple[int, ...], eps: float) -> np.ndarray:
        v = x.reshape(view)
        centered = v - v.mean(axis=axes, keepdims=True)
        var = np.mean(centered * centered, axis=axes, keepdims=True)
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        xhat = centered
        xhat *= invstd
        ctx.save_for_backward(xhat, invstd)
        if weight is None:
            return xhat.reshape(x.shape).copy()
        return (xhat * weight.reshape(affine) + bias.reshape(affine)).reshape(x.shape)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        xhat, invstd = ctx.saved_tensors
        axes, affine = ctx.params["axes"], ctx.params["affine"]
        g = grad.reshape(xhat.shape)
        needs = ctx.needs_input_grad
        has_affine = len(ctx.inputs) == 3
        dx = None
        if needs[0]:
            dxhat = g * ctx.inputs[1].numpy().reshape(affine) if has_affine else g
            dx = dxhat - dxhat.mean(axis=axes, keepdims=True)
            dx -= xhat * np.mean(dxhat * xhat, axis=axes, keepdims=True)
            dx *= invstd
            dx = dx.reshape(grad.shape)
        if not has_affine:
            return dx
        others = tuple(i for i, n in enumerate(affine) if n == 1)
        weight_shape = ctx.inputs[1].shape
        dw = (g * xhat).sum(axis=others).reshape(weight_shape) if needs[1] else None
        db = g.sum(axis=others).reshape(weight_shape) if needs[2] else None
        return dx, dw, db


class LayerNorm(_Standardize):
    """Layer normalization: x (*, D1..Dk) standardised over its last k dims; weight and bias
    (D1..Dk) elementwise (view (rows, D), axes (1,), affine (1, D))."""

    op_name = "layer_norm"


class GroupNorm(_Standardize):
    """Group normalization: x (N, C, *) standardised per sample over each of G channel groups;
    weight and bias (C,) per channel (view (N, G, C/G, prod(*)), axes (2, 3), affine (1, G, C/G, 1))."""

    op_name = "group_norm"
