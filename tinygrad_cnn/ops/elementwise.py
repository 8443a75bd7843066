"""Elementwise ops, broadcasting like NumPy; each forward sits beside its derivative."""

from __future__ import annotations

import numpy as np

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.ops.activation import relu_backward, relu_into
from tinygrad_cnn.ops.unary import Unary, unary


class Add(Function):
    """a + b; d/da = 1, d/db = 1."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return grad, grad


class Sub(Function):
    """a - b; d/da = 1, d/db = -1."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a - b

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """a * b; d/da = b, d/db = a."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b if ctx.needs_input_grad[0] else None)
        return a * b

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        a, b = ctx.saved_tensors
        return (grad * b if ctx.needs_input_grad[0] else None,
                grad * a if ctx.needs_input_grad[1] else None)


class Div(Function):
    """a / b; d/da = 1/b, d/db = -a/b**2."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        return a / b

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        a, b = ctx.saved_tensors
        grad_b = -grad * a / (b * b) if ctx.needs_input_grad[1] else None
        return (grad / b if ctx.needs_input_grad[0] else None), grad_b


class Neg(Function):
    """-a; d/da = -1."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        return -a

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return -grad


class PowScalar(Function):
    """a ** exponent for a constant exponent; d/da = exponent * a**(exponent-1) (0 for exponent 0)."""

    op_name = "pow"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, exponent: float) -> np.ndarray:
        ctx.save_for_backward(a)
        return np.power(a, exponent)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        (a,) = ctx.saved_tensors
        exponent = ctx.params["exponent"]
        if exponent == 0:
            return np.zeros_like(grad)
        return grad * exponent * np.power(a, exponent - 1)


class Pow(Function):
    """a ** b for tensors; d/da = b * a**(b-1), d/db = a**b * log(a) (0 where a = 0, as torch)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.power(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        a, b, out = ctx.saved_tensors
        grad_a = np.where(b == 0, 0, grad * b * np.power(a, b - 1)) if ctx.needs_input_grad[0] else None
        grad_b = np.where(a == 0, 0, grad * out * np.log(a)) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


def _sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-a)) without overflow: exp is only taken of -|a|."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


# what backward keeps is what torch keeps (the output where the derivative needs only it)
Exp = unary("Exp", np.exp, lambda a, out: out, "exp(a); d/da = exp(a).", saves=("out",), module=__name__)
Log = unary("Log", np.log, None, "Natural log(a); d/da = 1/a.", chain=lambda grad, a, out: grad / a, saves=("a",),
            module=__name__)
Sqrt = unary("Sqrt", np.sqrt, None, "sqrt(a); d/da = 1 / (2 sqrt(a)).", chain=lambda grad, a, out: grad / (2 * out),
             saves=("out",), module=__name__)
Abs = unary("Abs", np.abs, lambda a, out: np.sign(a), "|a|; d/da = sign(a) (0 at 0, as torch).", saves=("a",),
            module=__name__)
Sigmoid = unary("Sigmoid", _sigmoid, None, "1 / (1 + exp(-a)), computed without overflow; d/da = s (1 - s).",
                chain=lambda grad, a, out: grad * out * (1 - out), saves=("out",), module=__name__)
Tanh = unary("Tanh", np.tanh, lambda a, out: 1 - out * out, "tanh(a); d/da = 1 - tanh(a)**2.", saves=("out",),
             module=__name__)


class ReLU(Unary):
    """max(a, 0); d/da = 1 where a > 0, else 0, written into the incoming gradient's memory when
    nothing else holds it (``Context.grad_writable``)."""

    saves = ("out",)
    fresh_grads = True

    @staticmethod
    def fn(a: np.ndarray) -> np.ndarray:
        return relu_into(a, np.empty_like(a))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return relu_backward(grad, ctx.saved_tensors[1], grad if ctx.grad_writable else None)


class Clamp(Function):
    """a limited to [min, max] (either may be None); d/da = 1 inside the range, 0 outside."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, min: float | None = None, max: float | None = None) -> np.ndarray:
        ctx.save_for_backward(a)
        return np.clip(a, min, max)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        (a,) = ctx.saved_tensors
        low, high = ctx.params["min"], ctx.params["max"]
        inside = np.ones(a.shape, dtype=bool)
        if low is not None:
            inside &= a >= low
        if high is not None:
            inside &= a <= high
        return grad * inside


class Maximum(Function):
    """Elementwise max(a, b); the gradient goes to the larger, split evenly on ties (as torch)."""

    pick = staticmethod(np.maximum)
    wins = staticmethod(np.greater)

    @classmethod
    def forward(cls, ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return cls.pick(a, b)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        a, b = ctx.saved_tensors
        share = np.where(ctx.function.wins(a, b), 1.0, np.where(a == b, 0.5, 0.0)).astype(grad.dtype)
        return grad * share, grad * (1 - share)


class Minimum(Maximum):
    """Elementwise min(a, b); the gradient goes to the smaller, split evenly on ties (as torch)."""

    pick = staticmethod(np.minimum)
    wins = staticmethod(np.less)


class Where(Function):
    """condition ? a : b for a boolean array ``condition``; the gradient follows the chosen side."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray, condition: np.ndarray) -> np.ndarray:
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        condition = ctx.params["condition"]
        zero = np.zeros((), dtype=grad.dtype)
        return (np.where(condition, grad, zero) if ctx.needs_input_grad[0] else None,
                np.where(condition, zero, grad) if ctx.needs_input_grad[1] else None)


class Cast(Function):
    """``a`` converted to ``dtype``; the gradient is converted back to the input's dtype."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, dtype: np.dtype) -> np.ndarray:
        return a.astype(dtype)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return grad
