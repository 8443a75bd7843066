"""``torch.special``: the special functions, each as torch.special names it, with ``out=``.

Most are the torch.* functions under another name (``gammaln`` is lgamma, ``psi`` digamma,
``expit`` sigmoid); ``ndtr``, ``ndtri``, ``log_ndtr``, ``entr``, ``erfcx`` and ``xlog1py``
exist only here. All are differentiable, with torch's derivatives.
"""

from __future__ import annotations

from typing import Any

from tinygrad_cnn.functions import _write_into
from tinygrad_cnn.functions import (  # noqa: F401 (torch.special's names for torch.* functions)
    digamma, erf, erfc, erfinv, exp2, expm1, i0, lgamma, log1p, log_softmax, logit, logsumexp, round, sigmoid, sinc,
    softmax, xlogy,
)
from tinygrad_cnn.ops import binary_math as B
from tinygrad_cnn.ops import special_ops as SP
from tinygrad_cnn.ops import unary as U
from tinygrad_cnn.tensor import Tensor

__all__ = ["digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammaln", "i0", "log1p",
           "log_ndtr", "log_softmax", "logit", "logsumexp", "ndtr", "ndtri", "psi", "round", "sinc", "softmax",
           "xlog1py", "xlogy"]

expit, gammaln, psi = sigmoid, lgamma, digamma


def _tensor(input: Any, op: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"special.{op}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    return input._as_float()


def _done(result: Tensor, out: Tensor | None, op: str) -> Tensor:
    return result if out is None else _write_into(out, result, op)


def ndtr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Phi(input), the standard normal CDF (1/2)(1 + erf(x / sqrt 2)), exact in the lower tail."""
    return _done(SP.Ndtr.apply(_tensor(input, "ndtr")), out, "ndtr")


def ndtri(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The x with Phi(x) = input, for input in [0, 1] (-inf at 0, inf at 1, nan outside)."""
    return _done(SP.Ndtri.apply(_tensor(input, "ndtri")), out, "ndtri")


def log_ndtr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """log(Phi(input)), finite far into the lower tail (about -x**2 / 2 there)."""
    return _done(SP.LogNdtr.apply(_tensor(input, "log_ndtr")), out, "log_ndtr")


def erfcx(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """exp(x**2) erfc(x), the scaled complementary error function (no underflow for large x)."""
    return _done(SP.Erfcx.apply(_tensor(input, "erfcx")), out, "erfcx")


def entr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """-x log(x) elementwise: 0 at 0, -inf for x < 0."""
    return _done(U.Entr.apply(_tensor(input, "entr")), out, "entr")


def xlog1py(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """input * log1p(other), 0 where input is 0 (unless other is NaN); either may be a number."""
    if not isinstance(input, Tensor):
        if not isinstance(other, Tensor):
            raise TypeError("special.xlog1py(): expected at least one Tensor argument")
        input = other._lift(input)
    return _done(B.Xlog1py.apply(*input._floats(other)), out, "xlog1py")
