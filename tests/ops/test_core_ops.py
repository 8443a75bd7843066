"""Every core op (elementwise, reduce, shape, matmul) from one registry: each case draws its
inputs with hypothesis, then its gradient is checked against finite differences in float64
and, where torch is installed, its forward and backward against torch's to 1e-6."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tg
from tinygrad_cnn.testing import strategies as ts
from tinygrad_cnn.testing.opcases import OpCase, distinct_one_dim, reduction, torch_dims, unary


def binary(low=-2.0, high=2.0, min_abs=0.0, second=None, distinct=False):
    """Two arrays of mutually broadcastable shapes; ``second`` overrides the range of the other."""
    def draw(data):
        a_shape, b_shape = data.draw(ts.broadcastable_shapes(2, max_dims=3))
        if distinct:
            both = data.draw(ts.distinct_arrays((2,) + np.broadcast_shapes(a_shape, b_shape), layout="contiguous"))
            return [_shrink(both[0], a_shape), _shrink(both[1], b_shape)], {}
        lo2, hi2, min2 = second or (low, high, min_abs)
        return [data.draw(ts.arrays(a_shape, low, high, min_abs)), data.draw(ts.arrays(b_shape, lo2, hi2, min2))], {}
    return draw


def _shrink(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The corner of ``array`` that has ``shape`` (size-1 dims taken at index 0)."""
    lead = array.ndim - len(shape)
    corner = array[(0,) * lead] if lead else array
    return np.ascontiguousarray(corner[tuple(slice(0, n) for n in shape)])


def one_dim():
    def draw(data):
        shape = data.draw(ts.shapes(min_dims=1, max_dims=3, max_side=4))
        return [data.draw(ts.arrays(shape, -5, 5))], {"dim": data.draw(st.integers(-len(shape), len(shape) - 1))}
    return draw


def matmul_draw(data):
    n, k, m = (data.draw(st.integers(1, 4)) for _ in range(3))
    batch = data.draw(ts.broadcastable_shapes(2, max_dims=2, max_side=3))
    kind = data.draw(st.sampled_from(["1d@1d", "1d@2d", "2d@1d", "2d@2d", "batched"]))
    shapes = {
        "1d@1d": ((k,), (k,)), "1d@2d": ((k,), (k, m)), "2d@1d": ((n, k), (k,)), "2d@2d": ((n, k), (k, m)),
        "batched": (batch[0] + (n, k), batch[1] + (k, m)),
    }[kind]
    return [data.draw(ts.arrays(s)) for s in shapes], {}


def getitem_draw(data):
    shape = data.draw(ts.shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
    array = data.draw(ts.arrays(shape))
    kind = data.draw(st.sampled_from(["int", "slice", "ints", "mask", "mixed"]))
    if kind == "int":
        index = data.draw(st.integers(-shape[0], shape[0] - 1))
    elif kind == "slice":
        index = (slice(data.draw(st.integers(0, shape[0] - 1)), None, data.draw(st.integers(1, 2))), Ellipsis)
    elif kind == "ints":
        index = np.asarray(data.draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=5)))
    elif kind == "mask":
        index = np.asarray(data.draw(st.lists(st.booleans(), min_size=shape[0], max_size=shape[0])))
    else:
        index = (slice(None), np.asarray([0, 1, 0])) if len(shape) > 1 else (np.asarray([1, 1]),)
    return [array], {"index": index}


def _torch_index(index):
    import torch
    if isinstance(index, np.ndarray):
        return torch.from_numpy(index)
    if isinstance(index, tuple):
        return tuple(_torch_index(i) for i in index)
    return index


def permute_draw(data):
    shape = data.draw(ts.shapes(min_dims=1, max_dims=4, max_side=3))
    return [data.draw(ts.arrays(shape))], {"dims": tuple(data.draw(st.permutations(range(len(shape)))))}


def flatten_draw(data):
    shape = data.draw(ts.shapes(min_dims=1, max_dims=4, max_side=3))
    start = data.draw(st.integers(0, len(shape) - 1))
    return [data.draw(ts.arrays(shape))], {"start_dim": start, "end_dim": data.draw(st.integers(start, len(shape) - 1))}


def expand_draw(data):
    shape = data.draw(ts.shapes(min_dims=1, max_dims=3, max_side=3))
    small = tuple(data.draw(st.sampled_from([1, n])) for n in shape)
    lead = tuple(data.draw(st.lists(st.integers(1, 3), max_size=2)))
    return [data.draw(ts.arrays(small))], {"sizes": lead + shape}


def pad_draw(data):
    shape = data.draw(ts.shapes(min_dims=1, max_dims=3, max_side=3))
    pads = data.draw(st.lists(st.integers(0, 2), min_size=2, max_size=2 * len(shape)).filter(lambda p: len(p) % 2 == 0))
    return [data.draw(ts.arrays(shape))], {"pad": tuple(pads), "value": data.draw(st.sampled_from([0.0, -1.5]))}


def joined_draw(stack: bool):
    def draw(data):
        shape = data.draw(ts.shapes(min_dims=1, max_dims=3, max_side=3))
        dim = data.draw(st.integers(0, len(shape) if stack else len(shape) - 1))
        count = data.draw(st.integers(1, 3))
        shapes = [shape if stack else shape[:dim] + (data.draw(st.integers(1, 3)),) + shape[dim + 1:]
                  for _ in range(count)]
        return [data.draw(ts.arrays(s)) for s in shapes], {"dim": dim}
    return draw


def where_draw(data):
    arrays, _ = binary()(data)
    condition = data.draw(ts.arrays(np.broadcast_shapes(*(a.shape for a in arrays)), layout="contiguous")) > 0
    return arrays, {"condition": condition}


def var_draw(data):
    arrays, params = reduction(min_count=2)(data)
    return arrays, {**params, "correction": data.draw(st.sampled_from([0, 1]))}


CASES = [
    OpCase("add", binary(), lambda a, b: a + b, lambda a, b: a + b),
    OpCase("sub", binary(), lambda a, b: a - b, lambda a, b: a - b),
    OpCase("mul", binary(), lambda a, b: a * b, lambda a, b: a * b),
    OpCase("div", binary(second=(-2.0, 2.0, 0.5)), lambda a, b: a / b, lambda a, b: a / b),
    OpCase("scalar_rsub_rdiv", unary(min_abs=0.5), lambda a: (3.0 - a) / (2.0 / a), lambda a: (3.0 - a) / (2.0 / a)),
    OpCase("neg", unary(), lambda a: -a, lambda a: -a),
    OpCase("pow_scalar", unary(0.2, 2.0), lambda a: a ** 2.5, lambda a: a ** 2.5),
    OpCase("pow_int_negative_base", unary(min_abs=0.2), lambda a: a ** 3, lambda a: a ** 3),
    OpCase("pow_tensor", binary(0.2, 2.0), lambda a, b: a ** b, lambda a, b: a ** b),
    OpCase("exp", unary(), lambda a: a.exp(), lambda a: a.exp()),
    OpCase("log", unary(0.1, 3.0), lambda a: a.log(), lambda a: a.log()),
    OpCase("sqrt", unary(0.1, 3.0), lambda a: a.sqrt(), lambda a: a.sqrt()),
    OpCase("abs", unary(min_abs=0.1), lambda a: a.abs(), lambda a: a.abs()),
    OpCase("relu", unary(min_abs=0.1), lambda a: a.relu(), lambda a: a.relu()),
    OpCase("sigmoid", unary(-6, 6), lambda a: a.sigmoid(), lambda a: a.sigmoid()),
    OpCase("tanh", unary(), lambda a: a.tanh(), lambda a: a.tanh()),
    OpCase("clamp", unary(distinct=True), lambda a: a.clamp(-0.73, 0.61), lambda a: a.clamp(-0.73, 0.61)),
    OpCase("clamp_min", unary(distinct=True), lambda a: a.clamp(min=0.37), lambda a: a.clamp(min=0.37)),
    OpCase("maximum", binary(distinct=True), lambda a, b: tg.maximum(a, b), lambda a, b: __import__("torch").maximum(a, b)),
    OpCase("minimum", binary(distinct=True), lambda a, b: tg.minimum(a, b), lambda a, b: __import__("torch").minimum(a, b)),
    OpCase("where", where_draw, lambda a, b, condition: tg.where(condition, a, b),
           lambda a, b, condition: __import__("torch").where(__import__("torch").from_numpy(condition), a, b)),
    OpCase("sum", reduction(), lambda a, axis, keepdims: a.sum(axis, keepdims),
           lambda a, axis, keepdims: a.sum(torch_dims(axis, a.ndim), keepdims)),
    OpCase("mean", reduction(), lambda a, axis, keepdims: a.mean(axis=axis, keepdims=keepdims),
           lambda a, axis, keepdims: a.mean(torch_dims(axis, a.ndim), keepdims)),
    OpCase("max", reduction(distinct=True), lambda a, axis, keepdims: a.amax(axis, keepdims),
           lambda a, axis, keepdims: a.amax(torch_dims(axis, a.ndim), keepdims)),
    OpCase("min", reduction(distinct=True), lambda a, axis, keepdims: a.amin(axis, keepdims),
           lambda a, axis, keepdims: a.amin(torch_dims(axis, a.ndim), keepdims)),
    OpCase("max_dim", distinct_one_dim, lambda a, dim: a.max(dim).values, lambda a, dim: a.max(dim).values),
    OpCase("min_dim", distinct_one_dim, lambda a, dim: a.min(dim).values, lambda a, dim: a.min(dim).values),
    OpCase("var", var_draw, lambda a, axis, keepdims, correction: a.var(axis, keepdim=keepdims, correction=correction),
           lambda a, axis, keepdims, correction: a.var(torch_dims(axis, a.ndim), correction=correction, keepdim=keepdims)),
    OpCase("logsumexp", reduction(), lambda a, axis, keepdims: a.logsumexp(axis, keepdims),
           lambda a, axis, keepdims: a.logsumexp(torch_dims(axis, a.ndim), keepdims)),
    OpCase("softmax", one_dim(), lambda a, dim: a.softmax(dim), lambda a, dim: a.softmax(dim)),
    OpCase("log_softmax", one_dim(), lambda a, dim: a.log_softmax(dim), lambda a, dim: a.log_softmax(dim)),
    OpCase("input_also_ancestor", unary(), lambda a: a * (a * 2.0).sigmoid() + a,
           lambda a: a * (a * 2.0).sigmoid() + a),
    OpCase("normalise_by_own_sum", unary(0.5, 2.0), lambda a: a.exp() / a.exp().sum(),
           lambda a: a.exp() / a.exp().sum()),
    OpCase("matmul", matmul_draw, lambda a, b: a @ b, lambda a, b: a @ b),
    OpCase("reshape", unary(), lambda a: a.reshape(-1).reshape(a.shape[::-1]),
           lambda a: a.reshape(-1).reshape(a.shape[::-1])),
    OpCase("permute", permute_draw, lambda a, dims: a.permute(dims), lambda a, dims: a.permute(dims)),
    OpCase("transpose", permute_draw, lambda a, dims: a.transpose(0, -1), lambda a, dims: a.transpose(0, -1)),
    OpCase("T_2d", binary(), lambda a, b: (a.reshape(-1, 1) @ b.reshape(1, -1)).T,
           lambda a, b: (a.reshape(-1, 1) @ b.reshape(1, -1)).T),
    OpCase("flatten", flatten_draw, lambda a, start_dim, end_dim: a.flatten(start_dim, end_dim),
           lambda a, start_dim, end_dim: a.flatten(start_dim, end_dim)),
    OpCase("squeeze_unsqueeze", unary(), lambda a: a.unsqueeze(0).unsqueeze(-1).squeeze(),
           lambda a: a.unsqueeze(0).unsqueeze(-1).squeeze()),
    OpCase("expand", expand_draw, lambda a, sizes: a.expand(sizes), lambda a, sizes: a.expand(sizes)),
    OpCase("getitem", getitem_draw, lambda a, index: a[index], lambda a, index: a[_torch_index(index)]),
    OpCase("pad", pad_draw, lambda a, pad, value: tg.pad(a, pad, value=value),
           lambda a, pad, value: __import__("torch").nn.functional.pad(a, pad, value=value)),
    OpCase("cat", joined_draw(stack=False), lambda *a, dim: tg.cat(a, dim), lambda *a, dim: __import__("torch").cat(a, dim)),
    OpCase("stack", joined_draw(stack=True), lambda *a, dim: tg.stack(a, dim),
           lambda *a, dim: __import__("torch").stack(a, dim)),
]

IDS = [case.name for case in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_gradient_matches_finite_differences(case: OpCase, data: st.DataObject) -> None:
    case.check_gradient(data)


@pytest.mark.oracle
@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_forward_and_backward_match_torch(case: OpCase, data: st.DataObject) -> None:
    pytest.importorskip("torch", reason="torch is the optional oracle (pip install -e .[oracle])")
    case.check_against_torch(data)
