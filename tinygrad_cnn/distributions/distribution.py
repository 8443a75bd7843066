"""Distribution, the base of every probability distribution, and ExponentialFamily, as
torch.distributions': batch/event shapes, argument validation, and the interface (sample,
rsample, log_prob, entropy, mean, variance, cdf, ...) the subclasses fill in."""

from __future__ import annotations

import warnings
from typing import Any, Sequence

from tinygrad_cnn.autograd import no_grad
from tinygrad_cnn.distributions import constraints
from tinygrad_cnn.distributions.utils import as_size, lazy_property
from tinygrad_cnn.tensor import Size, Tensor

__all__ = ["Distribution", "ExponentialFamily"]


class Distribution:
    """A probability distribution over events of ``event_shape``, batched over ``batch_shape``.

    With ``validate_args`` (default: on, unless Python runs with -O, or as set by
    ``set_default_validate_args``) the parameters are checked against ``arg_constraints`` at
    construction and values given to ``log_prob``/``cdf`` against ``support``; a violation
    raises ValueError naming the parameter.
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turn argument validation on or off for every distribution made afterwards."""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: value must be True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape: Sequence[int] = Size(), event_shape: Sequence[int] = Size(),
                 validate_args: bool | None = None) -> None:
        self._batch_shape = as_size(batch_shape)
        self._event_shape = as_size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._check_parameters()

    def _check_parameters(self) -> None:
        try:
            arg_constraints = self.arg_constraints
        except NotImplementedError:
            arg_constraints = {}
            warnings.warn(f"{type(self)} does not define `arg_constraints`. Please set `arg_constraints = {{}}` or "
                          "initialize the distribution with `validate_args=False` to turn off validation.",
                          stacklevel=3)
        for param, constraint in arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue
            if param not in self.__dict__ and isinstance(getattr(type(self), param, None), lazy_property):
                continue  # not computed yet: derived from a checked parameter
            value = getattr(self, param)
            if not bool(constraint.check(value).all()):
                raise ValueError(f"Expected parameter {param} ({type(value).__name__} of shape {tuple(value.shape)}) "
                                 f"of distribution {self!r} to satisfy the constraint {constraint!r}, but found "
                                 f"invalid values:\n{value}")

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "Distribution":
        """A new distribution with the parameters expanded to ``batch_shape`` (not re-validated)."""
        raise NotImplementedError

    @property
    def batch_shape(self) -> Size:
        """The shape over which parameters are batched."""
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        """The shape of a single sample (without batching)."""
        return self._event_shape

    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:
        """The constraint each tensor parameter must satisfy, by parameter name."""
        raise NotImplementedError

    @property
    def support(self) -> constraints.Constraint:
        """The constraint describing where the distribution has mass."""
        raise NotImplementedError

    @property
    def mean(self) -> Tensor:
        """The mean, of shape batch_shape + event_shape."""
        raise NotImplementedError

    @property
    def mode(self) -> Tensor:
        """The mode, of shape batch_shape + event_shape."""
        raise NotImplementedError(f"{type(self)} does not implement mode")

    @property
    def variance(self) -> Tensor:
        """The variance, of shape batch_shape + event_shape."""
        raise NotImplementedError

    @property
    def stddev(self) -> Tensor:
        """The standard deviation, sqrt(variance)."""
        return self.variance.sqrt()

    def sample(self, sample_shape: Sequence[int] = Size()) -> Tensor:
        """Draws of shape sample_shape + batch_shape + event_shape, cut from the graph."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: Sequence[int] = Size()) -> Tensor:
        """Reparameterised draws of shape sample_shape + batch_shape + event_shape: gradients
        flow from them to the parameters."""
        raise NotImplementedError

    def sample_n(self, n: int) -> Tensor:
        """``n`` draws, as ``sample((n,))`` (deprecated in torch, as here: a FutureWarning)."""
        warnings.warn("`sample_n(n)` will be deprecated. Use `sample((n,))` instead.", FutureWarning, stacklevel=2)
        return self.sample(Size((n,)))

    def log_prob(self, value: Tensor) -> Tensor:
        """The log density/mass at ``value`` (broadcast with batch_shape + event_shape), of
        shape value's batch part."""
        raise NotImplementedError

    def cdf(self, value: Tensor) -> Tensor:
        """The cumulative distribution function at ``value``."""
        raise NotImplementedError

    def icdf(self, value: Tensor) -> Tensor:
        """The inverse cumulative distribution function at ``value`` (probabilities)."""
        raise NotImplementedError

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """Every value of a discrete distribution, along dim 0: shape (cardinality,) +
        batch_shape + event_shape (batch dims of size 1 when ``expand`` is False)."""
        raise NotImplementedError

    def entropy(self) -> Tensor:
        """The entropy, of shape batch_shape."""
        raise NotImplementedError

    def perplexity(self) -> Tensor:
        """exp(entropy), of shape batch_shape."""
        return self.entropy().exp()

    def _extended_shape(self, sample_shape: Sequence[int] = Size()) -> Size:
        """sample_shape + batch_shape + event_shape."""
        return Size(as_size(sample_shape) + self._batch_shape + self._event_shape)

    def _validate_sample(self, value: Tensor) -> None:
        """ValueError unless ``value`` is a tensor whose rightmost dims match event_shape,
        broadcastable with batch_shape, and within the support."""
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        shape = tuple(value.shape)
        event_start = len(shape) - len(self._event_shape)
        if shape[event_start:] != tuple(self._event_shape):
            raise ValueError(f"The right-most size of value must match event_shape: {Size(shape)} vs "
                             f"{self._event_shape}.")
        expected = self._batch_shape + self._event_shape
        for i, j in zip(reversed(shape), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: {Size(shape)} vs "
                                 f"{Size(expected)}.")
        try:
            support = self.support
        except NotImplementedError:
            warnings.warn(f"{type(self)} does not define `support` to enable sample validation. Please initialize "
                          "the distribution with `validate_args=False` to turn off validation.", stacklevel=3)
            return
        if not bool(support.check(value).all()):
            raise ValueError(f"Expected value argument ({type(value).__name__} of shape {shape}) to be within the "
                             f"support ({support!r}) of the distribution {self!r}, but found invalid values:\n{value}")

    def _get_checked_instance(self, cls: type, _instance: Any = None) -> Any:
        """A blank instance for ``expand`` (NotImplementedError for a subclass with its own
        ``__init__`` but no ``expand``, as torch)."""
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(f"Subclass {type(self).__name__} of {cls.__name__} that defines a custom "
                                      "__init__ method must also define a custom .expand() method.")
        return self.__new__(type(self)) if _instance is None else _instance

    def _expanded_from(self, new: "Distribution", batch_shape: Size, event_shape: Size | None = None) -> "Distribution":
        """Finish ``expand``: give ``new`` its shapes (not re-validated) and this one's validate flag."""
        Distribution.__init__(new, batch_shape, self._event_shape if event_shape is None else event_shape,
                              validate_args=False)
        new._validate_args = self._validate_args
        return new

    def __repr__(self) -> str:
        try:
            names = [k for k in self.arg_constraints if k in self.__dict__]
        except NotImplementedError:
            names = []
        shown = ", ".join(f"{k}: {self.__dict__[k] if self.__dict__[k].numel() == 1 else self.__dict__[k].size()}"
                          for k in names)
        return f"{type(self).__name__}({shown})"


class ExponentialFamily(Distribution):
    """The base of the distributions of the exponential family p(x) = exp(<t(x), theta> -
    F(theta) + k(x)) (Normal, Bernoulli, Exponential, ...); each computes its entropy and KL
    divergences in closed form."""
