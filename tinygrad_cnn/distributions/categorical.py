"""Categorical distribution over {0, ..., K-1}, as torch.distributions.Categorical."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from tinygrad_cnn.creation import arange, full
from tinygrad_cnn.distributions import constraints
from tinygrad_cnn.distributions.distribution import Distribution
from tinygrad_cnn.distributions.utils import as_size, lazy_property, logits_to_probs, probs_to_logits
from tinygrad_cnn.functions import broadcast_tensors
from tinygrad_cnn.tensor import Size, Tensor

__all__ = ["Categorical"]


class Categorical(Distribution):
    """A distribution over the K categories of the last dim of ``probs`` (non-negative weights,
    normalised to sum to 1) or ``logits`` (unnormalised log-probabilities, normalised with
    logsumexp); exactly one of the two. The other is derived on first use, keeping the graph.
    The leading dims are the batch; samples are int64 indices."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs: Tensor | None = None, logits: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
            self._param = self.probs
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
            self._param = self.logits
        self._num_events = self._param.size()[-1]
        batch_shape = self._param.size()[:-1] if self._param.ndim > 1 else Size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "Categorical":
        new = self._get_checked_instance(Categorical, _instance)
        batch_shape = as_size(batch_shape)
        for name in ("probs", "logits"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(batch_shape + (self._num_events,)))
                new._param = getattr(new, name)
        new._num_events = self._num_events
        return self._expanded_from(new, batch_shape)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self) -> Tensor:
        """The normalised log-probabilities (probabilities clamped away from 0)."""
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self) -> Tensor:
        """The normalised probabilities, softmax(logits)."""
        return logits_to_probs(self.logits)

    @property
    def param_shape(self) -> Size:
        """The shape of the parameter the distribution was given (batch_shape + (K,))."""
        return self._param.size()

    @property
    def mean(self) -> Tensor:
        """NaN (a category has no mean), of shape batch_shape."""
        return full(tuple(self._extended_shape()), math.nan, dtype=self.probs.dtype)

    @property
    def mode(self) -> Tensor:
        """The most probable category."""
        return self.probs.argmax(dim=-1)

    @property
    def variance(self) -> Tensor:
        """NaN, of shape batch_shape."""
        return full(tuple(self._extended_shape()), math.nan, dtype=self.probs.dtype)

    def sample(self, sample_shape: Sequence[int] = Size()) -> Tensor:
        sample_shape = as_size(sample_shape)
        probs_2d = self.probs.detach().reshape(-1, self._num_events)
        return probs_2d.multinomial(sample_shape.numel(), True).T.reshape(self._extended_shape(sample_shape))

    def log_prob(self, value: Tensor) -> Tensor:
        """The normalised logit of category ``value`` (broadcast with batch_shape)."""
        if self._validate_args:
            self._validate_sample(value)
        value, log_pmf = broadcast_tensors(value.long().unsqueeze(-1), self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self) -> Tensor:
        """-sum p log p over the categories (0 log 0 = 0)."""
        logits = self.logits.clamp(min=float(np.finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = arange(self._num_events, dtype=np.int64).view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values
