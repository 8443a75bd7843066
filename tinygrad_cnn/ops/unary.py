"""Elementwise functions of one array (trigonometric, hyperbolic, logarithms, rounding, ...):
each op names its NumPy function and its derivative, as a function of the input ``a`` and
the output ``out``; rounding and sign have derivative 0 (as torch's)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from tinygrad_cnn.autograd import Context, Function


class Unary(Function):
    """Base of the elementwise ops of one array: ``out = fn(a)``; the input's gradient is
    ``chain(grad, a, out)``, by default ``grad * derivative(a, out)``. ``saves`` names what
    backward keeps, as torch keeps it: ``a``, ``out`` or both; one not kept reaches
    ``derivative``/``chain`` as None (and an in-place write to it does not fail backward)."""

    saves: tuple[str, ...] = ("a", "out")

    @staticmethod
    def fn(a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def derivative(a: np.ndarray | None, out: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError

    @classmethod
    def chain(cls, grad: np.ndarray, a: np.ndarray | None, out: np.ndarray | None) -> np.ndarray:
        """The input's gradient from the output's ``grad``."""
        return grad * cls.derivative(a, out)

    @classmethod
    def forward(cls, ctx: Context, a: np.ndarray) -> np.ndarray:
        out = np.asarray(cls.fn(a))
        ctx.save_for_backward(a if "a" in cls.saves else None, out if "out" in cls.saves else None)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        a, out = ctx.saved_tensors
        return ctx.function.chain(grad, a, out)


def unary(name: str, fn: Callable[[np.ndarray], np.ndarray], derivative: Callable | None, doc: str, *,
          chain: Callable | None = None, saves: tuple[str, ...] = ("a", "out"), module: str = __name__) -> type[Unary]:
    """A Unary subclass called ``name`` (of ``module``) computing ``fn`` with ``derivative(a, out)``,
    or with the gradient ``chain(grad, a, out)`` where the product form would round differently,
    keeping ``saves`` for backward."""
    body: dict[str, Any] = {"fn": staticmethod(fn), "saves": saves, "__doc__": doc, "__module__": module}
    if derivative is not None:
        body["derivative"] = staticmethod(derivative)
    if chain is not None:
        body["chain"] = staticmethod(chain)
    return type(name, (Unary,), body)


def _zero(a: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.zeros((), dtype=out.dtype)


Sin = unary("Sin", np.sin, lambda a, out: np.cos(a), "sin(a); d/da = cos(a).")
Cos = unary("Cos", np.cos, lambda a, out: -np.sin(a), "cos(a); d/da = -sin(a).")
Tan = unary("Tan", np.tan, lambda a, out: 1 + out * out, "tan(a); d/da = 1 + tan(a)**2.")
Asin = unary("Asin", np.arcsin, lambda a, out: 1 / np.sqrt(1 - a * a), "arcsin(a); d/da = 1 / sqrt(1 - a**2).")
Acos = unary("Acos", np.arccos, lambda a, out: -1 / np.sqrt(1 - a * a), "arccos(a); d/da = -1 / sqrt(1 - a**2).")
Atan = unary("Atan", np.arctan, lambda a, out: 1 / (1 + a * a), "arctan(a); d/da = 1 / (1 + a**2).")
Sinh = unary("Sinh", np.sinh, lambda a, out: np.cosh(a), "sinh(a); d/da = cosh(a).")
Cosh = unary("Cosh", np.cosh, lambda a, out: np.sinh(a), "cosh(a); d/da = sinh(a).")
Log2 = unary("Log2", np.log2, lambda a, out: 1 / (a * np.log(2).astype(a.dtype)), "log2(a); d/da = 1 / (a ln 2).")
Log10 = unary("Log10", np.log10, lambda a, out: 1 / (a * np.log(10).astype(a.dtype)),
              "log10(a); d/da = 1 / (a ln 10).")
Log1p = unary("Log1p", np.log1p, lambda a, out: 1 / (1 + a), "log(1 + a), exact for small a; d/da = 1 / (1 + a).")
Expm1 = unary("Expm1", np.expm1, lambda a, out: out + 1, "exp(a) - 1, exact for small a; d/da = exp(a).")
Rsqrt = unary("Rsqrt", lambda a: 1 / np.sqrt(a), lambda a, out: -0.5 * out * out * out,
              "1 / sqrt(a); d/da = -0.5 a**-1.5.")
Reciprocal = unary("Reciprocal", lambda a: 1 / a, lambda a, out: -out * out, "1 / a; d/da = -1 / a**2.")
Square = unary("Square", np.square, lambda a, out: 2 * a, "a**2; d/da = 2a.")


def _sign(a: np.ndarray) -> np.ndarray:
    out = np.asarray(np.sign(a))  # of a 0-d array, np.sign returns a scalar
    if out.dtype.kind == "f":
        out[np.isnan(a)] = 0  # torch's sign(nan) is 0
    return out


Sign = unary("Sign", _sign, _zero, "The sign of a (-1, 0 or 1; 0 for NaN, as torch's); derivative 0.")
Floor = unary("Floor", np.floor, _zero, "a rounded down; derivative 0.")
Ceil = unary("Ceil", np.ceil, _zero, "a rounded up; derivative 0.")
Trunc = unary("Trunc", np.trunc, _zero, "a rounded towards 0; derivative 0.")
Frac = unary("Frac", lambda a: a - np.trunc(a), lambda a, out: np.ones((), dtype=out.dtype),
             "a - trunc(a) (the fractional part, sign kept); derivative 1.")


class Round(Function):
    """a rounded to ``decimals`` places, halves to even (as torch.round); derivative 0."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, decimals: int = 0) -> np.ndarray:
        return np.round(a, decimals)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return np.zeros_like(grad)


class NanToNum(Function):
    """a with NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (the dtype's
    largest and smallest finite values when None, as torch); the gradient passes where a is finite."""

    op_name = "nan_to_num"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, nan: float = 0.0, posinf: float | None = None,
                neginf: float | None = None) -> np.ndarray:
        ctx.finite = np.isfinite(a)
        return np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return grad * ctx.finite


def _sinc_derivative(a: np.ndarray, out: np.ndarray) -> np.ndarray:
    pa, denominator = np.pi * a, a * a * np.pi
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator == 0, 0, (pa * np.cos(pa) - np.sin(pa)) / denominator).astype(a.dtype)


def _entr(a: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > 0, -a * np.log(a), np.where(a == 0, 0, np.where(a < 0, -np.inf, a))).astype(a.dtype)


def _sign(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind != "f":
        return a.copy() if a.dtype.kind == "b" else np.sign(a)
    return np.where(np.isnan(a), 0, np.sign(a)).astype(a.dtype)


def _quiet(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """``fn`` without NumPy's warnings outside its domain (nan/inf results, as torch's, which warns of none)."""
    def run(a: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return fn(a)
    return run


Asinh = unary("Asinh", _quiet(np.arcsinh), lambda a, out: 1 / np.sqrt(a * a + 1), "arcsinh(a); d/da = 1 / sqrt(a**2 + 1).")
Acosh = unary("Acosh", _quiet(np.arccosh), lambda a, out: 1 / np.sqrt(a * a - 1), "arccosh(a); d/da = 1 / sqrt(a**2 - 1).")
Atanh = unary("Atanh", _quiet(np.arctanh), lambda a, out: 1 / (1 - a * a), "arctanh(a); d/da = 1 / (1 - a**2).")
Exp2 = unary("Exp2", _quiet(np.exp2), lambda a, out: out * np.log(2).astype(out.dtype), "2 ** a; d/da = 2**a ln 2.",
             saves=("out",))
Deg2Rad = unary("Deg2Rad", lambda a: a * (np.pi / 180), None, "a degrees in radians, a pi / 180; d/da = pi / 180.",
                chain=lambda grad, a, out: grad * (np.pi / 180), saves=())
Rad2Deg = unary("Rad2Deg", lambda a: a * (180 / np.pi), None, "a radians in degrees, a 180 / pi; d/da = 180 / pi.",
                chain=lambda grad, a, out: grad * (180 / np.pi), saves=())
Sgn = unary("Sgn", _sign, None, "The sign of a (-1, 0 or 1; 0 for NaN, a itself for bools); derivative 0.",
            chain=lambda grad, a, out: np.zeros_like(grad), saves=())
Sinc = unary("Sinc", _quiet(np.sinc), _sinc_derivative, "sin(pi a) / (pi a), 1 at 0; d/da = (pi a cos(pi a) - sin(pi a)) / "
             "(pi a**2), 0 at 0.", saves=("a",))
Entr = unary("Entr", _entr, lambda a, out: -(1 + np.log(a)), "-a log(a) (0 at 0, -inf below 0), the entropy term; "
             "d/da = -(1 + log a).", saves=("a",))
Entr.op_name = "special_entr"


class Logit(Function):
    """log(a / (1 - a)), ``a`` first clamped to [eps, 1 - eps] when ``eps`` is given; d/da =
    1 / (a (1 - a)), 0 outside [eps, 1 - eps] (nan outside [0, 1] without eps), as torch's."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, eps: float | None = None) -> np.ndarray:
        ctx.save_for_backward(a)
        z = a if eps is None else np.clip(a, eps, 1 - eps)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(z / (1 - z))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        (a,) = ctx.saved_tensors
        eps = ctx.params["eps"]
        derivative = grad / (a * (1 - a))
        if eps is None:
            return np.where((a < 0) | (a > 1), np.nan, derivative)
        return np.where((a < eps) | (a > 1 - eps), 0, derivative)
