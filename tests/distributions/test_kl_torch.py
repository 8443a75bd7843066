"""kl_divergence against torch.distributions.kl_divergence for every registered pair (values in
float32 and float64, gradients to both distributions' parameters, the infinite cases), the
NotImplementedError of an unregistered pair, and register_kl's most-specific dispatch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.distributions as D

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")

pytestmark = pytest.mark.oracle

RNG = np.random.default_rng(3)
TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-8, atol=1e-9)}  # trigamma differs by ~1e-10


def _tril(n: int) -> np.ndarray:
    L = np.tril(RNG.normal(size=(2, n, n)) * 0.5)
    L[:, np.arange(n), np.arange(n)] = RNG.uniform(0.5, 1.5, size=(2, n))
    return L


def _params(name: str) -> dict[str, np.ndarray]:
    """Batched (2, 3) parameters of ``name`` (float64)."""
    positive = lambda: RNG.uniform(0.5, 2.0, size=(2, 3))  # noqa: E731
    if name in ("Normal", "Laplace"):
        return {"loc": RNG.normal(size=(2, 3)), "scale": positive()}
    if name == "Uniform":
        low = RNG.normal(size=(2, 3))
        return {"low": low, "high": low + positive()}
    if name == "Exponential":
        return {"rate": positive()}
    if name == "Bernoulli":
        return {"probs": RNG.uniform(0.05, 0.95, size=(2, 3))}
    if name in ("Categorical", "OneHotCategorical"):
        return {"logits": RNG.normal(size=(2, 3, 4))}
    if name in ("Poisson",):
        return {"rate": positive()}
    if name == "Binomial":
        return {"total_count": np.full((2, 3), 6.0), "probs": RNG.uniform(0.05, 0.95, size=(2, 3))}
    if name == "Gamma":
        return {"concentration": positive() * 2, "rate": positive()}
    if name == "Beta":
        return {"concentration1": positive() * 2, "concentration0": positive() * 2}
    if name == "Dirichlet":
        return {"concentration": RNG.uniform(0.5, 4.0, size=(2, 3, 4))}
    return {"loc": RNG.normal(size=(2, 3)), "scale_tril": _tril(3)}  # MultivariateNormal


def _pair(name: str, params: dict, dtype):
    """Ours and torch's, with their leaf tensors."""
    ours = {k: tg.tensor(v.astype(dtype), requires_grad=True) for k, v in params.items()}
    theirs = {k: torch.tensor(v.astype(dtype), requires_grad=True) for k, v in params.items()}
    return getattr(D, name)(**ours), getattr(torch.distributions, name)(**theirs), ours, theirs


PAIRS = [("Normal", "Normal"), ("Laplace", "Laplace"), ("Uniform", "Uniform"), ("Exponential", "Exponential"),
         ("Bernoulli", "Bernoulli"), ("Categorical", "Categorical"), ("OneHotCategorical", "OneHotCategorical"),
         ("MultivariateNormal", "MultivariateNormal"), ("Laplace", "Normal"), ("Exponential", "Normal"),
         ("Uniform", "Normal"), ("Uniform", "Exponential"), ("Normal", "Uniform"), ("Normal", "Exponential"),
         ("Laplace", "Uniform"), ("Laplace", "Exponential"), ("Exponential", "Uniform"), ("Normal", "Laplace"),
         ("Poisson", "Poisson"), ("Binomial", "Binomial"), ("Gamma", "Gamma"), ("Beta", "Beta"),
         ("Dirichlet", "Dirichlet"), ("Bernoulli", "Poisson"), ("Poisson", "Bernoulli"), ("Poisson", "Binomial"),
         ("Exponential", "Gamma"), ("Gamma", "Exponential"), ("Gamma", "Normal"), ("Beta", "Exponential"),
         ("Beta", "Gamma"), ("Beta", "Normal"), ("Beta", "Uniform"), ("Uniform", "Beta"), ("Uniform", "Gamma"),
         ("Normal", "Beta"), ("Normal", "Gamma"), ("Laplace", "Beta"), ("Laplace", "Gamma"), ("Exponential", "Beta"),
         ("Gamma", "Beta"), ("Gamma", "Uniform")]

# parameters moving p inside q's support (the KL is infinite otherwise, as the infinite cases test)
INSIDE = {
    ("Uniform", "Exponential"): lambda p, q: ({"low": p["low"] + 3.0, "high": p["high"] + 3.0}, q),
    ("Uniform", "Gamma"): lambda p, q: ({"low": p["low"] + 3.0, "high": p["high"] + 3.0}, q),
    ("Uniform", "Beta"): lambda p, q: ({"low": RNG.uniform(0.05, 0.4, size=(2, 3)),
                                        "high": RNG.uniform(0.6, 0.95, size=(2, 3))}, q),
    ("Beta", "Uniform"): lambda p, q: (p, {"low": -RNG.uniform(0.1, 1, size=(2, 3)),
                                           "high": 1 + RNG.uniform(0.1, 1, size=(2, 3))}),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("names", PAIRS, ids=["-".join(p) for p in PAIRS])
def test_kl_values_and_gradients(names, dtype):
    p_params, q_params = _params(names[0]), _params(names[1])
    if names in INSIDE:
        p_params, q_params = INSIDE[names](p_params, q_params)
    p, pt, p_leaves, pt_leaves = _pair(names[0], p_params, dtype)
    q, qt, q_leaves, qt_leaves = _pair(names[1], q_params, dtype)
    kl, klt = D.kl_divergence(p, q), torch.distributions.kl_divergence(pt, qt)
    assert kl.dtype == dtype and kl.shape == tuple(klt.shape) == tuple(p.batch_shape)
    np.testing.assert_allclose(kl.detach().numpy(), klt.detach().numpy(), **TOL[dtype])
    if np.isinf(kl.detach().numpy()).all():
        return
    assert (kl.detach().numpy() >= -1e-6).all()
    kl.sum().backward()
    klt.sum().backward()
    for ours, theirs in [(p_leaves, pt_leaves), (q_leaves, qt_leaves)]:
        for k in ours:
            expected = np.zeros(ours[k].shape, dtype) if theirs[k].grad is None else theirs[k].grad.numpy()
            got = np.zeros(ours[k].shape, dtype) if ours[k].grad is None else ours[k].grad.numpy()
            np.testing.assert_allclose(got, expected, **TOL[dtype])


def test_kl_infinite_and_zero_cases_as_torch():
    cases = [
        (D.Uniform(tg.tensor([0.0, 0.0]), tg.tensor([1.0, 2.0])), D.Uniform(tg.tensor([0.0, 0.5]), tg.tensor([3.0, 3.0])),
         torch.distributions.Uniform(torch.tensor([0.0, 0.0]), torch.tensor([1.0, 2.0])),
         torch.distributions.Uniform(torch.tensor([0.0, 0.5]), torch.tensor([3.0, 3.0]))),
        (D.Bernoulli(tg.tensor([0.0, 0.5, 1.0, 0.3])), D.Bernoulli(tg.tensor([0.5, 0.0, 1.0, 1.0])),
         torch.distributions.Bernoulli(torch.tensor([0.0, 0.5, 1.0, 0.3])),
         torch.distributions.Bernoulli(torch.tensor([0.5, 0.0, 1.0, 1.0]))),
        (D.Categorical(tg.tensor([[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]])), D.Categorical(tg.tensor([[0.2, 0.8, 0.0]])),
         torch.distributions.Categorical(torch.tensor([[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]])),
         torch.distributions.Categorical(torch.tensor([[0.2, 0.8, 0.0]]))),
        (D.Uniform(tg.tensor([-1.0]), tg.tensor([1.0])), D.Exponential(tg.tensor([1.0])),
         torch.distributions.Uniform(torch.tensor([-1.0]), torch.tensor([1.0])),
         torch.distributions.Exponential(torch.tensor([1.0]))),
    ]
    for p, q, pt, qt in cases:
        kl, klt = D.kl_divergence(p, q).numpy(), torch.distributions.kl_divergence(pt, qt).numpy()
        assert np.isinf(klt).any()
        np.testing.assert_allclose(kl, klt, rtol=1e-6)


def test_kl_independent_and_self():
    loc, scale = RNG.normal(size=(4, 3)), RNG.uniform(0.5, 2, size=(4, 3))
    p = D.Independent(D.Normal(tg.tensor(loc), tg.tensor(scale)), 1)
    q = D.Independent(D.Normal(tg.zeros(4, 3, dtype=tg.float64), tg.ones(4, 3, dtype=tg.float64)), 1)
    pt = torch.distributions.Independent(torch.distributions.Normal(torch.tensor(loc), torch.tensor(scale)), 1)
    qt = torch.distributions.Independent(torch.distributions.Normal(torch.zeros(4, 3, dtype=torch.float64),
                                                                    torch.ones(4, 3, dtype=torch.float64)), 1)
    kl = D.kl_divergence(p, q)
    assert kl.shape == (4,)
    np.testing.assert_allclose(kl.numpy(), torch.distributions.kl_divergence(pt, qt).numpy(), rtol=1e-12)
    np.testing.assert_allclose(D.kl_divergence(p, p).numpy(), 0, atol=1e-12)
    with pytest.raises(NotImplementedError):
        D.kl_divergence(p, D.Independent(D.Normal(tg.zeros(4, 3), tg.ones(4, 3)), 2))


def test_unregistered_pair_raises_not_implemented():
    with pytest.raises(NotImplementedError, match="Bernoulli.*Normal"):
        D.kl_divergence(D.Bernoulli(0.3), D.Normal(0.0, 1.0))
    with pytest.raises(NotImplementedError):
        torch.distributions.kl_divergence(torch.distributions.Bernoulli(0.3), torch.distributions.Normal(0.0, 1.0))
    with pytest.raises(TypeError):
        D.register_kl(int, D.Normal)


def test_register_kl_most_specific_match():
    class MyNormal(D.Normal):
        pass

    p, q = MyNormal(0.0, 1.0), D.Normal(1.0, 2.0)
    np.testing.assert_allclose(D.kl_divergence(p, q).numpy(), D.kl_divergence(D.Normal(0.0, 1.0), q).numpy())

    @D.register_kl(MyNormal, D.Normal)
    def _custom(p, q):
        return tg.tensor(-1.0)

    try:
        assert D.kl_divergence(p, q).item() == -1.0
        assert D.kl_divergence(q, q).item() == 0.0  # the base pair still finds the closed form

        @D.register_kl(D.Normal, MyNormal)
        def _other(p, q):
            return tg.tensor(-2.0)

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            D.kl_divergence(p, MyNormal(0.0, 1.0))
        assert any(issubclass(w.category, RuntimeWarning) and "Ambiguous" in str(w.message) for w in caught)
    finally:
        from tinygrad_cnn.distributions import kl

        kl._KL_REGISTRY.pop((MyNormal, D.Normal), None)
        kl._KL_REGISTRY.pop((D.Normal, MyNormal), None)
        kl._KL_MEMOIZE.clear()


def test_kl_binomial_counts_as_torch():
    p, pt = D.Binomial(tg.tensor([5.0, 6.0]), tg.tensor([0.3, 0.4])), torch.distributions.Binomial(
        torch.tensor([5.0, 6.0]), torch.tensor([0.3, 0.4]))
    q, qt = D.Binomial(tg.tensor([5.0, 4.0]), tg.tensor([0.5, 0.5])), torch.distributions.Binomial(
        torch.tensor([5.0, 4.0]), torch.tensor([0.5, 0.5]))
    kl, klt = D.kl_divergence(p, q).numpy(), torch.distributions.kl_divergence(pt, qt).numpy()
    assert np.isinf(kl[1]) and np.isinf(klt[1])
    np.testing.assert_allclose(kl, klt, rtol=1e-6)
    with pytest.raises(NotImplementedError, match="total_count"):
        D.kl_divergence(q, p)
    with pytest.raises(NotImplementedError, match="total_count"):
        torch.distributions.kl_divergence(qt, pt)
