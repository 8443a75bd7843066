"""gradcheck: analytic gradients (backward) against central finite differences, in float64."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from tinygrad_cnn.autograd import no_grad
from tinygrad_cnn.tensor import Tensor


class GradcheckError(AssertionError):
    """Raised by gradcheck when analytic and numerical gradients disagree."""


def _output(fn: Callable[..., Tensor], inputs: Sequence[object]) -> Tensor:
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    return out


def _numeric_jvp(fn: Callable[..., Tensor], inputs: Sequence[object], tensor: Tensor,
                 direction: np.ndarray, eps: float) -> np.ndarray:
    """(f(x + eps*d) - f(x - eps*d)) / (2 eps), with ``tensor``'s array moved along ``direction``."""
    array = tensor.numpy()
    original = array.copy()
    try:
        with no_grad():
            array[...] = original + eps * direction
            plus = _output(fn, inputs).numpy().astype(np.float64)
            array[...] = original - eps * direction
            minus = _output(fn, inputs).numpy().astype(np.float64)
    finally:
        array[...] = original
    return (plus - minus) / (2 * eps)


def _analytic_vjp(fn: Callable[..., Tensor], inputs: Sequence[object], targets: Sequence[Tensor],
                  cotangent: np.ndarray) -> list[np.ndarray]:
    """cotangent^T J for each target, by one backward pass through a fresh graph."""
    for t in targets:
        t.grad = None
    out = _output(fn, inputs)
    if out.requires_grad:
        out.backward(cotangent.astype(out.dtype))
    grads = [np.zeros(t.shape) if t.grad is None else t.grad.numpy().astype(np.float64) for t in targets]
    for t in targets:
        t.grad = None
    return grads


def gradcheck(fn: Callable[..., Tensor], inputs: Sequence[object], eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-4, fast_mode: bool = False, seed: int = 0) -> bool:
    """Check backward of ``fn(*inputs)`` against central finite differences; True or GradcheckError.

    Every input Tensor that requires grad must be float64. The full mode compares the whole
    Jacobian, element by element (out.size backward passes, 2 forwards per input element);
    ``fast_mode`` compares one random projection v^T J u. An element passes when
    |analytic - numerical| <= atol + rtol * |numerical|; a failure names the input, the
    worst element and both values.
    """
    targets = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not targets:
        raise ValueError("gradcheck: no input Tensor requires grad")
    for i, t in enumerate(targets):
        if t.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} (shape {tuple(t.shape)}) is {t.dtype}; finite differences need float64")
    out_shape = _output(fn, inputs).shape
    rng = np.random.default_rng(seed)
    if fast_mode:
        _check_projection(fn, inputs, targets, out_shape, rng, eps, atol, rtol)
    else:
        _check_jacobian(fn, inputs, targets, out_shape, eps, atol, rtol)
    return True


def _check_projection(fn, inputs, targets, out_shape, rng, eps, atol, rtol) -> None:
    v = rng.standard_normal(out_shape)
    vjps = _analytic_vjp(fn, inputs, targets, v)
    for i, (t, vjp) in enumerate(zip(targets, vjps)):
        u = rng.standard_normal(t.shape)
        analytic = float(np.sum(vjp * u))
        numerical = float(np.sum(_numeric_jvp(fn, inputs, t, u, eps) * v))
        if abs(analytic - numerical) > atol + rtol * abs(numerical):
            raise GradcheckError(
                f"gradcheck (fast_mode): input {i} of shape {tuple(t.shape)}: v^T J u is {analytic:.10g} analytically "
                f"but {numerical:.10g} numerically (difference {abs(analytic - numerical):.3g})"
            )


def _check_jacobian(fn, inputs, targets, out_shape, eps, atol, rtol) -> None:
    n_out = int(np.prod(out_shape))
    analytic = [np.empty((n_out, t.numel())) for t in targets]
    for k in range(n_out):
        onehot = np.zeros(n_out)
        onehot[k] = 1.0
        for jac, row in zip(analytic, _analytic_vjp(fn, inputs, targets, onehot.reshape(out_shape))):
            jac[k] = row.reshape(-1)
    for i, (t, jac) in enumerate(zip(targets, analytic)):
        numerical = np.empty_like(jac)
        for j in range(t.numel()):
            direction = np.zeros(t.shape)
            direction[np.unravel_index(j, t.shape)] = 1.0
            numerical[:, j] = _numeric_jvp(fn, inputs, t, direction, eps).reshape(-1)
        excess = np.abs(jac - numerical) - (atol + rtol * np.abs(numerical))
        if excess.size and (np.nanmax(excess) > 0 or np.isnan(excess).any()):
            k, j = np.unravel_index(np.nanargmax(np.where(np.isnan(excess), np.inf, excess)), excess.shape)
            raise GradcheckError(
                f"gradcheck: input {i} of shape {tuple(t.shape)}: d out{_index(k, out_shape)} / "
                f"d in{_index(j, t.shape)} is {jac[k, j]:.10g} analytically but "
                f"{numerical[k, j]:.10g} numerically (worst of {jac.size} elements; "
                f"allowed {atol:g} + {rtol:g}*|numerical|)"
            )


def _index(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat, shape))
