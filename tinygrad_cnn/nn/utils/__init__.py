"""torch.nn.utils's gradient clipping and parameter vectors: clip_grad_norm_, clip_grad_value_,
parameters_to_vector, vector_to_parameters; ``rnn`` holds the padded and packed sequences
(torch.nn.utils.rnn)."""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from tinygrad_cnn.functions import cat
from tinygrad_cnn.nn.utils import rnn
from tinygrad_cnn.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "rnn", "vector_to_parameters"]


def _tensors(parameters: Tensor | Iterable[Tensor], op: str) -> list[Tensor]:
    tensors = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: parameters must be Tensors, item {i} is {type(t).__name__}")
    return tensors


def _vector_norm(values: np.ndarray, order: float) -> float:
    """The ``order``-norm of the flattened ``values``, as torch.linalg.vector_norm (inf, -inf, 0, p)."""
    absolute = np.abs(values.astype(np.float64, copy=False)).ravel()
    if order == math.inf:
        return float(absolute.max(initial=0.0))
    if order == -math.inf:
        return float(absolute.min(initial=math.inf))
    if order == 0:
        return float(np.count_nonzero(absolute))
    return float(np.sum(absolute ** order) ** (1.0 / order))


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Scale the gradients of ``parameters`` in place so that their total ``norm_type``-norm
    (the norm of the per-gradient norms, as if all were one vector) is at most ``max_norm``:
    each is multiplied by min(1, max_norm / (total + 1e-6)). Parameters without a gradient are
    skipped. Returns the total norm before clipping as a 0-d Tensor in the gradients' dtype
    (0.0 when no gradient exists). ``foreach`` is accepted and ignored (one code path here).

    With ``error_if_nonfinite`` a nan/inf total raises RuntimeError before any gradient changes.
    """
    grads = [t.grad for t in _tensors(parameters, "clip_grad_norm_") if t.grad is not None]
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not grads:
        return Tensor(np.array(0.0, dtype=np.float32))
    total = _vector_norm(np.array([_vector_norm(g.numpy(), norm_type) for g in grads]), norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
            "anyway, set `error_if_nonfinite=False`")
    coef = min(max_norm / (total + 1e-6), 1.0) if not math.isnan(total) else math.nan
    for g in grads:
        g.numpy()[...] *= g.dtype.type(coef)
    return Tensor(np.array(total, dtype=grads[0].dtype))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every existing gradient of ``parameters`` to [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for t in _tensors(parameters, "clip_grad_value_"):
        if t.grad is not None:
            np.clip(t.grad.numpy(), -clip_value, clip_value, out=t.grad.numpy())


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All of ``parameters`` flattened and concatenated, in order: a 1-D Tensor of their total
    size (differentiable: gradients flow back to each parameter)."""
    tensors = _tensors(parameters, "parameters_to_vector")
    if not tensors:
        raise ValueError("parameters_to_vector: expected at least one parameter")
    return cat([t.reshape(-1) for t in tensors])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Give each of ``parameters`` in turn the next ``numel()`` values of the 1-D ``vec`` as its
    data (a view of vec, reshaped to the parameter's shape), as torch's; extra values are
    ignored, too few raise RuntimeError before any parameter changes."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, but got {type(vec).__name__}")
    tensors = _tensors(parameters, "vector_to_parameters")
    needed = sum(t.numel() for t in tensors)
    if vec.ndim != 1 or vec.numel() < needed:
        raise RuntimeError(f"vector_to_parameters: vec of shape {tuple(vec.shape)} cannot fill parameters of "
                           f"{needed} values in total (a 1-D vector of at least that size is required)")
    flat, start = vec.numpy(), 0
    for t in tensors:
        t.data = Tensor.from_op(flat[start:start + t.numel()].reshape(t.shape), None)
        start += t.numel()
