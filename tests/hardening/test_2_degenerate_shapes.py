"""Class 2 of issue 16: degenerate shapes. Zero-size dims and 0-d tensors give torch's result
or torch's exception type, with a message naming the op and the shapes."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.functions import cat, stack
from tinygrad_cnn.tensor import Tensor

torch = pytest.importorskip("torch")

shapes = st.lists(st.integers(0, 2), min_size=0, max_size=3).map(tuple)
OPS = ["sum", "mean", "amax", "amin", "max", "min", "argmax", "argmin", "softmax", "log_softmax", "logsumexp",
       "prod"]


def run(lib_tensor, op, dim):
    if op in ("softmax", "log_softmax"):
        return getattr(lib_tensor, op)(dim if dim is not None else 0)
    if op == "logsumexp":
        return lib_tensor.logsumexp(dim if dim is not None else 0)
    fn = getattr(lib_tensor, op)
    return fn() if dim is None else fn(dim)


def values(result):
    if isinstance(result, tuple):
        return [np.asarray(r.numpy() if hasattr(r, "numpy") else r) for r in result]
    return [np.asarray(result.numpy())]


@given(shapes, st.sampled_from(OPS), st.one_of(st.none(), st.integers(-3, 2)))
def test_reductions_over_empty_and_scalar_shapes_as_torch(shape, op, dim):
    if not hasattr(Tensor, op):
        return
    array = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    try:
        expected = run(torch.from_numpy(array), op, dim)
    except Exception as error:
        with pytest.raises((type(error), ValueError)) as info:
            run(Tensor(array), op, dim)
        assert op.strip("a") in str(info.value) or "dim" in str(info.value)
        if not isinstance(info.value, type(error)):  # our out-of-range dim: ValueError as the rest of the package
            assert isinstance(error, IndexError) and "out of range" in str(info.value)
        return
    got = run(Tensor(array), op, dim)
    for ours, theirs in zip(values(got), values(expected)):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_max_dim0_of_a_scalar_is_itself_at_index_0():
    values_, indices = Tensor(3.0).max(dim=0)
    assert values_.item() == 3.0 and indices.item() == 0


@pytest.mark.parametrize("weight", [(1, 1, 0, 2), (1, 1, 2, 0), (0, 1, 2, 2)])
def test_conv2d_zero_size_weight_is_a_runtime_error_naming_shapes(weight):
    x = np.ones((1, 1, 3, 3), dtype=np.float32)
    w = np.ones(weight, dtype=np.float32)
    with pytest.raises(RuntimeError, match=r"conv2d.*\(" + ", ".join(map(str, weight)) + r"\)"):
        F.conv2d(Tensor(x), Tensor(w))
    with pytest.raises(RuntimeError):
        torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w))


def test_cat_of_scalars_is_a_runtime_error_as_torch_but_stack_works():
    with pytest.raises(RuntimeError, match="cat.*position 0"):
        cat([Tensor(1.0), Tensor(2.0)])
    with pytest.raises(RuntimeError):
        torch.cat([torch.tensor(1.0), torch.tensor(2.0)])
    assert stack([Tensor(1.0), Tensor(2.0)]).tolist() == [1.0, 2.0]


def test_cat_of_empty_tensors_as_torch():
    out = cat([Tensor(np.ones((0, 3))), Tensor(np.ones((2, 3)))])
    assert out.shape == tuple(torch.cat([torch.ones(0, 3), torch.ones(2, 3)]).shape)


def test_softmax_over_an_empty_dim_is_empty_and_differentiable():
    x = Tensor(np.ones((2, 0)), requires_grad=True)
    y = x.softmax(1)
    assert y.shape == (2, 0)
    y.sum().backward()
    assert x.grad.shape == (2, 0)
