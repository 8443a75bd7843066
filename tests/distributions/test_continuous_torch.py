"""Normal, Laplace, Uniform and Exponential against torch.distributions: the same parameters give
the same log_prob, cdf, icdf, entropy, mean, mode, variance and stddev (float32 and float64),
the same gradients of log_prob and of a loss of rsample drawn from the same noise, the same
shapes; sample moments match the distribution's within 5 standard errors; seeding reproduces
samples."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.distributions as D

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")

pytestmark = pytest.mark.oracle

RNG = np.random.default_rng(0)
DTYPES = {np.float32: torch.float32, np.float64: torch.float64}
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-12)}


def _params(name: str, dtype) -> dict[str, np.ndarray]:
    """Batched parameters (2, 3) of distribution ``name``."""
    if name == "Uniform":
        low = RNG.normal(size=(2, 3))
        return {"low": low.astype(dtype), "high": (low + RNG.uniform(0.5, 2, size=(2, 3))).astype(dtype)}
    if name == "Exponential":
        return {"rate": RNG.uniform(0.5, 2, size=(2, 3)).astype(dtype)}
    return {"loc": RNG.normal(size=(2, 3)).astype(dtype), "scale": RNG.uniform(0.5, 2, size=(2, 3)).astype(dtype)}


def _values(name: str, params: dict, dtype) -> np.ndarray:
    """Points (4, 2, 3) inside the support."""
    if name == "Uniform":
        return (params["low"] + RNG.uniform(0, 1, size=(4, 2, 3)) * (params["high"] - params["low"])).astype(dtype)
    if name == "Exponential":
        return RNG.exponential(size=(4, 2, 3)).astype(dtype)
    return RNG.normal(size=(4, 2, 3)).astype(dtype) * 2


def _twins(name: str, params: dict):
    """Our distribution and torch's from the same parameters, and the leaves of each."""
    ours = {k: tg.tensor(v, requires_grad=True) for k, v in params.items()}
    theirs = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    return getattr(D, name)(**ours), getattr(torch.distributions, name)(**theirs), ours, theirs


def _close(a, b, dtype) -> None:
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_allclose(a.numpy(), b, **TOL[dtype])


def _grads_close(ours: dict, theirs: dict, dtype) -> None:
    for k in ours:
        _close(ours[k].grad, theirs[k].grad, dtype)


NAMES = ["Normal", "Laplace", "Uniform", "Exponential"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_values_and_log_prob_gradients(name, dtype):
    params = _params(name, dtype)
    a, b, ours, theirs = _twins(name, params)
    assert a.batch_shape == b.batch_shape == (2, 3) and a.event_shape == b.event_shape == ()
    for prop in ["mean", "variance", "stddev"]:
        _close(getattr(a, prop), getattr(b, prop), dtype)
    if name != "Uniform":  # Uniform's mode is NaN in both
        _close(a.mode, b.mode, dtype)
    else:
        assert np.isnan(a.mode.numpy()).all() and a.mode.shape == (2, 3)
    _close(a.entropy(), b.entropy(), dtype)
    _close(a.perplexity(), b.perplexity(), dtype)
    value = _values(name, params, dtype)
    la, lb = a.log_prob(tg.tensor(value)), b.log_prob(torch.tensor(value))
    _close(la, lb, dtype)
    (la * tg.tensor(value)).sum().backward()
    (lb * torch.tensor(value)).sum().backward()
    _grads_close(ours, theirs, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_cdf_and_icdf(name, dtype):
    params = _params(name, dtype)
    a, b, ours, theirs = _twins(name, params)
    value = _values(name, params, dtype)
    ca, cb = a.cdf(tg.tensor(value)), b.cdf(torch.tensor(value))
    _close(ca, cb, dtype)
    ca.sum().backward()
    cb.sum().backward()
    _grads_close(ours, theirs, dtype)
    q = RNG.uniform(0.05, 0.95, size=(4, 2, 3)).astype(dtype)
    _close(a.icdf(tg.tensor(q)), b.icdf(torch.tensor(q)), dtype)
    np.testing.assert_allclose(a.cdf(a.icdf(tg.tensor(q))).detach().numpy(), q, rtol=1e-4 if dtype == np.float32 else 1e-10)


def _noise_of(name: str, x: np.ndarray, params: dict) -> np.ndarray:
    """The standard noise our rsample turned into ``x`` (inverting the reparameterisation)."""
    if name == "Normal":
        return (x - params["loc"]) / params["scale"]
    if name == "Uniform":
        return (x - params["low"]) / (params["high"] - params["low"])
    if name == "Exponential":
        return x * params["rate"]
    z = (x - params["loc"]) / params["scale"]
    return -np.sign(z) * np.expm1(-np.abs(z))  # Laplace's u: z = -sign(u) log(1 - |u|)


def _feed_torch(monkeypatch, name: str, noise: np.ndarray) -> None:
    """Make torch's rsample of ``name`` use ``noise`` instead of its own draw."""
    noise_t = torch.from_numpy(noise)
    if name == "Normal":
        monkeypatch.setattr(torch.distributions.normal, "_standard_normal", lambda *a, **k: noise_t.clone())
    elif name == "Uniform":
        monkeypatch.setattr(torch, "rand", lambda *a, **k: noise_t.clone())
    elif name == "Laplace":
        monkeypatch.setattr(torch.Tensor, "uniform_", lambda self, *a, **k: self.copy_(noise_t))
    else:
        monkeypatch.setattr(torch.Tensor, "exponential_", lambda self, *a, **k: self.copy_(noise_t))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_rsample_gradients_from_the_same_noise(monkeypatch, name, dtype):
    params = _params(name, dtype)
    a, b, ours, theirs = _twins(name, params)
    assert a.has_rsample and b.has_rsample
    xa = a.rsample((5,))
    assert xa.shape == (5, 2, 3) and xa.dtype == dtype and xa.requires_grad
    _feed_torch(monkeypatch, name, _noise_of(name, xa.detach().numpy().astype(np.float64), params).astype(dtype))
    xb = b.rsample((5,))
    np.testing.assert_allclose(xa.detach().numpy(), xb.detach().numpy(), rtol=1e-4 if dtype == np.float32 else 1e-9,
                               atol=1e-5 if dtype == np.float32 else 1e-9)
    (xa ** 2).sum().backward()
    (xb ** 2).sum().backward()
    for k in ours:
        np.testing.assert_allclose(ours[k].grad.numpy(), theirs[k].grad.numpy(),
                                   rtol=1e-3 if dtype == np.float32 else 1e-8)


# kurtosis (E(x - mean)^4 / var^2) of each, for the standard error of the sample variance
KURTOSIS = {"Normal": 3.0, "Laplace": 6.0, "Uniform": 1.8, "Exponential": 9.0}


@pytest.mark.parametrize("name", NAMES)
def test_sample_moments(name):
    tg.manual_seed(0)
    params = {k: v[:1, :2] for k, v in _params(name, np.float64).items()}
    d = getattr(D, name)(**{k: tg.tensor(v) for k, v in params.items()})
    n = 40_000
    x = d.sample((n,)).numpy()
    assert x.shape == (n, 1, 2) and not d.sample().requires_grad
    mean, var = d.mean.numpy(), d.variance.numpy()
    assert (np.abs(x.mean(0) - mean) < 5 * np.sqrt(var / n)).all()
    assert (np.abs(x.var(0) - var) < 5 * var * np.sqrt((KURTOSIS[name] - 1) / n)).all()
    assert bool(d.support.check(tg.tensor(x)).all())


def test_seeding_reproduces_samples_and_shapes():
    d = D.Normal(tg.zeros(3), tg.ones(3))
    tg.manual_seed(7)
    first = d.sample((2,)).numpy().copy()
    tg.manual_seed(7)
    assert np.array_equal(d.sample((2,)).numpy(), first)
    assert not np.array_equal(d.sample((2,)).numpy(), first)
    assert d.sample().shape == (3,) and d.sample(4).shape == (4, 3) and d.sample(tg.Size([2, 5])).shape == (2, 5, 3)


def test_numbers_broadcasting_and_expand():
    a, b = D.Normal(0.0, 1.0), torch.distributions.Normal(0.0, 1.0)
    assert a.batch_shape == b.batch_shape == () and a.loc.dtype == np.float32 and a.sample().shape == ()
    a = D.Normal(tg.zeros(3, 1, dtype=tg.float64), 2.0)
    assert a.scale.dtype == np.float64 and a.batch_shape == (3, 1)
    a = D.Uniform(tg.zeros(2, 1), tg.ones(1, 4))
    assert a.batch_shape == (2, 4) and a.sample((3,)).shape == (3, 2, 4)
    for name in NAMES:
        params = _params(name, np.float64)
        ours = getattr(D, name)(**{k: tg.tensor(v[0]) for k, v in params.items()})
        theirs = getattr(torch.distributions, name)(**{k: torch.tensor(v[0]) for k, v in params.items()})
        ea, eb = ours.expand((4, 3)), theirs.expand((4, 3))
        assert type(ea) is getattr(D, name) and ea.batch_shape == eb.batch_shape == (4, 3)
        assert ea.sample((2,)).shape == (2, 4, 3)
        value = _values(name, params, np.float64)[:1, 0]
        _close(ea.log_prob(tg.tensor(value)), eb.log_prob(torch.tensor(value)), np.float64)


def test_log_prob_broadcasts_the_value():
    a, b = D.Normal(tg.zeros(2, 3), tg.ones(2, 3)), torch.distributions.Normal(torch.zeros(2, 3), torch.ones(2, 3))
    assert a.log_prob(tg.tensor(0.5)).shape == tuple(b.log_prob(torch.tensor(0.5)).shape) == (2, 3)
    value = RNG.normal(size=(5, 1, 3)).astype(np.float32)
    _close(a.log_prob(tg.tensor(value)), b.log_prob(torch.tensor(value)), np.float32)


def test_uniform_outside_support_without_validation():
    a = D.Uniform(tg.tensor([0.0]), tg.tensor([1.0]), validate_args=False)
    b = torch.distributions.Uniform(torch.tensor([0.0]), torch.tensor([1.0]), validate_args=False)
    value = np.array([[-0.5], [0.0], [0.5], [1.0], [2.0]], dtype=np.float32)
    _close(a.log_prob(tg.tensor(value)), b.log_prob(torch.tensor(value)), np.float32)
    _close(a.cdf(tg.tensor(value)), b.cdf(torch.tensor(value)), np.float32)


def test_vae_style_loss_gradients(monkeypatch):
    """A VAE's latent step: q = Normal(mu, exp(logvar / 2)), z = q.rsample(), a reconstruction
    term in z plus kl_divergence(q, N(0, 1)); the gradients to mu and logvar against torch's from
    the same noise."""
    mu, logvar = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3)) * 0.5
    target = RNG.normal(size=(4, 3))
    leaves = tg.tensor(mu, requires_grad=True), tg.tensor(logvar, requires_grad=True)
    leaves_t = torch.tensor(mu, requires_grad=True), torch.tensor(logvar, requires_grad=True)
    q = D.Normal(leaves[0], (0.5 * leaves[1]).exp())
    z = q.rsample()
    eps = (z.detach().numpy() - mu) / np.exp(0.5 * logvar)
    monkeypatch.setattr(torch.distributions.normal, "_standard_normal", lambda *a, **k: torch.from_numpy(eps.copy()))
    qt = torch.distributions.Normal(leaves_t[0], (0.5 * leaves_t[1]).exp())
    zt = qt.rsample()
    prior = D.Normal(tg.zeros(4, 3, dtype=tg.float64), tg.ones(4, 3, dtype=tg.float64))
    prior_t = torch.distributions.Normal(torch.zeros(4, 3, dtype=torch.float64), torch.ones(4, 3, dtype=torch.float64))
    loss = ((z - tg.tensor(target)) ** 2).sum() + D.kl_divergence(q, prior).sum()
    loss_t = ((zt - torch.tensor(target)) ** 2).sum() + torch.distributions.kl_divergence(qt, prior_t).sum()
    loss.backward()
    loss_t.backward()
    np.testing.assert_allclose(loss.item(), loss_t.item(), rtol=1e-10)
    for ours, theirs in zip(leaves, leaves_t):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-8, atol=1e-12)
