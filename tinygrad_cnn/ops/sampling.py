"""Ops behind random draws: the in-place fills (``bernoulli_``, ``exponential_``, ...) copy a
draw into the tensor, as ``uniform_``/``normal_`` do, and give the overwritten values a zero
gradient; the out-of-place samplers (``bernoulli``, ``poisson``) return a draw whose gradient
to the rates is zero, as torch's."""

from __future__ import annotations

import numpy as np

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.ops.inplace import Copy


class RandomFillBase(Copy):
    """A random fill: the draw (``src``) replaces ``dst``, whose gradient is zero (torch's, not None)."""

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return np.zeros_like(grad), None


class BernoulliFill(RandomFillBase):
    """``bernoulli_``: every element drawn from Bernoulli(p) (the draw is the constant ``src``)."""

    op_name = "bernoulli"


class ExponentialFill(RandomFillBase):
    """``exponential_``: every element drawn from Exp(lambd)."""

    op_name = "exponential"


class RandomFill(RandomFillBase):
    """``random_``: every element drawn uniformly from the integers of [from, to)."""

    op_name = "random"


class GeometricFill(RandomFillBase):
    """``geometric_``: every element drawn from Geometric(p) on 1, 2, ..."""

    op_name = "geometric"


class CauchyFill(RandomFillBase):
    """``cauchy_``: every element drawn from Cauchy(median, sigma)."""

    op_name = "cauchy"


class LogNormalFill(RandomFillBase):
    """``log_normal_``: every element exp of a draw from N(mean, std²)."""

    op_name = "log_normal"


class Sample(Function):
    """A draw (``sample``, made from the rates ``a``) returned as an op of ``a``: d/da = 0."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, sample: np.ndarray) -> np.ndarray:
        ctx.shape = a.shape
        return sample

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return np.zeros(ctx.shape, dtype=grad.dtype)


class Bernoulli(Sample):
    """torch.bernoulli(p): 1 with probability p, else 0, in p's dtype; no gradient to p."""


class Poisson(Sample):
    """torch.poisson(rates): Poisson draws in the rates' dtype; no gradient to the rates."""
