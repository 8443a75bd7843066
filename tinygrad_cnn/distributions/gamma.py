"""Gamma distribution, as torch.distributions.Gamma."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinygrad_cnn.distributions import constraints
from tinygrad_cnn.distributions._gamma import gammainc, standard_gamma
from tinygrad_cnn.distributions.distribution import ExponentialFamily
from tinygrad_cnn.distributions.utils import as_size, broadcast_all
from tinygrad_cnn.tensor import Size, Tensor

__all__ = ["Gamma"]


class Gamma(ExponentialFamily):
    """Gamma(concentration, rate), density rate^a x^(a-1) e^(-rate x) / Gamma(a) on x >= 0,
    batched over the broadcast shape of the two; ``rsample`` is differentiable in both
    (implicitly reparameterised draws of Gamma(a, 1), divided by rate)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration: Tensor | float, rate: Tensor | float, validate_args: bool | None = None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        numbers = not isinstance(concentration, Tensor) and not isinstance(rate, Tensor)
        super().__init__(Size() if numbers else self.concentration.size(), validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "Gamma":
        new = self._get_checked_instance(Gamma, _instance)
        batch_shape = as_size(batch_shape)
        new.concentration, new.rate = self.concentration.expand(batch_shape), self.rate.expand(batch_shape)
        return self._expanded_from(new, batch_shape)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape: Sequence[int] = Size()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        value = standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        value.detach().clamp_(min=float(np.finfo(value.dtype).tiny))  # not recorded, as torch
        return value

    def log_prob(self, value: Tensor | float) -> Tensor:
        """a log(rate) + (a - 1) log(value) - rate value - lgamma(a)."""
        if not isinstance(value, Tensor):
            value = Tensor(np.asarray(value, dtype=self.rate.dtype))
        if self._validate_args:
            self._validate_sample(value)
        a = self.concentration
        return a.xlogy(self.rate) + (a - 1).xlogy(value) - self.rate * value - a.lgamma()

    def cdf(self, value: Tensor) -> Tensor:
        """P(concentration, rate value), the regularised lower incomplete gamma function."""
        if self._validate_args:
            self._validate_sample(value)
        return gammainc(self.concentration, self.rate * value)

    def entropy(self) -> Tensor:
        """a - log(rate) + lgamma(a) + (1 - a) digamma(a)."""
        a = self.concentration
        return a - self.rate.log() + a.lgamma() + (1.0 - a) * a.digamma()
