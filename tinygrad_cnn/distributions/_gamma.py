"""Gamma draws with reparameterised gradients, and the regularised lower incomplete gamma
function P(a, x) the Gamma CDF is: both rest on P's series (x < a + 1) and continued fraction
(x >= a + 1), carried with their derivative in a.

A draw x of Gamma(a, 1) moves with a as dx/da = -(dP/da)(a, x) / p(x; a) (implicit
reparameterisation: P(a, x) stays the uniform quantile the draw came from), p the density.
"""

from __future__ import annotations

import numpy as np

from tinygrad_cnn import random
from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.ops.special import digamma, lgamma
from tinygrad_cnn.tensor import Tensor

_EPS = np.finfo(np.float64).eps
_TINY = np.finfo(np.float64).tiny
_CF_TOL = 8 * _EPS  # the continued fraction's steps settle within a few ulps of 1, not exactly at 1
_MAX_TERMS = 100_000


def _series(a: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P / p, (dP/da) / p) for 0 < x < a + 1: P / p = sum_n r_n with r_n = prod_{k<=n} x / (a + k),
    and d/da of each term of P is the term times (log x - digamma(a + n + 1))."""
    log_x = np.log(x)
    term = x / a
    psi = digamma(a + 1)
    ratio, slope = term.copy(), term * (log_x - psi)
    for n in range(1, _MAX_TERMS):
        psi = psi + 1 / (a + n)
        term = term * x / (a + n)
        change = term * (log_x - psi)
        ratio += term
        slope += change
        if np.all(term <= _EPS * ratio) and np.all(np.abs(change) <= _EPS * np.abs(slope)):
            break
    return ratio, slope


def _continued_fraction(a: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Q / p, (dQ/da) / p) for x >= a + 1, Q = 1 - P: Q = x^a e^-x / Gamma(a) h with h Legendre's
    continued fraction, evaluated by Lentz's method with its a-derivative carried alongside."""
    b = x + 1 - a
    c, dc = np.full_like(x, 1 / _TINY), np.zeros_like(x)
    d = 1 / b
    dd = d * d  # d/da (1 / b) with db/da = -1
    h, dh = d.copy(), dd.copy()
    for i in range(1, _MAX_TERMS):
        an, dan = -i * (i - a), float(i)
        b = b + 2
        big_d = an * d + b
        d_big_d = dan * d + an * dd - 1
        big_d = np.where(np.abs(big_d) < _TINY, _TINY, big_d)
        big_c = b + an / c
        dc = -1 + dan / c - an * dc / c / c
        c = np.where(np.abs(big_c) < _TINY, _TINY, big_c)
        d, dd = 1 / big_d, -d_big_d / (big_d * big_d)
        delta, d_delta = d * c, dd * c + d * dc
        h, dh = h * delta, dh * delta + h * d_delta
        if np.all(np.abs(delta - 1) <= _CF_TOL) and np.all(np.abs(d_delta) <= _CF_TOL * (1 + np.abs(dh / h))):
            break
    ratio = x * h
    return ratio, ratio * (np.log(x) - digamma(a)) + x * dh


def _ratios(a: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower, P-or-Q over p, its a-derivative over p) for float64 a > 0, x > 0 (broadcast):
    ``lower`` marks where the series (P) was used, elsewhere the continued fraction (Q)."""
    a, x = np.broadcast_arrays(a, x)
    lower = x < a + 1
    ratio, slope = np.empty_like(x), np.empty_like(x)
    if lower.any():
        ratio[lower], slope[lower] = _series(a[lower], x[lower])
    if (~lower).any():
        ratio[~lower], slope[~lower] = _continued_fraction(a[~lower], x[~lower])
    return lower, ratio, slope


def _log_density(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """log p(x; a) of Gamma(a, 1)."""
    return (a - 1) * np.log(x) - x - lgamma(a)


def standard_gamma_grad(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """dx/da for draws ``x`` > 0 of Gamma(a, 1), in float64."""
    lower, _, slope = _ratios(a.astype(np.float64), x.astype(np.float64))
    return np.where(lower, -slope, slope)


class StandardGamma(Function):
    """Draws of Gamma(alpha, 1), one per element of alpha (> 0), at least the dtype's tiny;
    d/dalpha by implicit reparameterisation (``standard_gamma_grad``)."""

    op_name = "_standard_gamma"

    @staticmethod
    def forward(ctx: Context, alpha: np.ndarray) -> np.ndarray:
        draws = random.generator().standard_gamma(alpha.astype(np.float64))
        out = np.maximum(draws.astype(alpha.dtype), np.finfo(alpha.dtype).tiny)
        ctx.save_for_backward(alpha, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        alpha, out = ctx.saved_tensors
        return grad * standard_gamma_grad(alpha, out).astype(grad.dtype)


class GammaInc(Function):
    """P(a, x), the regularised lower incomplete gamma function (0 at x = 0), for a > 0, x >= 0;
    d/dx = p(x; a), d/da = ratio-derivative times p."""

    op_name = "special_gammainc"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, x: np.ndarray) -> np.ndarray:
        a64, x64 = np.broadcast_arrays(a.astype(np.float64), x.astype(np.float64))
        positive = x64 > 0
        x_safe = np.where(positive, x64, 1.0)
        lower, ratio, slope = _ratios(a64, x_safe)
        with np.errstate(under="ignore"):
            density = np.exp(_log_density(a64, x_safe))
        p = np.where(lower, ratio * density, 1 - ratio * density)
        ctx.save_for_backward(a, x)
        ctx.pieces = positive, density, np.where(lower, slope, -slope) * density
        dtype = np.result_type(a, x)
        return np.where(positive, p, 0.0).astype(dtype)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        positive, density, da = ctx.pieces
        return (grad * np.where(positive, da, 0.0).astype(grad.dtype) if ctx.needs_input_grad[0] else None,
                grad * np.where(positive, density, 0.0).astype(grad.dtype) if ctx.needs_input_grad[1] else None)


def standard_gamma(alpha: Tensor) -> Tensor:
    """Gamma(alpha, 1) draws of alpha's shape, differentiable in alpha."""
    return StandardGamma.apply(alpha)


def gammainc(a: Tensor, x: Tensor) -> Tensor:
    """P(a, x) elementwise (broadcast), differentiable in both."""
    return GammaInc.apply(a, x)
