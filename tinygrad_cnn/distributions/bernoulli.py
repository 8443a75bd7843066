"""Bernoulli distribution, as torch.distributions.Bernoulli."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from tinygrad_cnn.autograd import no_grad
from tinygrad_cnn.creation import arange
from tinygrad_cnn.distributions import constraints
from tinygrad_cnn.distributions.distribution import ExponentialFamily
from tinygrad_cnn.distributions.utils import (
    as_size, broadcast_all, lazy_property, logits_to_probs, probs_to_logits,
)
from tinygrad_cnn.tensor import Size, Tensor

__all__ = ["Bernoulli"]


def bce_with_logits(logits: Tensor, target: Tensor) -> Tensor:
    """Elementwise binary cross-entropy of sigmoid(logits) against ``target`` (same shape),
    differentiable in both."""
    from tinygrad_cnn.nn.functional import binary_cross_entropy_with_logits

    return binary_cross_entropy_with_logits(logits, target, reduction="none")


class Bernoulli(ExponentialFamily):
    """Bernoulli(p): 1 with probability p, 0 otherwise, given by ``probs`` or ``logits``
    (log-odds; exactly one of the two). The other is derived on first use, keeping the graph."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs: Tensor | float | None = None, logits: Tensor | float | None = None,
                 validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        given = probs if probs is not None else logits
        (param,) = broadcast_all(given)
        if probs is not None:
            self.probs = param
        else:
            self.logits = param
        self._param = param
        super().__init__(param.size() if isinstance(given, Tensor) else Size(), validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "Bernoulli":
        new = self._get_checked_instance(Bernoulli, _instance)
        batch_shape = as_size(batch_shape)
        for name in ("probs", "logits"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(batch_shape))
                new._param = getattr(new, name)
        return self._expanded_from(new, batch_shape)

    @lazy_property
    def logits(self) -> Tensor:
        """The log-odds log(p / (1 - p)) (p clamped away from 0 and 1)."""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        """The probability of 1, sigmoid(logits)."""
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self) -> Size:
        """The shape of the parameter the distribution was given."""
        return self._param.size()

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        """1 where p > 1/2, 0 where p < 1/2, NaN where p == 1/2."""
        probs = self.probs.detach()
        return Tensor(np.where(probs.numpy() == 0.5, math.nan, probs.numpy() >= 0.5).astype(probs.dtype))

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Sequence[int] = Size()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return self.probs.expand(tuple(shape)).bernoulli()

    def log_prob(self, value: Tensor) -> Tensor:
        """value log p + (1 - value) log(1 - p), computed stably from the logits."""
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -bce_with_logits(logits, value.to(logits.dtype))

    def entropy(self) -> Tensor:
        """-p log p - (1 - p) log(1 - p)."""
        return bce_with_logits(self.logits, self.probs)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = arange(2, dtype=self._param.dtype).view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values
