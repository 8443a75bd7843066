"""The public testing tools: gradcheck catches wrong gradients; strategies keep their promises."""

import numpy as np
import pytest
from hypothesis import given

import tinygrad_cnn as tg
from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.testing import GradcheckError, gradcheck
from tinygrad_cnn.testing import strategies as ts


class WrongSquare(Function):
    """x**2 with a deliberately wrong derivative (x instead of 2x)."""

    @staticmethod
    def forward(ctx: Context, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx: Context, grad):
        (a,) = ctx.saved_tensors
        return grad * a


def _inputs():
    return [tg.Tensor(np.array([[0.3, -1.2], [2.0, 0.7]]), requires_grad=True)]


def test_gradcheck_accepts_a_correct_gradient_in_both_modes():
    assert gradcheck(lambda x: (x * x).tanh(), _inputs())
    assert gradcheck(lambda x: (x * x).tanh(), _inputs(), fast_mode=True)


def test_gradcheck_reports_the_worst_element_of_a_wrong_gradient():
    with pytest.raises(GradcheckError, match=r"d out\(1, 0\) / d in\(1, 0\) is 2 analytically but 4 numerically"):
        gradcheck(lambda x: WrongSquare.apply(x), _inputs())
    with pytest.raises(GradcheckError, match="fast_mode"):
        gradcheck(lambda x: WrongSquare.apply(x), _inputs(), fast_mode=True)


def test_gradcheck_refuses_float32_and_inputs_without_grad():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda x: x * 2.0, [tg.Tensor([1.0], requires_grad=True)])
    with pytest.raises(ValueError, match="requires grad"):
        gradcheck(lambda x: x * 2.0, [tg.Tensor(np.ones(2))])


def test_gradcheck_restores_the_inputs():
    inputs = _inputs()
    before = inputs[0].numpy().copy()
    gradcheck(lambda x: x.exp(), inputs)
    np.testing.assert_array_equal(inputs[0].numpy(), before)
    assert inputs[0].grad is None


@given(ts.arrays(ts.shapes(max_dims=3), min_abs=0.25))
def test_arrays_stay_away_from_zero(array):
    assert array.dtype == np.float64
    assert np.all(np.abs(array) >= 0.25) and np.all(np.abs(array) <= 2.0)


@given(ts.distinct_arrays(ts.shapes(max_dims=3)))
def test_distinct_arrays_have_no_ties_and_no_zeros(array):
    flat = np.sort(array.reshape(-1))
    step = 4.0 / flat.size
    assert np.all(np.diff(flat) >= step / 2 - 1e-12)
    assert np.all(np.abs(flat) >= step / 4 - 1e-12)


@given(ts.arrays((3, 4), layout="strided"))
def test_strided_layout_is_a_non_contiguous_view(array):
    assert not array.flags.c_contiguous and array.shape == (3, 4)


def test_in_layout_keeps_values():
    base = np.arange(12.0).reshape(3, 4)
    for layout in ts.LAYOUTS:
        np.testing.assert_array_equal(ts.in_layout(base, layout), base)
    assert ts.in_layout(base, "transposed").flags.f_contiguous
