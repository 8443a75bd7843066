"""One-hot categorical distribution, as torch.distributions.OneHotCategorical."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinygrad_cnn.creation import eye
from tinygrad_cnn.distributions import constraints
from tinygrad_cnn.distributions.categorical import Categorical
from tinygrad_cnn.distributions.distribution import Distribution
from tinygrad_cnn.distributions.utils import as_size
from tinygrad_cnn.tensor import Size, Tensor

__all__ = ["OneHotCategorical", "OneHotCategoricalStraightThrough"]


def _one_hot(indices: Tensor, num_classes: int, dtype: Any) -> Tensor:
    return Tensor(np.eye(num_classes, dtype=dtype)[indices.numpy()])


class OneHotCategorical(Distribution):
    """A Categorical over the K entries of the last dim of ``probs`` or ``logits``, its samples
    one-hot vectors of length K (event_shape (K,), dtype of the parameter)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs: Tensor | None = None, logits: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        self._categorical = Categorical(probs, logits)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "OneHotCategorical":
        new = self._get_checked_instance(OneHotCategorical, _instance)
        batch_shape = as_size(batch_shape)
        new._categorical = self._categorical.expand(batch_shape)
        return self._expanded_from(new, batch_shape)

    @property
    def _param(self) -> Tensor:
        return self._categorical._param

    @property
    def probs(self) -> Tensor:
        """The normalised probabilities (batch_shape + (K,))."""
        return self._categorical.probs

    @property
    def logits(self) -> Tensor:
        """The normalised log-probabilities (batch_shape + (K,))."""
        return self._categorical.logits

    @property
    def param_shape(self) -> Size:
        """The shape of the parameter the distribution was given."""
        return self._categorical.param_shape

    @property
    def mean(self) -> Tensor:
        return self._categorical.probs

    @property
    def mode(self) -> Tensor:
        """The one-hot vector of the most probable category."""
        probs = self._categorical.probs
        return _one_hot(probs.argmax(dim=-1), probs.shape[-1], probs.dtype)

    @property
    def variance(self) -> Tensor:
        return self._categorical.probs * (1 - self._categorical.probs)

    def sample(self, sample_shape: Sequence[int] = Size()) -> Tensor:
        indices = self._categorical.sample(sample_shape)
        return _one_hot(indices, self._categorical._num_events, self._categorical.probs.dtype)

    def log_prob(self, value: Tensor) -> Tensor:
        """The log-probability of the category where ``value`` is largest (its 1)."""
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(dim=-1))

    def entropy(self) -> Tensor:
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        n = self._event_shape[0]
        values = eye(n, dtype=self._param.dtype).view((n,) + (1,) * len(self._batch_shape) + (n,))
        return values.expand((n,) + tuple(self._batch_shape) + (n,)) if expand else values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """OneHotCategorical with the straight-through ``rsample``: the one-hot sample forward,
    the gradient of ``probs`` backward (Bengio et al., 2013)."""

    has_rsample = True

    def rsample(self, sample_shape: Sequence[int] = Size()) -> Tensor:
        probs = self._categorical.probs
        return self.sample(sample_shape) + (probs - probs.detach())
