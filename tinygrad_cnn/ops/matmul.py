"""Matrix products: matmul (1-D, 2-D and batched, as np.matmul) and linear (x @ W.T + b)."""

from __future__ import annotations

import numpy as np

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.ops import parallel


def check_matmul_shapes(op: str, a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> None:
    """Raise a ValueError naming both shapes when ``a @ b`` is undefined."""
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise ValueError(f"{op}: both arguments need at least 1 dimension, got shapes {a_shape} and {b_shape}")
    inner_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if a_shape[-1] != inner_b:
        raise ValueError(
            f"{op}: shapes {a_shape} and {b_shape} cannot be multiplied "
            f"({a_shape[-1]} columns vs {inner_b} rows)"
        )
    try:
        np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
    except ValueError:
        raise ValueError(f"{op}: batch dimensions of {a_shape} and {b_shape} do not broadcast") from None


class MatMul(Function):
    """a @ b; d/da = g @ b^T, d/db = a^T @ g (1-D operands promoted as np.matmul does)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        check_matmul_shapes("matmul", a.shape, b.shape)
        parallel.prepare_process()  # BLAS on one thread: its idle threads spin on a busy machine
        # each operand is needed only for the other's gradient (as torch saves them)
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b if ctx.needs_input_grad[0] else None)
        ctx.shapes = (a.shape, b.shape)
        return np.asarray(a @ b)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        a, b = ctx.saved_tensors
        a_shape, b_shape = ctx.shapes
        a2_shape = (1,) + a_shape if len(a_shape) == 1 else a_shape
        b2_shape = b_shape + (1,) if len(b_shape) == 1 else b_shape
        batch = np.broadcast_shapes(a2_shape[:-2], b2_shape[:-2])
        g = grad.reshape(batch + (a2_shape[-2], b2_shape[-1]))
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = g @ np.swapaxes(b.reshape(b2_shape), -1, -2)
            if len(a_shape) == 1:
                grad_a = grad_a.reshape(-1, a_shape[0]).sum(axis=0)
        if ctx.needs_input_grad[1]:
            grad_b = np.swapaxes(a.reshape(a2_shape), -1, -2) @ g
            if len(b_shape) == 1:
                grad_b = grad_b.reshape(-1, b_shape[0]).sum(axis=0)
        return grad_a, grad_b


class Linear(Function):
    """x @ weight.T (+ bias) with weight (out_features, in_features), as torch.nn.functional.linear.

    d/dx = g @ W, d/dW = g^T x (summed over leading dims), d/db = sum of g over leading dims.
    """

    fresh_grads = True

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, weight: np.ndarray, *optional_bias: np.ndarray) -> np.ndarray:
        bias = optional_bias[0] if optional_bias else None
        parallel.prepare_process()
        if weight.ndim != 2:
            raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}")
        if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
            raise ValueError(
                f"linear: input shape {x.shape} does not match weight shape {weight.shape} "
                f"(input's last dim must equal in_features={weight.shape[1]})"
            )
        if bias is not None and bias.shape != (weight.shape[0],):
            raise ValueError(f"linear: bias shape {bias.shape} must be ({weight.shape[0]},) for weight {weight.shape}")
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, weight if ctx.needs_input_grad[0] else None)
        out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        x, weight = ctx.saved_tensors
        g2 = grad.reshape(-1, grad.shape[-1])
        grad_x = grad @ weight if ctx.needs_input_grad[0] else None
        grad_w = g2.T @ x.reshape(-1, x.shape[-1]) if ctx.needs_input_grad[1] else None
        grads = (grad_x, grad_w)
        if len(ctx.needs_input_grad) == 3:
            grads += (g2.sum(axis=0) if ctx.needs_input_grad[2] else None,)
        return grads
