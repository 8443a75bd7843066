"""Index writes and reads (index_add / index_copy / index_fill / index_put, scatter_ and
scatter_reduce, masked_scatter, take, take_along_dim, put, fill_diagonal_, argwhere) and their
in-place forms against real torch: values, shapes, dtypes, the gradients (float64, backward
with a random upstream gradient) of the written tensor and of the source, in-place writes on
non-leaves and through views, version counters, the leaf rule and torch's exception types."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.testing.oracle import check_case_against_torch, raises_like_torch

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")

pytestmark = pytest.mark.oracle

RNG = np.random.default_rng(0)


def randn(*shape):
    return RNG.standard_normal(shape)


def ints(*values):
    return np.array(values, dtype=np.int64)


def check(case, *inputs, grad=True, seed=1):
    """``case(lib, *tensors)`` on tinygrad and on torch: outputs and input gradients equal."""
    check_case_against_torch(case, *inputs, grad=grad, seed=seed, rtol=1e-10, atol=1e-12)


def nonleaf(method, args, **kwargs):
    """A case writing ``method`` in place into a non-leaf copy of its first input."""
    def case(lib, x, *tensors):
        y = x * 1
        assert getattr(y, method)(*args(lib, *tensors), **kwargs) is y
        return y
    return case


# ---------------------------------------------------------------- index_add / index_copy / index_fill
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_add_with_repeats_and_alpha(dim):
    shape = (3, 4)
    n = 5
    index = RNG.integers(0, shape[dim], n)
    src_shape = tuple(n if i == dim % 2 else s for i, s in enumerate(shape))
    check(lambda lib, x, s: x.index_add(dim, lib.tensor(index), s, alpha=2.5), randn(*shape), randn(*src_shape))
    check(lambda lib, x, s: lib.index_add(x, dim, lib.tensor(index.astype(np.int32)), s),
          randn(*shape), randn(*src_shape))


def test_index_add_in_place_on_a_non_leaf_and_through_a_view():
    index = ints(2, 0, 2)
    check(nonleaf("index_add_", lambda lib, s: (0, lib.tensor(index), s), alpha=-1.5), randn(3, 2), randn(3, 2))

    def through_view(lib, x, s):
        base = x * 1
        base[1:].index_add_(1, lib.tensor(ints(0, 0)), s)
        return base
    check(through_view, randn(3, 2), randn(2, 2))


def test_index_add_on_integers_and_0d():
    check(lambda lib, x, s: x.index_add(0, lib.tensor(ints(0, 0, 2)), s, alpha=3), ints(1, 2, 3), ints(4, 5, 6))
    check(lambda lib, x, s: x.index_add(0, lib.tensor(ints(0)), s), np.array(1.5), np.array(2.0))


def test_index_copy_and_in_place():
    index = ints(3, 0)
    check(lambda lib, x, s: x.index_copy(1, lib.tensor(index), s), randn(3, 4), randn(3, 2))
    check(lambda lib, x, s: lib.index_copy(x, -2, lib.tensor(ints(1)), s), randn(3, 4), randn(1, 4))
    check(nonleaf("index_copy_", lambda lib, s: (0, lib.tensor(ints(2, 1)), s)), randn(3, 4), randn(2, 4))


def test_index_fill_number_tensor_and_negative_index():
    check(lambda lib, x: x.index_fill(1, lib.tensor(ints(-1, 0, 0)), 5.0), randn(3, 4))
    check(lambda lib, x, v: x.index_fill(0, lib.tensor(ints(1, 2, 1)), v), randn(3, 4), np.array(2.5))
    check(nonleaf("index_fill_", lambda lib, v: (1, lib.tensor(ints(2)), v)), randn(2, 3), np.array(-1.0))
    check(lambda lib, x: x.index_fill(0, lib.tensor(ints(1)), 2.7), ints(1, 2, 3))


# ---------------------------------------------------------------- index_put
@pytest.mark.parametrize("accumulate", [False, True])
def test_index_put_with_integer_and_mask_indices(accumulate):
    rows, cols = ints(0, 2, 0), ints(1, 1, 1)
    if not accumulate:
        rows, cols = ints(0, 2, 1), ints(1, 1, 3)
    check(lambda lib, x, v: x.index_put((lib.tensor(rows), lib.tensor(cols)), v, accumulate=accumulate),
          randn(3, 4), randn(3))
    check(lambda lib, x, v: x.index_put((lib.tensor(ints(-1, 0)),), v, accumulate), randn(3, 4), randn(4))
    mask = np.array([True, False, True])
    check(lambda lib, x, v: x.index_put([lib.tensor(mask)], v, accumulate), randn(3, 4), randn(1, 4))
    check(nonleaf("index_put_", lambda lib, v: ((lib.tensor(rows), lib.tensor(cols)), v), accumulate=accumulate),
          randn(3, 4), np.array(3.0))
    check(lambda lib, x, v: lib.index_put_(x.clone(), (lib.tensor(ints(1)),), v, accumulate), randn(2, 3), randn(3))


# ---------------------------------------------------------------- scatter_, scatter_add_, scatter_reduce
INDEX = ints(0, 1, 2, 0, 2, 0, 0, 1).reshape(2, 4)


def test_scatter_in_place_forms():
    check(nonleaf("scatter_", lambda lib, s: (0, lib.tensor(INDEX[:1]), s)), randn(3, 4), randn(1, 4))
    # a src larger than index: torch's backward refuses its own gradient's shape, so values only
    check(lambda lib, x, s: x.clone().scatter_(0, lib.tensor(INDEX[:1]), s), randn(3, 4), randn(2, 5), grad=False)
    check(nonleaf("scatter_", lambda lib: (1, lib.tensor(INDEX[:, :1]), 2.5)), randn(3, 4))
    check(nonleaf("scatter_add_", lambda lib, s: (0, lib.tensor(INDEX), s)), randn(3, 4), randn(2, 4))
    for reduce in ("add", "multiply"):  # torch's deprecated form: values only (torch has no gradient for it)
        with pytest.warns(UserWarning, match="deprecated"):
            check(lambda lib, x, s: x.clone().scatter_(0, lib.tensor(INDEX), s, reduce=reduce), randn(3, 4),
                  randn(2, 4), grad=False)
        check(lambda lib, x: x.clone().scatter_(0, lib.tensor(INDEX), 3.0, reduce=reduce), randn(3, 4), grad=False)


def test_scatter_multiply_gradient_is_scatter_reduce_prods():
    x, s = randn(3, 4), randn(2, 4)
    a, b = tg.tensor(x, requires_grad=True), tg.tensor(s, requires_grad=True)
    with pytest.warns(UserWarning, match="deprecated"):
        (a * 1).scatter_(0, tg.tensor(INDEX), b, reduce="multiply").sum().backward()
    c, d = torch.tensor(x, requires_grad=True), torch.tensor(s, requires_grad=True)
    c.scatter_reduce(0, torch.tensor(INDEX), d, "prod").sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), c.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(b.grad.numpy(), d.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_values_and_gradients(reduce, include_self):
    for dim, index, src_shape in ((0, INDEX, (2, 4)), (-1, INDEX.T % 3, (4, 2))):
        check(lambda lib, x, s: x.scatter_reduce(dim, lib.tensor(index), s, reduce, include_self=include_self),
              randn(*(3, 4) if dim == 0 else (4, 3)), randn(*src_shape))
    # a src larger than index (only its leading part is read): torch's backward fails there, so values only
    check(lambda lib, x, s: x.scatter_reduce(0, lib.tensor(INDEX), s, reduce, include_self=include_self),
          randn(3, 4), randn(3, 5), grad=False)
    check(nonleaf("scatter_reduce_", lambda lib, s: (0, lib.tensor(INDEX), s, reduce), include_self=include_self),
          randn(3, 4), randn(2, 4))


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin", "scatter_", "scatter_add_"])
def test_a_src_larger_than_index_gets_gradient_only_where_read(reduce):
    """Torch's backward fails for such a src; its gradient is the one of src's leading part."""
    x, s = randn(3, 4), randn(3, 5)
    write = (lambda lib, a, b: a.scatter_reduce(0, lib.tensor(INDEX), b, reduce)) if "_" not in reduce else \
        (lambda lib, a, b: getattr(a * 1, reduce)(0, lib.tensor(INDEX), b))
    a, b = tg.tensor(x, requires_grad=True), tg.tensor(s, requires_grad=True)
    c, d = torch.tensor(x, requires_grad=True), torch.tensor(s[:2, :4], requires_grad=True)
    weight = randn(3, 4)
    (write(tg, a, b) * tg.tensor(weight)).sum().backward()
    (write(torch, c, d) * torch.tensor(weight)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), c.grad.numpy(), rtol=1e-10)
    expected = np.zeros((3, 5))
    expected[:2, :4] = d.grad.numpy()
    np.testing.assert_allclose(b.grad.numpy(), expected, rtol=1e-10)


def test_scatter_reduce_prod_gradient_with_zeros():
    x, s = randn(3, 4), randn(2, 4)
    x[0, 0] = s[0, 1] = s[1, 3] = s[0, 0] = 0.0  # a zero in self, lone zeros and two zeros in one place
    s[1, 2] = 0.0
    for include_self in (True, False):
        check(lambda lib, a, b: a.scatter_reduce(0, lib.tensor(INDEX), b, "prod", include_self=include_self), x, s)


def test_scatter_reduce_amax_shares_the_gradient_of_ties():
    x = np.array([[1.0, 2.0], [3.0, 0.0]])
    s = np.array([[3.0, 2.0], [3.0, 5.0]])
    check(lambda lib, a, b: a.scatter_reduce(0, lib.tensor(ints(1, 0, 1, 0).reshape(2, 2)), b, "amax"), x, s)


def test_scatter_reduce_on_integers():
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            check(lambda lib, a, b: a.scatter_reduce(0, lib.tensor(ints(0, 0, 2)), b, reduce,
                                                     include_self=include_self), ints(1, 2, 3), ints(-4, -5, 7))


# ---------------------------------------------------------------- masks, triangles, diagonals
def test_masked_fill_and_masked_scatter():
    mask = np.array([[True, False, True], [False, False, True]])
    check(nonleaf("masked_fill_", lambda lib: (lib.tensor(mask), -2.0)), randn(2, 3))
    check(nonleaf("masked_fill_", lambda lib, v: (lib.tensor(mask[1]), v)), randn(2, 3), np.array(4.0))
    check(lambda lib, x, s: x.masked_scatter(lib.tensor(mask), s), randn(2, 3), randn(5))
    check(lambda lib, x, s: lib.masked_scatter(x, lib.tensor(mask), s), randn(3), randn(2, 3))
    check(nonleaf("masked_scatter_", lambda lib, s: (lib.tensor(mask[0]), s)), randn(2, 3), randn(2, 2))


def test_triangles_and_diagonals_in_place():
    check(nonleaf("tril_", lambda lib: (-1,)), randn(3, 4))
    check(nonleaf("triu_", lambda lib: (1,)), randn(2, 3, 3))
    check(nonleaf("fill_diagonal_", lambda lib: (2.0,)), randn(3, 3))
    check(nonleaf("fill_diagonal_", lambda lib: (2.0,), wrap=True), randn(7, 3))
    check(nonleaf("fill_diagonal_", lambda lib: (-1.0,)), randn(7, 3))
    check(nonleaf("fill_diagonal_", lambda lib: (0.5,)), randn(3, 7))
    check(nonleaf("fill_diagonal_", lambda lib: (1.0,)), randn(2, 2, 2))


# ---------------------------------------------------------------- flat reads and writes
def test_take_take_along_dim_and_argwhere():
    check(lambda lib, x: x.take(lib.tensor(ints(0, -1, 5, 2, 2).reshape(1, 5))), randn(2, 3))
    check(lambda lib, x: lib.take(x, lib.tensor(ints(3))), randn(4))
    check(lambda lib, x: lib.take_along_dim(x, lib.tensor(ints(5, 0, 5))), randn(2, 3))
    check(lambda lib, x: x.take_along_dim(lib.tensor(ints(0, 2, -1).reshape(1, 3)), dim=1), randn(2, 3))
    check(lambda lib, x: x.take_along_dim(lib.tensor(ints(1, 0).reshape(2, 1, 1)), 0), randn(2, 3, 4))
    sorted_index = lambda lib, x: x.take_along_dim(x.argsort(dim=-1), dim=-1)  # noqa: E731
    check(sorted_index, randn(3, 4))
    check(lambda lib, x: x.argwhere(), np.array([[1, 0], [0, 3]]))
    check(lambda lib, x: lib.argwhere(x), np.array(3.0), grad=False)
    check(lambda lib, x: lib.argwhere(x), np.zeros((2, 0, 3)), grad=False)


@pytest.mark.parametrize("accumulate", [False, True])
def test_put_and_put_(accumulate):
    index = ints(0, -1, 4, 0) if accumulate else ints(0, -1, 4, 1)
    check(lambda lib, x, s: x.put(lib.tensor(index.reshape(2, 2)), s, accumulate), randn(2, 3), randn(4))
    check(lambda lib, x, s: lib.put(x, lib.tensor(index), s, accumulate=accumulate), randn(6), randn(2, 2))
    check(nonleaf("put_", lambda lib, s: (lib.tensor(index), s, accumulate)), randn(2, 3), randn(4))


# ---------------------------------------------------------------- in-place rules
WRITES = {
    "index_add_": lambda lib, t: t.index_add_(0, lib.tensor(ints(0)), lib.ones(1, 3, dtype=lib.float64)),
    "index_copy_": lambda lib, t: t.index_copy_(0, lib.tensor(ints(0)), lib.ones(1, 3, dtype=lib.float64)),
    "index_fill_": lambda lib, t: t.index_fill_(1, lib.tensor(ints(0)), 1.0),
    "index_put_": lambda lib, t: t.index_put_((lib.tensor(ints(1)),), lib.tensor(2.0, dtype=lib.float64)),
    "scatter_": lambda lib, t: t.scatter_(0, lib.tensor(ints(1, 0, 1).reshape(1, 3)), 2.0),
    "scatter_add_": lambda lib, t: t.scatter_add_(1, lib.tensor(ints(0, 0).reshape(2, 1)),
                                                  lib.ones(2, 1, dtype=lib.float64)),
    "scatter_reduce_": lambda lib, t: t.scatter_reduce_(0, lib.tensor(ints(1).reshape(1, 1)),
                                                        lib.ones(1, 1, dtype=lib.float64), "amax"),
    "masked_fill_": lambda lib, t: t.masked_fill_(lib.tensor([True, False, True]), 0.0),
    "masked_scatter_": lambda lib, t: t.masked_scatter_(lib.tensor([True, False, True]),
                                                        lib.ones(4, dtype=lib.float64)),
    "put_": lambda lib, t: t.put_(lib.tensor(ints(5)), lib.ones(1, dtype=lib.float64)),
    "fill_diagonal_": lambda lib, t: t.fill_diagonal_(3.0),
    "tril_": lambda lib, t: t.tril_(),
    "triu_": lambda lib, t: t.triu_(1),
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_in_place_rules_are_torchs(name):
    write = WRITES[name]
    for lib in (tg, torch):
        leaf = lib.zeros(2, 3, dtype=lib.float64, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            write(lib, leaf)
        with pytest.raises(RuntimeError, match="leaf Variable"):
            write(lib, leaf[:])
        with lib.no_grad():
            write(lib, leaf)
        assert leaf._version == 1
        x = lib.tensor(randn(2, 3), requires_grad=True)
        y = x.sin()  # saves x: writing into x's non-leaf copy later is fine, into a saved tensor not
        z = x * 1
        w = z.exp()  # saves its output ...
        write(lib, z)  # ... but not z
        assert z._version == 1 and z.grad_fn is not None
        w.sum().backward(retain_graph=True)
        saved = x * 1
        v = saved.sin()
        write(lib, saved)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            v.sum().backward()
        del y


def test_errors_are_torchs():
    x = lambda lib: lib.zeros(3, 4)  # noqa: E731
    idx = lambda lib, *v: lib.tensor(ints(*v))  # noqa: E731
    cases = [
        lambda lib: x(lib).index_add(0, idx(lib, 0, 5), lib.ones(2, 4)),
        lambda lib: x(lib).index_add(0, idx(lib, 0, -1), lib.ones(2, 4)),
        lambda lib: x(lib).index_add(0, lib.tensor([0.0, 1.0]), lib.ones(2, 4)),
        lambda lib: x(lib).index_add(0, idx(lib, 0, 1), lib.ones(2, 3)),
        lambda lib: x(lib).index_add(0, idx(lib, 0, 1, 2), lib.ones(2, 4)),
        lambda lib: x(lib).index_add(0, idx(lib, 0, 1).reshape(1, 2), lib.ones(2, 4)),
        lambda lib: x(lib).index_add(2, idx(lib, 0, 1), lib.ones(2, 4)),
        lambda lib: x(lib).index_add(0, idx(lib, 0, 1), lib.ones(2, 4, dtype=lib.float64)),
        lambda lib: x(lib).index_copy(1, idx(lib, 4, 0), lib.ones(3, 2)),
        lambda lib: x(lib).index_copy(1, idx(lib, 3, 0), lib.ones(3, 3)),
        lambda lib: x(lib).index_copy(1, idx(lib, 3, 0).int(), lib.ones(3, 2)),
        lambda lib: x(lib).index_copy(1, idx(lib, 3, 0), lib.ones(2)),
        lambda lib: x(lib).index_fill(1, idx(lib, 4), 5),
        lambda lib: x(lib).index_fill(1, idx(lib, 0).int(), 5),
        lambda lib: x(lib).index_fill(1, idx(lib, 0), lib.tensor([2.0])),
        lambda lib: x(lib).index_fill(-3, idx(lib, 0), 1.0),
        lambda lib: x(lib).index_put((idx(lib, 3),), lib.tensor(1.0)),
        lambda lib: x(lib).index_put((idx(lib, -4),), lib.tensor(1.0)),
        lambda lib: x(lib).index_put((idx(lib, 2),), lib.tensor(1.0, dtype=lib.float64)),
        lambda lib: x(lib).index_put((idx(lib, 2),), lib.ones(3)),
        lambda lib: x(lib).index_put((lib.tensor([2.0]),), lib.ones(4)),
        lambda lib: x(lib).index_put((idx(lib, 2), idx(lib, 2), idx(lib, 2)), lib.ones(1)),
        lambda lib: x(lib).index_put((lib.tensor([True, False]),), lib.tensor(1.0)),
        lambda lib: x(lib).index_put((idx(lib, 0, 1), idx(lib, 0, 1, 2)), lib.tensor(1.0)),
        lambda lib: x(lib).index_put((idx(lib, 2),), 2.0),
        lambda lib: x(lib).index_put((None, idx(lib, 2)), lib.ones(3)),
        lambda lib: x(lib).scatter_(0, idx(lib, 3).reshape(1, 1), lib.ones(1, 1)),
        lambda lib: x(lib).scatter_(0, idx(lib, 0).reshape(1, 1), lib.ones(1, 1), reduce="max"),
        lambda lib: x(lib).scatter_(0, idx(lib, 0).reshape(1, 1), lib.ones(1, 1, dtype=lib.float64)),
        lambda lib: x(lib).scatter_(0, idx(lib, 0).reshape(1, 1), lib.tensor(1.0)),
        lambda lib: x(lib).scatter_add_(0, idx(lib, 0).reshape(1, 1), lib.ones(1, 1, dtype=lib.float64)),
        lambda lib: x(lib).scatter_add_(0, idx(lib, 0).reshape(1, 1), 1.0),
        lambda lib: x(lib).scatter_reduce(0, idx(lib, 0).reshape(1, 1), lib.ones(1, 1), reduce="foo"),
        lambda lib: x(lib).scatter_reduce(0, lib.zeros(2, 4, dtype=lib.int64), lib.ones(1, 4), "sum"),
        lambda lib: x(lib).scatter_reduce(0, lib.zeros(2, dtype=lib.int64), lib.ones(2), "sum"),
        lambda lib: x(lib).scatter_reduce(0, lib.full((1, 1), 3), lib.ones(1, 1), "sum"),
        lambda lib: x(lib).scatter_reduce(0, lib.zeros(1, 1), lib.ones(1, 1), "sum"),
        lambda lib: x(lib).scatter_reduce(0, lib.zeros(1, 1, dtype=lib.int64), lib.ones(1, 1, dtype=lib.float64),
                                          "sum"),
        lambda lib: lib.zeros(2, 3).masked_scatter(lib.tensor([True, False, True]), lib.arange(3.0)),
        lambda lib: lib.zeros(3).masked_scatter_(lib.ones(2, 3, dtype=lib.bool), lib.arange(10.0)),
        lambda lib: lib.zeros(3).masked_scatter(lib.tensor([1, 0, 1]), lib.arange(10.0)),
        lambda lib: lib.zeros(3).masked_scatter(lib.tensor([True, False, True]), lib.arange(10)),
        lambda lib: lib.zeros(3).masked_fill_(lib.tensor([[True, False, True]]), 1.0),
        lambda lib: lib.arange(6.0).take(idx(lib, 6)),
        lambda lib: lib.arange(6.0).take(idx(lib, -7)),
        lambda lib: lib.arange(6.0).take(idx(lib, 1).int()),
        lambda lib: lib.arange(6.0).reshape(2, 3).take_along_dim(idx(lib, 1), 1),
        lambda lib: lib.arange(6.0).reshape(2, 3).take_along_dim(idx(lib, 1).reshape(1, 1).int(), 1),
        lambda lib: lib.arange(6.0).reshape(2, 3).take_along_dim(idx(lib, 1).reshape(1, 1), 2),
        lambda lib: lib.zeros(2, 3).put(idx(lib, 6), lib.ones(1)),
        lambda lib: lib.zeros(2, 3).put(idx(lib, 1, 2), lib.ones(1)),
        lambda lib: lib.zeros(2, 3).put(idx(lib, 1), lib.ones(1, dtype=lib.float64)),
        lambda lib: lib.zeros(2, 3).put(idx(lib, 1).int(), lib.ones(1)),
        lambda lib: lib.zeros(2, 2, 3).fill_diagonal_(1.0),
        lambda lib: lib.zeros(3).fill_diagonal_(1.0),
    ]
    for case in cases:
        raises_like_torch(case)


def test_functions_and_out():
    x = tg.zeros(3)
    out = tg.zeros(3)
    assert tg.index_add(x, 0, tg.tensor(ints(1)), tg.ones(1), out=out) is out and out.tolist() == [0.0, 1.0, 0.0]
    assert tg.index_fill(x, 0, tg.tensor(ints(2)), 4.0).tolist() == [0.0, 0.0, 4.0]
    assert tg.scatter_reduce(x, 0, tg.tensor(ints(0, 0)), tg.tensor([2.0, 3.0]), "amax").tolist() == [3.0, 0.0, 0.0]
    assert x.tolist() == [0.0, 0.0, 0.0] and x._version == 0


def test_amax_without_self_gives_a_lone_winner_its_whole_gradient():
    """Where the left-out self value equals the result, torch (2.13) still counts it among the
    tied winners and gives src[0] 0.5; the maximum is src[0] alone, so its derivative is 1."""
    s = tg.tensor([3.0, 5.0], requires_grad=True)
    src = tg.tensor([3.0, 1.0], requires_grad=True)
    s.scatter_reduce(0, tg.tensor(ints(0, 0)), src, "amax", include_self=False).backward(tg.ones(2))
    assert src.grad.tolist() == [1.0, 0.0] and s.grad.tolist() == [0.0, 1.0]
