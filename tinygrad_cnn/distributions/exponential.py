"""Exponential distribution, as torch.distributions.Exponential."""

from __future__ import annotations

from typing import Any, Sequence

from tinygrad_cnn.creation import zeros_like
from tinygrad_cnn.distributions import constraints
from tinygrad_cnn.distributions.distribution import ExponentialFamily
from tinygrad_cnn.distributions.utils import as_size, broadcast_all
from tinygrad_cnn.tensor import Size, Tensor

__all__ = ["Exponential"]


class Exponential(ExponentialFamily):
    """Exponential(rate), density rate exp(-rate x) on x >= 0, batched over ``rate``'s shape;
    ``rsample`` is e / rate with e ~ Exponential(1), differentiable in rate."""

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate: Tensor | float, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.size() if isinstance(rate, Tensor) else Size(), validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "Exponential":
        new = self._get_checked_instance(Exponential, _instance)
        batch_shape = as_size(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        return self._expanded_from(new, batch_shape)

    @property
    def mean(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def mode(self) -> Tensor:
        return zeros_like(self.rate)

    @property
    def stddev(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def variance(self) -> Tensor:
        return self.rate.pow(-2)

    def rsample(self, sample_shape: Sequence[int] = Size()) -> Tensor:
        return self.rate.new_empty(tuple(self._extended_shape(sample_shape))).exponential_() / self.rate

    def log_prob(self, value: Tensor) -> Tensor:
        """log(rate) - rate value."""
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value: Tensor) -> Tensor:
        """1 - exp(-rate value)."""
        if self._validate_args:
            self._validate_sample(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value: Tensor) -> Tensor:
        """-log(1 - value) / rate."""
        return -(-value).log1p() / self.rate

    def entropy(self) -> Tensor:
        """1 - log(rate)."""
        return 1.0 - self.rate.log()

