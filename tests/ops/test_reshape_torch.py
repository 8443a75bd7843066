"""Shape ops against real torch: rot90, unfold and as_strided (views, writes through them),
ravel, atleast_1d/2d/3d, column_stack / dstack / row_stack, hsplit / vsplit / dsplit,
sum_to_size and the in-place shape changes (squeeze_, unsqueeze_, t_, transpose_, swapaxes_,
swapdims_): values, shapes, dtypes, gradients (float64), versions, the leaf rule, errors."""

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


def check(case, *inputs, grad=True, seed=1):
    """``case(lib, *tensors)`` on tinygrad and on torch: outputs and input gradients equal."""
    check_case_against_torch(case, *inputs, grad=grad, seed=seed, rtol=1e-12, atol=0)


@pytest.mark.parametrize("k", [-3, -1, 0, 1, 2, 5])
def test_rot90(k):
    check(lambda lib, x: x.rot90(k), randn(2, 3))
    check(lambda lib, x: lib.rot90(x, k, [2, 0]), randn(2, 3, 4))
    check(lambda lib, x: x.rot90(k, (-1, 1)), randn(2, 3, 4))


@pytest.mark.parametrize("size, step", [(3, 2), (2, 2), (1, 1), (4, 1), (0, 3), (2, 5)])
def test_unfold(size, step):
    check(lambda lib, x: x.unfold(0, size, step), randn(7))
    check(lambda lib, x: x.unfold(-1, size, step).unfold(0, 1, 1), randn(3, 2, 5))
    check(lambda lib, x: x.unfold(1, min(size, 2), step), randn(2, 2, 3))
    check(lambda lib, x: x.unfold(0, 1, step), np.array(3.0))


def test_unfold_is_a_view_that_writes_reach():
    for lib in (tg, torch):
        x = lib.arange(8.0)
        windows = x.unfold(0, 2, 3)
        windows.add_(10)
        assert x.tolist() == [10.0, 11.0, 2.0, 13.0, 14.0, 5.0, 16.0, 17.0] and x._version == 1
        x[1] = -1
        assert windows.tolist() == [[10.0, -1.0], [13.0, 14.0], [16.0, 17.0]]

    def write_through(lib, x, w):
        base = x * 1
        base.unfold(0, 2, 2).mul_(w)
        return base
    check(write_through, randn(6), randn(3, 2))
    with pytest.raises(RuntimeError):  # torch writes overlapping windows in some order; refused here
        tg.arange(6.0).unfold(0, 3, 1).add_(1)


def test_as_strided():
    check(lambda lib, x: x.as_strided((2, 2), (1, 2), 1), randn(9))
    check(lambda lib, x: lib.as_strided(x, (3, 3), (1, 1)), randn(2, 3))  # overlapping: gradients add up
    check(lambda lib, x: x.as_strided((2, 0, 3), (0, 5, 2)), randn(6))
    check(lambda lib, x: x[2:].as_strided((2,), (1,)), randn(9))
    check(lambda lib, x: x.as_strided((), (), 4), randn(2, 3))
    for lib in (tg, torch):
        x = lib.zeros(6)
        x.as_strided((2,), (3,), 1).fill_(1)
        assert x.tolist() == [0.0, 1.0, 0.0, 0.0, 1.0, 0.0] and x._version == 1
    with pytest.raises(RuntimeError):
        tg.zeros(6).as_strided((2, 2), (0, 1)).add_(1)
    with pytest.raises(NotImplementedError):
        tg.zeros(2, 3).t().as_strided((2,), (1,))


def test_ravel_atleast_and_stacks():
    check(lambda lib, x: x.t().ravel(), randn(2, 3))
    check(lambda lib, x: lib.ravel(x), randn(2, 3))
    for n in (1, 2, 3):
        for shape in ((), (3,), (2, 3), (1, 2, 3), (1, 2, 3, 4)):
            check(lambda lib, x: getattr(lib, f"atleast_{n}d")(x), randn(*shape))
        check(lambda lib, x, y: getattr(lib, f"atleast_{n}d")(x, y), randn(), randn(2, 2))
        check(lambda lib, x, y: getattr(lib, f"atleast_{n}d")([x, y]), randn(3), randn(2, 2))
        check(lambda lib, x: getattr(lib, f"atleast_{n}d")((x,)), randn(3))
    assert tg.atleast_1d(x := tg.ones(2)) is x
    check(lambda lib, a, b, c: lib.column_stack([a, b, c]), randn(3), randn(3, 2), randn(3, 1))
    check(lambda lib, a, b: lib.column_stack((a, b)), randn(), randn())
    check(lambda lib, a, b: lib.dstack([a, b]), randn(3), randn(3))
    check(lambda lib, a, b: lib.dstack([a, b]), randn(2, 3), randn(2, 3, 2))
    check(lambda lib, a, b: lib.row_stack([a, b]), randn(3), randn(2, 3))


def test_splits_by_direction():
    x = randn(2, 6, 4)
    check(lambda lib, t: t.hsplit(3), x)
    check(lambda lib, t: lib.hsplit(t, [1, 4]), x)
    check(lambda lib, t: t.hsplit([4, 1, 8]), x)
    check(lambda lib, t: t.hsplit((-2,)), x)
    check(lambda lib, t: lib.hsplit(t, 2), randn(4))
    check(lambda lib, t: t.vsplit(2), x)
    check(lambda lib, t: lib.vsplit(t, [1]), x)
    check(lambda lib, t: t.dsplit(2), x)
    check(lambda lib, t: lib.dsplit(t, [3]), x)
    check(lambda lib, t: t.hsplit(2), np.zeros((2, 0)))


def test_sum_to_size():
    check(lambda lib, x: x.sum_to_size(3, 1), randn(2, 3, 4))
    check(lambda lib, x: x.sum_to_size((1, 3, 1)), randn(2, 3, 4))
    check(lambda lib, x: x.sum_to_size(4), randn(2, 3, 4))
    check(lambda lib, x: x.sum_to_size(()), randn(2, 3))
    check(lambda lib, x: x.sum_to_size(1, 1), randn(1, 3)[:, :1])
    x = tg.ones(2, 3)
    assert x.sum_to_size(2, 3) is x


IN_PLACE = [
    ("unsqueeze_", (0,)), ("unsqueeze_", (-1,)), ("squeeze_", ()), ("squeeze_", (1,)), ("squeeze_", ((0, 1),)),
    ("t_", ()), ("transpose_", (0, -1)), ("swapaxes_", (1, 0)), ("swapdims_", (0, 1)),
]


@pytest.mark.parametrize("name, args", IN_PLACE)
def test_in_place_shape_changes(name, args):
    shape = (1, 3) if name.startswith("squeeze") or name == "t_" else (2, 1, 3)
    if name == "t_":
        shape = (2, 3)

    def on_nonleaf(lib, x):
        y = x * 2
        assert getattr(y, name)(*args) is y
        assert y._version == 1 and y.grad_fn is not None
        return y * y
    check(on_nonleaf, randn(*shape))

    def on_view(lib, x):
        base = x * 1
        view = base[:]
        getattr(view, name)(*args)
        assert view._base is base and tuple(base.shape) == shape
        view.mul_(3)  # a write through the reshaped view reaches the base
        return base, view
    check(on_view, randn(*shape))
    for lib in (tg, torch):
        leaf = lib.zeros(shape, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            getattr(leaf, name)(*args)
        plain = lib.zeros(shape)
        detached = plain.detach()
        getattr(plain, name)(*args)
        assert plain._version == 1 and tuple(detached.shape) == shape


def test_errors_are_torchs():
    cases = [
        lambda lib: lib.ones(2, 3).rot90(1, [0, 0]),
        lambda lib: lib.ones(2, 3).rot90(1, [0, -2]),
        lambda lib: lib.ones(6).rot90(1, [0, 1]),
        lambda lib: lib.ones(1, 2, 3).rot90(1, [0, 1, 2]),
        lambda lib: lib.ones(2, 3).rot90(1, [0, 2]),
        lambda lib: lib.ones(8).unfold(0, 9, 1),
        lambda lib: lib.ones(8).unfold(0, 2, 0),
        lambda lib: lib.ones(8).unfold(1, 1, 1),
        lambda lib: lib.ones(9).as_strided((2, 2), (4, 4), 1),
        lambda lib: lib.ones(9).as_strided((2, 2), (-1, 2), 1),
        lambda lib: lib.ones(9).as_strided((2, 2), (1,), 1),
        lambda lib: lib.ones(9).as_strided((-2, 2), (1, 1), 1),
        lambda lib: lib.ones(9).as_strided((2, 2), (1, 1), -1),
        lambda lib: lib.ones(2, 6).hsplit(4),
        lambda lib: lib.ones(2, 6).hsplit(0),
        lambda lib: lib.ones(2, 6).hsplit(lib.tensor([1, 2])),
        lambda lib: lib.hsplit(lib.tensor(4.0), 2),
        lambda lib: lib.vsplit(lib.ones(4), 2),
        lambda lib: lib.dsplit(lib.ones(2, 2), 2),
        lambda lib: lib.ones(2, 3, 4).sum_to_size(2, 1),
        lambda lib: lib.ones(3).sum_to_size(1, 3),
        lambda lib: lib.atleast_1d(3),
        lambda lib: lib.ones(2, 3).transpose_(0, 2),
        lambda lib: lib.ones(2, 3).unsqueeze_(3),
        lambda lib: lib.ones(2, 3, 4).t_(),
    ]
    for case in cases:
        raises_like_torch(case)


def test_a_shape_change_after_use_raises_where_the_gradient_no_longer_fits():
    """The engine reads an input's shape at backward time: an op that used self before t_() gets
    a loud RuntimeError instead of a gradient in the wrong layout (torch gives the gradient)."""
    a = tg.ones(2, 3, requires_grad=True)
    x = a * 1
    y = x + tg.ones(3)
    x.t_()
    with pytest.raises(RuntimeError, match=r"shape was changed in place .* after an op used it"):
        y.sum().backward()


def test_a_shape_change_of_a_saved_input_fails_backward_as_torchs():
    torch = pytest.importorskip("torch")
    for lib, error in ((tg, r"modified by an inplace operation"), (torch, r"modified by an inplace operation")):
        a = lib.arange(6.0).reshape(2, 1, 3).requires_grad_()
        x = a * 2
        y = x * x  # saves x
        x.squeeze_(1)
        with pytest.raises(RuntimeError, match=error):
            y.sum().backward()


def test_squeeze_after_an_unsaving_use_keeps_the_gradient_as_torchs():
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (tg, torch):
        a = lib.arange(6.0).reshape(2, 1, 3).requires_grad_()
        x = a * 2
        y = x + lib.arange(3.0)  # saves nothing of x
        x.squeeze_(1)
        (y * y).sum().backward()
        grads.append(a.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1])
