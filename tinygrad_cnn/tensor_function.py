"""TensorFunction: a custom op with torch.autograd.Function's contract, where forward and
backward see Tensors (``tinygrad_cnn.autograd.Function``'s ops see NumPy arrays).

PyTorch programs subclass ``torch.autograd.Function``; under ``tinygrad-cnn run`` (and
``compat.install()``) that name is this class::

    class MyReLU(TensorFunction):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            grad = grad_output.clone()
            grad[input < 0] = 0
            return grad

    y = MyReLU.apply(x)

forward runs with graph recording off, on detached tensors; it may take non-tensor
arguments too, and backward returns one gradient (or None) per forward argument.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.function import Context, Function, is_variable, variable_type
from tinygrad_cnn.grad_mode import no_grad


class _UserOp(Function):
    """The array-level op that runs a TensorFunction subclass's forward and backward on Tensors."""

    @staticmethod
    def forward(ctx: Context, *arrays: np.ndarray, user: type, template: tuple) -> np.ndarray:
        wrap = variable_type().from_op
        tensors = iter([wrap(a, None) for a in arrays])
        args = [next(tensors) if slot is _TENSOR else slot for slot in template]
        with no_grad():
            out = user.forward(ctx, *args)
        if not is_variable(out):
            raise TypeError(f"{user.__name__}.forward must return a Tensor, got {type(out).__name__}")
        return np.array(out.numpy())

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        user, template = ctx.params["user"], ctx.params["template"]
        with no_grad():
            grads = user.backward(ctx, variable_type().from_op(grad, None))
        grads = grads if isinstance(grads, tuple) else (grads,)
        if len(grads) != len(template):
            raise RuntimeError(f"{user.__name__}.backward returned {len(grads)} gradients, but forward took "
                               f"{len(template)} arguments")
        return tuple(None if g is None else np.asarray(g.numpy() if is_variable(g) else g)
                     for g, slot in zip(grads, template) if slot is _TENSOR)


_TENSOR = object()  # marks a tensor argument's place in a call's template


class TensorFunction:
    """Base class of a custom differentiable op written on Tensors, as torch.autograd.Function.

    Subclasses define static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``;
    call ``apply(*args)``. ``ctx.save_for_backward(*tensors)`` / ``ctx.saved_tensors`` and
    ``ctx.needs_input_grad`` work as PyTorch's.
    """

    @staticmethod
    def forward(ctx: Context, *args: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, *grad_outputs: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run forward on ``args`` (tensors and other values) and record one graph node."""
        template = tuple(_TENSOR if is_variable(a) else a for a in args)
        tensors = [a for a in args if is_variable(a)]
        op = _OPS.get(cls)
        if op is None:  # one op class per TensorFunction subclass, named after it in the graph
            op = _OPS[cls] = type(cls.__name__, (_UserOp,), {"op_name": cls.__name__.lower()})
        return op.apply(*tensors, user=cls, template=template)


_OPS: dict[type, type] = {}
