"""conv2d, max_pool2d and avg_pool2d against PyTorch: forward values and every input's
gradient to 1e-6 relative in float64, over drawn configurations (skipped without torch)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_cnn import Tensor
from tinygrad_cnn.nn.functional import conv2d
from tinygrad_cnn.nn.functional import avg_pool2d, max_pool2d
from tinygrad_cnn.testing import strategies as ts
from tinygrad_cnn.testing.oracle import check_against_torch

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")
TF = torch.nn.functional

pytestmark = pytest.mark.oracle


@st.composite
def conv_configs(draw):
    groups = draw(st.sampled_from([1, 1, 2, 4]))
    channels, out_channels = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.one_of(st.tuples(st.integers(0, 3), st.integers(0, 3)), st.sampled_from(["valid", "same"])))
    stride = (1, 1) if padding == "same" else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    if isinstance(padding, str):  # "same" pads dilation*(kernel-1) in total
        pad_h, pad_w = (0, 0) if padding == "valid" else (dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1))
    else:
        pad_h, pad_w = 2 * padding[0], 2 * padding[1]
    min_h = max(1, dilation[0] * (kernel[0] - 1) + 1 - pad_h)
    min_w = max(1, dilation[1] * (kernel[1] - 1) + 1 - pad_w)
    shape = (draw(st.integers(1, 4)), channels, draw(st.integers(min_h, min_h + 6)),
             draw(st.integers(min_w, min_w + 6)))
    return shape, (out_channels, channels // groups) + kernel, dict(stride=stride, padding=padding,
                                                                      dilation=dilation, groups=groups)


@given(conv_configs(), st.booleans(), st.data())
def test_conv2d_matches_torch(config, with_bias, data):
    shape, w_shape, args = config
    arrays = [data.draw(ts.arrays(shape)), data.draw(ts.arrays(w_shape))]
    if with_bias:
        arrays.append(data.draw(ts.arrays((w_shape[0],))))
    check_against_torch(lambda *t: conv2d(*t, **args), lambda *t: TF.conv2d(*t, **args), arrays)


@st.composite
def pool_configs(draw, dilation=True):
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    dil = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilation else (1, 1)
    min_h = max(1, dil[0] * (kernel[0] - 1) + 1 - 2 * padding[0])
    min_w = max(1, dil[1] * (kernel[1] - 1) + 1 - 2 * padding[1])
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(min_h, min_h + 6)),
             draw(st.integers(min_w, min_w + 6)))
    args = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=draw(st.booleans()))
    if dilation:
        args["dilation"] = dil
    return shape, args


def real_windows(out: np.ndarray) -> np.ndarray:
    """Outputs of windows that hold an input element (a window lying entirely in the padding,
    possible with dilation, gives -inf and an index that means nothing, in torch too)."""
    return np.isfinite(out)


@given(pool_configs(), st.booleans(), st.data())
def test_max_pool2d_matches_torch(config, ties, data):
    """Distinct values, or values from three levels (ties everywhere): both pick the first
    maximum of each window for the gradient and the indices."""
    shape, args = config
    if ties:
        values = data.draw(st.lists(st.sampled_from([-1.0, 0.5, 2.0]), min_size=math.prod(shape),
                                    max_size=math.prod(shape)))
        x = ts.in_layout(np.reshape(values, shape), data.draw(st.sampled_from(ts.LAYOUTS)))
    else:
        x = data.draw(ts.distinct_arrays(shape))
    ours, ours_idx = max_pool2d(Tensor(x), **args, return_indices=True)
    theirs, theirs_idx = TF.max_pool2d(torch.tensor(x), **args, return_indices=True)
    real = real_windows(theirs.numpy())
    np.testing.assert_array_equal(ours_idx.data[real], theirs_idx.numpy()[real])
    if real.all():
        check_against_torch(lambda t: max_pool2d(t, **args), lambda t: TF.max_pool2d(t, **args), [x])
    else:
        np.testing.assert_array_equal(ours.data, theirs.numpy())


@given(pool_configs(dilation=False), st.booleans(), st.data())
def test_avg_pool2d_matches_torch(config, count_include_pad, data):
    shape, args = config
    args["count_include_pad"] = count_include_pad
    check_against_torch(lambda t: avg_pool2d(t, **args), lambda t: TF.avg_pool2d(t, **args),
                        [data.draw(ts.arrays(shape))])


@pytest.mark.parametrize("padding", [(0, 0), (1, 1), "same"])
def test_lenet_sized_float32_layers_match_torch(padding):
    """Float32 layers of the models' sizes, chained conv -> relu -> pool -> conv as in LeNet,
    forward and backward, to float32 precision."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 1, 28, 28)).astype(np.float32)
    w1, b1 = (0.2 * rng.standard_normal((6, 1, 5, 5))).astype(np.float32), rng.standard_normal(6).astype(np.float32)
    w2 = (0.2 * rng.standard_normal((16, 6, 5, 5))).astype(np.float32)
    upstream = None
    results = []
    for lib, conv, pool in ((Tensor, conv2d, max_pool2d), (torch.tensor, TF.conv2d, TF.max_pool2d)):
        params = [lib(a, requires_grad=True) for a in (w1, b1, w2)]
        out = conv(pool(conv(lib(x), params[0], params[1], padding=padding).relu(), 2), params[2])
        if upstream is None:
            upstream = rng.standard_normal(tuple(out.shape)).astype(np.float32)
        out.backward(lib(upstream))
        results.append([np.asarray(out.data if lib is Tensor else out.detach())]
                       + [np.asarray(p.grad) for p in params])
    for ours, theirs in zip(*results):
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=2e-4 * np.abs(theirs).max())
