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


# ---------------------------------------------------------------------------- torch's exception types
KINDS = (IndexError, TypeError, ValueError, RuntimeError)


def outcome(call):
    """The result's shape, or the kind of exception raised (torch's own subclasses count as their base)."""
    try:
        result = call()
    except KINDS as exc:
        return next(kind for kind in KINDS if isinstance(exc, kind)), str(exc)
    return tuple(result[0].shape if isinstance(result, tuple) else result.shape), None


FUNCTIONAL_ERRORS = {  # each: torch's exception type, and our message names the op and the shape or value
    "conv2d 2-D input": (lambda F, z: F.conv2d(z(8, 8), z(4, 3, 3, 3)), "conv2d", "(8, 8)"),
    "conv2d 5-D input": (lambda F, z: F.conv2d(z(1, 2, 3, 8, 8), z(4, 3, 3, 3)), "conv2d", "(1, 2, 3, 8, 8)"),
    "conv2d 3-D weight": (lambda F, z: F.conv2d(z(2, 3, 8, 8), z(4, 3, 3)), "conv2d", "(4, 3, 3)"),
    "conv2d channels": (lambda F, z: F.conv2d(z(2, 3, 8, 8), z(4, 2, 3, 3)), "conv2d", "(2, 3, 8, 8)"),
    "conv2d groups": (lambda F, z: F.conv2d(z(2, 4, 8, 8), z(3, 2, 3, 3), groups=2), "conv2d", "(3, 2, 3, 3)"),
    "conv2d bias": (lambda F, z: F.conv2d(z(2, 3, 8, 8), z(4, 3, 3, 3), z(3)), "conv2d", "(3,)"),
    "conv2d kernel > input": (lambda F, z: F.conv2d(z(2, 3, 8, 8), z(4, 3, 9, 9)), "conv2d", "(8, 8)"),
    "conv2d dilated kernel": (lambda F, z: F.conv2d(z(2, 3, 8, 8), z(4, 3, 3, 3), dilation=4), "conv2d", "(9, 9)"),
    "conv2d empty image": (lambda F, z: F.conv2d(z(2, 3, 0, 8), z(4, 3, 3, 3), padding=2), "conv2d", "(2, 3, 0, 8)"),
    "conv2d stride 0": (lambda F, z: F.conv2d(z(2, 3, 8, 8), z(4, 3, 3, 3), stride=0), "conv2d", "stride"),
    "conv2d padding -1": (lambda F, z: F.conv2d(z(2, 3, 8, 8), z(4, 3, 3, 3), padding=-1), "conv2d", "padding"),
    "conv2d groups 0": (lambda F, z: F.conv2d(z(2, 3, 8, 8), z(4, 3, 3, 3), groups=0), "conv2d", "groups"),
    "conv2d padding 'foo'": (lambda F, z: F.conv2d(z(2, 3, 8, 8), z(4, 3, 3, 3), padding="foo"), "conv2d", "'foo'"),
    "conv2d same, stride 2": (lambda F, z: F.conv2d(z(2, 3, 8, 8), z(4, 3, 3, 3), padding="same", stride=2),
                              "conv2d", "stride"),
    "max_pool2d 2-D input": (lambda F, z: F.max_pool2d(z(8, 8), 2), "max_pool2d", "(8, 8)"),
    "avg_pool2d 2-D input": (lambda F, z: F.avg_pool2d(z(8, 8), 2), "avg_pool2d", "(8, 8)"),
    "max_pool2d 5-D input": (lambda F, z: F.max_pool2d(z(1, 1, 3, 8, 8), 2), "max_pool2d", "(1, 1, 3, 8, 8)"),
    "avg_pool2d 5-D input": (lambda F, z: F.avg_pool2d(z(1, 1, 3, 8, 8), 2), "avg_pool2d", "(1, 1, 3, 8, 8)"),
    "max_pool2d kernel > input": (lambda F, z: F.max_pool2d(z(2, 3, 8, 8), 9), "max_pool2d", "(2, 3, 8, 8)"),
    "avg_pool2d kernel > input": (lambda F, z: F.avg_pool2d(z(2, 3, 8, 8), 9), "avg_pool2d", "(2, 3, 8, 8)"),
    "max_pool2d padding > half": (lambda F, z: F.max_pool2d(z(2, 3, 8, 8), 2, padding=2), "max_pool2d", "(2, 2)"),
    "max_pool2d no channels": (lambda F, z: F.max_pool2d(z(2, 0, 8, 8), 2), "max_pool2d", "(2, 0, 8, 8)"),
    "avg_pool2d empty image": (lambda F, z: F.avg_pool2d(z(2, 3, 0, 8), 2), "avg_pool2d", "(2, 3, 0, 8)"),
    "max_pool2d kernel 0": (lambda F, z: F.max_pool2d(z(2, 3, 8, 8), 0), "max_pool2d", "kernel_size"),
    "max_pool2d dilation 0": (lambda F, z: F.max_pool2d(z(2, 3, 8, 8), 2, dilation=0), "max_pool2d", "dilation"),
    "avg_pool2d stride 0": (lambda F, z: F.avg_pool2d(z(2, 3, 8, 8), 2, stride=0), "avg_pool2d", "stride"),
    "linear in_features": (lambda F, z: F.linear(z(2, 5), z(3, 4)), "linear", "(2, 5)"),
    "linear 0-d input": (lambda F, z: F.linear(z(), z(3, 1)), "linear", "()"),
    "linear 3-D weight": (lambda F, z: F.linear(z(2, 4), z(3, 4, 1)), "linear", "(3, 4, 1)"),
    "linear bias": (lambda F, z: F.linear(z(2, 4), z(3, 4), z(2)), "linear", "(2,)"),
    "linear 1-D weight and bias": (lambda F, z: F.linear(z(2, 4), z(4), z(1)), "linear", "(4,)"),
    "conv_transpose2d 2-D input": (lambda F, z: F.conv_transpose2d(z(8, 8), z(3, 4, 3, 3)), "conv_transpose2d",
                                   "(8, 8)"),
    "conv_transpose2d channels": (lambda F, z: F.conv_transpose2d(z(2, 3, 8, 8), z(2, 4, 3, 3)), "conv_transpose2d",
                                  "(2, 3, 8, 8)"),
    "conv_transpose2d output_padding": (lambda F, z: F.conv_transpose2d(z(2, 3, 8, 8), z(3, 4, 3, 3),
                                                                        output_padding=1), "conv_transpose2d", "(1, 1)"),
    "adaptive_avg_pool2d 2-D input": (lambda F, z: F.adaptive_avg_pool2d(z(8, 8), 2), "adaptive_avg_pool2d", "(8, 8)"),
}


def torch_zeros(*shape):
    return torch.zeros(tuple(shape), dtype=torch.float64)


def our_zeros(*shape):
    return Tensor(np.zeros(shape))


@pytest.mark.parametrize("name", sorted(FUNCTIONAL_ERRORS))
def test_functional_errors_have_torchs_type_and_name_the_op_and_shape(name):
    call, op, detail = FUNCTIONAL_ERRORS[name]
    theirs, _ = outcome(lambda: call(torch.nn.functional, torch_zeros))
    ours, message = outcome(lambda: call(F, our_zeros))
    assert theirs in KINDS, f"torch accepts {name}"
    assert ours is theirs, f"{name}: ours {ours.__name__}, torch {theirs.__name__} ({message})"
    assert message.startswith(f"{op}: ") and detail in message, message


@pytest.mark.parametrize("call", [lambda F, z: F.conv2d(z(3, 8, 8), z(4, 3, 3, 3), z(4), padding=1),
                                  lambda F, z: F.max_pool2d(z(3, 8, 8), 2, return_indices=True),
                                  lambda F, z: F.avg_pool2d(z(3, 7, 7), 3, stride=2, padding=1),
                                  lambda F, z: F.conv_transpose2d(z(3, 5, 5), z(3, 2, 3, 3), stride=2),
                                  lambda F, z: F.linear(z(2, 4), z(3, 4), z(1)),
                                  lambda F, z: F.linear(z(2, 4), z(3, 4), z(2, 3)),
                                  lambda F, z: F.linear(z(5, 2, 4), z(4))])
def test_unbatched_inputs_and_broadcast_bias_work_as_torch(call):
    rng = np.random.default_rng(0)

    def ours(*shape):
        return Tensor(rng.standard_normal(shape))

    arrays = []

    def theirs(*shape):
        arrays.append(rng.standard_normal(shape))
        return torch.tensor(arrays[-1])

    expected = call(torch.nn.functional, theirs)
    rng = np.random.default_rng(0)
    got = call(F, ours)
    for e, g in zip(*((r if isinstance(r, tuple) else (r,)) for r in (expected, got))):
        assert tuple(e.shape) == g.shape
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-6, atol=1e-9)


@given(x=st.lists(st.integers(0, 6), min_size=2, max_size=5).map(tuple), out_channels=st.integers(1, 4),
       in_channels=st.integers(1, 3), kernel=st.integers(1, 5), padding=st.integers(0, 2), stride=st.integers(1, 2),
       groups=st.integers(1, 2), bias=st.booleans())
def test_conv2d_fails_when_and_as_torch_does(x, out_channels, in_channels, kernel, padding, stride, groups, bias):
    def call(F, z):
        return F.conv2d(z(*x), z(out_channels, in_channels, kernel, kernel), z(out_channels) if bias else None,
                        stride=stride, padding=padding, groups=groups)

    theirs, their_message = outcome(lambda: call(torch.nn.functional, torch_zeros))
    ours, message = outcome(lambda: call(F, our_zeros))
    assert ours == theirs, (message, their_message)


@given(x=st.lists(st.integers(0, 6), min_size=2, max_size=5).map(tuple), kernel=st.integers(1, 4),
       stride=st.integers(1, 3), padding=st.integers(0, 2), ceil_mode=st.booleans(),
       op=st.sampled_from(["max_pool2d", "avg_pool2d"]))
def test_pooling_fails_when_and_as_torch_does(x, kernel, stride, padding, ceil_mode, op):
    def call(F, z):
        return getattr(F, op)(z(*x), kernel, stride, padding, ceil_mode=ceil_mode)

    theirs, their_message = outcome(lambda: call(torch.nn.functional, torch_zeros))
    ours, message = outcome(lambda: call(F, our_zeros))
    assert ours == theirs, (message, their_message)
