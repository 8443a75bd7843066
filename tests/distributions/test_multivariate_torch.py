"""MultivariateNormal (covariance_matrix, precision_matrix or scale_tril, batched and broadcast)
and Independent against torch.distributions: log_prob, entropy, mean, variance, the three
matrices, their gradients (of log_prob and of rsample-based losses from the same noise) and
shapes; sample moments; the differentiable triangular solve and inverse underneath."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.distributions as D
from tinygrad_cnn.distributions._linalg import cholesky_inverse, solve_lower
from tinygrad_cnn.linalg import cholesky

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")

pytestmark = pytest.mark.oracle

RNG = np.random.default_rng(2)
TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-10)}
KINDS = ["covariance_matrix", "precision_matrix", "scale_tril"]


def _close(a, b, dtype) -> None:
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    np.testing.assert_allclose(a.numpy(), b, **TOL[dtype])


def _scale_tril(batch: tuple, n: int) -> np.ndarray:
    L = np.tril(RNG.normal(size=batch + (n, n)) * 0.5)
    idx = np.arange(n)
    L[..., idx, idx] = RNG.uniform(0.5, 1.5, size=batch + (n,))
    return L


def _matrix(kind: str, L: np.ndarray, dtype) -> np.ndarray:
    cov = L @ np.swapaxes(L, -1, -2)
    return {"covariance_matrix": cov, "precision_matrix": np.linalg.inv(cov), "scale_tril": L}[kind].astype(dtype)


def _twins(loc: np.ndarray, kind: str, matrix: np.ndarray):
    leaves = tg.tensor(loc, requires_grad=True), tg.tensor(matrix, requires_grad=True)
    leaves_t = torch.tensor(loc, requires_grad=True), torch.tensor(matrix, requires_grad=True)
    return (D.MultivariateNormal(leaves[0], **{kind: leaves[1]}),
            torch.distributions.MultivariateNormal(leaves_t[0], **{kind: leaves_t[1]}), leaves, leaves_t)


# (loc batch, matrix batch): equal, the matrix broadcast over loc's batch, loc over the matrix's
BATCHES = [((), ()), ((2,), (2,)), ((3, 2), (2,)), ((), (2,))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batches", BATCHES)
@pytest.mark.parametrize("kind", KINDS)
def test_log_prob_entropy_and_gradients(kind, batches, dtype):
    loc_batch, mat_batch = batches
    loc = RNG.normal(size=loc_batch + (3,)).astype(dtype)
    a, b, leaves, leaves_t = _twins(loc, kind, _matrix(kind, _scale_tril(mat_batch, 3), dtype))
    assert a.batch_shape == b.batch_shape and a.event_shape == b.event_shape == (3,)
    for prop in ["mean", "mode", "variance", "stddev", "scale_tril", "covariance_matrix", "precision_matrix"]:
        _close(getattr(a, prop), getattr(b, prop), dtype)
    value = RNG.normal(size=(4,) + tuple(a.batch_shape) + (3,)).astype(dtype)
    la, lb = a.log_prob(tg.tensor(value)), b.log_prob(torch.tensor(value))
    _close(la, lb, dtype)
    _close(a.entropy(), b.entropy(), dtype)
    (la.sum() + a.entropy().sum()).backward()
    (lb.sum() + b.entropy().sum()).backward()
    for ours, theirs in zip(leaves, leaves_t):
        _close(ours.grad, theirs.grad, dtype)


@pytest.mark.parametrize("kind", KINDS)
def test_rsample_gradients_from_the_same_noise(monkeypatch, kind):
    loc = RNG.normal(size=(2, 3))
    a, b, leaves, leaves_t = _twins(loc, kind, _matrix(kind, _scale_tril((2,), 3), np.float64))
    x = a.rsample((5,))
    assert x.shape == (5, 2, 3) and x.requires_grad
    L = a.scale_tril.detach().numpy()
    noise = np.linalg.solve(L, (x.detach().numpy() - loc)[..., None])[..., 0]  # eps with x = loc + L eps
    monkeypatch.setattr(torch.distributions.multivariate_normal, "_standard_normal",
                        lambda *args, **kwargs: torch.from_numpy(noise.copy()))
    xt = b.rsample((5,))
    np.testing.assert_allclose(x.detach().numpy(), xt.detach().numpy(), rtol=1e-10, atol=1e-12)
    (x ** 2).sum().backward()
    (xt ** 2).sum().backward()
    for ours, theirs in zip(leaves, leaves_t):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_sample_moments_and_expand():
    tg.manual_seed(0)
    L = _scale_tril((), 3)
    cov = L @ L.T
    d = D.MultivariateNormal(tg.tensor([1.0, -1.0, 0.5], dtype=tg.float64), covariance_matrix=tg.tensor(cov))
    n = 40_000
    x = d.sample((n,)).numpy()
    assert x.shape == (n, 3) and not d.sample().requires_grad
    sd = np.sqrt(np.diag(cov))
    assert (np.abs(x.mean(0) - [1.0, -1.0, 0.5]) < 5 * sd / np.sqrt(n)).all()
    # each covariance entry's standard error is sqrt((cov_ii cov_jj + cov_ij^2) / n)
    assert (np.abs(np.cov(x.T) - cov) < 5 * np.sqrt((np.outer(sd ** 2, sd ** 2) + cov ** 2) / n)).all()
    e = d.expand((4, 2))
    t = torch.distributions.MultivariateNormal(torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64),
                                               covariance_matrix=torch.tensor(cov)).expand((4, 2))
    assert e.batch_shape == t.batch_shape == (4, 2) and e.covariance_matrix.shape == (4, 2, 3, 3)
    assert e.sample((5,)).shape == (5, 4, 2, 3)
    value = RNG.normal(size=(4, 2, 3))
    _close(e.log_prob(tg.tensor(value)), t.log_prob(torch.tensor(value)), np.float64)


def test_argument_errors_as_torch():
    loc, eye = tg.zeros(2), tg.eye(2)
    for kwargs in [{}, {"covariance_matrix": eye, "scale_tril": eye}]:
        with pytest.raises(ValueError, match="Exactly one"):
            D.MultivariateNormal(loc, **kwargs)
    with pytest.raises(ValueError, match="at least one-dimensional"):
        D.MultivariateNormal(tg.tensor(0.0), covariance_matrix=eye)
    with pytest.raises(ValueError, match="at least two-dimensional"):
        D.MultivariateNormal(loc, scale_tril=tg.ones(2))
    with pytest.raises(ValueError, match="covariance_matrix"):
        D.MultivariateNormal(loc, covariance_matrix=tg.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="scale_tril"):
        D.MultivariateNormal(loc, scale_tril=tg.tensor([[1.0, 0.0], [1.0, -1.0]]))
    with pytest.raises(RuntimeError, match="positive-definite"):
        D.MultivariateNormal(loc, covariance_matrix=tg.tensor([[1.0, 2.0], [2.0, 1.0]]), validate_args=False)
    with pytest.raises(ValueError, match="event_shape"):
        D.MultivariateNormal(loc, eye).log_prob(tg.zeros(3))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_triangular_solve_and_cholesky_inverse_gradients(dtype):
    L = _scale_tril((2,), 4)
    A = (L @ np.swapaxes(L, -1, -2)).astype(dtype)
    B = RNG.normal(size=(2, 4, 3)).astype(dtype)
    a, b = tg.tensor(A, requires_grad=True), tg.tensor(B, requires_grad=True)
    at, bt = torch.tensor(A, requires_grad=True), torch.tensor(B, requires_grad=True)
    lo, lot = cholesky(a), torch.linalg.cholesky(at)
    _close(lo, lot, dtype)
    x, xt = solve_lower(lo, b), torch.linalg.solve_triangular(lot, bt, upper=False)
    _close(x, xt, dtype)
    weights = RNG.normal(size=x.shape).astype(dtype)
    inv, invt = cholesky_inverse(lo), torch.cholesky_inverse(lot)
    _close(inv, invt, dtype)
    ((x * tg.tensor(weights)).sum() + (lo ** 3).sum() + (inv ** 2).sum()).backward()
    ((xt * torch.tensor(weights)).sum() + (lot ** 3).sum() + (invt ** 2).sum()).backward()
    _close(a.grad, at.grad, dtype)
    _close(b.grad, bt.grad, dtype)


def test_independent_normal_as_diagonal_gaussian():
    loc, scale = RNG.normal(size=(4, 3)), RNG.uniform(0.5, 2, size=(4, 3))
    leaves = tg.tensor(loc, requires_grad=True), tg.tensor(scale, requires_grad=True)
    leaves_t = torch.tensor(loc, requires_grad=True), torch.tensor(scale, requires_grad=True)
    a = D.Independent(D.Normal(*leaves), 1)
    b = torch.distributions.Independent(torch.distributions.Normal(*leaves_t), 1)
    assert a.batch_shape == b.batch_shape == (4,) and a.event_shape == b.event_shape == (3,)
    assert a.has_rsample and not a.has_enumerate_support and repr(a.support) == repr(b.support)
    value = RNG.normal(size=(2, 4, 3))
    la, lb = a.log_prob(tg.tensor(value)), b.log_prob(torch.tensor(value))
    _close(la, lb, np.float64)
    _close(a.entropy(), b.entropy(), np.float64)
    _close(a.mean, b.mean, np.float64)
    _close(a.variance, b.variance, np.float64)
    (la.sum() + a.entropy().sum()).backward()
    (lb.sum() + b.entropy().sum()).backward()
    for ours, theirs in zip(leaves, leaves_t):
        _close(ours.grad, theirs.grad, np.float64)
    assert a.rsample((5,)).shape == (5, 4, 3) and a.expand((2, 4)).batch_shape == (2, 4)
    assert D.Independent(D.Normal(*leaves), 2).batch_shape == ()
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        D.Independent(D.Normal(*leaves), 3)
    # the same log_prob as a MultivariateNormal with the diagonal covariance
    mvn = D.MultivariateNormal(tg.tensor(loc), scale_tril=tg.tensor(np.einsum("bi,ij->bij", scale, np.eye(3))))
    np.testing.assert_allclose(mvn.log_prob(tg.tensor(value)).numpy(), la.detach().numpy(), rtol=1e-12)
