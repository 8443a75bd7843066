"""Binomial and Poisson against torch.distributions: log_prob, entropy, mean, mode, variance,
the lazily derived probs/logits, enumerate_support, expand, their gradients (float32 and
float64), sample moments within 5 standard errors, and the argument checks."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.distributions as D

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")

pytestmark = pytest.mark.oracle

RNG = np.random.default_rng(4)
TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-11, atol=1e-11)}


def _close(a, b, dtype) -> None:
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    np.testing.assert_allclose(a.numpy(), b, equal_nan=True, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["probs", "logits"])
def test_binomial(kind, dtype):
    param = (RNG.uniform(0.05, 0.95, size=(2, 3)) if kind == "probs" else RNG.normal(size=(2, 3))).astype(dtype)
    total = np.full((2, 3), 7.0, dtype=dtype)
    ours, theirs = tg.tensor(param, requires_grad=True), torch.tensor(param, requires_grad=True)
    a = D.Binomial(tg.tensor(total), **{kind: ours})
    b = torch.distributions.Binomial(torch.tensor(total), **{kind: theirs})
    assert a.batch_shape == b.batch_shape == (2, 3) and a.param_shape == b.param_shape
    for prop in ["probs", "logits", "mean", "mode", "variance", "stddev"]:
        _close(getattr(a, prop), getattr(b, prop), dtype)
    value = RNG.integers(0, 8, size=(4, 2, 3)).astype(dtype)
    la, lb = a.log_prob(tg.tensor(value)), b.log_prob(torch.tensor(value))
    _close(la, lb, dtype)
    _close(a.entropy(), b.entropy(), dtype)
    (la.sum() + a.entropy().sum()).backward()
    (lb.sum() + b.entropy().sum()).backward()
    _close(ours.grad, theirs.grad, dtype)
    for expand in (True, False):
        _close(a.enumerate_support(expand), b.enumerate_support(expand), dtype)
    assert repr(a.support).startswith("IntegerInterval(") and bool(a.support.check(tg.tensor(value)).all())
    e_a, e_b = a.expand((5, 2, 3)), b.expand((5, 2, 3))
    _close(e_a.log_prob(tg.tensor(value[:1])), e_b.log_prob(torch.tensor(value[:1])), dtype)


def test_binomial_numbers_broadcasting_and_errors():
    a = D.Binomial(10, tg.tensor([0.2, 0.5]))
    b = torch.distributions.Binomial(10, torch.tensor([0.2, 0.5]))
    assert a.total_count.dtype == np.float32 and a.batch_shape == b.batch_shape == (2,)
    _close(a.log_prob(tg.tensor([3.0, 10.0])), b.log_prob(torch.tensor([3.0, 10.0])), np.float32)
    mixed = D.Binomial(tg.tensor([[2.0], [5.0]]), tg.tensor([0.3, 0.6]))
    assert mixed.batch_shape == (2, 2)
    with pytest.raises(NotImplementedError, match="Inhomogeneous"):
        mixed.entropy()
    with pytest.raises(ValueError, match="parameter total_count"):
        D.Binomial(tg.tensor([2.5]), tg.tensor([0.3]))
    with pytest.raises(ValueError, match="parameter probs"):
        D.Binomial(3, tg.tensor([1.3]))
    with pytest.raises(ValueError, match="support"):
        a.log_prob(tg.tensor([11.0, 1.0]))
    with pytest.raises(ValueError, match="not both"):
        D.Binomial(3)


def test_binomial_sample_moments():
    tg.manual_seed(0)
    n, p = np.array([4.0, 30.0]), np.array([0.3, 0.8])
    d = D.Binomial(tg.tensor(n), tg.tensor(p))
    draws = d.sample((40_000,)).numpy()
    assert draws.dtype == np.float64 and draws.shape == (40_000, 2)
    assert (draws == np.round(draws)).all() and draws.min() >= 0 and (draws <= n).all()
    mean, var = n * p, n * p * (1 - p)
    assert (np.abs(draws.mean(0) - mean) < 5 * np.sqrt(var / 40_000)).all()
    assert (np.abs(draws.var(0) - var) < 5 * var * np.sqrt(3 / 40_000)).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_poisson(dtype):
    rate = RNG.uniform(0.5, 6, size=(2, 3)).astype(dtype)
    ours, theirs = tg.tensor(rate, requires_grad=True), torch.tensor(rate, requires_grad=True)
    a, b = D.Poisson(ours), torch.distributions.Poisson(theirs)
    assert a.batch_shape == b.batch_shape == (2, 3) and repr(a.support) == repr(b.support)
    for prop in ["mean", "mode", "variance", "stddev"]:
        _close(getattr(a, prop), getattr(b, prop), dtype)
    value = RNG.poisson(3.0, size=(4, 2, 3)).astype(dtype)
    la, lb = a.log_prob(tg.tensor(value)), b.log_prob(torch.tensor(value))
    _close(la, lb, dtype)
    la.sum().backward()
    lb.sum().backward()
    _close(ours.grad, theirs.grad, dtype)
    assert a.expand((5, 2, 3)).batch_shape == (5, 2, 3) and not a.has_rsample and not a.has_enumerate_support
    with pytest.raises(ValueError, match="support"):
        a.log_prob(tg.tensor(np.full((2, 3), 1.5, dtype=dtype)))
    with pytest.raises(ValueError, match="parameter rate"):
        D.Poisson(tg.tensor([-1.0]))


def test_poisson_sample_moments_and_zero_rate():
    tg.manual_seed(0)
    rate = np.array([0.7, 12.0])
    draws = D.Poisson(tg.tensor(rate)).sample((40_000,)).numpy()
    assert draws.shape == (40_000, 2) and (draws == np.round(draws)).all()
    assert (np.abs(draws.mean(0) - rate) < 5 * np.sqrt(rate / 40_000)).all()
    assert (np.abs(draws.var(0) - rate) < 5 * rate * np.sqrt((2 + 1 / rate) / 40_000)).all()
    zero = D.Poisson(tg.tensor([0.0]))
    assert zero.sample((3,)).numpy().sum() == 0
    _close(zero.log_prob(tg.tensor([0.0])), torch.distributions.Poisson(torch.tensor([0.0])).log_prob(
        torch.tensor([0.0])), np.float32)
