"""The differentiable ops over the special-function kernels of ``ops/special.py`` (erf, erfc,
erfcx, erfinv, lgamma, digamma, i0, ndtr, ndtri, log_ndtr): each keeps its input's dtype and
has torch's derivative; i0's derivative is i1, digamma's is trigamma."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from tinygrad_cnn.ops import special as K
from tinygrad_cnn.ops.unary import Unary, unary

_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2 * math.pi)


def _typed(kernel: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """``kernel`` (which computes in float64) returning its input's dtype (inf past its range)."""
    def run(a: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return kernel(a).astype(a.dtype, copy=False)
    return run


def _special(name: str, kernel: Callable, derivative: Callable, doc: str, saves: tuple[str, ...],
             op_name: str = "") -> type[Unary]:
    op = unary(name, _typed(kernel), derivative, doc, saves=saves, module=__name__)
    op.op_name = op_name
    return op


def _gauss(a: np.ndarray, scale: float) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.exp(-scale * a * a)


Erf = _special("Erf", K.erf, lambda a, out: _TWO_OVER_SQRT_PI * _gauss(a, 1.0),
               "erf(a), the error function; d/da = 2 / sqrt(pi) exp(-a**2).", ("a",))
Erfc = _special("Erfc", K.erfc, lambda a, out: -_TWO_OVER_SQRT_PI * _gauss(a, 1.0),
                "erfc(a) = 1 - erf(a), exact in the upper tail; d/da = -2 / sqrt(pi) exp(-a**2).", ("a",))
Erfcx = _special("Erfcx", K.erfcx, lambda a, out: 2 * a * out - _TWO_OVER_SQRT_PI,
                 "erfcx(a) = exp(a**2) erfc(a); d/da = 2 a erfcx(a) - 2 / sqrt(pi).", ("a", "out"),
                 "special_erfcx")
Erfinv = _special("Erfinv", K.erfinv, lambda a, out: 0.5 * math.sqrt(math.pi) * _gauss(out, -1.0),
                  "erfinv(a), the inverse of erf on [-1, 1]; d/da = sqrt(pi) / 2 exp(erfinv(a)**2).", ("a", "out"))
Lgamma = _special("Lgamma", K.lgamma, lambda a, out: K.digamma(a).astype(a.dtype),
                  "lgamma(a) = log|Gamma(a)|; d/da = digamma(a).", ("a",))
Digamma = _special("Digamma", K.digamma, lambda a, out: K.trigamma(a).astype(a.dtype),
                   "digamma(a) = d/da lgamma(a); d/da = polygamma(1, a).", ("a",))
I0 = _special("I0", K.i0, lambda a, out: K.i1(a).astype(a.dtype),
              "i0(a), the modified Bessel function of order 0; d/da = i1(a).", ("a",))
Ndtr = _special("Ndtr", K.ndtr, lambda a, out: _gauss(a, 0.5) / _SQRT_2PI,
                "ndtr(a) = Phi(a), the standard normal CDF; d/da = exp(-a**2 / 2) / sqrt(2 pi).", ("a",),
                "special_ndtr")
Ndtri = _special("Ndtri", K.ndtri, lambda a, out: _SQRT_2PI * _gauss(out, -0.5),
                 "ndtri(a), the inverse of Phi on [0, 1]; d/da = sqrt(2 pi) exp(ndtri(a)**2 / 2).", ("out",),
                 "special_ndtri")
LogNdtr = _special("LogNdtr", K.log_ndtr, lambda a, out: np.exp(-(out + 0.5 * a * a)) / _SQRT_2PI,
                   "log_ndtr(a) = log(Phi(a)), finite far into the lower tail; d/da = Phi'(a) / Phi(a).",
                   ("a", "out"), "special_log_ndtr")
