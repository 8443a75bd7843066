"""kl_divergence(p, q) and register_kl, as torch.distributions.kl: closed forms looked up by
the most specific registered (type(p), type(q)) pair; NotImplementedError for an unregistered one.
The closed forms themselves are registered by ``_kl_same`` (pairs of one family) and
``_kl_cross`` (pairs of two), which the package imports."""

from __future__ import annotations

import math
import warnings
from functools import total_ordering
from typing import Callable

from tinygrad_cnn.distributions.distribution import Distribution
from tinygrad_cnn.tensor import Tensor

__all__ = ["kl_divergence", "register_kl"]

_KL_REGISTRY: dict[tuple[type, type], Callable] = {}  # the registered pairs
_KL_MEMOIZE: dict[tuple[type, type], Callable] = {}  # the function found for each pair of types met


def register_kl(type_p: type, type_q: type) -> Callable[[Callable], Callable]:
    """A decorator registering ``fun(p, q)`` as KL(p || q) for p of ``type_p`` and q of ``type_q``
    (and their subclasses, unless a more specific pair is registered)."""
    for name, kind in (("type_p", type_p), ("type_q", type_q)):
        if not (isinstance(kind, type) and issubclass(kind, Distribution)):
            raise TypeError(f"register_kl: expected {name} to be a Distribution subclass but got {kind!r}")

    def decorator(fun: Callable) -> Callable:
        _KL_REGISTRY[type_p, type_q] = fun
        _KL_MEMOIZE.clear()
        return fun

    return decorator


@total_ordering
class _Match:
    """A registered (type_p, type_q) pair, ordered by specificity (a subclass pair is smaller)."""

    __slots__ = ["types"]

    def __init__(self, *types: type) -> None:
        self.types = types

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Match) and self.types == other.types

    def __le__(self, other: "_Match") -> bool:
        for x, y in zip(self.types, other.types):
            if not issubclass(x, y):
                return False
            if x is not y:
                break
        return True


def _dispatch_kl(type_p: type, type_q: type) -> Callable:
    """The most specific registered function for (type_p, type_q), or NotImplemented; a
    RuntimeWarning when the choice is ambiguous, as torch."""
    matches = [(sp, sq) for sp, sq in _KL_REGISTRY if issubclass(type_p, sp) and issubclass(type_q, sq)]
    if not matches:
        return NotImplemented
    left_p, left_q = min(_Match(*m) for m in matches).types
    right_q, right_p = min(_Match(*reversed(m)) for m in matches).types
    left_fun, right_fun = _KL_REGISTRY[left_p, left_q], _KL_REGISTRY[right_p, right_q]
    if left_fun is not right_fun:
        warnings.warn(f"Ambiguous kl_divergence({type_p.__name__}, {type_q.__name__}). Please "
                      f"register_kl({left_p.__name__}, {right_q.__name__})", RuntimeWarning, stacklevel=3)
    return left_fun


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p || q) = E_p[log p(x) - log q(x)], of shape batch_shape (NotImplementedError when no
    closed form is registered for the pair of types)."""
    key = (type(p), type(q))
    if key not in _KL_MEMOIZE:
        _KL_MEMOIZE[key] = _dispatch_kl(*key)
    fun = _KL_MEMOIZE[key]
    if fun is NotImplemented:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type {type(p).__name__} and q type "
                                  f"{type(q).__name__}")
    return fun(p, q)


def _infinite_like(tensor: Tensor) -> Tensor:
    """inf of ``tensor``'s shape and dtype: the KL where q has no mass on part of p's support."""
    from tinygrad_cnn.creation import full_like

    return full_like(tensor, math.inf)


def _inf_where(mask: Tensor, t: Tensor) -> Tensor:
    """``t`` with inf where ``mask`` holds."""
    return t.masked_fill(mask, math.inf)


def _x_log_x(t: Tensor) -> Tensor:
    """t log t, 0 at t = 0."""
    return t.xlogy(t)
