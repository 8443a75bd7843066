"""The matrix helpers MultivariateNormal needs beyond tinygrad_cnn.linalg: the solve with a
lower-triangular matrix (torch.linalg.solve_triangular(L, B, upper=False)) as a differentiable
op, and the inverse of a matrix from its Cholesky factor."""

from __future__ import annotations

import numpy as np

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.tensor import Tensor


def _mT(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)


class SolveLower(Function):
    """X = L^-1 B for lower-triangular L (..., n, n) (its upper triangle ignored) and B
    (..., n, k), batch dims broadcast; d/dB = L^-T G, d/dL = -tril(dB X^T)."""

    op_name = "linalg_solve_triangular"

    @staticmethod
    def forward(ctx: Context, lower: np.ndarray, b: np.ndarray) -> np.ndarray:
        lower = np.tril(lower)
        out = np.linalg.solve(lower, b)
        ctx.save_for_backward(lower, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        lower, out = ctx.saved_tensors
        grad_b = np.linalg.solve(_mT(lower), grad)
        grad_lower = -np.tril(grad_b @ _mT(out)) if ctx.needs_input_grad[0] else None
        return grad_lower, (grad_b if ctx.needs_input_grad[1] else None)


def solve_lower(lower: Tensor, b: Tensor) -> Tensor:
    """L^-1 B for lower-triangular ``lower`` (..., n, n) and ``b`` (..., n, k), differentiable."""
    return SolveLower.apply(lower, b if b.dtype == lower.dtype else b.to(lower.dtype))


def cholesky_inverse(lower: Tensor) -> Tensor:
    """(L L^T)^-1 from the Cholesky factor ``lower`` (..., n, n), differentiable."""
    inverse = solve_lower(lower, Tensor(np.eye(lower.shape[-1], dtype=lower.dtype)))
    return inverse.transpose(-1, -2) @ inverse
