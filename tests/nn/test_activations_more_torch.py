"""Activations against PyTorch beyond what test_layers_torch draws: integer and bool inputs
(the same error or the same dtype and values as torch), PReLU's per-channel slopes and their
gradient, GLU, Softmax2d, RReLU in training, and the argument errors (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.testing.oracle import check_against_torch

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")
TF = torch.nn.functional

pytestmark = pytest.mark.oracle

# name -> call on (functional module, tensor)
CALLS = {
    "relu": lambda f, t: f.relu(t), "relu6": lambda f, t: f.relu6(t), "hardtanh": lambda f, t: f.hardtanh(t),
    "leaky_relu": lambda f, t: f.leaky_relu(t), "elu": lambda f, t: f.elu(t), "selu": lambda f, t: f.selu(t),
    "celu": lambda f, t: f.celu(t), "gelu": lambda f, t: f.gelu(t), "silu": lambda f, t: f.silu(t),
    "mish": lambda f, t: f.mish(t), "softplus": lambda f, t: f.softplus(t), "hardswish": lambda f, t: f.hardswish(t),
    "hardsigmoid": lambda f, t: f.hardsigmoid(t), "logsigmoid": lambda f, t: f.logsigmoid(t),
    "softsign": lambda f, t: f.softsign(t), "tanhshrink": lambda f, t: f.tanhshrink(t),
    "threshold": lambda f, t: f.threshold(t, 1, 0), "hardshrink": lambda f, t: f.hardshrink(t),
    "softshrink": lambda f, t: f.softshrink(t), "sigmoid": lambda f, t: f.sigmoid(t), "tanh": lambda f, t: f.tanh(t),
    "rrelu": lambda f, t: f.rrelu(t), "glu": lambda f, t: f.glu(t),
}


def _outcome(call, lib, values):
    """('raises', exception type name) or ('gives', dtype name, values) of ``call`` in ``lib``."""
    functional = TF if lib is torch else F
    try:
        result = call(functional, lib.tensor(values))
    except (RuntimeError, NotImplementedError, TypeError) as error:
        return "raises", type(error).__name__
    return "gives", str(result.dtype).replace("torch.", ""), np.round(np.asarray(result.tolist(), float), 6).tolist()


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("values", [[True, False], [-3, 0, 2, 5]], ids=["bool", "int64"])
def test_activations_of_integer_and_bool_tensors_do_what_torchs_do(name, values):
    assert _outcome(CALLS[name], tg, values) == _outcome(CALLS[name], torch, values)


@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 4, 5)])
def test_prelu_per_channel_slopes_and_their_gradient_match_torch(shape):
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape).astype(np.float32)
    channels = shape[1] if len(shape) > 1 else shape[0]
    ours, theirs = nn.PReLU(channels, init=0.1), torch.nn.PReLU(channels, init=0.1)
    assert repr(ours) == repr(theirs) and ours.weight.tolist() == pytest.approx(theirs.weight.tolist())
    a, b = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    g = rng.normal(size=shape).astype(np.float32)
    out, ref = ours(a), theirs(b)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-6)
    (out * tg.tensor(g)).sum().backward()
    (ref * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-5)


def test_prelu_refuses_a_slope_count_or_dtype_that_does_not_fit_as_torch():
    for lib, functional in ((tg, F), (torch, TF)):
        with pytest.raises(RuntimeError, match="Mismatch of parameter numbers"):
            functional.prelu(lib.ones(2, 3), lib.ones(2))
        with pytest.raises(RuntimeError, match="channel size = 1"):  # a 1-D input has one channel
            functional.prelu(lib.ones(3), lib.ones(3))
        with pytest.raises(RuntimeError, match="Type promoting not supported"):
            functional.prelu(lib.ones(2, 3, dtype=lib.float64), lib.ones(1))


def test_glu_halves_the_chosen_dim_as_torch():
    x = np.random.default_rng(1).normal(size=(2, 4, 6))
    for dim in (-1, 1, 2):
        check_against_torch(lambda t: F.glu(t, dim), lambda t: TF.glu(t, dim), [x])
        check_against_torch(lambda t: nn.GLU(dim)(t), lambda t: torch.nn.GLU(dim)(t), [x])
    for lib, functional in ((tg, F), (torch, TF)):
        with pytest.raises(RuntimeError, match="Halving dimension must be even"):
            functional.glu(lib.ones(2, 3))
        with pytest.raises(RuntimeError, match="does not support scalars"):
            functional.glu(lib.tensor(1.0))


def test_softmax2d_normalises_over_the_channels_as_torch():
    rng = np.random.default_rng(2)
    for shape in [(3, 4, 5), (2, 3, 4, 5)]:
        check_against_torch(lambda t: nn.Softmax2d()(t), lambda t: torch.nn.Softmax2d()(t), [rng.normal(size=shape)])
    for lib in (tg, torch):
        with pytest.raises(ValueError, match="expected input to be 3D or 4D, got 2D"):
            lib.nn.Softmax2d()(lib.ones(2, 3))


def test_rrelu_draws_one_slope_per_negative_element_in_training_and_averages_in_eval():
    x = np.linspace(-4, 4, 200).astype(np.float32)
    layer = nn.RReLU(0.1, 0.3)
    tg.manual_seed(7)
    t = tg.tensor(x, requires_grad=True)
    out = layer(t)
    out.sum().backward()
    negative = x < 0
    slopes = out.numpy()[negative] / x[negative]
    assert np.all((slopes >= 0.1 - 1e-6) & (slopes <= 0.3 + 1e-6)) and len(np.unique(slopes.round(5))) > 50
    np.testing.assert_allclose(t.grad.numpy()[negative], slopes, rtol=1e-5)  # the slope is the gradient
    assert np.array_equal(out.numpy()[~negative], x[~negative]) and np.all(t.grad.numpy()[~negative] == 1)
    tg.manual_seed(7)
    assert np.array_equal(layer(tg.tensor(x)).numpy(), out.numpy())  # the package generator decides
    ours, theirs = layer.eval()(tg.tensor(x)), torch.nn.RReLU(0.1, 0.3).eval()(torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_composed_activations_refuse_bad_arguments_and_leaf_writes_as_torch():
    for lib, functional in ((tg, F), (torch, TF)):
        with pytest.raises(RuntimeError, match="alpha cannot be 0"):
            functional.celu(lib.ones(2), alpha=0.0)
        with pytest.raises(RuntimeError, match="lambda must be in range"):
            functional.softshrink(lib.ones(2), -1.0)
        with pytest.raises(RuntimeError, match="Lower bound should be less than or equal to the upper bound"):
            functional.rrelu(lib.ones(2), 0.5, 0.1)
        leaf = lib.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            functional.selu(leaf, inplace=True)
        assert leaf.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("name", ["threshold", "selu", "celu", "mish", "hardsigmoid", "hardswish", "rrelu"])
def test_inplace_forms_write_the_input_and_carry_the_gradient_as_torchs(name):
    x = np.linspace(-5, 5, 11)
    call = {"threshold": lambda f, t: f.threshold(t, 0.5, -1.0, inplace=True),
            "rrelu": lambda f, t: f.rrelu(t, inplace=True)}.get(name, lambda f, t: getattr(f, name)(t, inplace=True))

    def run(functional, t):
        y = t * 1.0  # a non-leaf, which may be written in place
        assert call(functional, y) is y
        return y

    check_against_torch(lambda t: run(F, t), lambda t: run(TF, t), [x])


@pytest.mark.parametrize("name", ["selu_", "celu_", "rrelu_", "threshold_"])
def test_underscore_forms_are_the_inplace_ones_as_torchs(name):
    args = (0.5, -1.0) if name == "threshold_" else ()
    for lib, functional in ((tg, F), (torch, TF)):
        y = lib.tensor([-2.0, 0.0, 3.0])
        assert getattr(functional, name)(y, *args) is y
        assert y.tolist() == pytest.approx(getattr(functional, name[:-1])(lib.tensor([-2.0, 0.0, 3.0]), *args).tolist())
