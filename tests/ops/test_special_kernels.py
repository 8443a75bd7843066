"""The special-function kernels of tinygrad_cnn.ops.special against mpmath at 40 digits: a few
float64 ulps over wide ranges (tails, tiny and huge arguments, near the roots of lgamma and
digamma, negative non-integers), torch's values at the special points (nan, +-inf, poles),
float32 inputs, and the fitted tables recomputed from their derivation (tests/ops/special_fits.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinygrad_cnn.ops import special as K

mp = pytest.importorskip("mpmath", reason="the accuracy tests compare with mpmath (a dependency of torch's sympy)")

EPS = np.finfo(np.float64).eps
RNG = np.random.default_rng(7)


def _reference(f, xs: np.ndarray) -> np.ndarray:
    with mp.workdps(40):
        return np.array([float(f(mp.mpf(float(x)))) for x in xs])


def _ulps(got: np.ndarray, want: np.ndarray) -> float:
    """The largest error of ``got`` in units of float64's eps relative to ``want`` (normal values only)."""
    normal = np.isfinite(want) & (np.abs(want) > 1e-300)
    assert np.isfinite(got[normal]).all()
    return float(np.max(np.abs(got[normal] - want[normal]) / np.abs(want[normal])) / EPS)


def _spread(low: float, high: float, n: int = 120) -> np.ndarray:
    """Points over [low, high]: evenly spaced, random, and (for a positive range) log-spaced."""
    parts = [np.linspace(low, high, n), RNG.uniform(low, high, n)]
    if low > 0:
        parts.append(np.geomspace(low, high, n))
    return np.concatenate(parts)


CASES = {  # kernel: (mpmath reference, arguments, ulps allowed)
    "erf": (mp.erf, np.concatenate([_spread(-6, 6), _spread(1e-300, 0.5), -_spread(1e-300, 6)]), 4),
    "erfc": (mp.erfc, np.concatenate([_spread(-6, 26.5), _spread(1e-300, 26.5)]), 6),
    "erfcx": (lambda x: mp.exp(x * x) * mp.erfc(x), np.concatenate([_spread(-26, 50), _spread(1e-300, 1e12)]), 6),
    "ndtr": (mp.ncdf, np.concatenate([_spread(-37, 8), -_spread(1e-300, 37)]), 6),
    "log_ndtr": (lambda x: mp.log(mp.ncdf(x)), np.concatenate([_spread(-40, 5, 150), -_spread(1e-10, 1e4, 100)]), 6),
    "erfinv": (mp.erfinv, np.concatenate([_spread(-0.999999, 0.999999, 100), 1 - _spread(1e-16, 0.5, 60),
                                          _spread(1e-300, 0.5, 60)]), 6),
    "ndtri": (lambda p: -mp.sqrt(2) * mp.erfinv(1 - 2 * p) if p > 1e-15 else
              mp.findroot(lambda x: mp.log(mp.ncdf(x)) - mp.log(p), -math.sqrt(-2 * math.log(float(p)))),
              np.concatenate([_spread(1e-6, 1 - 1e-6, 100), _spread(1e-300, 1e-6, 40), 1 - _spread(1e-16, 1e-6, 40)]), 6),
    "lgamma": (lambda x: mp.log(abs(mp.gamma(x))), np.concatenate([
        _spread(1e-300, 1e300), _spread(0.001, 30), 1 + _spread(-1e-6, 1e-6, 50), 2 + _spread(-1e-6, 1e-6, 50),
        -np.arange(0.5, 30, 1.0), np.array([-0.1, -1.3, -3.7, -11.9, -1e-8])]), 8),
    "digamma": (mp.digamma, np.concatenate([
        _spread(1e-300, 1e300), _spread(0.001, 30), K.DIGAMMA_ROOT[0] + _spread(-1e-6, 1e-6, 50),
        -np.arange(0.5, 30, 1.0), np.array([-0.1, -1.3, -3.7, -11.9, -1e-8])]), 4),
    "trigamma": (lambda x: mp.psi(1, x), np.concatenate([_spread(1e-150, 1e300), _spread(0.001, 30),
                                                         np.array([-0.5, -1.3, -3.7, -11.9, -1e-8])]), 4),
    "i0": (lambda x: mp.besseli(0, x), np.concatenate([_spread(-30, 30), _spread(1e-300, 713), -_spread(20, 713, 60)]), 8),
    "i1": (lambda x: mp.besseli(1, x), np.concatenate([_spread(-30, 30), _spread(1e-300, 713), -_spread(20, 713, 60)]), 8),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_kernel_matches_mpmath_to_a_few_ulps(name):
    reference, xs, allowed = CASES[name]
    assert _ulps(getattr(K, name)(xs), _reference(reference, xs)) <= allowed


SPECIAL_POINTS = {  # torch's values at nan, infinities and poles
    "erf": ([np.nan, np.inf, -np.inf, 0.0, -0.0], [np.nan, 1.0, -1.0, 0.0, -0.0]),
    "erfc": ([np.nan, np.inf, -np.inf, 30.0], [np.nan, 0.0, 2.0, 0.0]),
    "erfinv": ([np.nan, 1.0, -1.0, 1.5, -2.0, -0.0], [np.nan, np.inf, -np.inf, np.nan, np.nan, -0.0]),
    "ndtri": ([np.nan, 0.0, 1.0, -0.1, 1.1, 0.5], [np.nan, -np.inf, np.inf, np.nan, np.nan, 0.0]),
    "log_ndtr": ([np.nan, np.inf, -np.inf], [np.nan, -0.0, -np.inf]),
    "lgamma": ([np.nan, 0.0, -0.0, -1.0, -7.0, np.inf, -np.inf, 1.0, 2.0, -2.0 ** 60],
               [np.nan, np.inf, np.inf, np.inf, np.inf, np.inf, np.inf, 0.0, 0.0, np.inf]),
    "digamma": ([np.nan, 0.0, -0.0, -1.0, -7.0, np.inf, -np.inf], [np.nan, -np.inf, np.inf, np.nan, np.nan, np.inf, np.nan]),
    "i0": ([np.nan, 0.0, 800.0, -800.0], [np.nan, 1.0, np.inf, np.inf]),
}


@pytest.mark.parametrize("name", sorted(SPECIAL_POINTS))
def test_kernel_special_values(name):
    xs, want = SPECIAL_POINTS[name]
    got = getattr(K, name)(np.array(xs))
    np.testing.assert_array_equal(got, np.array(want))
    signed = ~np.isnan(want)
    np.testing.assert_array_equal(np.signbit(got[signed]), np.signbit(np.array(want)[signed]))


def test_i0_at_infinity_is_infinite():
    """mpmath's (and scipy's) value; torch's i0 gives nan at +-inf."""
    np.testing.assert_array_equal(K.i0(np.array([np.inf, -np.inf])), [np.inf, np.inf])


@pytest.mark.parametrize("name", ["erf", "erfc", "ndtr", "erfinv", "lgamma", "digamma"])
def test_float32_inputs_use_a_shorter_fit_still_float32_accurate(name):
    reference, xs, _ = CASES[name]
    xs = xs[(np.abs(xs) < 1e30) & (np.abs(xs) > 1e-30)].astype(np.float32)
    xs = xs[(xs > 0) | (xs != np.round(xs))]  # no poles
    want = _reference(reference, xs.astype(np.float64))
    normal = np.isfinite(want) & (np.abs(want) > 1e-30)
    got = getattr(K, name)(xs)
    assert got.dtype == np.float64
    assert np.max(np.abs(got[normal] - want[normal]) / np.abs(want[normal])) < 4 * np.finfo(np.float32).eps


def test_fitted_tables_are_what_their_derivation_gives():
    import importlib.util
    import pathlib

    spec = importlib.util.spec_from_file_location("special_fits", pathlib.Path(__file__).with_name("special_fits.py"))
    fits = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fits)
    for name, table in fits.tables().items():
        shipped = np.asarray(getattr(K, name))
        assert shipped.shape == (len(table),), name
        np.testing.assert_allclose(shipped, table, rtol=0, atol=1e-16 * np.abs(shipped).max(), err_msg=name)
    assert fits.digamma_root() == K.DIGAMMA_ROOT
    assert fits.ERFCX_K == K.ERFCX_K
