"""Layers: shapes, default initialisation, reproducibility, gradients, Dropout modes, errors, aliases."""

import math

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.testing import gradcheck


def test_layer_output_shapes():
    x = tg.randn(2, 3, 9, 9)
    assert nn.Conv2d(3, 4, 3)(x).shape == (2, 4, 7, 7)
    assert nn.Conv2d(3, 4, (3, 5), stride=2, padding=(1, 2))(x).shape == (2, 4, 5, 5)
    assert nn.Conv2d(3, 6, 3, padding="same", groups=3)(x).shape == (2, 6, 9, 9)
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 4, 4)
    assert nn.MaxPool2d(3, stride=2, padding=1)(x).shape == (2, 3, 5, 5)
    assert nn.AvgPool2d(2, ceil_mode=True)(x).shape == (2, 3, 5, 5)
    assert nn.Flatten()(x).shape == (2, 243)
    assert nn.Flatten(0, 1)(x).shape == (6, 9, 9)
    assert nn.Flatten(start_dim=2)(x).shape == (2, 3, 81)
    assert nn.Linear(9, 4)(x).shape == (2, 3, 9, 4)
    values, indices = nn.MaxPool2d(2, return_indices=True)(x)
    assert values.shape == indices.shape == (2, 3, 4, 4)


def test_identity_and_activations_match_their_functions():
    x = tg.randn(3, 4)
    assert nn.Identity(54, unused="argument")(x) is x
    np.testing.assert_array_equal(nn.ReLU()(x).numpy(), np.maximum(x.numpy(), 0))
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-x.numpy())), rtol=1e-6)
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh(x.numpy()), rtol=1e-6)


@pytest.mark.parametrize("make, fan_in", [
    (lambda: nn.Conv2d(3, 8, 5), 75),
    (lambda: nn.Conv2d(4, 8, 3, groups=2), 18),
    (lambda: nn.Linear(300, 200), 300),
])
def test_default_init_is_pytorch_uniform_within_one_over_sqrt_fan_in(make, fan_in):
    tg.manual_seed(0)
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    for p in (layer.weight, layer.bias):
        assert p.dtype == np.float32
        assert np.abs(p.numpy()).max() <= bound
    w = layer.weight.numpy()
    assert np.abs(w).max() > 0.9 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound  # U(-b, b) has std b / sqrt(3)


def test_manual_seed_makes_layers_reproducible():
    tg.manual_seed(7)
    a = nn.Conv2d(2, 3, 3)
    tg.manual_seed(7)
    b = nn.Conv2d(2, 3, 3)
    c = nn.Conv2d(2, 3, 3)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    np.testing.assert_array_equal(a.bias.numpy(), b.bias.numpy())
    assert not np.array_equal(a.weight.numpy(), c.weight.numpy())


def test_layer_gradients_pass_gradcheck_in_float64():
    tg.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
                          nn.Linear(12, 4), nn.Sigmoid()).double()
    x = tg.randn(2, 2, 4, 4, dtype=np.float64, requires_grad=True)
    assert gradcheck(lambda inp, *params: model(inp), [x, *model.parameters()], fast_mode=True)


def test_dropout_zeroes_and_rescales_in_training_and_is_the_identity_in_eval():
    tg.manual_seed(0)
    layer = nn.Dropout(0.25)
    x = tg.ones(200, 100, requires_grad=True)
    out = layer(x)
    kept = out.numpy() != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(out.numpy()[kept], 1 / 0.75, rtol=1e-6)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.numpy())  # d(x * mask)/dx = mask, and x = 1
    layer.eval()
    assert layer(x) is x
    tg.manual_seed(0)
    again = nn.Dropout(0.25)(tg.ones(200, 100))
    np.testing.assert_array_equal(again.numpy(), out.numpy())  # masks come from the seeded generator


def test_dropout_edge_probabilities_and_errors():
    x = tg.randn(4, 5)
    assert nn.Dropout(0.0)(x) is x
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).numpy(), 0.0)
    assert F.dropout(x, 0.5, training=False) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, -0.1)


@pytest.mark.parametrize("kwargs, message", [
    (dict(in_channels=3, out_channels=4, kernel_size=3, groups=2), "groups=2 must divide"),
    (dict(in_channels=1, out_channels=4, kernel_size=3, padding_mode="mirror"), "padding_mode must be one of"),
    (dict(in_channels=1, out_channels=4, kernel_size=3, stride=2, padding="same"), "not supported for strided convolutions"),
    (dict(in_channels=1, out_channels=4, kernel_size=3, padding="full"), "'valid' or 'same'"),
    (dict(in_channels=1, out_channels=4, kernel_size=0), "kernel_size must be >= 1"),
    (dict(in_channels=1, out_channels=4, kernel_size=3, padding=-1), "padding must be >= 0"),
    (dict(in_channels=0, out_channels=4, kernel_size=3), "in_channels must be a positive integer"),
])
def test_conv2d_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nn.Conv2d(**kwargs)


def test_layers_report_shape_mismatches_at_call_time():
    with pytest.raises(RuntimeError, match="in_features=5"):  # torch's type, as F.linear's and F.conv2d's
        nn.Linear(5, 2)(tg.ones(3, 4))
    with pytest.raises(RuntimeError, match="channels"):
        nn.Conv2d(3, 2, 3)(tg.ones(1, 1, 5, 5))
    with pytest.raises(ValueError, match="positive integer"):
        nn.Linear(0, 2)


def test_layer_reprs_match_pytorch_formats():
    assert repr(nn.Conv2d(1, 6, 5)) == "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))"
    assert repr(nn.Conv2d(2, 4, 3, stride=2, padding=1, dilation=2, groups=2, bias=False)) == (
        "Conv2d(2, 4, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), dilation=(2, 2), groups=2, bias=False)")
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.Linear(3, 2, bias=False)) == "Linear(in_features=3, out_features=2, bias=False)"
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Dropout(0.2)) == "Dropout(p=0.2, inplace=False)"


def test_seed_notebook_aliases():
    assert nn.MaxPool2D is nn.MaxPool2d
    assert nn.AveragePool2D is nn.AvgPool2d
    assert nn.FullyConnected is nn.Linear
    assert nn.SoftmaxCrossEntropyLoss is nn.CrossEntropyLoss
    assert nn.FullyConnected(784, 128).get_params_count() == 784 * 128 + 128
