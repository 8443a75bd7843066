"""TensorFunction: custom ops written on Tensors, as torch.autograd.Function (forward/backward see Tensors)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.autograd import TensorFunction


class Legendre3(TensorFunction):
    @staticmethod
    def forward(ctx, input, scale):
        ctx.save_for_backward(input)
        ctx.scale = scale
        return scale * 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * ctx.scale * 1.5 * (5 * input ** 2 - 1), None


def test_forward_and_backward_see_tensors_and_match_the_formula():
    seen = []

    class Spy(TensorFunction):
        @staticmethod
        def forward(ctx, a):
            seen.append(type(a))
            return a * 1

        @staticmethod
        def backward(ctx, grad):
            seen.append(type(grad))
            return grad

    Spy.apply(tg.ones(2, requires_grad=True)).sum().backward()
    assert seen == [tg.Tensor, tg.Tensor]
    x = tg.tensor(np.linspace(-1, 1, 7), dtype=np.float64, requires_grad=True)
    y = Legendre3.apply(x * 2, 3.0)
    assert y.grad_fn is not None and not y.is_leaf
    y.sum().backward()
    u = 2 * np.linspace(-1, 1, 7)
    np.testing.assert_allclose(y.numpy(), 3.0 * 0.5 * (5 * u ** 3 - 3 * u))
    np.testing.assert_allclose(x.grad.numpy(), 2 * 3.0 * 1.5 * (5 * u ** 2 - 1))


def test_it_matches_torch_autograd_function():
    torch = pytest.importorskip("torch")

    class TorchLegendre3(torch.autograd.Function):
        forward = staticmethod(Legendre3.forward)
        backward = staticmethod(Legendre3.backward)

    values = np.random.default_rng(0).standard_normal(5)
    ours = tg.tensor(values, dtype=np.float64, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    (Legendre3.apply(ours, 0.5) * ours).sum().backward()
    (TorchLegendre3.apply(theirs, 0.5) * theirs).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


def test_a_wrong_number_of_gradients_is_a_clear_error():
    class Bad(TensorFunction):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    out = Bad.apply(tg.ones(3, requires_grad=True))
    with pytest.raises(RuntimeError, match="Bad.backward returned 2 gradients, but forward took 1"):
        out.sum().backward()
