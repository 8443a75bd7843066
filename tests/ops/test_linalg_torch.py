"""einsum, tensordot, the fused products (addmm & co.), the diagonal family and the other torch.*
linear-algebra functions against real torch: values, shapes, dtypes, gradients (float64,
through backward with a random upstream gradient) and torch's exception types."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tg
from tinygrad_cnn.testing.oracle import check_outputs_against_torch, raises_like_torch

torch = pytest.importorskip("torch")


def arrays(*shapes, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def check(ours, theirs, inputs, grad=True, rtol=1e-7, atol=1e-9, seed=1):
    """``ours`` on tinygrad tensors and ``theirs`` on torch tensors of ``inputs``: outputs and
    input gradients equal (the gradients within ten times the tolerances; requires_grad of the
    outputs not compared: torch's slogdet sign and empty lstsq residuals require grad, ours not)."""
    check_outputs_against_torch(ours, theirs, inputs, grad=grad, rtol=rtol, atol=atol, seed=seed,
                                grad_rtol=rtol * 10, grad_atol=atol * 10, same_requires_grad=False)


def raises_like(ours, theirs, inputs):
    """Both raise, and ours raises torch's exception type (or a subclass of it)."""
    raises_like_torch(lambda lib, *t: (ours if lib is tg else theirs)(*t), *inputs)


# ---------------------------------------------------------------- einsum and tensordot
EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->ji", [(3, 3, 2)]),
    ("ij->", [(2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("i,j->ij", [(2,), (3,)]),
    ("i,i->", [(4,), (4,)]),
    ("ij,ij->ij", [(2, 1), (2, 3)]),
    ("...ij,...jk", [(5, 2, 3), (1, 3, 4)]),
    ("b...a,...a", [(2, 4, 3), (3,)]),
    ("...ij->ij", [(5, 2, 3)]),
    ("Ba,aB", [(2, 3), (3, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("ijk,ji->k", [(3, 2, 4), (2, 3)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    (" i j , j k -> i k ", [(2, 3), (3, 4)]),
]


@pytest.mark.parametrize("equation,shapes", EINSUM)
def test_einsum_values_and_gradients(equation, shapes):
    check(lambda *t: tg.einsum(equation, *t), lambda *t: torch.einsum(equation, *t), arrays(*shapes))


@st.composite
def einsum_cases(draw):
    """A random equation over 1-3 operands of letters from "abcd" (repeats, private letters,
    size-1 broadcasting, implicit or explicit outputs) with operand arrays to match."""
    sizes = {c: draw(st.integers(1, 3)) for c in "abcd"}
    terms = [draw(st.text("abcd", min_size=0, max_size=3)) for _ in range(draw(st.integers(1, 3)))]
    used = sorted(set("".join(terms)))
    output = None if draw(st.booleans()) else "".join(draw(st.permutations(used))[:draw(st.integers(0, len(used)))])
    shapes = [tuple(1 if draw(st.integers(0, 4)) == 0 and term.count(c) == 1 else sizes[c] for c in term)
              for term in terms]
    equation = ",".join(terms) + ("" if output is None else "->" + output)
    return equation, arrays(*shapes, seed=draw(st.integers(0, 99)))


@given(einsum_cases())
def test_einsum_matches_torch_on_random_equations(case):
    equation, inputs = case
    check(lambda *t: tg.einsum(equation, *t), lambda *t: torch.einsum(equation, *t), inputs)


def test_einsum_list_and_sublist_forms_and_dtypes():
    a, b = arrays((2, 3), (3, 4))
    check(lambda x, y: tg.einsum("ij,jk->ik", [x, y]), lambda x, y: torch.einsum("ij,jk->ik", [x, y]), [a, b])
    check(lambda x, y: tg.einsum(x, [0, 1], y, [1, 2], [0, 2]),
          lambda x, y: torch.einsum(x, [0, 1], y, [1, 2], [0, 2]), [a, b])
    check(lambda x: tg.einsum(x, [..., 1], [...]), lambda x: torch.einsum(x, [..., 1], [...]), [a])
    check(lambda x, y: tg.einsum("ij,jk", x, y), lambda x, y: torch.einsum("ij,jk", x, y),
          arrays((2, 3), (3, 4), dtype=np.float32), rtol=1e-5, atol=1e-6)
    ints = [np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)]
    check(lambda x, y: tg.einsum("ij,jk", x, y), lambda x, y: torch.einsum("ij,jk", x, y), ints, grad=False)


@pytest.mark.parametrize("equation,shapes", [
    ("ij,jk->", [(2, 3)]), ("ij->k", [(2, 3)]), ("ij->ii", [(2, 3)]), ("ii->i", [(2, 3)]), ("i", [(2, 3)]),
    ("i1", [(2, 3)]), ("ij->j->i", [(2, 3)]), ("ij,jk", [(2, 3), (4, 4)]), ("i...j...", [(2, 3)]),
    ("ij..", [(2, 3)]), ("ij->i.", [(2, 3)]), ("ij,jk->ik", [(2, 3), (3, 4), (3,)]), ("ij->i,j", [(2, 3)]),
])
def test_einsum_errors_are_torchs(equation, shapes):
    raises_like(lambda *t: tg.einsum(equation, *t), lambda *t: torch.einsum(equation, *t), arrays(*shapes))


def test_einsum_mixed_dtypes_and_bad_sublists_raise():
    a, b = arrays((2, 3), (3, 4))
    with pytest.raises(RuntimeError, match="expected scalar type"):
        tg.einsum("ij,jk", tg.tensor(a.astype(np.float32)), tg.tensor(b))
    with pytest.raises(ValueError, match="valid range"):
        tg.einsum(tg.tensor(a), [0, 52])


@pytest.mark.parametrize("dims,shapes", [
    (2, [(2, 3, 4), (3, 4, 5)]), (1, [(2, 3, 4), (4, 5)]), (0, [(2, 3), (4,)]), (([1, 2], [0, 1]), [(2, 3, 4), (3, 4, 5)]),
    (([0], [1]), [(3, 2), (4, 3)]), ([[2, 1], [1, 0]], [(2, 3, 4), (3, 4, 5)]),
])
def test_tensordot(dims, shapes):
    check(lambda a, b: tg.tensordot(a, b, dims), lambda a, b: torch.tensordot(a, b, dims), arrays(*shapes))


def test_tensordot_errors():
    a, b = arrays((2, 3, 4), (3, 4, 5))
    raises_like(lambda x, y: tg.tensordot(x, y, -1), lambda x, y: torch.tensordot(x, y, -1), [a, b])
    raises_like(lambda x, y: tg.tensordot(x, y, ([1], [1])), lambda x, y: torch.tensordot(x, y, ([1], [1])), [a, b])
    raises_like(lambda x, y: tg.tensordot(x, y, 1), lambda x, y: torch.tensordot(x, y, 1),
                [a, b.astype(np.float32)])


# ---------------------------------------------------------------- addmm & co.
PRODUCTS = [
    ("addmm", [(4,), (2, 3), (3, 4)], {}),
    ("addmm", [(2, 4), (2, 3), (3, 4)], {"beta": 0.5, "alpha": 2.0}),
    ("addmv", [(3,), (3, 4), (4,)], {"alpha": -1.5}),
    ("addmv", [(1,), (3, 4), (4,)], {"beta": 2.0}),
    ("addr", [(3, 1), (3,), (4,)], {"beta": 0.3}),
    ("baddbmm", [(3,), (2, 3, 4), (2, 4, 3)], {"beta": 0.7, "alpha": 2.0}),
    ("addbmm", [(3, 3), (2, 3, 4), (2, 4, 3)], {"alpha": 0.5}),
]


@pytest.mark.parametrize("name,shapes,kwargs", PRODUCTS)
def test_fused_products(name, shapes, kwargs):
    check(lambda *t: getattr(tg, name)(*t, **kwargs), lambda *t: getattr(torch, name)(*t, **kwargs), arrays(*shapes))
    check(lambda s, *t: getattr(s, name)(*t, **kwargs), lambda s, *t: getattr(s, name)(*t, **kwargs),
          arrays(*shapes, dtype=np.float32), rtol=1e-5, atol=1e-5)


def test_beta_zero_ignores_nan_and_integer_rules():
    nan, a, b = np.full((2, 4), np.nan), *arrays((2, 3), (3, 4))
    check(lambda i, x, y: tg.addmm(i, x, y, beta=0), lambda i, x, y: torch.addmm(i, x, y, beta=0), [nan, a, b])
    ints = [np.arange(4), np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)]
    check(lambda *t: tg.addmm(*t, alpha=2), lambda *t: torch.addmm(*t, alpha=2), ints, grad=False)
    for name, kwargs in (("addmm", {"beta": 0.5}), ("addmm", {"alpha": 2.5}), ("addbmm", {"alpha": -1.5})):
        inputs = ints if name == "addmm" else [ints[0], ints[1][None], ints[2][None]]
        check(lambda *t: getattr(tg, name)(*t, **kwargs), lambda *t: getattr(torch, name)(*t, **kwargs), inputs,
              grad=False)  # float scalars truncated to ints, as torch
    outer_ints = [np.arange(6).reshape(2, 3), np.arange(2), np.arange(3)]
    raises_like(lambda *t: tg.addr(*t, beta=0.5), lambda *t: torch.addr(*t, beta=0.5), outer_ints)


@pytest.mark.parametrize("name,shapes", [
    ("addmm", [(3,), (2, 3), (3, 4)]), ("addmm", [(4,), (2, 3), (4, 4)]), ("addmm", [(4,), (3,), (3, 4)]),
    ("addmv", [(2,), (2, 3), (4,)]), ("baddbmm", [(3,), (2, 3, 4), (3, 4, 3)]), ("addr", [(3, 4), (3, 1), (4,)]),
])
def test_fused_product_errors(name, shapes):
    raises_like(getattr(tg, name), getattr(torch, name), arrays(*shapes))


def test_fused_products_dtype_mismatch_raises():
    i, a, b = arrays((4,), (2, 3), (3, 4))
    raises_like(tg.addmm, torch.addmm, [i, a, b.astype(np.float32)])


def test_inplace_products():
    i, a, b = arrays((2, 4), (2, 3), (3, 4))
    check(lambda s, x, y: s.clone().addmm_(x, y, beta=0.5), lambda s, x, y: s.clone().addmm_(x, y, beta=0.5),
          [i, a, b])
    check(lambda s, x, y: s.clone().baddbmm_(x, y), lambda s, x, y: s.clone().baddbmm_(x, y),
          arrays((2, 3, 3), (2, 3, 4), (2, 4, 3)))
    raises_like(lambda s, x, y: s.addmm_(x, y), lambda s, x, y: s.addmm_(x, y), arrays((4,), (2, 3), (3, 4)))
    leaf = tg.tensor(i, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.addmm_(tg.tensor(a), tg.tensor(b))
    plain = tg.tensor(i)
    before = plain._version
    assert plain.addmm_(tg.tensor(a), tg.tensor(b)) is plain and plain._version == before + 1
    np.testing.assert_allclose(plain.numpy(), i + a @ b)


@pytest.mark.parametrize("name,shapes", [
    ("mv", [(2, 3), (3,)]), ("inner", [(2, 3), (4, 3)]), ("inner", [(3,), (3,)]), ("inner", [(), (3,)]),
    ("ger", [(2,), (3,)]), ("outer", [(2,), (3,)]), ("kron", [(2, 3), (4,)]), ("kron", [(2, 1, 2), (3, 2)]),
    ("dist", [(3, 4), (4,)]), ("cross", [(4, 3), (1, 3)]),
])
def test_small_products(name, shapes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(getattr(tg, name), getattr(torch, name), arrays(*shapes))


def test_products_errors_and_promotion():
    raises_like(tg.mv, torch.mv, arrays((2, 3), (4,)))
    raises_like(tg.mv, torch.mv, arrays((2, 3), (3, 1)))
    raises_like(tg.inner, torch.inner, arrays((2, 3), (4, 2)))
    with pytest.raises(TypeError):
        tg.inner(tg.randn(2, 3), 2.0)
    check(tg.kron, torch.kron, [arrays((2, 3))[0], arrays((4,), dtype=np.float32)[0]])
    check(lambda a, b: tg.dist(a, b, 3), lambda a, b: torch.dist(a, b, 3), arrays((3, 4), (4,)))
    check(lambda a, b: tg.dist(a, b, float("inf")), lambda a, b: torch.dist(a, b, float("inf")), arrays((3, 4), (4,)))
    raises_like(tg.dist, torch.dist, [np.arange(3), np.arange(3)])


def test_cross_and_its_default_dim():
    a, b = arrays((3, 4), (3, 4))
    with pytest.warns(UserWarning, match="dim"):
        check(tg.cross, torch.cross, [a, b])
    check(lambda x, y: tg.cross(x, y, dim=0), lambda x, y: torch.cross(x, y, dim=0), [a, b])
    check(lambda x, y: tg.linalg.cross(x, y, dim=0), lambda x, y: torch.linalg.cross(x, y, dim=0), [a, b])
    raises_like(tg.linalg.cross, torch.linalg.cross, [a, b])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raises_like(tg.cross, torch.cross, arrays((2, 4), (2, 4)))


# ---------------------------------------------------------------- diagonals
@pytest.mark.parametrize("fn,shape", [
    (lambda m, x: m.trace(x), (3, 4)),
    (lambda m, x: m.diag(x), (3,)), (lambda m, x: m.diag(x, 2), (3,)), (lambda m, x: m.diag(x, -1), (3,)),
    (lambda m, x: m.diag(x), (3, 4)), (lambda m, x: m.diag(x, 1), (3, 4)), (lambda m, x: m.diag(x, -2), (3, 4)),
    (lambda m, x: m.diag(x, 5), (2, 3)),
    (lambda m, x: m.diagonal(x), (3, 4)), (lambda m, x: m.diagonal(x, 1, 2, 0), (2, 3, 4)),
    (lambda m, x: m.diagonal(x, -1, -1, -2), (2, 3, 4)),
    (lambda m, x: m.diag_embed(x), (2, 3)), (lambda m, x: m.diag_embed(x, 1, 0, 2), (2, 3)),
    (lambda m, x: m.diag_embed(x, -2, 2, 0), (2, 3)),
    (lambda m, x: m.diagflat(x), (2, 2)), (lambda m, x: m.diagflat(x, -1), (3,)),
])
def test_diagonal_family(fn, shape):
    check(lambda x: fn(tg, x), lambda x: fn(torch, x), arrays(shape))


def test_diagonal_family_dtypes_and_errors():
    ints = [np.arange(12).reshape(3, 4)]
    for fn in (lambda m, x: m.trace(x), lambda m, x: m.diag(x), lambda m, x: m.diag_embed(x)):
        check(lambda x: fn(tg, x), lambda x: fn(torch, x), ints, grad=False)
    check(lambda x: tg.trace(x), lambda x: torch.trace(x), [np.arange(6, dtype=np.int32).reshape(2, 3)], grad=False)
    raises_like(tg.trace, torch.trace, arrays((2, 3, 4)))
    raises_like(tg.diag, torch.diag, arrays((2, 3, 4)))
    raises_like(lambda x: tg.diagonal(x, 0, 0, 0), lambda x: torch.diagonal(x, 0, 0, 0), arrays((2, 3)))
    raises_like(lambda x: tg.diagonal(x, 0, 0, 2), lambda x: torch.diagonal(x, 0, 0, 2), arrays((2, 3)))
    raises_like(lambda x: tg.diag_embed(x, 0, 0, 0), lambda x: torch.diag_embed(x, 0, 0, 0), arrays((2, 3)))


def test_diagonal_is_a_writable_view():
    a = tg.zeros(3, 3)
    a.diagonal().fill_(2.0)
    assert np.array_equal(a.numpy(), 2 * np.eye(3))
    x = tg.tensor(arrays((3, 3))[0], requires_grad=True)
    y = x * 1
    y.diagonal().mul_(3)
    y.sum().backward()
    expected = torch.ones(3, 3, dtype=torch.float64) + 2 * torch.eye(3, dtype=torch.float64)
    np.testing.assert_allclose(x.grad.numpy(), expected.numpy())


# ---------------------------------------------------------------- constructions
def test_index_and_block_constructions():
    for r, c, k in [(3, 4, 1), (4, 3, -1), (3, 3, 0), (0, 2, 0)]:
        for name in ("tril_indices", "triu_indices"):
            mine, real = getattr(tg, name)(r, c, k), getattr(torch, name)(r, c, k)
            assert mine.dtype == np.int64 and np.array_equal(mine.numpy(), real.numpy())
    check(lambda *t: tg.block_diag(*t), lambda *t: torch.block_diag(*t), arrays((2, 3), (), (2,)))
    check(lambda a, b: tg.block_diag(a, b), lambda a, b: torch.block_diag(a, b),
          [arrays((2, 3))[0], np.arange(2)])
    assert tg.block_diag().shape == torch.block_diag().shape
    raises_like(tg.block_diag, torch.block_diag, arrays((2, 3, 1)))
    check(lambda *t: tg.cartesian_prod(*t), lambda *t: torch.cartesian_prod(*t), arrays((2,), (3,), (2,)))
    check(tg.cartesian_prod, torch.cartesian_prod, arrays((2,)))
    raises_like(tg.cartesian_prod, torch.cartesian_prod, arrays((2, 2)))


@pytest.mark.parametrize("N,increasing", [(None, False), (2, True), (4, False), (0, False)])
def test_vander(N, increasing):
    check(lambda x: tg.vander(x, N, increasing), lambda x: torch.vander(x, N, increasing), arrays((3,)), grad=False)
    check(lambda x: tg.vander(x, N, increasing), lambda x: torch.vander(x, N, increasing),
          [np.array([1, 2, 3], dtype=np.int32)], grad=False)


def test_vander_gradient():
    """torch.vander's own backward fails (it writes its cumprod in place): its gradient is
    checked against torch's powers x[:, None] ** exponents, the same function."""
    check(lambda x: tg.vander(x, 4), lambda x: x[:, None] ** torch.arange(3, -1, -1, dtype=torch.float64),
          arrays((3,)))
    check(lambda x: tg.vander(x, 3, True), lambda x: x[:, None] ** torch.arange(3, dtype=torch.float64), arrays((3,)))


def test_vander_errors():
    raises_like(lambda x: tg.vander(x, -1), lambda x: torch.vander(x, -1), arrays((3,)))
    raises_like(tg.vander, torch.vander, arrays((1, 3)))


def test_chain_matmul_warns_and_multiplies():
    with pytest.warns(UserWarning, match="deprecated"):
        check(lambda *t: tg.chain_matmul(*t), lambda *t: torch.chain_matmul(*t), arrays((2, 3), (3, 4), (4, 2)))


# ---------------------------------------------------------------- cdist, cov, corrcoef
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.0, float("inf")])
def test_cdist(p):
    x1, x2 = arrays((2, 3, 4), (5, 4))
    x2[0] = x1[0, 0]  # a zero distance: gradient 0 there, as torch
    check(lambda a, b: tg.cdist(a, b, p), lambda a, b: torch.cdist(a, b, p), [x1, x2])


def test_cdist_through_a_matmul_for_large_inputs():
    x1, x2 = arrays((40, 3), (30, 3))
    check(tg.cdist, torch.cdist, [x1, x2], rtol=1e-6, atol=1e-8)
    check(lambda a, b: tg.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
          lambda a, b: torch.cdist(a, b, compute_mode="use_mm_for_euclid_dist"), arrays((3, 2), (4, 2)), rtol=1e-6)


@pytest.mark.parametrize("shapes", [[(3, 4), (5, 3)], [(4,), (5, 4)], [(3, 4), (5, 4)]])
def test_cdist_errors(shapes):
    inputs = arrays(*shapes)
    if shapes[1] == (5, 4) and shapes[0] == (3, 4):
        raises_like(lambda a, b: tg.cdist(a, b, -1), lambda a, b: torch.cdist(a, b, -1), inputs)
        raises_like(tg.cdist, torch.cdist, [np.arange(6).reshape(3, 2), np.arange(6).reshape(3, 2)])
        raises_like(tg.cdist, torch.cdist, [inputs[0], inputs[1].astype(np.float32)])
    else:
        raises_like(tg.cdist, torch.cdist, inputs)


def test_cov_and_corrcoef():
    x, = arrays((3, 5))
    check(tg.cov, torch.cov, [x])
    check(tg.cov, torch.cov, arrays((5,)))
    check(lambda a: tg.cov(a, correction=0), lambda a: torch.cov(a, correction=0), [x])
    fw, aw = np.array([1, 2, 3, 1, 2]), np.array([0.5, 1.0, 2.0, 0.1, 1.0])
    check(lambda a, f: tg.cov(a, fweights=f), lambda a, f: torch.cov(a, fweights=f), [x, fw])
    check(lambda a, w: tg.cov(a, aweights=w), lambda a, w: torch.cov(a, aweights=w), [x, aw])
    check(lambda a, f, w: tg.cov(a, correction=2, fweights=f, aweights=w),
          lambda a, f, w: torch.cov(a, correction=2, fweights=f, aweights=w), [x, fw, aw])
    check(tg.cov, torch.cov, [np.arange(8).reshape(2, 4)], grad=False)
    check(tg.corrcoef, torch.corrcoef, [x])
    check(tg.corrcoef, torch.corrcoef, [np.arange(8).reshape(2, 4)], grad=False)
    check(lambda a: a.cov(), lambda a: a.cov(), arrays((3, 5), dtype=np.float32), rtol=1e-5, atol=1e-6)


def test_cov_errors_and_warning():
    x, = arrays((3, 4))
    raises_like(tg.cov, torch.cov, arrays((2, 3, 4)))
    for kwargs in ({"fweights": np.array([1.0, 2, 3, 4])}, {"fweights": np.array([1, -2, 3, 4])},
                   {"aweights": np.array([1.0, -2, 3, 4])}, {"aweights": np.array([1.0, 2, 3])}):
        (name, w), = kwargs.items()
        raises_like(lambda a, v: tg.cov(a, **{name: v}), lambda a, v: torch.cov(a, **{name: v}), [x, w])
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert np.isnan(tg.cov(tg.tensor(arrays((3, 1))[0])).numpy()).all()
