"""Activation ops beyond relu/sigmoid/tanh (those are in elementwise.py): leaky_relu, elu, gelu,
silu, hardtanh (relu6 is hardtanh(0, 6)) and softplus, each forward beside its derivative,
and ReLUInplace (relu_). Every result keeps the input's shape, dtype and memory order.

The ops with ``inplace=True`` (and ReLUInplace) write the result into the input array and
return that array, as torch's in-place activations: what backward needs is saved before the
write (a mask) or is the result itself, never the overwritten input. Tensor.apply_inplace_
applies them with torch's rules.
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.ops import parallel
from tinygrad_cnn.ops.special import ndtr

_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_TANH_CUBIC = 0.044715


def _sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-a)) without overflow, in a's dtype."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


_ZEROS = np.zeros(1 << 14, dtype=np.float32)
_ZEROS.flags.writeable = False


def _max0(out: np.ndarray, a: np.ndarray) -> None:
    """out = max(a, 0) for float32 ``a`` and ``out``: NumPy's maximum against a scalar runs a
    slow loop (0.64 ms for 1.6M floats), against a block of zeros broadcast over the rows of
    a 1-D ``a`` viewed as (rows, block) a fast one (0.29 ms); the tail takes one more call."""
    if a.ndim != 1:  # layouts parallel.elementwise could not flatten
        np.maximum(a, a.dtype.type(0), out=out)
        return
    step = _ZEROS.size
    whole = a.size // step * step
    np.maximum(a[:whole].reshape(-1, step), _ZEROS, out=out[:whole].reshape(-1, step))
    np.maximum(a[whole:], _ZEROS[:a.size - whole], out=out[whole:])


def relu_into(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """max(a, 0) (NaN kept) written into ``out`` (``a`` itself when None) and returned; large
    float32 arrays are done in halves on the threads (``parallel.elementwise``)."""
    if a.dtype == np.bool_:
        raise RuntimeError("relu: Boolean inputs not supported for relu")
    out = a if out is None else out
    if a.dtype != np.float32:
        return np.maximum(a, a.dtype.type(0), out=out)
    return parallel.elementwise(_max0, out, a)


def relu_backward(grad: np.ndarray, out: np.ndarray, into: np.ndarray | None = None) -> np.ndarray:
    """grad where the ReLU output ``out`` is > 0, else 0, written into ``into`` (``grad`` itself
    when nothing else holds it: a new array to write cost LeNet's training step 3-5%) or a new
    array, in halves on the threads for large arrays."""
    return parallel.elementwise(_pass_positive, np.empty_like(grad) if into is None else into, grad, out)


def _pass_positive(target: np.ndarray, grad: np.ndarray, out: np.ndarray) -> None:
    np.multiply(grad, out > 0, out=target)


class ReLUInplace(Function):
    """relu_: max(a, 0) written into a; d/da = 1 where the result > 0 (backward reads the result,
    as torch's ReluBackward0, so a later in-place write to it makes backward raise)."""

    op_name = "relu"
    fresh_grads = True

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        relu_into(a)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        (out,) = ctx.saved_tensors
        return relu_backward(grad, out, grad if ctx.grad_writable else None)


class LeakyReLU(Function):
    """a where a > 0, else negative_slope * a; d/da = 1 where a > 0, else negative_slope."""

    op_name = "leaky_relu"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, negative_slope: float = 0.01, inplace: bool = False) -> np.ndarray:
        positive = a > 0
        ctx.positive = positive
        if inplace:
            np.multiply(a, a.dtype.type(negative_slope), out=a, where=~positive)
            return a
        return np.where(positive, a, a * a.dtype.type(negative_slope))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return np.where(ctx.positive, grad, grad * grad.dtype.type(ctx.params["negative_slope"]))


class ELU(Function):
    """a where a > 0, else alpha * (exp(a) - 1); d/da = 1 where a > 0, else out + alpha."""

    op_name = "elu"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, alpha: float = 1.0, inplace: bool = False) -> np.ndarray:
        out = np.where(a > 0, a, a.dtype.type(alpha) * np.expm1(np.minimum(a, 0)))
        if inplace:  # the input's sign is kept before the write
            ctx.positive = a > 0
            np.copyto(a, out)
            ctx.save_for_backward(None, a)
            return a
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        a, out = ctx.saved_tensors
        positive = ctx.positive if a is None else a > 0
        return np.where(positive, grad, grad * (out + out.dtype.type(ctx.params["alpha"])))


class GELU(Function):
    """a * Phi(a) with Phi the standard normal CDF (approximate="none"), or
    0.5 a (1 + tanh(sqrt(2/pi) (a + 0.044715 a^3))) (approximate="tanh"), as torch's;
    d/da = Phi(a) + a phi(a), or the tanh form's derivative."""

    op_name = "gelu"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, approximate: str = "none") -> np.ndarray:
        ctx.save_for_backward(a)
        if approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (a + _TANH_CUBIC * a ** 3))
            ctx.t = t
            return (0.5 * a * (1 + t)).astype(a.dtype, copy=False)
        cdf = ndtr(a)
        ctx.cdf = cdf
        with np.errstate(invalid="ignore"):  # -inf * 0: NaN, as torch
            return (a * cdf).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        (a,) = ctx.saved_tensors
        if ctx.params["approximate"] == "tanh":
            t = ctx.t
            inner = _SQRT_2_OVER_PI * (1 + 3 * _TANH_CUBIC * a * a)
            return grad * (0.5 * (1 + t) + 0.5 * a * (1 - t * t) * inner)
        pdf = np.exp(-0.5 * a * a) / math.sqrt(2 * math.pi)
        return grad * (ctx.cdf + a * pdf)


class SiLU(Function):
    """a * sigmoid(a); d/da = s (1 + a (1 - s))."""

    op_name = "silu"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, inplace: bool = False) -> np.ndarray:
        s = _sigmoid(a)
        if inplace:  # backward needs the input: keep a copy of it
            ctx.save_for_backward(a.copy(), s)
            return np.multiply(a, s, out=a)
        ctx.save_for_backward(a, s)
        return a * s

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        a, s = ctx.saved_tensors
        return grad * (s * (1 + a * (1 - s)))


class Hardtanh(Function):
    """a clipped to [min_val, max_val]; d/da = 1 strictly inside, 0 at and beyond the edges, as torch's."""

    op_name = "hardtanh"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, min_val: float = -1.0, max_val: float = 1.0,
                inplace: bool = False) -> np.ndarray:
        if a.dtype == np.bool_:
            raise RuntimeError("hardtanh: Bool inputs not supported for hardtanh")
        if a.dtype.kind == "u" and min(min_val, max_val) < 0:
            raise RuntimeError(f"hardtanh: cannot do hardtanh on an unsigned type ({a.dtype}) with negative limits "
                               f"({min_val}, {max_val})")
        ctx.inside = (a > min_val) & (a < max_val)
        return np.clip(a, a.dtype.type(min_val), a.dtype.type(max_val), out=a if inplace else None)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return grad * ctx.inside


class Softplus(Function):
    """log(1 + exp(beta a)) / beta, and a itself where beta a > threshold, as torch's;
    d/da = sigmoid(beta a) (1 above the threshold)."""

    op_name = "softplus"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, beta: float = 1.0, threshold: float = 20.0) -> np.ndarray:
        scaled = a * a.dtype.type(beta)
        ctx.save_for_backward(scaled)
        smooth = (np.logaddexp(0, scaled) / a.dtype.type(beta)).astype(a.dtype, copy=False)
        return np.where(scaled > threshold, a, smooth)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        (scaled,) = ctx.saved_tensors
        return np.where(scaled > ctx.params["threshold"], grad, grad * _sigmoid(scaled))
