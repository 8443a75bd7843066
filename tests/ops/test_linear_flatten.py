"""The two ops between the conv stack and the classifier: Linear (x @ W.T + b, weight
(out_features, in_features) as torch) and Tensor.flatten, including flatten of conv2d's
batch-innermost output."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_cnn import Tensor
from tinygrad_cnn.nn.functional import conv2d
from tinygrad_cnn.ops.matmul import Linear
from tinygrad_cnn.nn.functional import max_pool2d
from tinygrad_cnn.testing import gradcheck
from tinygrad_cnn.testing import strategies as ts


@given(st.lists(st.integers(1, 3), min_size=1, max_size=3), st.integers(1, 4), st.integers(1, 4), st.booleans(),
       st.data())
def test_linear_gradcheck_and_values(lead, in_features, out_features, with_bias, data):
    x = data.draw(ts.arrays(tuple(lead) + (in_features,)))
    w = data.draw(ts.arrays((out_features, in_features)))
    arrays = [x, w] + ([data.draw(ts.arrays((out_features,)))] if with_bias else [])
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = Linear.apply(*tensors)
    expected = np.einsum("...i,oi->...o", x, w) + (arrays[2] if with_bias else 0)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda *t: Linear.apply(*t), tensors)


def test_linear_against_torch():
    torch = pytest.importorskip("torch", reason="compares with PyTorch")
    from tinygrad_cnn.testing.oracle import check_against_torch

    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((5, 7)), rng.standard_normal((3, 7)), rng.standard_normal(3)]
    check_against_torch(lambda *t: Linear.apply(*t), torch.nn.functional.linear, arrays)


@pytest.mark.parametrize("x_shape, w_shape, b_shape, message", [
    ((4, 5), (3, 6), None, r"linear: input shape \(4, 5\) does not match weight shape \(3, 6\)"),
    ((4, 5), (3, 5, 1), None, r"linear: weight must be 2-D \(out_features, in_features\), got shape \(3, 5, 1\)"),
    ((4, 5), (3, 5), (4,), r"linear: bias shape \(4,\) must be \(3,\)"),
])
def test_linear_bad_shapes(x_shape, w_shape, b_shape, message):
    tensors = [Tensor(np.zeros(x_shape)), Tensor(np.zeros(w_shape))]
    if b_shape:
        tensors.append(Tensor(np.zeros(b_shape)))
    with pytest.raises(ValueError, match=message):
        Linear.apply(*tensors)


@given(ts.shapes(min_dims=1, max_dims=4, max_side=3), st.data())
def test_flatten_matches_numpy_reshape_and_gradient_restores_shape(shape, data):
    start = data.draw(st.integers(-len(shape), len(shape) - 1))
    end = data.draw(st.integers(start % len(shape), len(shape) - 1))
    x = Tensor(data.draw(ts.arrays(shape)), requires_grad=True)
    out = x.flatten(start, end)
    s, e = start % len(shape), end
    expected_shape = shape[:s] + (int(np.prod(shape[s:e + 1])),) + shape[e + 1:]
    np.testing.assert_array_equal(out.data, x.data.reshape(expected_shape))
    upstream = data.draw(ts.arrays(expected_shape))
    out.backward(upstream)
    np.testing.assert_array_equal(x.grad, upstream.reshape(shape))


def test_flatten_of_batch_innermost_conv_output_is_in_nchw_order():
    """conv2d returns (C, H, W, N) memory; flatten(1) must still give each sample's features
    in C, H, W order, as torch's flatten of an NCHW tensor, and the classifier's gradient
    must reach the conv weights."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 6, 6)).astype(np.float32)
    w = Tensor(rng.standard_normal((4, 2, 3, 3)).astype(np.float32), requires_grad=True)
    features = max_pool2d(conv2d(Tensor(x), w), 2)
    flat = features.flatten(1)
    assert flat.shape == (3, 4 * 2 * 2)
    for n in range(3):
        np.testing.assert_array_equal(flat.data[n], np.ascontiguousarray(features.data[n]).ravel())
    fc = Tensor(rng.standard_normal((5, 16)).astype(np.float32), requires_grad=True)
    Linear.apply(flat, fc).sum().backward()
    assert w.grad.shape == (4, 2, 3, 3) and w.grad.dtype == np.float32 and np.abs(w.grad).sum() > 0
    with pytest.raises(ValueError, match="flatten: start_dim 2 comes after end_dim 1"):
        features.flatten(2, 1)
