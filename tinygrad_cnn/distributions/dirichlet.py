"""Dirichlet and Beta distributions, as torch.distributions.Dirichlet and .Beta."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinygrad_cnn.distributions import constraints
from tinygrad_cnn.distributions._gamma import standard_gamma
from tinygrad_cnn.distributions.distribution import ExponentialFamily
from tinygrad_cnn.distributions.utils import as_size, broadcast_all
from tinygrad_cnn.functions import stack
from tinygrad_cnn.tensor import Size, Tensor

__all__ = ["Beta", "Dirichlet"]


class Dirichlet(ExponentialFamily):
    """Dirichlet(concentration) over the probability vectors of the last dim of
    ``concentration`` (event_shape (K,)); ``rsample`` normalises implicitly reparameterised
    Gamma(concentration_i, 1) draws, differentiable in the concentration."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration: Tensor, validate_args: bool | None = None) -> None:
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "Dirichlet":
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = as_size(batch_shape)
        new.concentration = self.concentration.expand(tuple(batch_shape + self._event_shape))
        return self._expanded_from(new, batch_shape)

    def rsample(self, sample_shape: Sequence[int] = Size()) -> Tensor:
        gammas = standard_gamma(self.concentration.expand(tuple(self._extended_shape(sample_shape))))
        return gammas / gammas.sum(-1, keepdim=True)

    def log_prob(self, value: Tensor) -> Tensor:
        """sum (a_i - 1) log x_i + lgamma(sum a_i) - sum lgamma(a_i)."""
        if self._validate_args:
            self._validate_sample(value)
        a = self.concentration
        return (a - 1.0).xlogy(value).sum(-1) + a.sum(-1).lgamma() - a.lgamma().sum(-1)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self) -> Tensor:
        """(a - 1)+ normalised; where every a_i < 1, the vertex of the largest of them."""
        am1 = (self.concentration - 1).clamp(min=0.0)
        with np.errstate(invalid="ignore"):  # 0 / 0 where every a_i < 1: replaced by the vertex below
            mode = am1 / am1.sum(-1, True)
        a = self.concentration.detach().numpy()
        vertex = np.eye(a.shape[-1], dtype=a.dtype)[np.nan_to_num(mode.detach().numpy()).argmax(-1)]
        return mode.where(Tensor(~(a < 1).all(-1, keepdims=True)), Tensor(vertex))

    @property
    def variance(self) -> Tensor:
        total = self.concentration.sum(-1, True)
        return self.concentration * (total - self.concentration) / (total.pow(2) * (total + 1))

    def entropy(self) -> Tensor:
        """sum lgamma(a_i) - lgamma(a0) - (K - a0) digamma(a0) - sum (a_i - 1) digamma(a_i)."""
        a = self.concentration
        k, a0 = a.shape[-1], a.sum(-1)
        return a.lgamma().sum(-1) - a0.lgamma() - (k - a0) * a0.digamma() - ((a - 1.0) * a.digamma()).sum(-1)


class Beta(ExponentialFamily):
    """Beta(concentration1, concentration0) on [0, 1], density x^(a-1) (1-x)^(b-1) / B(a, b): the
    first coordinate of Dirichlet([a, b]), batched over the broadcast shape of the two."""

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1: Tensor | float, concentration0: Tensor | float,
                 validate_args: bool | None = None) -> None:
        c1, c0 = broadcast_all(concentration1, concentration0)
        self._dirichlet = Dirichlet(stack([c1, c0], -1), validate_args=validate_args)
        super().__init__(self._dirichlet._batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "Beta":
        new = self._get_checked_instance(Beta, _instance)
        batch_shape = as_size(batch_shape)
        new._dirichlet = self._dirichlet.expand(batch_shape)
        return self._expanded_from(new, batch_shape)

    @property
    def concentration1(self) -> Tensor:
        """a, the exponent of x."""
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self) -> Tensor:
        """b, the exponent of 1 - x."""
        return self._dirichlet.concentration[..., 1]

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self) -> Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        return self._dirichlet.rsample(sample_shape).select(-1, 0)

    def log_prob(self, value: Tensor) -> Tensor:
        """(a - 1) log x + (b - 1) log(1 - x) - log B(a, b)."""
        if self._validate_args:
            self._validate_sample(value)
        return self._dirichlet.log_prob(stack([value, 1.0 - value], -1))

    def entropy(self) -> Tensor:
        return self._dirichlet.entropy()
