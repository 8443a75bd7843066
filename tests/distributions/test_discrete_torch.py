"""Bernoulli, Categorical and OneHotCategorical against torch.distributions, given probs or
logits: log_prob, entropy, mean, mode, variance, the lazily derived probs/logits and their
gradients, enumerate_support, expand and shapes; sample frequencies match the probabilities
within 5 standard errors; the policy-gradient use of pytorch/examples' reinforce.py and
actor_critic.py."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.distributions as D
import tinygrad_cnn.nn.functional as F

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")

pytestmark = pytest.mark.oracle

RNG = np.random.default_rng(1)
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-12)}


def _close(a, b, dtype) -> None:
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    np.testing.assert_allclose(a.numpy(), b, equal_nan=True, **TOL[dtype])


def _twins(name: str, kind: str, param: np.ndarray):
    ours, theirs = tg.tensor(param, requires_grad=True), torch.tensor(param, requires_grad=True)
    return getattr(D, name)(**{kind: ours}), getattr(torch.distributions, name)(**{kind: theirs}), ours, theirs


def _categorical_param(kind: str, dtype) -> np.ndarray:
    """(2, 3, 4): unnormalised weights or logits over 4 categories."""
    return (RNG.uniform(0.1, 2, size=(2, 3, 4)) if kind == "probs" else RNG.normal(size=(2, 3, 4)) * 2).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["probs", "logits"])
def test_categorical(kind, dtype):
    a, b, ours, theirs = _twins("Categorical", kind, _categorical_param(kind, dtype))
    assert a.batch_shape == b.batch_shape == (2, 3) and a.event_shape == b.event_shape == ()
    assert a.param_shape == b.param_shape and a._num_events == 4
    for prop in ["probs", "logits", "mean", "variance"]:
        _close(getattr(a, prop), getattr(b, prop), dtype)
    _close(a.mode, b.mode, dtype)
    _close(a.entropy(), b.entropy(), dtype)
    value = RNG.integers(0, 4, size=(5, 2, 3))
    la, lb = a.log_prob(tg.tensor(value)), b.log_prob(torch.tensor(value))
    _close(la, lb, dtype)
    (la.sum() + a.entropy().sum()).backward()
    (lb.sum() + b.entropy().sum()).backward()
    _close(ours.grad, theirs.grad, dtype)
    assert a.support.upper_bound == 3 and repr(a.support) == repr(b.support)
    for expand in (True, False):
        _close(a.enumerate_support(expand), b.enumerate_support(expand), dtype)
    assert a.sample().shape == (2, 3) and a.sample((5, 1)).shape == (5, 1, 2, 3) and a.sample().dtype == np.int64
    e_a, e_b = a.expand((4, 2, 3)), b.expand((4, 2, 3))
    assert e_a.batch_shape == e_b.batch_shape and e_a.sample().shape == (4, 2, 3)
    _close(e_a.log_prob(tg.tensor(value[:1])), e_b.log_prob(torch.tensor(value[:1])), dtype)


def test_categorical_one_dimensional_and_zero_probabilities():
    probs = np.array([0.0, 0.25, 0.75, 0.0], dtype=np.float64)
    a, b, _, _ = _twins("Categorical", "probs", probs)
    assert a.batch_shape == () and a.sample().shape == ()
    _close(a.entropy(), b.entropy(), np.float64)
    _close(a.logits, b.logits, np.float64)
    tg.manual_seed(0)
    draws = a.sample((20_000,)).numpy()
    assert set(np.unique(draws)) <= {1, 2}


@pytest.mark.parametrize("name", ["Categorical", "OneHotCategorical"])
def test_category_frequencies(name):
    tg.manual_seed(0)
    probs = np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]])
    d = getattr(D, name)(probs=tg.tensor(probs))
    n = 40_000
    draws = d.sample((n,)).numpy()
    counts = draws.sum(0) if name == "OneHotCategorical" else np.stack([(draws == k).sum(0) for k in range(3)], -1)
    assert draws.shape == ((n, 2, 3) if name == "OneHotCategorical" else (n, 2))
    assert (np.abs(counts / n - probs) < 5 * np.sqrt(probs * (1 - probs) / n)).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["probs", "logits"])
def test_one_hot_categorical(kind, dtype):
    a, b, ours, theirs = _twins("OneHotCategorical", kind, _categorical_param(kind, dtype))
    assert a.batch_shape == b.batch_shape == (2, 3) and a.event_shape == b.event_shape == (4,)
    for prop in ["probs", "logits", "mean", "variance", "mode"]:
        _close(getattr(a, prop), getattr(b, prop), dtype)
    value = np.eye(4, dtype=dtype)[RNG.integers(0, 4, size=(5, 2, 3))]
    la, lb = a.log_prob(tg.tensor(value)), b.log_prob(torch.tensor(value))
    _close(la, lb, dtype)
    (la.sum() + a.entropy().sum()).backward()
    (lb.sum() + b.entropy().sum()).backward()
    _close(ours.grad, theirs.grad, dtype)
    for expand in (True, False):
        _close(a.enumerate_support(expand), b.enumerate_support(expand), dtype)
    sample = a.sample((3,))
    assert sample.shape == (3, 2, 3, 4) and sample.dtype == dtype and (sample.numpy().sum(-1) == 1).all()
    assert bool(a.support.check(sample).all())


def test_one_hot_straight_through_rsample():
    probs = np.array([0.2, 0.3, 0.5])
    ours, theirs = tg.tensor(probs, requires_grad=True), torch.tensor(probs, requires_grad=True)
    a = D.OneHotCategoricalStraightThrough(probs=ours)
    b = torch.distributions.OneHotCategoricalStraightThrough(probs=theirs)
    x = a.rsample()
    weights = np.array([1.0, -2.0, 3.0])
    (x * tg.tensor(weights)).sum().backward()
    (b.rsample() * torch.tensor(weights)).sum().backward()
    assert a.has_rsample and (x.detach().numpy().sum() == 1)
    _close(ours.grad, theirs.grad, np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["probs", "logits"])
def test_bernoulli(kind, dtype):
    param = (RNG.uniform(0.05, 0.95, size=(2, 3)) if kind == "probs" else RNG.normal(size=(2, 3)) * 2).astype(dtype)
    a, b, ours, theirs = _twins("Bernoulli", kind, param)
    assert a.batch_shape == b.batch_shape == (2, 3) and a.param_shape == b.param_shape
    for prop in ["probs", "logits", "mean", "variance", "stddev", "mode"]:
        _close(getattr(a, prop), getattr(b, prop), dtype)
    value = RNG.integers(0, 2, size=(5, 2, 3)).astype(dtype)
    la, lb = a.log_prob(tg.tensor(value)), b.log_prob(torch.tensor(value))
    _close(la, lb, dtype)
    _close(a.entropy(), b.entropy(), dtype)
    (la.sum() + a.entropy().sum()).backward()
    (lb.sum() + b.entropy().sum()).backward()
    _close(ours.grad, theirs.grad, dtype)
    for expand in (True, False):
        _close(a.enumerate_support(expand), b.enumerate_support(expand), dtype)
    e_a, e_b = a.expand((4, 2, 3)), b.expand((4, 2, 3))
    _close(e_a.log_prob(tg.tensor(value[:1])), e_b.log_prob(torch.tensor(value[:1])), dtype)


def test_bernoulli_edges_numbers_and_frequencies():
    probs = np.array([0.0, 0.5, 1.0])
    a, b, _, _ = _twins("Bernoulli", "probs", probs)
    _close(a.mode, b.mode, np.float64)  # NaN at 1/2, as torch
    _close(a.entropy(), b.entropy(), np.float64)
    _close(a.log_prob(tg.tensor([0.0, 1.0, 1.0])), b.log_prob(torch.tensor([0.0, 1.0, 1.0], dtype=torch.float64)),
           np.float64)
    scalar = D.Bernoulli(0.3)
    assert scalar.batch_shape == () and scalar.probs.dtype == np.float32 and scalar.sample((2,)).shape == (2,)
    tg.manual_seed(0)
    p = np.array([0.1, 0.6])
    draws = D.Bernoulli(tg.tensor(p)).sample((40_000,)).numpy()
    assert set(np.unique(draws)) == {0.0, 1.0} and draws.dtype == np.float64
    assert (np.abs(draws.mean(0) - p) < 5 * np.sqrt(p * (1 - p) / 40_000)).all()


def test_lazy_parameters_are_derived_once_and_keep_the_graph():
    logits = tg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    d = D.Categorical(logits=logits)
    assert "probs" not in d.__dict__
    probs = d.probs
    assert d.probs is probs and "probs" in d.__dict__
    probs[0].backward()
    expected = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    torch.distributions.Categorical(logits=expected).probs[0].backward()
    np.testing.assert_allclose(logits.grad.numpy(), expected.grad.numpy(), rtol=1e-5)


def test_reinforce_and_actor_critic_usage():
    """The distribution calls of pytorch/examples reinforcement_learning (reinforce.py,
    actor_critic.py): Categorical(probs) of a softmax policy, sample(), log_prob(action)
    collected over steps, a return-weighted loss and its backward, against torch."""
    weights = RNG.normal(size=(4, 2)).astype(np.float32)
    states = RNG.normal(size=(6, 4)).astype(np.float32)
    returns = RNG.normal(size=6).astype(np.float32)
    w_ours, w_theirs = tg.tensor(weights, requires_grad=True), torch.tensor(weights, requires_grad=True)
    tg.manual_seed(0)
    ours_lp, theirs_lp = [], []
    for state in states:
        probs = F.softmax(tg.from_numpy(state).float().unsqueeze(0) @ w_ours, dim=1)  # reinforce.py's policy
        m = D.Categorical(probs)
        action = m.sample()
        assert action.shape == (1,) and action.dtype == np.int64 and 0 <= action.item() < 2
        ours_lp.append(m.log_prob(action))
        # torch takes the same action, so the losses and gradients can be compared
        probs_t = torch.softmax(torch.from_numpy(state).float().unsqueeze(0) @ w_theirs, dim=1)
        theirs_lp.append(torch.distributions.Categorical(probs_t).log_prob(torch.from_numpy(action.numpy())))
    loss = tg.cat([-lp * float(r) for lp, r in zip(ours_lp, returns)]).sum()
    loss_t = torch.cat([-lp * float(r) for lp, r in zip(theirs_lp, returns)]).sum()
    loss.backward()
    loss_t.backward()
    np.testing.assert_allclose(loss.item(), loss_t.item(), rtol=1e-5)
    np.testing.assert_allclose(w_ours.grad.numpy(), w_theirs.grad.numpy(), rtol=1e-4, atol=1e-6)
    # actor_critic.py: action.item() picks the env action; m.log_prob(action) stays a 0-d tensor
    m = D.Categorical(F.softmax(tg.tensor(states[:1]) @ w_ours, dim=-1).squeeze(0))
    action = m.sample()
    assert action.shape == () and isinstance(action.item(), int) and m.log_prob(action).shape == ()
