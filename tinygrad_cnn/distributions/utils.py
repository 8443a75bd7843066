"""Helpers the distributions share, as torch.distributions.utils: parameter broadcasting,
probabilities <-> logits, the lazily computed property, and the standard draws the
reparameterised samplers transform (from the generator ``torch.manual_seed`` seeds)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

import tinygrad_cnn as _torch
from tinygrad_cnn.tensor import Size, Tensor

euler_constant = 0.57721566490153286060  # the Euler-Mascheroni constant

__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs", "probs_to_logits"]

_NUMBER = (int, float, bool)


def broadcast_all(*values: Tensor | float) -> tuple[Tensor, ...]:
    """The values as tensors broadcast to one shape: numbers become tensors of the first
    tensor's dtype (the default dtype when all are numbers); ValueError for anything else."""
    if not all(isinstance(v, (Tensor,) + _NUMBER) for v in values):
        raise ValueError("Input arguments must all be instances of Number, torch.Tensor or objects implementing "
                         f"__torch_function__, got {[type(v).__name__ for v in values]}")
    dtype = next((v.dtype for v in values if isinstance(v, Tensor)), _torch.get_default_dtype())
    tensors = [v if isinstance(v, Tensor) else Tensor(np.asarray(v, dtype=dtype)) for v in values]
    return _torch.broadcast_tensors(*tensors)


def sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """``value`` summed over its ``dim`` rightmost dims."""
    if dim == 0:
        return value
    return value.reshape(value.shape[:-dim] + (-1,)).sum(-1)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Probabilities from logits: sigmoid (``is_binary``, log-odds) or softmax over the last dim."""
    return logits.sigmoid() if is_binary else logits.softmax(-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """``probs`` clamped into [eps, 1 - eps], eps the machine epsilon of its dtype."""
    eps = float(np.finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Logits from probabilities (clamped away from 0 and 1): log-odds (``is_binary``) or log."""
    clamped = clamp_probs(probs)
    return clamped.log() - (-clamped).log1p() if is_binary else clamped.log()


class lazy_property:
    """A property computed (with grad enabled) on first access and then stored on the instance,
    so ``Categorical(probs=p).logits`` is derived once, from ``p``, keeping the graph."""

    def __init__(self, wrapped: Callable[[Any], Any]) -> None:
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        with _torch.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def as_size(shape: Sequence[int] | int) -> Size:
    """A ``sample_shape``/``batch_shape`` argument as a Size (an int n is (n,))."""
    return Size((shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape))


def standard_normal(shape: Sequence[int], dtype: Any) -> Tensor:
    """N(0, 1) draws of ``shape`` (a constant, not part of any graph)."""
    return _torch.randn(tuple(shape), dtype=dtype)


def uniform(shape: Sequence[int], dtype: Any) -> Tensor:
    """Uniform [0, 1) draws of ``shape`` (a constant)."""
    return _torch.rand(tuple(shape), dtype=dtype)
