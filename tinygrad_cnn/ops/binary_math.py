"""Elementwise math of two arrays, broadcasting (atan2, hypot, fmod, copysign, xlogy, xlog1py,
logaddexp, logaddexp2, fmax, fmin, heaviside, nextafter), and lerp, addcmul, addcdiv of three;
each forward beside torch's derivatives (derivatives.yaml), including its values at the edges
(atan2 at the origin, xlogy where x = 0, fmax/fmin at NaNs)."""

from __future__ import annotations

from typing import Callable

import numpy as np

from tinygrad_cnn.autograd import Context, Function

Grads = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple]


class Binary(Function):
    """Base of the ops of two arrays: ``out = fn(a, b)``; ``grads(grad, a, b, out)`` gives the
    pair of input gradients (computed only for the inputs that need one)."""

    @staticmethod
    def fn(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def grads(grad: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> tuple:
        raise NotImplementedError

    @classmethod
    def forward(cls, ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = np.asarray(cls.fn(a, b))
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        a, b, out = ctx.saved_tensors
        grad_a, grad_b = ctx.function.grads(grad, a, b, out)
        return (grad_a if ctx.needs_input_grad[0] else None), (grad_b if ctx.needs_input_grad[1] else None)


def binary(name: str, fn: Callable, grads: Grads, doc: str, op_name: str = "") -> type[Binary]:
    """A Binary subclass called ``name`` computing ``fn`` with the gradients ``grads``."""
    return type(name, (Binary,), {"fn": staticmethod(fn), "grads": staticmethod(grads), "__doc__": doc,
                                  "__module__": __name__, "op_name": op_name})


def _atan2_grads(grad, a, b, out):
    r = 1 / (a * a + b * b)
    r = np.where(np.isinf(r), 0, r)  # torch's: 0 where a^2 + b^2 underflows to 0
    return grad * b * r, grad * -a * r


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(y), np.nan, np.where(x == 0, 0, x * np.log(y))).astype(np.result_type(x, y))


def _xlog1py(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(y), np.nan, np.where(x == 0, 0, x * np.log1p(y))).astype(np.result_type(x, y))


def _fmax_grads(grad, a, b, out):
    mine = (a >= b) | np.isnan(b)
    return np.where(mine, grad, 0), np.where(mine, 0, grad)


def _fmin_grads(grad, a, b, out):
    mine = (a <= b) | np.isnan(b)
    return np.where(mine, grad, 0), np.where(mine, 0, grad)


def _heaviside(a: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.where(a == 0, values, a > 0).astype(np.result_type(a, values))


def _no_derivative(grad, a, b, out):
    raise RuntimeError("heaviside: the derivative for 'heaviside' is not implemented.")


Atan2 = binary("Atan2", np.arctan2, _atan2_grads, "arctan(a / b) in the quadrant of (b, a); d/da = b / (a**2 + b**2), "
               "d/db = -a / (a**2 + b**2).")
Hypot = binary("Hypot", np.hypot, lambda grad, a, b, out: (grad * a / out, grad * b / out),
               "sqrt(a**2 + b**2) without overflow; d/da = a / hypot, d/db = b / hypot.")
Fmod = binary("Fmod", np.fmod, lambda grad, a, b, out: (grad, -grad * np.trunc(a / b)),
              "a - trunc(a / b) b (the sign of a, as C's fmod); d/da = 1, d/db = -trunc(a / b).")
Copysign = binary("Copysign", np.copysign, lambda grad, a, b, out: (grad * np.where(a == 0, 0, out / a),
                                                                    np.zeros_like(grad)),
                  "|a| with the sign of b; d/da = copysign(1, a b) (0 at a = 0), d/db = 0.")
Xlogy = binary("Xlogy", _xlogy, lambda grad, a, b, out: (
    np.where((a == 0) & (b <= 0), 0, _xlogy(grad, b)), grad * a / b),
    "a log(b), 0 where a = 0 (unless b is NaN); d/da = log(b), d/db = a / b.")
Xlog1py = binary("Xlog1py", _xlog1py, lambda grad, a, b, out: (
    np.where((a == 0) & (b <= -1), 0, _xlog1py(grad, b)), grad * a / (b + 1)),
    "a log(1 + b), 0 where a = 0 (unless b is NaN); d/da = log1p(b), d/db = a / (1 + b).", "special_xlog1py")
LogAddExp = binary("LogAddExp", np.logaddexp, lambda grad, a, b, out: (grad / (1 + np.exp(b - a)),
                                                                       grad / (1 + np.exp(a - b))),
                   "log(exp(a) + exp(b)) without overflow; d/da = 1 / (1 + exp(b - a)).", "logaddexp")
LogAddExp2 = binary("LogAddExp2", np.logaddexp2, lambda grad, a, b, out: (grad / (1 + np.exp2(b - a)),
                                                                          grad / (1 + np.exp2(a - b))),
                    "log2(2**a + 2**b) without overflow; d/da = 1 / (1 + 2**(b - a)).", "logaddexp2")
Fmax = binary("Fmax", np.fmax, _fmax_grads, "max(a, b) ignoring a NaN on one side; the gradient goes to the side "
              "chosen (to a on ties).")
Fmin = binary("Fmin", np.fmin, _fmin_grads, "min(a, b) ignoring a NaN on one side; the gradient goes to the side "
              "chosen (to a on ties).")
Heaviside = binary("Heaviside", _heaviside, _no_derivative, "The step function: 0 where a < 0, b where a = 0, 1 "
                   "where a > 0; not differentiable (backward raises, as torch's).")
Nextafter = binary("Nextafter", np.nextafter, lambda grad, a, b, out: (np.where(a != b, grad, 0), np.zeros_like(grad)),
                   "The next float after a towards b; d/da = 1 (0 where a = b), d/db = 0.")


def _lerp(start: np.ndarray, end: np.ndarray, weight) -> np.ndarray:
    """start + weight (end - start), from the nearer end (torch's form, exact at weight 0 and 1)."""
    with np.errstate(all="ignore"):
        diff = end - start
        return np.where(np.abs(weight) < 0.5, start + weight * diff, end - diff * (1 - weight))


class Lerp(Function):
    """start + weight (end - start) for a tensor ``weight``; d/dstart = 1 - weight, d/dend =
    weight, d/dweight = end - start."""

    @staticmethod
    def forward(ctx: Context, start: np.ndarray, end: np.ndarray, weight: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(start, end, weight)
        return _lerp(start, end, weight).astype(np.result_type(start, end, weight), copy=False)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        start, end, weight = ctx.saved_tensors
        need = ctx.needs_input_grad
        return (grad * (1 - weight) if need[0] else None, grad * weight if need[1] else None,
                grad * (end - start) if need[2] else None)


class LerpScalar(Function):
    """start + weight (end - start) for a number ``weight``; d/dstart = 1 - weight, d/dend = weight."""

    op_name = "lerp"

    @staticmethod
    def forward(ctx: Context, start: np.ndarray, end: np.ndarray, weight: float = 0.5) -> np.ndarray:
        return _lerp(start, end, start.dtype.type(weight)).astype(np.result_type(start, end), copy=False)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        weight = ctx.params["weight"]
        return grad * (1 - weight), grad * weight


class Addcmul(Function):
    """input + value t1 t2; d/dinput = 1, d/dt1 = value t2, d/dt2 = value t1."""

    @staticmethod
    def forward(ctx: Context, input: np.ndarray, t1: np.ndarray, t2: np.ndarray, value: float = 1) -> np.ndarray:
        ctx.save_for_backward(t1 if ctx.needs_input_grad[2] else None, t2 if ctx.needs_input_grad[1] else None)
        scale = np.result_type(input, t1, t2).type(value)
        return input + scale * t1 * t2

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        t1, t2 = ctx.saved_tensors
        value = ctx.params["value"]
        return grad, (grad * (t2 * value) if t2 is not None else None), (grad * (t1 * value) if t1 is not None else None)


class Addcdiv(Function):
    """input + value t1 / t2; d/dinput = 1, d/dt1 = value / t2, d/dt2 = -value t1 / t2**2."""

    @staticmethod
    def forward(ctx: Context, input: np.ndarray, t1: np.ndarray, t2: np.ndarray, value: float = 1) -> np.ndarray:
        ctx.save_for_backward(t1 if ctx.needs_input_grad[2] else None, t2)
        scale = np.result_type(input, t1, t2).type(value)
        with np.errstate(divide="ignore", invalid="ignore"):
            return input + scale * (t1 / t2)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        t1, t2 = ctx.saved_tensors
        value = ctx.params["value"]
        grad_t2 = -grad * (value * t1 / (t2 * t2)) if t1 is not None else None
        return grad, (grad * (value / t2) if ctx.needs_input_grad[1] else None), grad_t2
