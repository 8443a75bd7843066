"""Class 1 of issue 16: construction and dtypes. Data a Tensor cannot hold is refused with a
TypeError naming Tensor and the value (also torch's exception type where torch refuses it);
integer input to conv2d/linear/avg_pool2d behaves as torch's."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.tensor import Tensor, TensorDataError

BAD_DATA = [None, object(), "ab", b"ab", [[1], [1, 2]], [1, "a"], [1, None], 1 + 2j, [1j, 2],
            np.array([1j]), np.array(["a"]), np.array([None]), np.array([object()]),
            np.array([np.datetime64("2020-01-01")]), [[1, 2], [3]], {"a": 1}]


@pytest.mark.parametrize("data", BAD_DATA, ids=lambda d: type(d).__name__ + ":" + repr(d)[:20])
def test_bad_data_is_a_type_error_naming_tensor_and_value(data):
    with pytest.raises(TypeError, match="Tensor") as info:
        Tensor(data)
    assert repr(data)[:10] in str(info.value)


@pytest.mark.parametrize("data", [None, "ab", [[1], [1, 2]], [1, None], np.array(["a"])], ids=repr)
def test_exception_type_matches_torch(data):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as theirs:
        torch.tensor(data)
    with pytest.raises(TensorDataError) as ours:
        Tensor(data)
    assert isinstance(ours.value, type(theirs.value))


def test_complex_dtype_argument_is_refused():
    with pytest.raises(TypeError, match="complex"):
        Tensor([1.0, 2.0], dtype=np.complex64)


@given(st.recursive(st.one_of(st.none(), st.text(max_size=2), st.complex_numbers(allow_nan=False).filter(lambda z: z.imag)),
                    lambda inner: st.lists(inner, min_size=1, max_size=3), max_leaves=5),
       st.lists(st.floats(allow_nan=False, width=32), max_size=3))
def test_any_list_holding_a_bad_leaf_is_refused(bad, good):
    with pytest.raises(TypeError, match="Tensor"):
        Tensor(good + [bad] if not isinstance(bad, list) else [good + [0.0], bad])


@given(st.lists(st.lists(st.floats(-1e6, 1e6, width=32), min_size=2, max_size=2), min_size=1, max_size=4))
def test_good_nested_lists_still_become_float32(rows):
    t = Tensor(rows)
    assert t.dtype == np.float32 and t.shape == (len(rows), 2)
    np.testing.assert_array_equal(t.numpy(), np.asarray(rows, dtype=np.float32))


def test_numbers_arrays_and_tensors_still_accepted():
    assert Tensor(3).dtype == np.float32 and Tensor(True).item() == 1.0
    assert Tensor(np.arange(3)).dtype == np.int64
    assert Tensor([1, 2], dtype=np.int64).dtype == np.int64
    assert Tensor(Tensor([1.0])).tolist() == [1.0]


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
@pytest.mark.parametrize("op", ["conv2d", "linear"])
def test_integer_input_with_float_weights_is_a_runtime_error(op, dtype):
    x = np.ones((1, 1, 3, 3) if op == "conv2d" else (1, 3), dtype=dtype)
    w = np.ones((1, 1, 2, 2) if op == "conv2d" else (2, 3), dtype=np.float32)
    with pytest.raises(RuntimeError, match=op):
        getattr(F, op)(Tensor(x), Tensor(w))
    try:
        import torch
    except ImportError:
        return
    with pytest.raises(RuntimeError):
        getattr(torch.nn.functional, op)(torch.from_numpy(x), torch.from_numpy(w))


def test_nn_layers_refuse_integer_input_too():
    from tinygrad_cnn import nn
    with pytest.raises(RuntimeError, match="conv2d"):
        nn.Conv2d(1, 1, 2)(Tensor(np.ones((1, 1, 3, 3), dtype=np.int64)))
    with pytest.raises(RuntimeError, match="linear"):
        nn.Linear(3, 1)(Tensor(np.ones((1, 3), dtype=np.int64)))


@given(st.lists(st.integers(-100, 100), min_size=16, max_size=16), st.sampled_from([1, 2, 3]), st.booleans(),
       st.booleans())
def test_avg_pool2d_of_int64_as_torch(values, k, pad, include):
    torch = pytest.importorskip("torch")
    x = np.array(values, dtype=np.int64).reshape(1, 1, 4, 4)
    padding = k // 2 if pad else 0
    ours = F.avg_pool2d(Tensor(x), k, padding=padding, count_include_pad=include)
    theirs = torch.nn.functional.avg_pool2d(torch.from_numpy(x), k, padding=padding, count_include_pad=include)
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_avg_pool2d_of_ones_int64_is_one_not_zero():
    assert F.avg_pool2d(Tensor(np.ones((1, 1, 2, 2), dtype=np.int64)), 2).item() == 1


@pytest.mark.parametrize("dtype,name", [(np.bool_, "Bool"), (np.int32, "Int"), (np.uint8, "Byte")])
def test_avg_pool2d_of_other_integers_is_not_implemented_as_torch(dtype, name):
    with pytest.raises(NotImplementedError, match=f"'{name}'"):
        F.avg_pool2d(Tensor(np.ones((1, 1, 2, 2), dtype=dtype)), 2)
