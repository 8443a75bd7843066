"""conv2d, calculate_output_size and count_parameters: the seed notebook's numbers, a slow
loop-based reference (forward and all gradients), finite-difference gradients in float64
over drawn configurations, memory layouts, and the errors bad input gets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_cnn import Tensor
from tinygrad_cnn.nn.functional import calculate_output_size, conv2d, count_parameters
from tinygrad_cnn.testing import gradcheck
from tinygrad_cnn.testing import strategies as ts


def explicit_pads(padding, kernel, dilation) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) for the reference, written out from torch's documentation."""
    if padding == "valid":
        return 0, 0, 0, 0
    if padding == "same":
        th, tw = dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1)
        return th // 2, th - th // 2, tw // 2, tw - tw // 2
    return padding[0], padding[0], padding[1], padding[1]


def reference_conv(x, w, b, stride, padding, dilation, groups, upstream):
    """Convolution and its gradients by explicit loops over every index: (out, dx, dw, db)."""
    n_batch, channels, height, width = x.shape
    out_channels, group_channels, kh, kw = w.shape
    top, bottom, left, right = explicit_pads(padding, (kh, kw), dilation)
    xp = np.zeros((n_batch, channels, height + top + bottom, width + left + right))
    xp[:, :, top:top + height, left:left + width] = x
    oh = (xp.shape[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (xp.shape[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n_batch, out_channels, oh, ow))
    dxp, dw, db = np.zeros_like(xp), np.zeros(w.shape), np.zeros(out_channels)
    per_group = out_channels // groups
    for n in range(n_batch):
        for o in range(out_channels):
            first = (o // per_group) * group_channels
            for y in range(oh):
                for x_ in range(ow):
                    total = 0.0 if b is None else b[o]
                    g = upstream[n, o, y, x_]
                    db[o] += g
                    for c in range(group_channels):
                        for i in range(kh):
                            for j in range(kw):
                                row, col = y * stride[0] + i * dilation[0], x_ * stride[1] + j * dilation[1]
                                total += w[o, c, i, j] * xp[n, first + c, row, col]
                                dxp[n, first + c, row, col] += w[o, c, i, j] * g
                                dw[o, c, i, j] += xp[n, first + c, row, col] * g
                    out[n, o, y, x_] = total
    return out, dxp[:, :, top:top + height, left:left + width], dw, db


@st.composite
def conv_cases(draw, max_batch=2):
    """Arrays and arguments of one small convolution: groups, strides, paddings (ints, pairs,
    'valid', 'same'), dilations, with or without bias; inputs in any memory layout."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    channels = groups * draw(st.integers(1, 2))
    out_channels = groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(st.one_of(st.tuples(st.integers(0, 2), st.integers(0, 2)), st.sampled_from(["valid", "same"])))
    stride = (1, 1) if padding == "same" else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    top, bottom, left, right = explicit_pads(padding, kernel, dilation)
    min_h = max(1, dilation[0] * (kernel[0] - 1) + 1 - top - bottom)
    min_w = max(1, dilation[1] * (kernel[1] - 1) + 1 - left - right)
    shape = (draw(st.integers(1, max_batch)), channels, draw(st.integers(min_h, min_h + 3)),
             draw(st.integers(min_w, min_w + 3)))
    x = draw(ts.arrays(shape))
    w = draw(ts.arrays((out_channels, channels // groups) + kernel))
    b = draw(st.one_of(st.none(), ts.arrays((out_channels,))))
    return x, w, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


def run(x, w, b, args, upstream=None):
    """conv2d on float64 leaves; returns (output, dx, dw, db) after backward with ``upstream``."""
    xt, wt = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    bt = None if b is None else Tensor(b, requires_grad=True)
    out = conv2d(xt, wt, bt, **args)
    if upstream is not None:
        out.backward(upstream)
    return out, xt.grad, wt.grad, None if bt is None else bt.grad


def test_seed_small_array():
    """The seed notebook's hand-checked example: 1..16 in a 4x4 plane, two 3x3 filters."""
    x = Tensor(np.arange(1, 17, dtype=np.float32).reshape(1, 1, 4, 4))
    filters = np.array([[[[0, 0, 0], [0, 1, 0], [0, -1, 0]]],
                        [[[0, 0, 0], [0, -1, 1], [0, 0, 0]]]], dtype=np.float32)
    out = conv2d(x, Tensor(filters), bias=None, stride=1, padding=0)
    np.testing.assert_array_equal(out.numpy(), [[[[-4, -4], [-4, -4]], [[1, 1], [1, 1]]]])
    assert out.dtype == np.float32


@pytest.mark.parametrize("size, kernel, stride, padding, expected", [
    (28, 3, 1, 0, 26), (28, 3, 1, 1, 28), (28, 5, 2, 2, 14),
])
def test_seed_output_size_table(size, kernel, stride, padding, expected):
    assert calculate_output_size(size, kernel, stride, padding) == (expected, expected)
    x = Tensor(np.zeros((1, 1, size, size), dtype=np.float32))
    out = conv2d(x, Tensor(np.zeros((1, 1, kernel, kernel), dtype=np.float32)), stride=stride, padding=padding)
    assert out.shape == (1, 1, expected, expected)


@pytest.mark.parametrize("size, c_in, c_out, stride, out_size, parameters", [
    (144, 3, 6, 1, 142, 168),
    (60, 24, 48, 1, 58, 10_416),
    (20, 10, 20, 2, 9, 1_820),
])
def test_seed_parameter_scenarios(size, c_in, c_out, stride, out_size, parameters):
    """The seed's three scenarios, also checked against an actual layer's arrays."""
    assert calculate_output_size(size, 3, stride) == (out_size, out_size)
    assert count_parameters(c_in, c_out, 3) == parameters
    weight, bias = np.ones((c_out, c_in, 3, 3), dtype=np.float32), np.zeros(c_out, dtype=np.float32)
    out = conv2d(Tensor(np.ones((1, c_in, size, size), dtype=np.float32)), Tensor(weight), Tensor(bias), stride)
    assert out.shape == (1, c_out, out_size, out_size)
    assert weight.size + bias.size == parameters
    assert np.all(out.numpy() == 9 * c_in)


def test_output_size_pairs_dilation_and_strings():
    assert calculate_output_size((28, 20), (5, 3), stride=(1, 2), padding=(2, 0)) == (28, 9)
    assert calculate_output_size(10, 3, dilation=2) == (6, 6)
    assert calculate_output_size(7, 4, padding="same") == (7, 7)
    assert calculate_output_size(7, 4, padding="valid") == (4, 4)
    assert calculate_output_size(28, 2, 2, strict=True) == (14, 14)


def test_output_size_errors():
    with pytest.raises(ValueError, match="larger than the padded input 4"):
        calculate_output_size(4, 5)
    with pytest.raises(ValueError, match="not divisible by stride 2"):
        calculate_output_size(28, 5, 2, strict=True)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        calculate_output_size(28, 3, 0)
    with pytest.raises(ValueError, match="padding must be >= 0"):
        calculate_output_size(28, 3, 1, -1)
    with pytest.raises(ValueError, match="not supported for strided"):
        calculate_output_size(28, 3, 2, "same")
    with pytest.raises(TypeError, match="kernel_size must be an int or a pair"):
        calculate_output_size(28, (3, 3, 3))


def test_count_parameters_variants():
    assert count_parameters(3, 6, (3, 5)) == 3 * 6 * 15 + 6
    assert count_parameters(3, 6, 3, bias=False) == 162
    assert count_parameters(256, 120, 1) == 256 * 120 + 120  # a Linear(256, 120)
    with pytest.raises(ValueError, match="in_channels must be a positive integer"):
        count_parameters(0, 6, 3)


@given(conv_cases(), st.data())
def test_matches_loop_reference(case, data):
    x, w, b, args = case
    out_shape = run(x, w, b, args)[0].shape
    upstream = data.draw(ts.arrays(out_shape))
    out, dx, dw, db = run(x, w, b, args, upstream)
    ref_out, ref_dx, ref_dw, ref_db = reference_conv(x, w, b, args["stride"], args["padding"], args["dilation"],
                                                     args["groups"], upstream)
    np.testing.assert_allclose(out.numpy(), ref_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dw, ref_dw, rtol=1e-10, atol=1e-12)
    if b is not None:
        np.testing.assert_allclose(db, ref_db, rtol=1e-10, atol=1e-12)


@given(conv_cases())
def test_gradcheck_every_input(case):
    x, w, b, args = case
    tensors = [Tensor(a, requires_grad=True) for a in (x, w) + (() if b is None else (b,))]
    assert gradcheck(lambda *t: conv2d(*t, **args), tensors)


@given(conv_cases(max_batch=3), st.data())
def test_chained_convs_read_batch_innermost_memory(case, data):
    """A conv fed by a conv reads the (C, H, W, N) memory the first one returns (an
    elementwise op between keeps that layout); the gradient through both matches finite
    differences."""
    x, w, b, args = case
    out_channels = w.shape[0]
    w2 = data.draw(ts.arrays((2, out_channels, 1, 1)))
    first = conv2d(Tensor(x), Tensor(w), None if b is None else Tensor(b), **args)
    assert first.numpy().transpose(1, 2, 3, 0).flags.c_contiguous
    tensors = [Tensor(x, requires_grad=True), Tensor(w2, requires_grad=True)]
    assert gradcheck(lambda t, v: conv2d(conv2d(t, Tensor(w), None, **args).tanh(), v), tensors)


def test_same_padding_even_kernel_pads_extra_bottom_right():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 6, 7)), rng.standard_normal((4, 3, 4, 2))
    out = conv2d(Tensor(x), Tensor(w), padding="same")
    assert out.shape == (2, 4, 6, 7)
    manual = np.pad(x, ((0, 0), (0, 0), (1, 2), (0, 1)))
    np.testing.assert_allclose(out.numpy(), conv2d(Tensor(manual), Tensor(w)).numpy(), rtol=1e-12)


def test_float32_stays_float32_and_output_is_batch_innermost():
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((3, 2, 6, 6)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 2, 3, 3)).astype(np.float32), requires_grad=True)
    b = Tensor(np.zeros(4, dtype=np.float32), requires_grad=True)
    out = conv2d(x, w, b, padding=1)
    assert out.dtype == np.float32 and out.shape == (3, 4, 6, 6)
    assert out.numpy().transpose(1, 2, 3, 0).flags.c_contiguous
    out.sum().backward()
    assert x.grad.numpy().dtype == w.grad.numpy().dtype == b.grad.numpy().dtype == np.float32
    np.testing.assert_allclose(b.grad, np.full(4, 3 * 36), rtol=1e-6)


def test_graph_node_records_op_and_params():
    x = Tensor(np.ones((1, 2, 5, 5)), requires_grad=True)
    out = conv2d(x, Tensor(np.ones((2, 1, 3, 3)), requires_grad=True), stride=2, padding=1, groups=2)
    assert out.grad_fn.op == "conv2d"
    assert out.grad_fn.params == {"stride": (2, 2), "padding": (1, 1), "dilation": (1, 1), "groups": 2}


def test_no_input_grad_when_input_needs_none():
    w = Tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    x = Tensor(np.arange(9.0).reshape(1, 1, 3, 3))
    conv2d(x, w).sum().backward()
    assert x.grad is None
    np.testing.assert_array_equal(w.grad, [[[[8.0, 12.0], [20.0, 24.0]]]])


def test_a_later_backward_leaves_earlier_gradients_alone():
    """Backward reuses a scratch buffer between calls of one shape: no gradient may alias it."""
    rng = np.random.default_rng(4)
    x = Tensor(rng.standard_normal((2, 3, 5, 5)), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    first_up, second_up = rng.standard_normal((2, 2, 4, 3, 3))
    conv2d(x, w, padding=0).backward(first_up)
    first = x.grad.numpy().copy()
    kept = x.grad
    x.grad = None
    conv2d(x, w).backward(second_up)
    np.testing.assert_array_equal(kept, first)
    assert not np.allclose(x.grad, first)
    _, expected_dx, _, _ = reference_conv(x.numpy(), w.numpy(), None, (1, 1), (0, 0), (1, 1), 1, first_up)
    np.testing.assert_allclose(first, expected_dx, rtol=1e-10)


def test_depthwise_convolves_each_channel_alone():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((3, 1, 3, 3))
    out = conv2d(Tensor(x), Tensor(w), groups=3)
    for c in range(3):
        alone = conv2d(Tensor(x[:, c:c + 1]), Tensor(w[c:c + 1]))
        np.testing.assert_allclose(out.numpy()[:, c:c + 1], alone.numpy(), rtol=1e-12)


@pytest.mark.parametrize("x_shape, w_shape, kwargs, message", [
    ((2, 3, 8, 8), (6, 1, 5, 5), {}, r"input \(2, 3, 8, 8\) has 3 channels but weight \(6, 1, 5, 5\) expects 1"),
    ((1, 1, 4, 4), (1, 1, 5, 5), {}, r"kernel \(5, 5\).*larger than the padded input \(4, 4\)"),
    ((1, 1, 4, 4), (1, 1, 7, 3), {"padding": 1}, r"kernel \(7, 3\).*larger than the padded input \(6, 6\)"),
    ((1, 1, 4, 4), (1, 1, 3, 3), {"dilation": 2}, r"effective \(5, 5\)"),
    ((1, 1, 8, 8), (1, 1, 3, 3), {"stride": 0}, r"stride must be >= 1, got \(0, 0\)"),
    ((1, 1, 8, 8), (1, 1, 3, 3), {"stride": (1, 0)}, r"stride must be >= 1, got \(1, 0\)"),
    ((1, 1, 8, 8), (1, 1, 3, 3), {"padding": -1}, r"padding must be >= 0, got \(-1, -1\)"),
    ((1, 1, 8, 8), (1, 1, 3, 3), {"padding": "full"}, "padding must be an int, a pair, 'valid' or 'same'"),
    ((1, 1, 8, 8), (1, 1, 3, 3), {"padding": "same", "stride": 2}, "not supported for strided"),
    ((1, 1, 8, 8), (1, 1, 3, 3), {"dilation": 0}, "dilation must be >= 1"),
    ((1, 4, 8, 8), (6, 2, 3, 3), {"groups": 4}, r"groups=4 must divide the weight's 6 output channels"),
    ((1, 3, 8, 8), (6, 1, 3, 3), {"groups": 2}, r"input \(1, 3, 8, 8\) has 3 channels but weight \(6, 1, 3, 3\) expects 2"),
    ((1, 4, 8, 8), (6, 2, 3, 3), {"groups": 0}, "groups must be a positive integer"),
    ((1, 4, 8, 8), (4, 2, 3, 3), {"groups": 4}, r"weight \(4, 2, 3, 3\) expects 8 \(groups=4\)"),
    ((8, 8), (1, 3, 3, 3), {}, r"input must be 3-D \(C, H, W\) or 4-D \(N, C, H, W\), got shape \(8, 8\)"),
    ((1, 1, 1, 8, 8), (1, 1, 3, 3), {}, r"got shape \(1, 1, 1, 8, 8\)"),
    ((2, 3, 0, 8), (1, 3, 3, 3), {"padding": 2}, r"only a zero batch or zero channels may be empty, got input shape"),
    ((1, 1, 8, 8), (1, 3, 3), {}, r"weight must be 4-D"),
])
def test_bad_input_raises_runtime_error_as_torch(x_shape, w_shape, kwargs, message):
    """torch.nn.functional.conv2d raises RuntimeError for each of these (tests/hardening/test_2_degenerate_shapes.py
    and test_functional_errors in tests/nn compare with torch)."""
    with pytest.raises(RuntimeError, match=message):
        conv2d(Tensor(np.zeros(x_shape)), Tensor(np.zeros(w_shape)), **kwargs)


def test_bad_bias_and_argument_types():
    x, w = Tensor(np.zeros((1, 1, 4, 4))), Tensor(np.zeros((2, 1, 3, 3)))
    with pytest.raises(RuntimeError, match=r"bias shape \(3,\) must be \(2,\)"):
        conv2d(x, w, Tensor(np.zeros(3)))
    with pytest.raises(TypeError, match="input must be a Tensor"):
        conv2d(np.zeros((1, 1, 4, 4)), w)
    with pytest.raises(TypeError, match="stride must be an int or a pair"):
        conv2d(x, w, stride=1.5)


def test_a_long_row_of_columns_fed_in_several_blocks_matches_the_loop_reference():
    """A small patch (1 x 2 x 2) over 92 * 92 output positions: the matmuls run in three column
    blocks, forward and weight gradient alike; every block must count (NumPy reference only)."""
    from tinygrad_cnn.ops import gemm_blocks

    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((1, 1, 93, 93)), rng.standard_normal((2, 1, 2, 2)), rng.standard_normal(2)
    assert 1 * 2 * 2 < gemm_blocks.SMALL_PATCH and 92 * 92 > 2 * gemm_blocks.COLUMN_BLOCK
    upstream = rng.standard_normal((1, 2, 92, 92))
    out, dx, dw, db = run(x, w, b, dict(stride=1, padding=0), upstream)
    ref_out, ref_dx, ref_dw, ref_db = reference_conv(x, w, b, (1, 1), (0, 0), (1, 1), 1, upstream)
    np.testing.assert_allclose(out.numpy(), ref_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(dw), ref_dw, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(dx), ref_dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(db), ref_db, rtol=1e-10, atol=1e-12)
