"""max_pool2d and avg_pool2d: slow loop references (forward, gradient routing, indices),
finite-difference gradients in float64, torch's tie, padding and ceil_mode rules on
hand-worked examples, memory layouts, and the errors bad input gets."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tinygrad_cnn import Tensor
from tinygrad_cnn.nn.functional import conv2d
from tinygrad_cnn.nn.functional import avg_pool2d, max_pool2d
from tinygrad_cnn.testing import gradcheck
from tinygrad_cnn.testing import strategies as ts


def out_side(size, k, s, p, d, ceil_mode):
    """Output length as torch's pooling_output_shape, written out independently."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (math.ceil(span / s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def window_positions(y, x_, args):
    """The (row, col) of every element of output (y, x_)'s window, in row-major window order,
    with rows/cols possibly outside the input (padding or a ceil_mode overhang)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = args["kernel"], args["stride"], args["padding"], args["dilation"]
    return [(y * sh - ph + i * dh, x_ * sw - pw + j * dw) for i in range(kh) for j in range(kw)]


def has_empty_window(shape, args):
    """True when some window lies entirely in the padding (possible only with dilation)."""
    sides = []
    for axis in (0, 1):
        k, s, p, d = (args[name][axis] for name in ("kernel", "stride", "padding", "dilation"))
        size = shape[2 + axis]
        starts = np.arange(out_side(size, k, s, p, d, args["ceil"])) * s - p
        positions = starts[:, None] + np.arange(k) * d
        sides.append(not ((positions >= 0) & (positions < size)).any(axis=1).all())
    return any(sides)


def reference_pool(x, args, upstream, mode, count_include_pad=True):
    """Pooling by explicit loops: (out, dx, indices); max routes each window's gradient to its
    first maximum, avg divides by torch's window size. A max window lying entirely in the
    padding gives -inf, no gradient and index -1 (torch's index there is meaningless)."""
    n_batch, channels, height, width = x.shape
    oh = out_side(height, args["kernel"][0], args["stride"][0], args["padding"][0], args["dilation"][0], args["ceil"])
    ow = out_side(width, args["kernel"][1], args["stride"][1], args["padding"][1], args["dilation"][1], args["ceil"])
    out, dx = np.zeros((n_batch, channels, oh, ow)), np.zeros(x.shape)
    indices = np.zeros(out.shape, dtype=np.int64)
    for n in range(n_batch):
        for c in range(channels):
            for y in range(oh):
                for x_ in range(ow):
                    cells = window_positions(y, x_, args)
                    inside = [(r, q) for r, q in cells if 0 <= r < height and 0 <= q < width]
                    g = upstream[n, c, y, x_]
                    if mode == "max" and not inside:  # possible with dilation: the window is all padding
                        out[n, c, y, x_], indices[n, c, y, x_] = -np.inf, -1
                    elif mode == "max":
                        best = inside[0]
                        for r, q in inside[1:]:
                            if x[n, c, r, q] > x[n, c, best[0], best[1]]:
                                best = (r, q)
                        out[n, c, y, x_] = x[n, c, best[0], best[1]]
                        dx[n, c, best[0], best[1]] += g
                        indices[n, c, y, x_] = best[0] * width + best[1]
                    else:
                        (kh, kw), (ph, pw) = args["kernel"], args["padding"]
                        if count_include_pad:
                            rows = min(y * args["stride"][0] - ph + kh, height + ph) - (y * args["stride"][0] - ph)
                            cols = min(x_ * args["stride"][1] - pw + kw, width + pw) - (x_ * args["stride"][1] - pw)
                            divisor = rows * cols
                        else:
                            divisor = len(inside)
                        out[n, c, y, x_] = sum(x[n, c, r, q] for r, q in inside) / divisor
                        for r, q in inside:
                            dx[n, c, r, q] += g / divisor
    return out, dx, indices


@st.composite
def pool_cases(draw, dilation=True):
    """Pooling arguments (kernel, stride, padding <= kernel/2, dilation, ceil_mode) and a
    matching input shape."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    ceil = draw(st.booleans())
    min_h = max(1, dil[0] * (kernel[0] - 1) + 1 - 2 * padding[0])
    min_w = max(1, dil[1] * (kernel[1] - 1) + 1 - 2 * padding[1])
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(min_h, min_h + 4)),
             draw(st.integers(min_w, min_w + 4)))
    return shape, dict(kernel=kernel, stride=stride, padding=padding, dilation=dil, ceil=ceil)


def max_args(args):
    return dict(kernel_size=args["kernel"], stride=args["stride"], padding=args["padding"],
                dilation=args["dilation"], ceil_mode=args["ceil"])


def avg_args(args, count_include_pad):
    return dict(kernel_size=args["kernel"], stride=args["stride"], padding=args["padding"],
                ceil_mode=args["ceil"], count_include_pad=count_include_pad)


@given(pool_cases(), st.data())
def test_max_pool_matches_loop_reference(case, data):
    shape, args = case
    check_max_pool_against_reference(data.draw(ts.distinct_arrays(shape)), args, data)


@given(pool_cases(), st.data())
def test_max_pool_ties_go_to_the_first_maximum(case, data):
    """Inputs drawn from three values (ties everywhere): forward, gradient and indices still
    follow the first maximum of each window, as torch."""
    shape, args = case
    values = data.draw(st.lists(st.sampled_from([-1.0, 0.5, 2.0]), min_size=math.prod(shape),
                                max_size=math.prod(shape)))
    x = ts.in_layout(np.reshape(values, shape), data.draw(st.sampled_from(ts.LAYOUTS)))
    check_max_pool_against_reference(x, args, data)


def check_max_pool_against_reference(x, args, data):
    """max_pool2d's output, input gradient (for a drawn upstream gradient) and indices equal
    the loop reference's (indices compared where a window holds a real input element)."""
    xt = Tensor(x, requires_grad=True)
    out, indices = max_pool2d(xt, **max_args(args), return_indices=True)
    upstream = data.draw(ts.arrays(out.shape))
    out.backward(upstream)
    ref_out, ref_dx, ref_indices = reference_pool(x, args, upstream, "max")
    np.testing.assert_array_equal(out.numpy(), ref_out)
    np.testing.assert_allclose(xt.grad, ref_dx, rtol=1e-12, atol=1e-12)
    real = ref_indices >= 0
    np.testing.assert_array_equal(indices.numpy()[real], ref_indices[real])
    assert indices.dtype == np.int64


@given(pool_cases(dilation=False), st.booleans(), st.data())
def test_avg_pool_matches_loop_reference(case, count_include_pad, data):
    shape, args = case
    x = data.draw(ts.arrays(shape))
    xt = Tensor(x, requires_grad=True)
    out = avg_pool2d(xt, **avg_args(args, count_include_pad))
    upstream = data.draw(ts.arrays(out.shape))
    out.backward(upstream)
    ref_out, ref_dx, _ = reference_pool(x, args, upstream, "avg", count_include_pad)
    np.testing.assert_allclose(out.numpy(), ref_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(xt.grad, ref_dx, rtol=1e-12, atol=1e-12)


@given(pool_cases(), st.data())
def test_max_pool_gradcheck(case, data):
    shape, args = case
    assume(not has_empty_window(shape, args))  # an output of -inf has no finite difference
    x = Tensor(data.draw(ts.distinct_arrays(shape)), requires_grad=True)
    assert gradcheck(lambda t: max_pool2d(t, **max_args(args)), [x])


@given(pool_cases(dilation=False), st.booleans(), st.data())
def test_avg_pool_gradcheck(case, count_include_pad, data):
    shape, args = case
    x = Tensor(data.draw(ts.arrays(shape)), requires_grad=True)
    assert gradcheck(lambda t: avg_pool2d(t, **avg_args(args, count_include_pad)), [x])


@given(st.integers(1, 3), st.integers(1, 3), st.sampled_from([max_pool2d, avg_pool2d]), st.data())
def test_pool_between_convs(batch, channels, pool, data):
    """conv -> pool -> conv, as in LeNet: the pool reads and returns the (C, H, W, N) memory
    conv2d produces, and its gradient arrives from conv2d's backward in that layout."""
    x = data.draw(ts.distinct_arrays((batch, 1, 5, 6)))
    w1 = data.draw(ts.arrays((channels, 1, 2, 2)))
    pooled = pool(conv2d(Tensor(x), Tensor(w1)), 2)
    assert pooled.numpy().transpose(1, 2, 3, 0).flags.c_contiguous
    hidden = data.draw(ts.distinct_arrays((batch, channels, 4, 5)))
    hidden = Tensor(np.ascontiguousarray(hidden.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2), requires_grad=True)
    w2 = Tensor(data.draw(ts.arrays((2, channels, 1, 2))), requires_grad=True)
    assert gradcheck(lambda h, w: conv2d(pool(h, 2), w), [hidden, w2])


def test_max_pool_two_by_two_hand_example():
    x = Tensor(np.array([[[[1, 5, 2, 0], [3, 4, 8, 1], [0, 0, 7, 7], [6, 1, 7, 9]]]], dtype=np.float32),
               requires_grad=True)
    out, indices = max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), [[[[5, 8], [6, 9]]]])
    np.testing.assert_array_equal(indices.numpy(), [[[[1, 6], [12, 15]]]])
    out.backward(np.array([[[[10, 20], [30, 40]]]], dtype=np.float32))
    np.testing.assert_array_equal(x.grad, [[[[0, 10, 0, 0], [0, 0, 20, 0], [0, 0, 0, 0], [30, 0, 0, 40]]]])
    assert out.dtype == x.grad.numpy().dtype == np.float32


def test_max_pool_all_equal_window_routes_to_its_first_element():
    x = Tensor(np.zeros((1, 1, 4, 4)), requires_grad=True)
    max_pool2d(x, 2).sum().backward()
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1
    np.testing.assert_array_equal(x.grad[0, 0], expected)


def test_max_pool_padding_is_minus_infinity():
    x = Tensor(-np.arange(1.0, 10.0).reshape(1, 1, 3, 3))
    out = max_pool2d(x, 3, stride=1, padding=1)
    np.testing.assert_array_equal(out.numpy()[0, 0], [[-1, -1, -2], [-1, -1, -2], [-4, -4, -5]])


def test_ceil_mode_keeps_a_partial_window_that_starts_inside():
    x = Tensor(np.arange(25.0).reshape(1, 1, 5, 5))
    assert max_pool2d(x, 2).shape == (1, 1, 2, 2)
    np.testing.assert_array_equal(max_pool2d(x, 2, ceil_mode=True).numpy()[0, 0], [[6, 8, 9], [16, 18, 19], [21, 23, 24]])
    # with padding 1 a fourth window would start in the right padding: torch drops it
    assert max_pool2d(x, 2, padding=1, ceil_mode=True).shape == (1, 1, 3, 3)
    np.testing.assert_allclose(avg_pool2d(x, 2, ceil_mode=True).numpy()[0, 0, 2], [20.5, 22.5, 24])


def test_count_include_pad():
    x = Tensor(np.ones((1, 1, 3, 3)))
    with_pad = avg_pool2d(x, 3, stride=1, padding=1)
    without = avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    np.testing.assert_allclose(with_pad.numpy()[0, 0], [[4 / 9, 6 / 9, 4 / 9], [6 / 9, 1, 6 / 9], [4 / 9, 6 / 9, 4 / 9]])
    np.testing.assert_allclose(without.numpy()[0, 0], np.ones((3, 3)))


@pytest.mark.parametrize("layout", ["contiguous", "batch_innermost", "strided"])
@pytest.mark.parametrize("pool", [max_pool2d, avg_pool2d])
def test_every_memory_layout_gives_the_same_result(layout, pool):
    rng = np.random.default_rng(3)
    values = rng.permutation(2 * 3 * 6 * 7).reshape(2, 3, 6, 7).astype(np.float32)
    if layout == "batch_innermost":
        stored = np.ascontiguousarray(values.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    else:
        stored = ts.in_layout(values, layout)
    x, plain = Tensor(stored, requires_grad=True), Tensor(values, requires_grad=True)
    upstream = rng.standard_normal((2, 3, 3, 4)).astype(np.float32)
    out, expected = pool(x, 2, ceil_mode=True), pool(plain, 2, ceil_mode=True)
    out.backward(upstream)
    expected.backward(upstream)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    np.testing.assert_array_equal(x.grad, plain.grad)
    assert out.dtype == x.grad.numpy().dtype == np.float32


def test_stride_defaults_to_kernel_and_graph_records_params():
    x = Tensor(np.zeros((1, 1, 6, 6)), requires_grad=True)
    out = max_pool2d(x, 3)
    assert out.shape == (1, 1, 2, 2)
    assert out.grad_fn.op == "max_pool2d"
    assert out.grad_fn.params == {"kernel_size": (3, 3), "stride": (3, 3), "padding": (0, 0),
                                  "dilation": (1, 1), "ceil_mode": False}
    assert avg_pool2d(x, (2, 3)).grad_fn.params["stride"] == (2, 3)


@pytest.mark.parametrize("pool", [max_pool2d, avg_pool2d])
@pytest.mark.parametrize("shape, kwargs, message", [
    ((1, 1, 1, 4, 4), {"kernel_size": 2}, r"input must be 3-D \(C, H, W\) or 4-D \(N, C, H, W\), got shape \(1, 1, 1, 4, 4\)"),
    ((1, 0, 4, 4), {"kernel_size": 2}, r"only the batch dimension may be 0, got input shape \(1, 0, 4, 4\)"),
    ((1, 1, 4, 4), {"kernel_size": 2, "stride": 0}, r"stride must be >= 1, got \(0, 0\)"),
    ((1, 1, 4, 4), {"kernel_size": 2, "padding": -1}, r"padding must be >= 0, got \(-1, -1\)"),
    ((1, 1, 4, 4), {"kernel_size": 2, "padding": 2}, r"padding \(2, 2\) must be at most half of kernel_size"),
    ((1, 1, 4, 4), {"kernel_size": 0}, r"kernel_size must be >= 1"),
    ((1, 1, 4, 2), {"kernel_size": 5, "padding": 1},
     r"kernel 5 \(effective 5\) is larger than the padded input 4 along W"),
])
def test_bad_input_raises_runtime_error_as_torch(pool, shape, kwargs, message):
    with pytest.raises(RuntimeError, match=f"{pool.__name__}: {message}"):
        pool(Tensor(np.zeros(shape)), **kwargs)


def test_bad_argument_types():
    with pytest.raises(TypeError, match="max_pool2d: input must be a Tensor"):
        max_pool2d(np.zeros((1, 1, 4, 4)), 2)
    with pytest.raises(TypeError, match="avg_pool2d: kernel_size must be an int or a pair"):
        avg_pool2d(Tensor(np.zeros((1, 1, 4, 4))), 2.0)
