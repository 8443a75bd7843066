"""Binomial distribution, as torch.distributions.Binomial."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinygrad_cnn import random
from tinygrad_cnn.creation import arange
from tinygrad_cnn.distributions import constraints
from tinygrad_cnn.distributions.distribution import Distribution
from tinygrad_cnn.distributions.utils import as_size, broadcast_all, lazy_property, logits_to_probs, probs_to_logits
from tinygrad_cnn.tensor import Size, Tensor

__all__ = ["Binomial"]


def _clamp_by_zero(x: Tensor) -> Tensor:
    """max(x, 0) with gradient 1/2 at 0 (as torch's)."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(Distribution):
    """The number of successes in ``total_count`` independent trials of success probability
    ``probs`` (or log-odds ``logits``; exactly one of the two), batched over their broadcast
    shape. Samples are floats of the parameter's dtype."""

    arg_constraints = {"total_count": constraints.nonnegative_integer, "probs": constraints.unit_interval,
                       "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count: Tensor | int = 1, probs: Tensor | float | None = None,
                 logits: Tensor | float | None = None, validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        total, param = broadcast_all(total_count, probs if probs is not None else logits)
        self.total_count = total.type_as(param)
        if probs is not None:
            self.probs = param
        else:
            self.logits = param
        self._param = param
        super().__init__(param.size(), validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "Binomial":
        new = self._get_checked_instance(Binomial, _instance)
        batch_shape = as_size(batch_shape)
        new.total_count = self.total_count.expand(batch_shape)
        for name in ("probs", "logits"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(batch_shape))
                new._param = getattr(new, name)
        return self._expanded_from(new, batch_shape)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self.total_count)

    @lazy_property
    def logits(self) -> Tensor:
        """The log-odds of a success."""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        """The probability of a success, sigmoid(logits)."""
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self) -> Size:
        """The shape of the parameter the distribution was given."""
        return self._param.size()

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        """floor((n + 1) p), at most n."""
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Sequence[int] = Size()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        counts = np.broadcast_to(self.total_count.numpy(), shape).astype(np.int64)
        draws = random.generator().binomial(counts, np.broadcast_to(self.probs.detach().numpy(), shape))
        return Tensor(draws.astype(self._param.dtype))

    def log_prob(self, value: Tensor) -> Tensor:
        """log C(n, k) + k logit - n log(1 + e^logit), stable for any logit."""
        if self._validate_args:
            self._validate_sample(value)
        n = self.total_count
        normalize_term = (n * _clamp_by_zero(self.logits) + n * (-self.logits.abs()).exp().log1p()
                          - (n + 1).lgamma())
        return value * self.logits - (value + 1).lgamma() - (n - value + 1).lgamma() - normalize_term

    def _homogeneous_count(self, op: str) -> int:
        total = int(self.total_count.max().item())
        if self.total_count.min().item() != total:
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{op}`.")
        return total

    def entropy(self) -> Tensor:
        """-sum_k P(k) log P(k) over 0..n (one total_count for the whole batch)."""
        self._homogeneous_count("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        total = self._homogeneous_count("enumerate_support")
        values = arange(1 + total, dtype=self._param.dtype).view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values
