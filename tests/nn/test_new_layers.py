"""The normalization, activation, adaptive-pooling, transposed-convolution, dropout, shape,
lazy and loss additions without PyTorch: gradcheck for every new op, buffers in state_dict,
bad input raising errors that name the layer and the shapes, lazy initialisation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.optim import SGD
from tinygrad_cnn.testing import gradcheck
from tinygrad_cnn.testing import strategies as ts


def _t(shape, seed=0, scale=1.0, low=None):
    rng = np.random.default_rng(seed)
    values = rng.uniform(low, 1, shape) if low is not None else rng.normal(0, scale, shape)
    return tg.Tensor(values, requires_grad=True)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 5), (2, 3, 2, 3)])
def test_batch_norm_gradcheck(training, shape):
    x, w, b = _t(shape, 0, 2), _t(shape[1], 1), _t(shape[1], 2)
    mean, var = tg.Tensor(np.zeros(shape[1])), tg.Tensor(np.full(shape[1], 2.0))
    assert gradcheck(lambda *t: F.batch_norm(t[0], mean, var, t[1], t[2], training=training), [x, w, b])
    assert gradcheck(lambda t: F.batch_norm(t, None if training else mean, None if training else var,
                                            training=training, eps=0.1), [x])
    chwn = tg.Tensor(np.moveaxis(np.ascontiguousarray(np.moveaxis(x.numpy(), 0, -1)), -1, 0), requires_grad=True)
    assert gradcheck(lambda t: F.batch_norm(t, None, None, bias=b, training=True), [chwn])


def test_layer_and_group_norm_gradcheck():
    x, w, b = _t((2, 4, 3), 0), _t((4, 3), 1), _t((4, 3), 2)
    assert gradcheck(lambda *t: F.layer_norm(t[0], (4, 3), t[1], t[2]), [x, w, b])
    assert gradcheck(lambda t: F.layer_norm(t, 3), [x])
    w4, b4 = _t(4, 3), _t(4, 4)
    assert gradcheck(lambda *t: F.group_norm(t[0], 2, t[1], t[2]), [x, w4, b4])
    assert gradcheck(lambda t: F.group_norm(t, 4, eps=0.5), [x])


ACTIVATIONS = [F.relu, F.leaky_relu, lambda t: F.elu(t, 0.7), F.gelu, lambda t: F.gelu(t, approximate="tanh"),
               F.silu, lambda t: F.hardtanh(t, -1.37, 1.73), lambda t: F.relu6(t + 0.0123), lambda t: F.softplus(t, 2.0, 3.0), F.sigmoid,
               F.tanh, lambda t: F.softmax(t, 1), lambda t: F.log_softmax(t, 0)]


@pytest.mark.parametrize("fn", ACTIVATIONS)
@settings(max_examples=3)
@given(x=ts.distinct_arrays(ts.shapes(min_dims=2, max_dims=3), low=-8.13, high=7.91))
def test_activation_gradcheck(fn, x):
    assert gradcheck(fn, [tg.Tensor(x, requires_grad=True)])


def test_pooling_unpooling_and_transposed_conv_gradcheck():
    x = tg.Tensor(np.random.default_rng(0).permutation(2 * 2 * 5 * 7).reshape(2, 2, 5, 7) / 10.0,
                  requires_grad=True)
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, (3, None)), [x])
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, 1), [x])
    assert gradcheck(lambda t: F.adaptive_max_pool2d(t, (3, 4)), [x])
    pooled, indices = F.max_pool2d(x, 2, return_indices=True)
    assert gradcheck(lambda t: F.max_unpool2d(t, indices, 2, output_size=(5, 7)), [tg.Tensor(pooled.numpy(),
                                                                                          requires_grad=True)])
    w, b = _t((2, 3, 2, 3), 1), _t(6, 2)
    assert gradcheck(lambda *t: F.conv_transpose2d(t[0], t[1], t[2], stride=2, padding=1, output_padding=1,
                                                   groups=2, dilation=(1, 2)), [x, w, b])


def test_loss_ops_gradcheck():
    rng = np.random.default_rng(3)
    z = _t((5, 4), 0)
    y = tg.Tensor(np.array([0, 3, -1, 2, 1]))
    w = tg.Tensor(rng.uniform(0.5, 2, 4))
    for smoothing in (0.0, 0.2):
        assert gradcheck(lambda t: F.cross_entropy(t, y, w, ignore_index=-1, label_smoothing=smoothing), [z])
    probs = tg.Tensor(rng.dirichlet(np.ones(4), 5), requires_grad=True)
    assert gradcheck(lambda a, b: F.cross_entropy(a, b, w, label_smoothing=0.1, reduction="sum"), [z, probs])
    assert gradcheck(lambda t: F.nll_loss(t, y, w, ignore_index=-1), [z])
    p, q = _t((3, 4), 4, low=0.1), _t((3, 4), 5, low=0.0)
    assert gradcheck(lambda a: F.binary_cross_entropy(a, q, weight=w), [p])
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=w), [_t((3, 4), 7, 3), q])
    t = _t((5, 4), 6)
    for fn in (F.l1_loss, lambda a, b: F.smooth_l1_loss(a, b, beta=0.7), lambda a, b: F.huber_loss(a, b, delta=0.4)):
        assert gradcheck(fn, [z, t])
    logq = tg.Tensor(np.log(rng.dirichlet(np.ones(4), 5)), requires_grad=True)
    assert gradcheck(lambda a, b: F.kl_div(a, b.exp(), reduction="batchmean"), [z, logq])
    assert gradcheck(lambda a, b: F.kl_div(a, b, log_target=True), [z, logq])


def test_buffers_are_state_but_not_parameters():
    layer = nn.BatchNorm2d(3)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert [name for name, _ in layer.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    assert list(layer.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3))
    model[1].register_buffer("scratch", tg.zeros(2), persistent=False)
    assert "1.scratch" not in model.state_dict() and len(list(model.buffers())) == 4
    model.double()
    assert model[1].running_mean.dtype == np.float64 and model[1].num_batches_tracked.dtype == np.int64
    copy = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3)).double()
    model[1].running_var.numpy()[...] = 5.0
    copy.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(copy[1].running_var.numpy(), 5.0)
    with pytest.raises(TypeError, match="buffer 'running_mean'"):
        layer.running_mean = np.zeros(3)


def test_batch_norm_without_tracking_uses_batch_statistics_in_eval():
    layer = nn.BatchNorm1d(2, track_running_stats=False, affine=False).eval()
    x = tg.Tensor(np.array([[1.0, 2.0], [3.0, 6.0]]))
    np.testing.assert_allclose(layer(x).numpy(), [[-1, -1], [1, 1]], atol=1e-4)
    assert list(layer.state_dict()) == []


@pytest.mark.parametrize("make, x, error, message", [
    (lambda: nn.BatchNorm2d(3), tg.zeros(2, 3, 4), ValueError, r"BatchNorm2d: expected 4D input \(got 3D input"),
    (lambda: nn.BatchNorm1d(3), tg.zeros(2, 4), RuntimeError, r"BatchNorm1d\(3\): expected input with 3 channels"),
    (lambda: nn.BatchNorm1d(3), tg.zeros(1, 3), ValueError, r"Expected more than 1 value per channel when training, "
                                                            r"got input size torch.Size\(\[1, 3\]\)"),
    (lambda: nn.LayerNorm(4), tg.zeros(2, 3), ValueError, r"normalized_shape=\[4\].*torch.Size\(\[2, 3\]\)"),
    (lambda: nn.GroupNorm(2, 4), tg.zeros(2, 6), RuntimeError, r"GroupNorm\(2, 4\).*\(2, 6\)"),
    (lambda: nn.AdaptiveAvgPool2d(2), tg.zeros(2, 3), RuntimeError, r"adaptive_avg_pool2d: input must be 3-D.*\(2, 3\)"),
    (lambda: nn.ConvTranspose2d(3, 2, 3), tg.zeros(1, 2, 4, 4), RuntimeError,
     r"conv_transpose2d: input \(1, 2, 4, 4\) has 2 channels but weight \(3, 2, 3, 3\) expects 3"),
    (lambda: nn.Dropout2d(), tg.zeros(3), RuntimeError, r"Feature dropout requires at least 2 dimensions"),
    (lambda: nn.Unflatten(1, (2, 2)), tg.zeros(2, 6), RuntimeError, r"Unflatten: .*\(2, 2\).*size 6"),
])
def test_bad_input_names_the_layer_and_shapes(make, x, error, message):
    layer = make()
    before = {k: v.numpy().copy() for k, v in layer.state_dict().items()}
    with pytest.raises(error, match=message):
        layer(x)
    for key, value in layer.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key])


def test_bad_arguments_raise_at_construction():
    with pytest.raises(ValueError, match="output_padding"):
        nn.ConvTranspose2d(2, 2, 3, stride=1, output_padding=1)
    with pytest.raises(ValueError, match="num_channels must be divisible by num_groups"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.5)
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="output_size"):
        nn.AdaptiveMaxPool2d((2, 0))


def test_dropout2d_zeroes_whole_channels_and_rescales():
    tg.manual_seed(0)
    x = tg.ones(8, 16, 3, 3, requires_grad=True)
    out = nn.Dropout2d(0.5)(x)
    planes = out.numpy().reshape(8, 16, 9)
    assert set(np.unique(planes)) == {0.0, 2.0} and (planes.min(axis=2) == planes.max(axis=2)).all()
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.numpy())
    assert nn.Dropout2d(0.5).eval()(x) is x


def test_lazy_modules_infer_sizes_at_the_first_call_and_become_eager():
    tg.manual_seed(0)
    model = nn.Sequential(nn.LazyConv2d(4, 3, padding=1), nn.LazyBatchNorm2d(), nn.ReLU(), nn.Flatten(),
                          nn.LazyLinear(5), nn.LazyBatchNorm1d())
    assert repr(model[0]) == "LazyConv2d(0, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"
    assert repr(model[4]) == "LazyLinear(in_features=0, out_features=5, bias=True)"
    assert repr(model[0].weight) == "<UninitializedParameter>"
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        model[4].weight.shape
    with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter"):
        F.linear(tg.zeros(2, 3), model[4].weight)
    optimizer = SGD(model.parameters(), lr=0.1)  # built before the first call: it works, as torch's
    weights = list(model.parameters())
    out = model(tg.Tensor(np.random.default_rng(0).normal(size=(3, 2, 4, 4)).astype(np.float32)))
    assert out.shape == (3, 5)
    assert [type(m).__name__ for m in model] == ["Conv2d", "BatchNorm2d", "ReLU", "Flatten", "Linear", "BatchNorm1d"]
    assert model[0].in_channels == 2 and model[4].in_features == 64 and model[1].num_features == 4
    assert model[0].weight.shape == (4, 2, 3, 3) and type(model[0].weight) is nn.Parameter
    assert all(a is b for a, b in zip(weights, model.parameters()))
    assert model[1].running_mean.shape == (4,) and model[1].num_batches_tracked.item() == 1
    out.sum().backward()
    before = model[4].weight.numpy().copy()
    optimizer.step()
    assert not np.array_equal(before, model[4].weight.numpy())
    bound = 1 / np.sqrt(64)
    assert np.abs(model[4].bias.numpy()).max() <= bound


def test_lazy_linear_loads_a_state_dict_before_its_first_call():
    eager = nn.Linear(6, 2)
    lazy = nn.LazyLinear(2)
    lazy.load_state_dict(eager.state_dict())
    assert type(lazy) is nn.Linear and lazy.in_features == 6
    x = tg.Tensor(np.ones((1, 6), dtype=np.float32))
    np.testing.assert_array_equal(lazy(x).numpy(), eager(x).numpy())


@pytest.mark.parametrize("inplace_layer", [nn.ReLU(True), nn.LeakyReLU(inplace=True), nn.ELU(inplace=True),
                                           nn.SiLU(True), nn.Hardtanh(inplace=True), nn.ReLU6(True)])
def test_inplace_layers_write_the_result_into_their_input(inplace_layer):
    x = tg.Tensor(np.array([-2.0, -0.5, 0.5, 7.0]))
    expected = type(inplace_layer)()(x).numpy()
    out = inplace_layer(x)
    assert out is x and x._version == 1
    np.testing.assert_array_equal(x.numpy(), expected)
    assert not np.array_equal(expected, [-2.0, -0.5, 0.5, 7.0])


@settings(max_examples=10)
@given(length=st.integers(1, 12), out=st.integers(1, 12))
def test_adaptive_bins_cover_the_input_as_torch_defines_them(length, out):
    from tinygrad_cnn.ops.adaptive_pool import bin_edges

    starts, ends = bin_edges(length, out)
    assert starts[0] == 0 and ends[-1] == length and (ends > starts).all()
    np.testing.assert_array_equal(starts, [int(np.floor(i * length / out)) for i in range(out)])
    np.testing.assert_array_equal(ends, [int(np.ceil((i + 1) * length / out)) for i in range(out)])
