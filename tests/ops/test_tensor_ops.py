"""The Tensor methods added for torch's surface (trigonometry, logs, rounding, std, norm, prod,
scans, sorting, gathers and scatters, repeats, flips, rolls, triangles...), as one more
registry in the pattern of test_core_ops: each case is drawn with hypothesis, its gradient
checked against finite differences in float64, its forward and backward against torch's."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg
from tinygrad_cnn.testing import strategies as ts
from tinygrad_cnn.testing.opcases import OpCase, distinct_one_dim, reduction, torch_dims, unary

BUDGET = settings(max_examples=6)  # 52 cases: a smaller budget keeps this file within seconds


def torch():
    import torch as real

    return real


def norm_draw(data):
    arrays, params = reduction()(data)
    a = arrays[0]
    return [np.where(np.abs(a) < 0.1, 0.5, a)], {**params, "p": data.draw(st.sampled_from([1.0, 2.0, 3.0, np.inf]))}


def prod_draw(data):
    shape = data.draw(ts.shapes(min_dims=1, max_dims=3, max_side=4))
    array = data.draw(ts.arrays(shape, 0.5, 1.5))
    if data.draw(st.booleans()):  # one exact zero: the product's gradient without division
        array = array.copy()
        array.flat[data.draw(st.integers(0, array.size - 1))] = 0.0
    return [array], {"dim": data.draw(st.none() | st.integers(-len(shape), len(shape) - 1)),
                     "keepdim": data.draw(st.booleans())}


def scan_draw(data):
    arrays, params = prod_draw(data)
    return arrays, {"dim": params["dim"] if params["dim"] is not None else 0}


def index_draw(kind: str):
    """(a, index[, src]) for gather / scatter / scatter_add along a drawn dim."""
    def draw(data):
        shape = data.draw(ts.shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
        dim = data.draw(st.integers(0, len(shape) - 1))
        small = tuple(data.draw(st.integers(1, n)) for n in shape)
        rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
        if kind == "scatter":  # distinct targets along dim, so that the written value is defined
            index = np.argsort(rng.random(shape), axis=dim)[tuple(slice(0, n) for n in small)]
        else:
            index = rng.integers(0, shape[dim], small)
        arrays = [data.draw(ts.arrays(shape))]
        if kind != "gather":
            arrays.append(data.draw(ts.arrays(small)))
        return arrays, {"index": index.astype(np.int64), "dim": dim}
    return draw


def mask_draw(data):
    shape = data.draw(ts.shapes(min_dims=1, max_dims=3, max_side=4))
    mask = data.draw(ts.arrays(shape[data.draw(st.integers(0, len(shape) - 1)):], layout="contiguous")) > 0
    return [data.draw(ts.arrays(shape))], {"mask": mask}


def dims_draw(data):
    shape = data.draw(ts.shapes(min_dims=1, max_dims=3, max_side=4))
    dims = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True))
    shifts = data.draw(st.lists(st.integers(-5, 5), min_size=len(dims), max_size=len(dims)))
    return [data.draw(ts.arrays(shape))], {"dims": tuple(dims), "shifts": tuple(shifts)}


def repeat_draw(data):
    shape = data.draw(ts.shapes(min_dims=1, max_dims=2, max_side=3))
    reps = tuple(data.draw(st.lists(st.integers(1, 3), min_size=len(shape), max_size=len(shape) + 1)))
    return [data.draw(ts.arrays(shape))], {"reps": reps}


def split_draw(data):
    shape = data.draw(ts.shapes(min_dims=1, max_dims=3, min_side=2, max_side=5))
    dim = data.draw(st.integers(0, len(shape) - 1))
    return [data.draw(ts.arrays(shape))], {"dim": dim, "size": data.draw(st.integers(1, shape[dim]))}


def matrix_draw(data):
    shape = data.draw(ts.shapes(min_dims=2, max_dims=3, max_side=4))
    return [data.draw(ts.arrays(shape))], {"diagonal": data.draw(st.integers(-2, 2))}


def nan_draw(data):
    arrays, _ = unary()(data)
    a = arrays[0].copy()
    if a.size:
        a.flat[0] = data.draw(st.sampled_from([np.nan, np.inf, -np.inf, 0.5]))
    return [a], {}


def two_vectors(data):
    return [data.draw(ts.arrays((data.draw(st.integers(1, 4)),))) for _ in range(2)], {}


def T(name):
    """torch.<name> (looked up when the oracle runs)."""
    return lambda *a, **k: getattr(torch(), name)(*a, **k)


def _t(x):
    return torch().from_numpy(x)


def _rounded(b):
    """Every rounding op at once, on values kept off their jumps (no integers, no halves)."""
    return b.floor() + b.ceil() + b.trunc() + b.sign() + b.round() + b * 0.5


CASES = [
    OpCase("sin", unary(-3, 3), lambda a: a.sin(), lambda a: a.sin()),
    OpCase("cos", unary(-3, 3), lambda a: tg.cos(a), T("cos")),
    OpCase("tan", unary(-1.2, 1.2), lambda a: a.tan(), lambda a: a.tan()),
    OpCase("asin", unary(-0.9, 0.9), lambda a: a.asin(), lambda a: a.asin()),
    OpCase("acos", unary(-0.9, 0.9), lambda a: a.acos(), lambda a: a.acos()),
    OpCase("atan", unary(-3, 3), lambda a: a.atan(), lambda a: a.atan()),
    OpCase("sinh", unary(), lambda a: a.sinh(), lambda a: a.sinh()),
    OpCase("cosh", unary(), lambda a: tg.cosh(a), T("cosh")),
    OpCase("log2", unary(0.1, 3), lambda a: a.log2(), lambda a: a.log2()),
    OpCase("log10", unary(0.1, 3), lambda a: a.log10(), lambda a: a.log10()),
    OpCase("log1p", unary(-0.9, 3), lambda a: a.log1p(), lambda a: a.log1p()),
    OpCase("expm1", unary(), lambda a: a.expm1(), lambda a: a.expm1()),
    OpCase("rsqrt", unary(0.2, 3), lambda a: a.rsqrt(), lambda a: a.rsqrt()),
    OpCase("reciprocal", unary(min_abs=0.3), lambda a: a.reciprocal(), lambda a: a.reciprocal()),
    OpCase("square", unary(), lambda a: a.square(), lambda a: a.square()),
    OpCase("rounding_is_flat", unary(min_abs=0.1), lambda a: _rounded(a * 1.1 + 0.123), lambda a: _rounded(a * 1.1 + 0.123)),
    OpCase("frac", unary(min_abs=0.1), lambda a: (a * 3.3).frac(), lambda a: (a * 3.3).frac()),
    OpCase("remainder", unary(min_abs=0.1), lambda a: (a * 3.3) % 0.7, lambda a: (a * 3.3) % 0.7),
    OpCase("nan_to_num", nan_draw, lambda a: a.nan_to_num(posinf=9.0, neginf=-9.0),
           lambda a: a.nan_to_num(posinf=9.0, neginf=-9.0)),
    OpCase("std", reduction(distinct=True, min_count=2), lambda a, axis, keepdims: a.std(axis, keepdim=keepdims),
           lambda a, axis, keepdims: a.std(torch_dims(axis, a.ndim), keepdim=keepdims)),
    OpCase("std_unbiased_false", reduction(distinct=True, min_count=2), lambda a, axis, keepdims: a.std(axis, False, keepdims),
           lambda a, axis, keepdims: a.std(torch_dims(axis, a.ndim), unbiased=False, keepdim=keepdims)),
    OpCase("norm", norm_draw, lambda a, axis, keepdims, p: a.norm(p, axis, keepdims),
           lambda a, axis, keepdims, p: a.norm(p, axis, keepdims)),
    OpCase("prod", prod_draw, lambda a, dim, keepdim: a.prod(dim, keepdim),
           lambda a, dim, keepdim: a.prod() if dim is None else a.prod(dim, keepdim)),
    OpCase("cumsum", scan_draw, lambda a, dim: a.cumsum(dim), lambda a, dim: a.cumsum(dim)),
    OpCase("cumprod", scan_draw, lambda a, dim: a.cumprod(dim), lambda a, dim: a.cumprod(dim)),
    OpCase("sort", distinct_one_dim, lambda a, dim: a.sort(dim, descending=True).values,
           lambda a, dim: a.sort(dim, descending=True).values),
    OpCase("topk", distinct_one_dim, lambda a, dim: a.topk(1, dim).values * 2 + a.topk(1, dim, largest=False).values,
           lambda a, dim: a.topk(1, dim).values * 2 + a.topk(1, dim, largest=False).values),
    OpCase("median_dim", distinct_one_dim, lambda a, dim: a.median(dim).values, lambda a, dim: a.median(dim).values),
    OpCase("gather", index_draw("gather"), lambda a, index, dim: a.gather(dim, tg.from_numpy(index)),
           lambda a, index, dim: a.gather(dim, _t(index))),
    OpCase("scatter", index_draw("scatter"), lambda a, s, index, dim: a.scatter(dim, tg.from_numpy(index), s),
           lambda a, s, index, dim: a.scatter(dim, _t(index), s)),
    OpCase("scatter_add", index_draw("scatter_add"), lambda a, s, index, dim: a.scatter_add(dim, tg.from_numpy(index), s),
           lambda a, s, index, dim: a.scatter_add(dim, _t(index), s)),
    OpCase("index_select", index_draw("gather"), lambda a, index, dim: a.index_select(dim, tg.from_numpy(index.ravel())),
           lambda a, index, dim: a.index_select(dim, _t(index.ravel()))),
    OpCase("masked_fill", mask_draw, lambda a, mask: a.masked_fill(tg.from_numpy(mask), -1.5),
           lambda a, mask: a.masked_fill(_t(mask), -1.5)),
    OpCase("masked_select", mask_draw, lambda a, mask: a.masked_select(tg.from_numpy(mask)),
           lambda a, mask: a.masked_select(_t(mask))),
    OpCase("where_method", mask_draw, lambda a, mask: (a * 2).where(tg.from_numpy(mask), a.exp()),
           lambda a, mask: (a * 2).where(_t(mask), a.exp())),
    OpCase("roll", dims_draw, lambda a, dims, shifts: a.roll(shifts, dims), lambda a, dims, shifts: a.roll(shifts, dims)),
    OpCase("roll_flat", dims_draw, lambda a, dims, shifts: a.roll(shifts[0]), lambda a, dims, shifts: a.roll(shifts[0])),
    OpCase("flip", dims_draw, lambda a, dims, shifts: a.flip(dims), lambda a, dims, shifts: a.flip(dims)),
    OpCase("repeat", repeat_draw, lambda a, reps: a.repeat(reps), lambda a, reps: a.repeat(reps)),
    OpCase("tile", repeat_draw, lambda a, reps: a.tile(reps[1:]), lambda a, reps: a.tile(reps[1:])),
    OpCase("repeat_interleave", split_draw, lambda a, dim, size: a.repeat_interleave(size, dim),
           lambda a, dim, size: a.repeat_interleave(size, dim)),
    OpCase("split_chunk_cat", split_draw,
           lambda a, dim, size: tg.cat([p * (i + 1) for i, p in enumerate(a.split(size, dim) + a.chunk(size, dim))], dim),
           lambda a, dim, size: T("cat")([p * (i + 1) for i, p in enumerate(a.split(size, dim) + a.chunk(size, dim))],
                                         dim)),
    OpCase("split_sizes_narrow", split_draw,
           lambda a, dim, size: a.split([size, a.shape[dim] - size], dim)[0] * 2 + a.narrow(dim, 0, size),
           lambda a, dim, size: a.split([size, a.shape[dim] - size], dim)[0] * 2 + a.narrow(dim, 0, size)),
    OpCase("unbind", split_draw, lambda a, dim, size: tg.stack(a.unbind(dim)[::-1], -1),
           lambda a, dim, size: T("stack")(a.unbind(dim)[::-1], -1)),
    OpCase("movedim", split_draw, lambda a, dim, size: a.movedim(dim, 0), lambda a, dim, size: a.movedim(dim, 0)),
    OpCase("tril", matrix_draw, lambda a, diagonal: a.tril(diagonal), lambda a, diagonal: a.tril(diagonal)),
    OpCase("triu", matrix_draw, lambda a, diagonal: tg.triu(a, diagonal), lambda a, diagonal: a.triu(diagonal)),
    OpCase("t_clone_contiguous", matrix_draw, lambda a, diagonal: a[0].t().clone().contiguous() * diagonal,
           lambda a, diagonal: a[0].t().clone().contiguous() * diagonal),
    OpCase("view_as_expand_as", matrix_draw, lambda a, diagonal: a.reshape(-1).view_as(a) + a[..., :1].expand_as(a),
           lambda a, diagonal: a.reshape(-1).view_as(a) + a[..., :1].expand_as(a)),
    OpCase("outer_dot", two_vectors, lambda a, b: a.outer(b) + a[:1].dot(b[:1]),
           lambda a, b: a.outer(b) + a[:1].dot(b[:1])),
    OpCase("meshgrid_xy", two_vectors, lambda a, b: tg.stack(tg.meshgrid(a, b, indexing="xy")) ** 2,
           lambda a, b: T("stack")(T("meshgrid")(a, b, indexing="xy")) ** 2),
    OpCase("max_of_two", two_vectors, lambda a, b: tg.max(a, b[:1] + 10.0), lambda a, b: T("max")(a, b[:1] + 10.0)),
]

IDS = [case.name for case in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
@BUDGET
@given(data=st.data())
def test_gradient_matches_finite_differences(case: OpCase, data: st.DataObject) -> None:
    case.check_gradient(data)


@pytest.mark.oracle
@pytest.mark.parametrize("case", CASES, ids=IDS)
@BUDGET
@given(data=st.data())
def test_forward_and_backward_match_torch(case: OpCase, data: st.DataObject) -> None:
    pytest.importorskip("torch", reason="torch is the optional oracle (pip install -e .[oracle])")
    case.check_against_torch(data)
