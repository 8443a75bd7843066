"""Matrix functions and torch.linalg against real torch: det, slogdet, logdet, inverse, solve,
cholesky, qr, svd, eigh, pinv, lstsq, matrix_rank, matrix_power, multi_dot and the norms.
Values, shapes, dtypes, named-tuple fields and float64 gradients (well-conditioned random
inputs, batched); factors defined up to signs (QR, SVD, eigenvectors) are compared through
sign-free functions of them; exceptions by torch's type."""

from __future__ import annotations

import builtins
import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")

from tests.ops.test_linalg_torch import arrays, check  # noqa: E402


def spd(n, batch=(), seed=0):
    a = arrays(batch + (n, n), seed=seed)[0]
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def raises_like(ours, theirs, inputs):
    """Both raise; ours raises the built-in exception class of torch's (torch's LinAlgError is a RuntimeError)."""
    with pytest.raises(Exception) as real:
        theirs(*[torch.tensor(a) for a in inputs])
    builtin = next(k for k in type(real.value).__mro__ if getattr(builtins, k.__name__, None) is k)
    with pytest.raises(builtin):
        ours(*[tg.tensor(a) for a in inputs])


def both(fn):
    """(ours, theirs) running ``fn(module, *tensors)`` with tinygrad_cnn and with torch."""
    return (lambda *t: fn(tg, *t)), (lambda *t: fn(torch, *t))


# ---------------------------------------------------------------- determinants, inverses, solves
@pytest.mark.parametrize("fn,inputs", [
    (lambda m, a: m.det(a), [arrays((2, 3, 3))[0]]),
    (lambda m, a: m.linalg.det(a), [arrays((4, 4))[0]]),
    (lambda m, a: m.det(a), [arrays((3, 2))[0] @ arrays((2, 3), seed=1)[0]]),  # singular: the cofactor gradient
    (lambda m, a: m.slogdet(a), [arrays((2, 3, 3))[0]]),
    (lambda m, a: m.linalg.slogdet(a), [arrays((3, 3))[0]]),
    (lambda m, a: m.logdet(a), [spd(3, (2,))]),
    (lambda m, a: a.inverse(), [arrays((2, 3, 3))[0]]),
    (lambda m, a: m.linalg.inv(a), [arrays((4, 4))[0]]),
    (lambda m, a: m.linalg.inv_ex(a), [arrays((2, 3, 3))[0]]),
    (lambda m, a: m.linalg.matrix_power(a, 3), [arrays((2, 3, 3))[0]]),
    (lambda m, a: m.matrix_power(a, -2), [arrays((3, 3))[0]]),
    (lambda m, a: m.linalg.matrix_power(a, 0), [arrays((3, 3))[0]]),
])
def test_determinants_and_inverses(fn, inputs):
    check(*both(fn), inputs, rtol=1e-6, atol=1e-8)


def test_named_fields_and_float32():
    a = arrays((3, 3), dtype=np.float32)[0]
    sign, logabsdet = tg.linalg.slogdet(tg.tensor(a))
    assert type(tg.linalg.slogdet(tg.tensor(a))).__name__ == "linalg_slogdet"
    assert type(tg.slogdet(tg.tensor(a))).__name__ == "slogdet" and logabsdet.dtype == np.float32
    assert tg.linalg.eigh(tg.tensor(spd(3))).eigenvectors.shape == (3, 3)
    for fn in (lambda m, x: m.det(x), lambda m, x: m.linalg.inv(x), lambda m, x: m.linalg.svdvals(x),
               lambda m, x: m.linalg.norm(x, "nuc"), lambda m, x: m.linalg.pinv(x)):
        check(*both(fn), [a], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shapes,kwargs", [
    ([(3, 3), (3,)], {}), ([(3, 3), (3, 2)], {}), ([(2, 3, 3), (2, 3)], {}), ([(2, 3, 3), (3, 2)], {}),
    ([(2, 3, 3), (3,)], {}), ([(1, 3, 3), (4, 3, 2)], {}), ([(3, 3), (2, 3)], {"left": False}),
])
def test_solve(shapes, kwargs):
    a, b = arrays(*shapes)
    a = a + 3 * np.eye(3)
    check(*both(lambda m, x, y: m.linalg.solve(x, y, **kwargs)), [a, b], rtol=1e-6)


def test_errors_are_torchs():
    square, wide, ints = arrays((3, 3))[0], arrays((2, 3))[0], np.arange(9).reshape(3, 3)
    for fn in (lambda m, x: m.det(x), lambda m, x: m.linalg.inv(x), lambda m, x: m.linalg.cholesky(x),
               lambda m, x: m.linalg.eigh(x), lambda m, x: m.linalg.slogdet(x), lambda m, x: m.linalg.matrix_power(x, 2)):
        raises_like(*both(fn), [wide])
        raises_like(*both(fn), [np.arange(3.0)])
    for fn in (lambda m, x: m.det(x), lambda m, x: m.linalg.inv(x), lambda m, x: m.linalg.qr(x),
               lambda m, x: m.linalg.svd(x), lambda m, x: m.linalg.matrix_power(x, -1)):
        raises_like(*both(fn), [ints])
    raises_like(*both(lambda m, x: m.linalg.inv(x)), [np.zeros((2, 3, 3))])
    raises_like(*both(lambda m, x: m.linalg.cholesky(x)), [-np.eye(3)])
    raises_like(*both(lambda m, x, y: m.linalg.solve(x, y)), [np.zeros((3, 3)), np.ones(3)])
    raises_like(*both(lambda m, x, y: m.linalg.solve(x, y)), [square, np.ones(4)])
    raises_like(*both(lambda m, x: m.linalg.qr(x, mode="x")), [square])
    raises_like(*both(lambda m, x: m.linalg.eigh(x, UPLO="X")), [square])
    raises_like(*both(lambda m, x, y: m.linalg.lstsq(x, y)), [arrays((5, 3))[0], np.ones(4)])
    with pytest.raises(tg.linalg.LinAlgError, match="leading minor of order 2"):
        tg.linalg.cholesky(tg.tensor(np.diag([1.0, -1.0, 1.0])))
    assert issubclass(tg.linalg.LinAlgError, RuntimeError)
    info = tg.linalg.inv_ex(tg.tensor(np.stack([np.eye(2), np.zeros((2, 2))]))).info
    assert info.dtype == np.int32 and info.tolist()[0] == 0 and info.tolist()[1] > 0


def test_cholesky():
    a = spd(3, (2,))
    check(*both(lambda m, x: m.linalg.cholesky(x)), [a], rtol=1e-6)
    check(*both(lambda m, x: m.linalg.cholesky(x, upper=True)), [a], rtol=1e-6)
    with pytest.warns(UserWarning, match="deprecated"):
        tg.cholesky(tg.tensor(a))
    with pytest.warns(UserWarning, match="deprecated"):
        tg.qr(tg.tensor(a))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(*both(lambda m, x: x.cholesky()), [a], rtol=1e-6)
        check(*both(lambda m, x: m.cholesky(x, upper=True)), [a], rtol=1e-6)


# ---------------------------------------------------------------- decompositions (sign-free comparisons)
def _positive_r(m, q, r):
    """Q and R with R's diagonal made positive (one sign per column of Q, row of R)."""
    sign = r.diagonal(0, -2, -1).sign()
    return q * sign.unsqueeze(-2), r * sign.unsqueeze(-1)


@pytest.mark.parametrize("shape,mode", [((4, 3), "reduced"), ((2, 3, 5), "reduced"), ((3, 3), "complete"),
                                        ((3, 5), "complete"), ((2, 4, 4), "reduced")])
def test_qr(shape, mode):
    check(*both(lambda m, a: _positive_r(m, *m.linalg.qr(a, mode))), arrays(shape), rtol=1e-6)
    q, r = tg.linalg.qr(tg.tensor(arrays(shape)[0]), mode)
    assert np.allclose(np.triu(r.numpy()), r.numpy()) and np.allclose((q @ r).numpy(), arrays(shape)[0])


def test_qr_modes_that_cannot_be_differentiated():
    a = arrays((4, 3))[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q, r = tg.qr(tg.tensor(a))
        assert q.shape == (4, 3) and r.shape == (3, 3) and type(tg.qr(tg.tensor(a))).__name__ == "qr"
        assert tg.tensor(a).qr(some=False).Q.shape == (4, 4)
    only_r = tg.linalg.qr(tg.tensor(a), mode="r")
    assert only_r.Q.shape == torch.linalg.qr(torch.tensor(a), mode="r").Q.shape
    np.testing.assert_allclose(np.abs(only_r.R.numpy()), np.abs(torch.linalg.qr(torch.tensor(a), mode="r").R.numpy()))
    for mode in ("r", "complete"):
        raises_like(*both(lambda m, x: m.linalg.qr(x.requires_grad_(), mode).R.sum().backward()), [a])


def _svd_invariants(u, s, vh):
    """S, the squares of the singular vectors and U diag(w) Vh: unchanged by the vectors' signs."""
    k = s.shape[-1]
    w = (s * 0 + 1).cumsum(-1)
    return s, u[..., :k] ** 2, vh[..., :k, :] ** 2, (u[..., :k] * w.unsqueeze(-2)) @ vh[..., :k, :]


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3), (2, 5, 2)])
@pytest.mark.parametrize("full", [False, True])
def test_svd(shape, full):
    check(*both(lambda m, a: _svd_invariants(*m.linalg.svd(a, full_matrices=full))), arrays(shape), rtol=1e-6)
    u, s, vh = tg.linalg.svd(tg.tensor(arrays(shape)[0]), full_matrices=full)
    ref = torch.linalg.svd(torch.tensor(arrays(shape)[0]), full_matrices=full)
    assert (u.shape, s.shape, vh.shape) == (ref.U.shape, ref.S.shape, ref.Vh.shape)


def test_torch_svd_and_svdvals():
    a = arrays((2, 4, 3))[0]
    for some in (True, False):
        check(*both(lambda m, x: _svd_invariants(*(lambda u, s, v: (u, s, v.mT))(*m.svd(x, some=some)))), [a],
              rtol=1e-6)
    res = tg.svd(tg.tensor(a), compute_uv=False)
    ref = torch.svd(torch.tensor(a), compute_uv=False)
    assert [t.shape for t in res] == [t.shape for t in ref] and not res.U.numpy().any()
    check(*both(lambda m, x: m.linalg.svdvals(x)), [a], rtol=1e-6)
    check(*both(lambda m, x: m.linalg.svdvals(x)), [np.eye(3)])  # repeated singular values: still finite


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh(uplo):
    a = arrays((2, 4, 4))[0]
    a = a + np.swapaxes(a, -1, -2) if uplo == "L" else a  # "U": the upper triangle is read, whatever is below

    def invariants(m, x):
        values, vectors = m.linalg.eigh(x, UPLO=uplo)
        return values, vectors ** 2, (vectors * values.unsqueeze(-2)) @ vectors.mT

    check(*both(invariants), [a], rtol=1e-6)
    check(*both(lambda m, x: m.linalg.eigvalsh(x, UPLO=uplo)), [a], rtol=1e-6)
    check(*both(lambda m, x: m.linalg.eigvalsh(x)), [np.eye(3)])  # repeated eigenvalues: still finite


@pytest.mark.parametrize("shape,kwargs", [((3, 5), {}), ((5, 3), {}), ((2, 4, 3), {}), ((3, 5), {"rtol": 0.1}),
                                          ((3, 5), {"atol": 0.5})])
def test_pinv(shape, kwargs):
    check(*both(lambda m, a: m.linalg.pinv(a, **kwargs)), arrays(shape), rtol=1e-6)


def test_pinverse_and_hermitian_pinv_and_rank():
    check(*both(lambda m, a: m.pinverse(a, 1e-3)), arrays((4, 3)), rtol=1e-6)
    check(*both(lambda m, a: m.linalg.pinv(a, hermitian=True)), [spd(3) - 4 * np.eye(3)], rtol=1e-6)
    low_rank = arrays((5, 2))[0] @ arrays((2, 4), seed=1)[0]
    for kwargs in ({}, {"atol": 0.1, "rtol": 0.0}, {"hermitian": True}):
        x = low_rank @ low_rank.T if kwargs.get("hermitian") else low_rank
        mine, real = tg.linalg.matrix_rank(tg.tensor(x), **kwargs), torch.linalg.matrix_rank(torch.tensor(x), **kwargs)
        assert mine.dtype == np.int64 and mine.item() == real.item() == 2
    assert tg.linalg.matrix_rank(tg.ones(5, 3), tol=0.1).item() == 1


@pytest.mark.parametrize("driver", [None, "gelsd", "gels", "gelss"])
def test_lstsq(driver):
    a, b = arrays((2, 5, 3), (2, 5, 2))
    fields = ("solution", "residuals", "rank", "singular_values")
    ours, theirs = both(lambda m, x, y: tuple(getattr(m.linalg.lstsq(x, y, driver=driver), f) for f in fields))
    check(ours, theirs, [a, b], rtol=1e-6)
    check(*both(lambda m, x, y: m.linalg.lstsq(x, y, driver=driver).solution), arrays((3, 5), (3,)), rtol=1e-6)


def test_multi_dot_vecdot_diagonal():
    check(*both(lambda m, *t: m.linalg.multi_dot(t)), arrays((3,), (3, 4), (4, 2), (2,)))
    check(*both(lambda m, *t: m.linalg.multi_dot(list(t))), arrays((2, 3), (3, 4)))
    check(*both(lambda m, x, y: m.linalg.vecdot(x, y)), arrays((3, 4), (4,)))
    check(*both(lambda m, x, y: m.linalg.vecdot(x, y, dim=0)), arrays((3, 4), (3, 1)))
    check(*both(lambda m, x: m.linalg.diagonal(x, offset=1)), arrays((2, 3, 4)))
    raises_like(*both(lambda m, x: m.linalg.multi_dot([x])), arrays((3,)))
    raises_like(*both(lambda m, x, y: m.linalg.multi_dot([x, y])), arrays((3, 3, 3), (3, 4)))


# ---------------------------------------------------------------- norms
@pytest.mark.parametrize("kwargs", [{}, {"ord": 1}, {"ord": 3.5}, {"ord": float("inf")}, {"ord": -float("inf")},
                                    {"ord": 0}, {"dim": 1}, {"dim": (0, 2), "keepdim": True},
                                    {"ord": 2, "dim": -1, "dtype": torch.float64}])
def test_vector_norm(kwargs):
    mine = {k: (np.float64 if k == "dtype" else v) for k, v in kwargs.items()}
    check(lambda x: tg.linalg.vector_norm(x, **mine), lambda x: torch.linalg.vector_norm(x, **kwargs),
          arrays((2, 3, 4)), rtol=1e-6)
    if "dim" in kwargs and "dtype" not in kwargs:
        p = kwargs.get("ord", 2)
        check(lambda x: x.norm(p, kwargs["dim"], kwargs.get("keepdim", False)),
              lambda x: torch.norm(x, p, kwargs["dim"], kwargs.get("keepdim", False)), arrays((2, 3, 4)))


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, 2, -2, float("inf"), -float("inf")])
def test_matrix_norm(ord):
    check(*both(lambda m, x: m.linalg.matrix_norm(x, ord)), arrays((2, 3, 4)), rtol=1e-6)
    check(*both(lambda m, x: m.linalg.matrix_norm(x, ord, dim=(2, 0), keepdim=True)), arrays((3, 2, 4)), rtol=1e-6)
    check(*both(lambda m, x: m.linalg.norm(x, ord)), arrays((3, 4)), rtol=1e-6)


@pytest.mark.parametrize("args", [(), (None, 1), (None, (1, 2)), (3, 0), ("nuc", (0, 1)), (None, None, True)])
def test_norm_dispatch(args):
    check(*both(lambda m, x: m.linalg.norm(x, *args)), arrays((2, 3, 4)), rtol=1e-6)
    check(*both(lambda m, x: m.linalg.norm(x, 2)), arrays((5,)), rtol=1e-6)


def test_norm_errors():
    for fn in (lambda m, x: m.linalg.norm(x, 2), lambda m, x: m.linalg.matrix_norm(x, 3),
               lambda m, x: m.linalg.vector_norm(x, "fro"), lambda m, x: m.linalg.norm(x[0, 0], "fro"),
               lambda m, x: m.linalg.vector_norm(x.long()), lambda m, x: m.linalg.matrix_norm(x[0, 0])):
        raises_like(*both(fn), arrays((2, 3, 4)))
