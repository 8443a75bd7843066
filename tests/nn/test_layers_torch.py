"""Activations, adaptive pooling, max unpooling, ConvTranspose2d, Dropout2d and the shape layers
against PyTorch in float64: forward values and every gradient, over drawn shapes and options,
and their reprs (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.testing import strategies as ts
from tinygrad_cnn.testing.oracle import check_against_torch

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")
TF = torch.nn.functional

pytestmark = pytest.mark.oracle

ACTIVATIONS = [
    (lambda: nn.ReLU(), lambda: torch.nn.ReLU()),
    (lambda: nn.ReLU(inplace=True), lambda: torch.nn.ReLU(inplace=True)),
    (lambda: nn.LeakyReLU(), lambda: torch.nn.LeakyReLU()),
    (lambda: nn.LeakyReLU(0.2, inplace=True), lambda: torch.nn.LeakyReLU(0.2, inplace=True)),
    (lambda: nn.ELU(), lambda: torch.nn.ELU()),
    (lambda: nn.ELU(0.5, True), lambda: torch.nn.ELU(0.5, True)),
    (lambda: nn.GELU(), lambda: torch.nn.GELU()),
    (lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh")),
    (lambda: nn.SiLU(), lambda: torch.nn.SiLU()),
    (lambda: nn.SiLU(True), lambda: torch.nn.SiLU(True)),
    (lambda: nn.Hardtanh(), lambda: torch.nn.Hardtanh()),
    (lambda: nn.Hardtanh(-2, 0.5, True), lambda: torch.nn.Hardtanh(-2, 0.5, True)),
    (lambda: nn.ReLU6(), lambda: torch.nn.ReLU6()),
    (lambda: nn.ReLU6(True), lambda: torch.nn.ReLU6(True)),
    (lambda: nn.Softplus(), lambda: torch.nn.Softplus()),
    (lambda: nn.Softplus(2, 3), lambda: torch.nn.Softplus(2, 3)),
    (lambda: nn.Softmax(1), lambda: torch.nn.Softmax(1)),
    (lambda: nn.LogSoftmax(-1), lambda: torch.nn.LogSoftmax(-1)),
    (lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid()),
    (lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
    (lambda: nn.Threshold(0.5, -2.0), lambda: torch.nn.Threshold(0.5, -2.0)),
    (lambda: nn.Threshold(-1.0, 3.0, True), lambda: torch.nn.Threshold(-1.0, 3.0, True)),
    (lambda: nn.SELU(), lambda: torch.nn.SELU()),
    (lambda: nn.SELU(True), lambda: torch.nn.SELU(True)),
    (lambda: nn.CELU(0.6), lambda: torch.nn.CELU(0.6)),
    (lambda: nn.CELU(2.0, True), lambda: torch.nn.CELU(2.0, True)),
    (lambda: nn.Mish(), lambda: torch.nn.Mish()),
    (lambda: nn.Mish(True), lambda: torch.nn.Mish(True)),
    (lambda: nn.Hardsigmoid(), lambda: torch.nn.Hardsigmoid()),
    (lambda: nn.Hardswish(True), lambda: torch.nn.Hardswish(True)),
    (lambda: nn.RReLU(0.1, 0.3).eval(), lambda: torch.nn.RReLU(0.1, 0.3).eval()),
    (lambda: nn.LogSigmoid(), lambda: torch.nn.LogSigmoid()),
    (lambda: nn.Softsign(), lambda: torch.nn.Softsign()),
    (lambda: nn.Tanhshrink(), lambda: torch.nn.Tanhshrink()),
    (lambda: nn.Hardshrink(), lambda: torch.nn.Hardshrink()),
    (lambda: nn.Softshrink(1.5), lambda: torch.nn.Softshrink(1.5)),
    (lambda: nn.Softmin(-1), lambda: torch.nn.Softmin(-1)),
]


@pytest.mark.parametrize("make", ACTIVATIONS)
@settings(max_examples=4)
@given(x=ts.distinct_arrays(ts.shapes(min_dims=2, max_dims=4), low=-7, high=7))
def test_activation_layers_match_torch(make, x):
    ours, theirs = make[0](), make[1]()
    assert repr(ours) == repr(theirs)
    # the in-place layers would write into their leaf input (an error): compare on a copy
    check_against_torch(lambda t: ours(t.clone()), lambda t: theirs(t.clone()), [x])


def test_functional_activations_match_torch():
    x = np.linspace(-25, 25, 101).reshape(1, -1) + 0.01
    for ours, theirs in [(lambda t: F.relu(t, inplace=False), TF.relu), (F.leaky_relu, TF.leaky_relu),
                         (lambda t: F.elu(t, 0.3), lambda t: TF.elu(t, 0.3)),
                         (lambda t: F.gelu(t, approximate="tanh"), lambda t: TF.gelu(t, approximate="tanh")),
                         (F.gelu, TF.gelu), (F.silu, TF.silu), (F.relu6, TF.relu6),
                         (lambda t: F.hardtanh(t, -3, 4), lambda t: TF.hardtanh(t, -3, 4)),
                         (lambda t: F.softplus(t, 0.5, 5), lambda t: TF.softplus(t, 0.5, 5)),
                         (lambda t: F.softmax(t, dim=1), lambda t: TF.softmax(t, dim=1)),
                         (lambda t: F.log_softmax(t, 1, dtype=np.float64), lambda t: TF.log_softmax(t, 1))]:
        check_against_torch(ours, theirs, [x])


def test_softmax_without_dim_warns_and_picks_torch_dim():
    x = np.random.default_rng(0).normal(size=(2, 3, 4))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        ours = F.softmax(tg.Tensor(x))
    np.testing.assert_allclose(ours.numpy(), TF.softmax(torch.tensor(x), dim=0).numpy(), rtol=1e-12)


@st.composite
def adaptive_cases(draw):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    out = draw(st.one_of(st.integers(1, 10), st.tuples(st.one_of(st.none(), st.integers(1, 10)),
                                                      st.one_of(st.none(), st.integers(1, 10)))))
    x = draw(ts.distinct_arrays((n, c, h, w)))
    if draw(st.booleans()):
        x = np.moveaxis(np.ascontiguousarray(np.moveaxis(x, 0, -1)), -1, 0)
    return x, out


@settings(max_examples=15)
@given(adaptive_cases())
def test_adaptive_pooling_matches_torch_bins(case):
    x, out = case
    ours, theirs = nn.AdaptiveAvgPool2d(out), torch.nn.AdaptiveAvgPool2d(out)
    assert repr(ours) == repr(theirs)
    check_against_torch(ours, theirs, [x])
    check_against_torch(nn.AdaptiveMaxPool2d(out), torch.nn.AdaptiveMaxPool2d(out), [x])
    values, indices = F.adaptive_max_pool2d(tg.Tensor(x), out, return_indices=True)
    expected_values, expected_indices = TF.adaptive_max_pool2d(torch.tensor(x), out, return_indices=True)
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())
    np.testing.assert_array_equal(values.numpy(), expected_values.numpy())
    check_against_torch(lambda t: F.adaptive_avg_pool2d(t, out), lambda t: TF.adaptive_avg_pool2d(t, out), [x[0]])


@settings(max_examples=10)
@given(kernel=st.integers(1, 3), pooled=st.tuples(st.integers(1, 3), st.integers(1, 3)), bigger=st.booleans(),
       data=st.data())
def test_max_unpool_inverts_max_pool_as_torch(kernel, pooled, bigger, data):
    x = data.draw(ts.distinct_arrays((2, 2, pooled[0] * kernel, pooled[1] * kernel)))
    values, indices = F.max_pool2d(tg.Tensor(x), kernel, return_indices=True)
    size = (pooled[0] * kernel + kernel - 1, pooled[1] * kernel + kernel - 1) if bigger else None
    check_against_torch(lambda t: nn.MaxUnpool2d(kernel)(t, indices, size),
                        lambda t: torch.nn.MaxUnpool2d(kernel)(t, torch.tensor(indices.numpy()), size),
                        [values.numpy()])
    assert repr(nn.MaxUnpool2d(kernel, 1, 0)) == repr(torch.nn.MaxUnpool2d(kernel, 1, 0))


@st.composite
def transpose_configs(draw):
    groups = draw(st.sampled_from([1, 1, 2]))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    size = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    limit = [(n - 1) * s + d * (k - 1) + op for n, s, d, k, op in zip(size, stride, dilation, kernel, output_padding)]
    padding = tuple(draw(st.integers(0, max(0, lim // 2))) for lim in limit)
    bias = draw(st.booleans())
    return dict(in_channels=cin, out_channels=cout, kernel_size=kernel, stride=stride, padding=padding,
                output_padding=output_padding, groups=groups, bias=bias, dilation=dilation), size


@settings(max_examples=20)
@given(transpose_configs(), st.integers(1, 3), st.booleans(), st.integers(0, 2**16))
def test_conv_transpose2d_matches_torch(config, n, chwn, seed):
    kwargs, size = config
    rng = np.random.default_rng(seed)
    tg.manual_seed(seed)
    ours = nn.ConvTranspose2d(**kwargs).double()
    theirs = torch.nn.ConvTranspose2d(**kwargs).double()
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    x = rng.normal(size=(n, kwargs["in_channels"]) + size)
    if chwn:
        x = np.moveaxis(np.ascontiguousarray(np.moveaxis(x, 0, -1)), -1, 0)
    arrays = [x, ours.weight.numpy()] + ([ours.bias.numpy()] if kwargs["bias"] else [])
    args = dict(stride=kwargs["stride"], padding=kwargs["padding"], output_padding=kwargs["output_padding"],
                groups=kwargs["groups"], dilation=kwargs["dilation"])
    check_against_torch(lambda *t: F.conv_transpose2d(*t, **args), lambda *t: TF.conv_transpose2d(*t, **args), arrays)
    np.testing.assert_allclose(ours(tg.Tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-6, atol=1e-12)


def test_conv_transpose2d_output_size_and_init_bounds_as_torch():
    ours = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    theirs = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    x = np.random.default_rng(0).normal(size=(1, 2, 4, 4)).astype(np.float32)
    assert ours(tg.Tensor(x), output_size=(8, 8)).shape == tuple(theirs(torch.tensor(x), output_size=(8, 8)).shape)
    with pytest.raises(ValueError, match="requested an output size of"):
        ours(tg.Tensor(x), output_size=(10, 10))
    bound = 1 / np.sqrt(3 * 9)  # fan_in = out_channels/groups * KH * KW, as torch computes for (in, out, KH, KW)
    big = nn.ConvTranspose2d(64, 3, 3)
    assert np.abs(big.bias.numpy()).max() <= bound
    assert np.abs(big.weight.numpy()).max() <= bound and np.abs(big.weight.numpy()).max() > 0.9 * bound


def test_dropout_and_shape_layer_reprs_match_torch():
    for ours, theirs in [(nn.Dropout(), torch.nn.Dropout()), (nn.Dropout(0.3, True), torch.nn.Dropout(0.3, True)),
                         (nn.Dropout2d(0.2), torch.nn.Dropout2d(0.2)), (nn.Flatten(0, 2), torch.nn.Flatten(0, 2)),
                         (nn.Unflatten(1, (2, 3)), torch.nn.Unflatten(1, (2, 3))),
                         (nn.Identity(3, a=1), torch.nn.Identity(3, a=1)),
                         (nn.AdaptiveMaxPool2d((None, 3), True), torch.nn.AdaptiveMaxPool2d((None, 3), True))]:
        assert repr(ours) == repr(theirs)
    x = np.arange(24.0).reshape(2, 6, 2)
    np.testing.assert_array_equal(nn.Unflatten(1, (3, -1))(tg.Tensor(x)).numpy(),
                                  torch.nn.Unflatten(1, (3, -1))(torch.tensor(x)).numpy())
