"""Laplace distribution, as torch.distributions.Laplace."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinygrad_cnn.distributions import constraints
from tinygrad_cnn.distributions.distribution import Distribution
from tinygrad_cnn.distributions.utils import as_size, broadcast_all, uniform
from tinygrad_cnn.tensor import Size, Tensor

__all__ = ["Laplace"]


class Laplace(Distribution):
    """Laplace(loc, scale), density exp(-|x - loc| / scale) / (2 scale), batched over the
    broadcast shape of ``loc`` and ``scale``; ``rsample`` by the inverse CDF (differentiable)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc: Tensor | float, scale: Tensor | float, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        numbers = not isinstance(loc, Tensor) and not isinstance(scale, Tensor)
        super().__init__(Size() if numbers else self.loc.size(), validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "Laplace":
        new = self._get_checked_instance(Laplace, _instance)
        batch_shape = as_size(batch_shape)
        new.loc, new.scale = self.loc.expand(batch_shape), self.scale.expand(batch_shape)
        return self._expanded_from(new, batch_shape)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale.pow(2)

    @property
    def stddev(self) -> Tensor:
        return (2 ** 0.5) * self.scale

    def rsample(self, sample_shape: Sequence[int] = Size()) -> Tensor:
        """loc - scale sign(u) log(1 - |u|), u uniform in [eps - 1, 1) (as torch)."""
        eps = float(np.finfo(self.loc.dtype).eps)
        u = uniform(self._extended_shape(sample_shape), self.loc.dtype) * (2 - eps) + (eps - 1)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value: Tensor) -> Tensor:
        """-log(2 scale) - |value - loc| / scale."""
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value: Tensor) -> Tensor:
        """1/2 - sign(value - loc) expm1(-|value - loc| / scale) / 2."""
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 - 0.5 * (value - self.loc).sign() * (-(value - self.loc).abs() / self.scale).expm1()

    def icdf(self, value: Tensor) -> Tensor:
        """loc - scale sign(value - 1/2) log(1 - 2 |value - 1/2|)."""
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self) -> Tensor:
        """1 + log(2 scale)."""
        return 1 + (2 * self.scale).log()
