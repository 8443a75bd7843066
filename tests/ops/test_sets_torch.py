"""Sets and counts against real torch: unique (sorted, inverse, counts, dim), unique_consecutive,
bincount, histc, histogram, bucketize and searchsorted: values, shapes, dtypes (int64 unless
out_int32), return types and torch's exception types."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.testing.oracle import raises_like_torch

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")

pytestmark = pytest.mark.oracle

RNG = np.random.default_rng(0)


def same(mine, real, tol=0.0):
    """Equal results: tensors (values, shape, dtype, NaNs in place) or tuples of them; a
    histogram within ``tol`` (torch's vectorized linspace rounds some one ulp apart)."""
    if isinstance(real, tuple):
        assert isinstance(mine, tuple) and len(mine) == len(real)
        if hasattr(real, "bin_edges"):  # torch.return_types.histogram
            same(mine.hist, real.hist, 1e-6)
            same(mine.bin_edges, real.bin_edges, 1e-6)
            return
        for m, r in zip(mine, real):
            same(m, r)
        return
    expected = real.numpy()
    assert isinstance(mine, tg.Tensor) and mine.dtype == expected.dtype and tuple(mine.shape) == expected.shape
    np.testing.assert_allclose(mine.numpy(), expected, rtol=tol, atol=tol)


def check(case, *arrays):
    same(case(tg, *(tg.tensor(a) for a in arrays)), case(torch, *(torch.tensor(a) for a in arrays)))


@pytest.mark.parametrize("flags", [(False, False), (True, False), (False, True), (True, True)])
def test_unique(flags):
    inverse, counts = flags
    values = RNG.integers(-3, 4, (4, 5))
    for array in (values, values.astype(np.float32), np.array(2), np.zeros(0), values > 0,
                  np.array([1.0, np.nan, np.nan, 1.0, -0.0, 0.0])):
        check(lambda lib, x: lib.unique(x, return_inverse=inverse, return_counts=counts), array)
        check(lambda lib, x: x.unique(sorted=False, return_inverse=inverse, return_counts=counts), array)
    rows = np.array([[1, 2], [1, 2], [0, 3], [1, 1]])
    for dim in (0, 1, -1, -2):
        check(lambda lib, x: x.unique(return_inverse=inverse, return_counts=counts, dim=dim), rows)
    check(lambda lib, x: x.unique(dim=2, return_inverse=inverse, return_counts=counts), RNG.integers(0, 2, (2, 3, 4)))
    check(lambda lib, x: x.unique(dim=0, return_inverse=inverse, return_counts=counts), np.array([[np.nan], [np.nan]]))
    check(lambda lib, x: x.unique(dim=0, return_inverse=inverse, return_counts=counts), np.zeros((0, 2)))


@pytest.mark.parametrize("flags", [(False, False), (True, True), (True, False)])
def test_unique_consecutive(flags):
    inverse, counts = flags
    for array in (np.array([1, 1, 2, 2, 3, 1, 1, 2]), np.array([[1, 1], [2, 1]]), np.array(3),
                  np.array([np.nan, np.nan, 1.0])):
        check(lambda lib, x: lib.unique_consecutive(x, return_inverse=inverse, return_counts=counts), array)
    rows = np.array([[1, 2], [1, 2], [3, 4], [1, 2]])
    check(lambda lib, x: x.unique_consecutive(return_inverse=inverse, return_counts=counts, dim=0), rows)
    check(lambda lib, x: x.unique_consecutive(return_inverse=inverse, return_counts=counts, dim=-1), rows.T)


def test_bincount():
    values = RNG.integers(0, 6, 20)
    check(lambda lib, x: x.bincount(), values)
    check(lambda lib, x: lib.bincount(x, minlength=10), values.astype(np.int32))
    check(lambda lib, x: lib.bincount(x, minlength=3), np.zeros(0, dtype=np.int64))
    check(lambda lib, x: x.bincount(), np.array([0, 2], dtype=np.uint8))
    for dtype in (np.float32, np.float64, np.float16, np.int64, np.bool_):
        weights = RNG.uniform(0, 2, 20).astype(dtype)
        check(lambda lib, x, w: x.bincount(w), values, weights)


def test_histc():
    values = RNG.uniform(-3, 3, 500).astype(np.float32)
    check(lambda lib, x: x.histc(), values)
    check(lambda lib, x: lib.histc(x, bins=7, min=-2.5, max=2.5), values)
    check(lambda lib, x: x.histc(10, 0, 1), np.linspace(0, 1, 101, dtype=np.float32))  # values on the edges
    check(lambda lib, x: x.histc(4, min=2, max=2), values.astype(np.float64))
    check(lambda lib, x: x.histc(4), np.array([2.0, 2.0]))
    check(lambda lib, x: x.histc(4), np.zeros(0, dtype=np.float32))
    check(lambda lib, x: x.histc(2), np.array([[2.0, 1.0], [3.0, 3.0]], dtype=np.float16))
    check(lambda lib, x: x.histc(2, 0, 3), np.array([2.0, np.nan], dtype=np.float32))


def test_histogram():
    values = RNG.standard_normal(300).astype(np.float32)
    check(lambda lib, x: lib.histogram(x), values)
    check(lambda lib, x: x.histogram(6, range=(-1.0, 2.0)), values)
    check(lambda lib, x: x.histogram(10, range=(0.0, 1.0)), np.linspace(0, 1, 101, dtype=np.float32))
    check(lambda lib, x, w: x.histogram(5, weight=w, density=True), values.astype(np.float64),
          RNG.uniform(0, 1, 300))
    check(lambda lib, x, e: lib.histogram(x, e), values, np.array([-1.0, -0.2, 0.0, 1.5], dtype=np.float32))
    check(lambda lib, x, e: lib.histogram(x, bins=e, density=True), values, np.array([-3.0, 0.0, 3.0], np.float32))
    check(lambda lib, x: x.histogram(4), np.array([2.0, 2.0], dtype=np.float32))
    check(lambda lib, x: x.histogram(4), np.zeros(0, dtype=np.float32))
    check(lambda lib, x: x.histogram(2), np.array([[2.0, 2.0], [5.0, 1.0]]))
    result = tg.histogram(tg.tensor([1.0, 2.0, 1.0]), bins=2)
    assert type(result).__name__ == "histogram" and result.hist.tolist() == [2.0, 1.0]
    assert result.bin_edges.tolist() == [1.0, 1.5, 2.0]


def test_bucketize_and_searchsorted():
    boundaries = np.array([1, 3, 5, 7, 9])
    values = np.array([[1, 5], [9, 3], [0, 10]])
    for right in (False, True):
        check(lambda lib, x, b: lib.bucketize(x, b, right=right), values, boundaries)
        check(lambda lib, x, b: lib.bucketize(x, b, right=right, out_int32=True), values.astype(np.float32),
              boundaries)
        check(lambda lib, b: lib.bucketize(3, b, right=right), boundaries)
        for side in ("left", "right"):
            if right and side == "left":
                continue
            check(lambda lib, b, x: lib.searchsorted(b, x, right=right, side=side), boundaries, values)
        rows = np.array([[1, 3, 5, 7, 9], [2, 4, 6, 8, 10]])
        check(lambda lib, b, x: lib.searchsorted(b, x, right=right), rows, np.array([[3, 6, 9], [3, 6, 9]]))
        check(lambda lib, b, x: lib.searchsorted(b, x, right=right), rows.reshape(2, 1, 5).astype(np.float64),
              np.array([[[3.5, 6.0, 11.0, -1.0]], [[4, 0, 5, 10]]]))
        check(lambda lib, b: lib.searchsorted(b, 4, right=right, out_int32=True), boundaries)
        check(lambda lib, b, x, s: lib.searchsorted(b, x, right=right, sorter=s), np.array([5, 1, 9, 3, 7]),
              np.array([3, 6, 9]), np.array([1, 3, 0, 4, 2]))
    check(lambda lib, b, x: lib.searchsorted(b, x), np.array([1.0, 3.0]), np.array([2]))
    check(lambda lib, b, x: lib.searchsorted(b, x), np.array([1, 3]), np.array([[[2, 5]]]))
    check(lambda lib, b, x: lib.searchsorted(b, x), np.array([], dtype=np.float32), np.array([2.0], np.float32))


def test_errors_are_torchs():
    f = lambda lib, *v: lib.tensor(v)  # noqa: E731
    cases = [
        lambda lib: lib.unique(lib.tensor([[1, 2]]), dim=2),
        lambda lib: lib.unique(lib.tensor(1), dim=0),
        lambda lib: lib.unique_consecutive(lib.tensor([3, 1]), dim=1),
        lambda lib: lib.bincount(f(lib, 0, -1)),
        lambda lib: lib.bincount(lib.tensor([[0, 1]])),
        lambda lib: lib.bincount(f(lib, 0.0, 1.0)),
        lambda lib: lib.bincount(f(lib, True, False)),
        lambda lib: lib.bincount(f(lib, 1), minlength=-1),
        lambda lib: lib.bincount(f(lib, 1), weights=lib.ones(2)),
        lambda lib: lib.histc(f(lib, 1, 2), bins=4),
        lambda lib: lib.histc(f(lib, 1.0, 2.0), bins=4, min=3, max=1),
        lambda lib: lib.histc(f(lib, 1.0, 2.0), bins=0),
        lambda lib: lib.histc(f(lib, 2.0, float("nan")), bins=2),
        lambda lib: lib.histogram(f(lib, 1, 2), bins=4),
        lambda lib: lib.histogram(f(lib, 2.0, 5.0), bins=2, range=(4.0, 0.0)),
        lambda lib: lib.histogram(f(lib, 2.0, 5.0), lib.tensor([1, 3, 6])),
        lambda lib: lib.histogram(f(lib, 2.0, 5.0), 2, weight=lib.ones(3)),
        lambda lib: lib.histogram(f(lib, 2.0, float("nan")), 2),
        lambda lib: lib.histogram(f(lib, 2.0), bins=0),
        lambda lib: lib.bucketize(f(lib, 3), lib.tensor([[1, 3]])),
        lambda lib: lib.bucketize(f(lib, 3), [1, 3]),
        lambda lib: lib.searchsorted(lib.tensor(3), f(lib, 3)),
        lambda lib: lib.searchsorted(lib.tensor([[1, 3]]), 2),
        lambda lib: lib.searchsorted(lib.tensor([[1, 3], [5, 7]]), lib.tensor([[3, 6, 9]])),
        lambda lib: lib.searchsorted(f(lib, 1, 3), 4, right=True, side="left"),
        lambda lib: lib.searchsorted(f(lib, 1.0, 3.0), f(lib, 2.0), side="middle"),
        lambda lib: lib.searchsorted(f(lib, 5, 1, 9), f(lib, 3), sorter=f(lib, 1, 0)),
        lambda lib: lib.searchsorted(f(lib, 5, 1, 9), f(lib, 3), sorter=lib.tensor([1, 0, 2], dtype=lib.int32)),
        lambda lib: lib.searchsorted(f(lib, 5, 1, 9), f(lib, 3), sorter=f(lib, 1, 0, 3)),
    ]
    for case in cases:
        raises_like_torch(case)
