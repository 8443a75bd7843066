"""The order statistics and nan-aware reductions (aminmax, mode, kthvalue, cummax/cummin,
logcumsumexp, nansum/nanmean/nanmedian, quantile/nanquantile, msort, median's NaN and tie
rules, var/std's unbiased/correction forms) against PyTorch: values, dtypes, named-tuple
fields, indices (ties included where torch defines them), float64 gradients and error types.
The samplers are in test_samplers_torch.py (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.testing.oracle import check_against_torch, raises_like_torch

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")

pytestmark = pytest.mark.oracle

RNG = np.random.default_rng(0)
NAN = float("nan")
TIES = np.array([[1., 3., 3., 2., 5.], [5., 5., 0., 0., 1.], [2., 2., 2., 2., 2.]])
WITH_NAN = np.array([[1., NAN, 2., 5.], [NAN, 1., NAN, 3.], [NAN, NAN, NAN, NAN], [4., 0., 4., 1.]])


def same(ours, theirs, indices: bool = True) -> None:
    """Values (NaN where NaN), dtype and, for a named tuple, the same fields and indices."""
    if isinstance(theirs, tuple):
        assert len(ours) == len(theirs) and isinstance(ours, tuple), ours
        for name in ours._fields:  # torch's structseq has the same names as attributes
            if name != "indices" or indices:
                same(getattr(ours, name), getattr(theirs, name))
        return
    expected = theirs.detach().numpy()
    assert ours.shape == expected.shape and ours.dtype == expected.dtype, (ours, theirs)
    np.testing.assert_array_equal(ours.numpy(), expected)


def both(call, *arrays, indices: bool = True) -> None:
    """``call(lib, *tensors)`` gives the same result with tinygrad_cnn and with torch."""
    same(call(tg, *[tg.tensor(a) for a in arrays]), call(torch, *[torch.tensor(a) for a in arrays]), indices)


# ---------------------------------------------------------------- aminmax
@pytest.mark.parametrize("kwargs", [{}, {"dim": 1}, {"dim": 0, "keepdim": True}, {"keepdim": True}, {"dim": -1}])
def test_aminmax_values_fields_and_tie_sharing_gradients(kwargs):
    both(lambda L, x: L.aminmax(x, **kwargs), TIES)
    both(lambda L, x: x.aminmax(**kwargs), WITH_NAN)
    for field in ("min", "max"):
        pick = lambda x: getattr(x.aminmax(**kwargs), field)  # noqa: E731 (the same call on both sides)
        check_against_torch(pick, pick, [TIES])


def test_aminmax_scalars_bools_and_empty_inputs_as_torch():
    both(lambda L, x: L.aminmax(x), np.float32(3))
    both(lambda L, x: L.aminmax(x, dim=0, keepdim=True), np.float32(3))
    both(lambda L, x: L.aminmax(x, dim=0), np.array([True, False]))
    both(lambda L, x: L.aminmax(x, dim=0), np.zeros((2, 0)))
    raises_like_torch(lambda L, x: L.aminmax(x), np.zeros(0))
    raises_like_torch(lambda L, x: L.aminmax(x, dim=1), np.zeros((2, 0)))
    raises_like_torch(lambda L, x: L.aminmax(x, dim=(0, 1)), TIES)


# ---------------------------------------------------------------- mode
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_mode_is_the_smallest_most_frequent_value_at_its_last_occurrence(dim):
    small = RNG.integers(0, 4, size=(9, 16))  # torch's index rule (the last occurrence) holds up to 16 values
    both(lambda L, x: L.mode(x, dim), small)
    both(lambda L, x: x.mode(dim, keepdim=True), small.astype(np.float32))
    both(lambda L, x: L.mode(x, dim), TIES)
    check_against_torch(lambda x: x.mode(dim).values, lambda x: x.mode(dim).values, [TIES])


def test_mode_of_long_rows_gives_torchs_values_and_an_index_holding_them():
    long = RNG.integers(0, 30, size=(4, 300))
    ours, theirs = tg.tensor(long).mode(1), torch.tensor(long).mode(1)
    same(ours, theirs, indices=False)
    assert (long[np.arange(4), ours.indices.numpy()] == ours.values.numpy()).all()


def test_mode_of_scalars_bools_and_empty_dims_as_torch():
    both(lambda L, x: L.mode(x), np.float64(3))
    both(lambda L, x: L.mode(x), np.array([True, False, True]))
    both(lambda L, x: L.mode(x, 1), np.zeros((0, 2)))
    raises_like_torch(lambda L, x: L.mode(x), np.zeros((2, 0)))


# ---------------------------------------------------------------- kthvalue
@pytest.mark.parametrize("k", [1, 2, 4, 5])
@pytest.mark.parametrize("keepdim", [False, True])
def test_kthvalue_values_indices_and_gradient(k, keepdim):
    distinct = RNG.permutation(20).reshape(4, 5).astype(np.float64)
    both(lambda L, x: L.kthvalue(x, k, 1, keepdim), distinct)
    both(lambda L, x: x.kthvalue(min(k, 4), 0, keepdim), distinct)
    check_against_torch(lambda x: x.kthvalue(k, keepdim=keepdim).values,
                        lambda x: x.kthvalue(k, keepdim=keepdim).values, [distinct])
    ours, theirs = tg.tensor(TIES).kthvalue(k), torch.tensor(TIES).kthvalue(k)  # ties: torch's index is its own
    same(ours, theirs, indices=False)
    assert (np.take_along_axis(TIES, ours.indices.numpy()[:, None], 1)[:, 0] == ours.values.numpy()).all()


def test_kthvalue_puts_nan_last_and_refuses_as_torch():
    both(lambda L, x: L.kthvalue(x, 3), np.array([1., NAN, 0.]))
    both(lambda L, x: L.kthvalue(x, 2), np.array([1., NAN, 0.]))
    both(lambda L, x: L.kthvalue(x, 1), np.float32(3))
    both(lambda L, x: L.kthvalue(x, 1), np.array([3, 1, 2]))
    for k in (0, 6):
        raises_like_torch(lambda L, x: L.kthvalue(x, k), TIES)
    raises_like_torch(lambda L, x: L.kthvalue(x, 1.5), TIES)
    raises_like_torch(lambda L, x: L.kthvalue(x, 1), np.array([True, False]))


# ---------------------------------------------------------------- cummax / cummin
@pytest.mark.parametrize("name", ["cummax", "cummin"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cummax_cummin_indices_are_torchs_with_ties_and_nan(name, dim):
    ties = RNG.integers(0, 3, size=(5, 6))
    both(lambda L, x: getattr(L, name)(x, dim), ties)
    both(lambda L, x: getattr(x, name)(dim), ties.astype(np.float32))
    both(lambda L, x: getattr(L, name)(x, dim), WITH_NAN)
    both(lambda L, x: getattr(L, name)(x, dim), ties > 1)
    check_against_torch(lambda x: getattr(x, name)(dim).values, lambda x: getattr(x, name)(dim).values, [TIES])


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_cummin_of_scalars_and_empty_tensors(name):
    both(lambda L, x: getattr(L, name)(x, 0), np.float32(2))
    both(lambda L, x: getattr(L, name)(x, 0), np.zeros(0, dtype=np.float32))


# ---------------------------------------------------------------- logcumsumexp
@pytest.mark.parametrize("dim", [0, 1])
def test_logcumsumexp_values_and_gradient_stay_finite_for_large_inputs(dim):
    large = np.array([[1., 1000., -1000., 2.], [-3., 0., 700., 1.], [5., 5., 5., 5.]])
    check_against_torch(lambda x: x.logcumsumexp(dim), lambda x: x.logcumsumexp(dim), [large], rtol=1e-10)
    check_against_torch(lambda x: tg.logcumsumexp(x, dim), lambda x: torch.logcumsumexp(x, dim),
                        [RNG.normal(size=(3, 4)) * 3], rtol=1e-10)


def test_logcumsumexp_infinities_dtypes_and_refusals_as_torch():
    extreme = np.array([[-np.inf, 0., 1., np.inf], [-np.inf, -np.inf, 1., 2.]])
    x, t = tg.tensor(extreme, requires_grad=True), torch.tensor(extreme, requires_grad=True)
    upstream = np.array([[1., 1., 1., 1.], [1., -2., 3., .5]])
    x.logcumsumexp(1).backward(upstream)
    t.logcumsumexp(1).backward(torch.tensor(upstream))
    same(x.detach().logcumsumexp(1), t.detach().logcumsumexp(1))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    ours, theirs = tg.tensor(TIES, dtype=tg.float16).logcumsumexp(1), torch.tensor(TIES).half().logcumsumexp(1)
    assert ours.dtype == tg.float16
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=2e-3)
    both(lambda L, x: L.logcumsumexp(x, 0), np.float64(2))
    raises_like_torch(lambda L, x: L.logcumsumexp(x, 0), np.array([1, 2]))
    raises_like_torch(lambda L, x: L.logcumsumexp(x, 0), np.array([True]))


# ---------------------------------------------------------------- nansum / nanmean
@pytest.mark.parametrize("kwargs", [{}, {"dim": 1}, {"dim": (0, 1)}, {"dim": 0, "keepdim": True}])
def test_nansum_nanmean_values_and_gradients(kwargs):
    both(lambda L, x: L.nansum(x, **kwargs), WITH_NAN)
    both(lambda L, x: x.nanmean(**kwargs), WITH_NAN)
    both(lambda L, x: L.nanmean(x, **kwargs, dtype=L.float64), WITH_NAN.astype(np.float32))
    check_against_torch(lambda x: x.nansum(**kwargs), lambda x: x.nansum(**kwargs), [WITH_NAN])
    check_against_torch(lambda x: x.nanmean(**kwargs), lambda x: x.nanmean(**kwargs), [WITH_NAN])  # NaN for NaNs only


def test_nansum_dtypes_and_nanmean_refusals_as_torch():
    both(lambda L, x: L.nansum(x), np.array([1, 2, 3]))
    both(lambda L, x: L.nansum(x), np.array([True, False, True]))
    both(lambda L, x: L.nansum(x, dtype=L.float64), np.array([1., NAN], dtype=np.float32))
    both(lambda L, x: L.nansum(x), np.array([1., NAN], dtype=np.float16))
    both(lambda L, x: L.nanmean(x, 0), np.float64(NAN))
    raises_like_torch(lambda L, x: L.nanmean(x), np.array([1, 2, 3]))


# ---------------------------------------------------------------- median and nanmedian
@pytest.mark.parametrize("dim", [0, 1])
def test_nanmedian_along_a_dim_skips_nans(dim):
    both(lambda L, x: L.nanmedian(x, dim), WITH_NAN[[0, 1, 3]])
    both(lambda L, x: x.nanmedian(dim, keepdim=True), WITH_NAN[[0, 1, 3]])
    check_against_torch(lambda x: x.nanmedian(dim).values, lambda x: x.nanmedian(dim).values, [WITH_NAN[[0, 1, 3]]])
    ours, theirs = tg.tensor(WITH_NAN).nanmedian(1), torch.tensor(WITH_NAN).nanmedian(1)  # an all-NaN row
    same(ours, theirs, indices=False)


@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_of_everything_shares_the_gradient_among_ties_as_torch(name):
    for data in (np.array([1., 2., 2., 3., 2., NAN, 2.]), TIES, WITH_NAN, np.array([NAN, NAN])):
        both(lambda L, x: getattr(L, name)(x), data)
        check_against_torch(lambda x: getattr(x, name)(), lambda x: getattr(x, name)(), [data])
    both(lambda L, x: getattr(L, name)(x), np.zeros(0))
    both(lambda L, x: getattr(L, name)(x), np.array([3, 1, 2]))


def test_median_along_a_dim_propagates_nan_as_torch():
    both(lambda L, x: L.median(x, 1), np.array([[1., NAN, 2.], [3., 1., 2.], [NAN, 0., 1.]]))
    both(lambda L, x: L.median(x, 0), np.array([[1., NAN], [3., 1.], [2., 0.]]))
    raises_like_torch(lambda L, x: L.nanmedian(x, 1), np.zeros((2, 0)))
    raises_like_torch(lambda L, x: L.nanmedian(x), np.array([True]))


# ---------------------------------------------------------------- quantile / nanquantile
INTERPOLATIONS = ["linear", "lower", "higher", "midpoint", "nearest"]


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
def test_quantile_values_and_gradients_for_every_interpolation(interpolation, name):
    data = np.array([[1., 7., 3., 3., 2.], [0., 5., 4., 1., 2.]])
    q = np.array([0., 0.3, 0.5, 0.6, 1.])
    for dim, keepdim in ((None, False), (1, False), (0, True), (None, True), (-1, True)):
        def call(lib, x, q=q):
            return getattr(lib, name)(x, lib.tensor(q), dim, keepdim, interpolation=interpolation)
        check_against_torch(lambda x: call(tg, x), lambda x: call(torch, x), [data], rtol=1e-12)
        both(lambda L, x: getattr(x, name)(0.4, dim, keepdim, interpolation=interpolation), data.astype(np.float32))
        both(lambda L, x: getattr(x, name)(L.tensor(0.25, dtype=L.float64), dim, keepdim,
                                           interpolation=interpolation), data)


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_quantile_gives_nan_for_rows_with_nan_and_nanquantile_skips_them(interpolation):
    q = np.array([0.25, 0.5, 0.9], dtype=np.float32)
    for name in ("quantile", "nanquantile"):
        both(lambda L, x, q: getattr(L, name)(x, q, 1, interpolation=interpolation), WITH_NAN.astype(np.float32), q)
        both(lambda L, x: getattr(L, name)(x, 0.5, interpolation=interpolation), WITH_NAN)
        both(lambda L, x: getattr(L, name)(x, 0.5, 0, True, interpolation=interpolation), np.float64(3))
    both(lambda L, x: L.quantile(x, L.tensor([0.5, 1 / 6, 0.25, 0.75], dtype=L.float64), interpolation="nearest"),
         np.array([1., 2., 3., 4.]))  # ranks 1.5, 0.5, 0.75, 2.25: halves round to even


def test_quantile_refuses_what_torch_refuses():
    data = TIES.astype(np.float32)
    raises_like_torch(lambda L, x: L.quantile(x, 1.5), data)
    raises_like_torch(lambda L, x: L.quantile(x, L.tensor([0.2, 1.5])), data)
    raises_like_torch(lambda L, x: L.quantile(x, L.tensor([[0.3]])), data)
    raises_like_torch(lambda L, x: L.quantile(x, 0.5, interpolation="foo"), data)
    raises_like_torch(lambda L, x: L.quantile(x, 0.5), np.array([1, 2, 3]))
    raises_like_torch(lambda L, x: L.quantile(x, 0.5), data.astype(np.float16))
    raises_like_torch(lambda L, x: L.quantile(x, L.tensor([0.5], dtype=L.float64)), data)
    raises_like_torch(lambda L, x: L.quantile(x, 0.5), np.zeros(0, dtype=np.float32))
    raises_like_torch(lambda L, x: L.quantile(x, [0.5, 0.2]), data)


# ---------------------------------------------------------------- msort, var/std forms, torch.<name>
def test_msort_sorts_along_dim_zero_with_a_gradient():
    both(lambda L, x: L.msort(x), np.array([[3, 1], [1, 2], [2, 0]]))
    check_against_torch(lambda x: x.msort(), lambda x: x.msort(), [RNG.normal(size=(4, 3))])


@pytest.mark.parametrize("call", [
    lambda L, x: L.var(x, 0, True, True), lambda L, x: L.var(x, True), lambda L, x: x.std(1, False),
    lambda L, x: L.std(x, correction=0.5), lambda L, x: L.var(x, dim=1, correction=2, keepdim=True),
    lambda L, x: L.std_mean(x, 0, True), lambda L, x: L.std_mean(x, True), lambda L, x: L.var_mean(x, 1, False, True),
    lambda L, x: L.var_mean(x, dim=1, correction=0.5), lambda L, x: L.var_mean(x, unbiased=False),
    lambda L, x: L.std_mean(x, dim=(0, 1), correction=0),
])
def test_var_std_and_their_mean_forms_take_unbiased_and_correction(call):
    data = RNG.normal(size=(3, 4))
    ours, theirs = call(tg, tg.tensor(data)), call(torch, torch.tensor(data))
    for a, b in zip(ours if isinstance(ours, tuple) else [ours], theirs if isinstance(theirs, tuple) else [theirs]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
        assert a.shape == tuple(b.shape)


def test_unbiased_and_correction_together_are_refused_as_torch():
    raises_like_torch(lambda L, x: L.var(x, unbiased=True, correction=1), TIES)
    raises_like_torch(lambda L, x: L.var_mean(x, unbiased=True, correction=1), TIES)
