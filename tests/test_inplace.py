"""In-place ops, augmented assignment, __setitem__ and the version counter, with PyTorch's rules.

Each rule is a scenario written once against a ``lib`` (tinygrad_cnn, or torch when it is
installed): the same code must raise the same error, or succeed, in both.
"""

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg
from tinygrad_cnn.optim import SGD, Adam
from tinygrad_cnn.ops.inplace import Copy, CopySlices
from tinygrad_cnn.testing import gradcheck


def sub(lib, name):
    return importlib.import_module(f"{lib.__name__}.{name}")


# ---------------------------------------------------------------- scenarios: (code, error or None)
def leaf_add_(lib):
    lib.ones(3, requires_grad=True).add_(1)


def leaf_augmented_assignment(lib):
    p = lib.ones(3, requires_grad=True)
    p -= 0.1 * p.detach()


def leaf_view(lib):
    lib.ones(3, 4, requires_grad=True)[0].mul_(2)


def view_made_in_no_grad(lib):
    w = lib.ones(3, requires_grad=True)
    with lib.no_grad():
        v = w[:2]
    v.add_(1)


def saved_input_modified(lib):
    w, a = lib.ones(3, 4, requires_grad=True), lib.ones(3, 4)
    y = (w * a).sum()
    a.add_(1)
    y.backward()


def unsaved_input_modified_is_fine(lib):
    w, a = lib.ones(3, 4, requires_grad=True), lib.ones(3, 4)
    y = (w * a).sum()  # mul saves ``a`` (for w's gradient), not w
    with lib.no_grad():
        w.sub_(1)
    y.backward()


def saved_output_modified(lib):
    y = lib.ones(3, 4, requires_grad=True).exp()
    y.add_(1)
    y.sum().backward()


def saved_nonleaf_modified_twice(lib):
    y = lib.ones(3, 4, requires_grad=True) * 2
    z = y * y
    y.add_(1)
    y.add_(1)
    z.sum().backward()


def saved_view_base_modified(lib):
    y = lib.ones(3, 4, requires_grad=True) * 2
    z = y[0] * y[0]
    y.mul_(3)
    z.sum().backward()


def detached_copy_modified(lib):
    w = lib.ones(3, requires_grad=True)
    y = (w * w).sum()
    w.detach().add_(1)
    y.backward()


def optimizer_step_between_forward_and_backward(lib):
    nn = sub(lib, "nn")
    lib.manual_seed(0)
    conv = nn.Conv2d(1, 2, 3)
    loss = conv(lib.ones(1, 1, 5, 5)).sum()
    loss.backward(retain_graph=True)
    sub(lib, "optim").SGD(conv.parameters(), lr=0.1).step()
    loss.backward()


def adam_step_between_forward_and_backward(lib):
    nn = sub(lib, "nn")
    lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    loss = model(lib.ones(5, 3)).sum()
    loss.backward(retain_graph=True)
    sub(lib, "optim").Adam(model.parameters(), lr=0.1).step()
    loss.backward()


def broadcast_to_larger(lib):
    lib.zeros(3).add_(lib.ones(2, 3))


def float_into_int(lib):
    lib.zeros(3, dtype=getattr(lib, "int64", np.int64)).add_(1.5)


def write_into_expanded(lib):
    lib.zeros(3).expand(2, 3).add_(1)


def second_backward(lib):
    w = lib.ones(3, requires_grad=True)
    y = (w * w).sum()
    y.backward()
    y.backward()


def setitem_on_leaf(lib):
    lib.ones(3, requires_grad=True)[0] = 2.0


SCENARIOS = [
    (leaf_add_, "a leaf Variable that requires grad is being used in an in-place operation."),
    (leaf_augmented_assignment, "a leaf Variable that requires grad is being used in an in-place operation."),
    (leaf_view, "a view of a leaf Variable that requires grad is being used in an in-place operation."),
    (view_made_in_no_grad, "A view was created in no_grad mode and is being modified inplace with grad mode"),
    (saved_input_modified, r"modified by an inplace operation: \[\w+\.FloatTensor \[3, 4\]\] is at version 1; "
                           r"expected version 0 instead"),
    (unsaved_input_modified_is_fine, None),
    (saved_output_modified, r"\[\w+\.FloatTensor \[3, 4\]\], which is output 0 of Exp, is at version 1; "
                            "expected version 0 instead"),
    (saved_nonleaf_modified_twice, r"which is output 0 of Add, is at version 2; expected version 0 instead"),
    (saved_view_base_modified, "modified by an inplace operation"),
    (detached_copy_modified, r"\[\w+\.FloatTensor \[3\]\] is at version 1; expected version 0"),
    (optimizer_step_between_forward_and_backward, r"\[\w+\.FloatTensor \[2, 1, 3, 3\]\] is at version \d; expected"),
    (adam_step_between_forward_and_backward, "modified by an inplace operation"),
    (broadcast_to_larger, r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"),
    (float_into_int, "result type Float can't be cast to the desired output type Long"),
    (write_into_expanded, "more than one element of the written-to tensor refers to a single memory location"),
    (second_backward, "Trying to backward through the graph a second time"),
    (setitem_on_leaf, "a leaf Variable that requires grad is being used in an in-place operation."),
]


def _check(lib, code, error):
    if error is None:
        code(lib)
    else:
        with pytest.raises(RuntimeError, match=error):
            code(lib)


@pytest.mark.parametrize("code, error", SCENARIOS, ids=[s[0].__name__ for s in SCENARIOS])
def test_rule(code, error):
    _check(tg, code, error)


@pytest.mark.oracle
@pytest.mark.parametrize("code, error", SCENARIOS, ids=[s[0].__name__ for s in SCENARIOS])
def test_rule_is_torchs(code, error):
    _check(pytest.importorskip("torch"), code, error)


def test_a_failing_inplace_op_changes_nothing():
    x = tg.ones(3)
    with pytest.raises(RuntimeError):
        x.add_(tg.ones(2, 3))
    w = tg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError):
        w.mul_(5)
    assert x._version == 0 and w._version == 0 and np.all(x.numpy() == 1) and np.all(w.numpy() == 1)


# ---------------------------------------------------------------- the version counter
def versions(lib):
    x = lib.zeros(2, 3)
    seen = [x._version]
    x.add_(1)
    x[0] = 5.0
    x += 1
    seen.append(x._version)
    v = x.view(6)
    v.mul_(2)  # a view shares the counter
    x.detach().sub_(1)  # so does a detached copy
    seen += [x._version, v._version]
    y = x * 1  # a new tensor starts at 0
    seen.append(y._version)
    return seen, x.numpy().tolist()


def test_version_counter_counts_writes_through_views_and_detach():
    assert versions(tg) == ([0, 3, 5, 5, 0], [[11.0] * 3, [3.0] * 3])


@pytest.mark.oracle
def test_version_counter_is_torchs():
    assert versions(tg) == versions(pytest.importorskip("torch"))


def test_augmented_assignment_mutates_and_returns_self():
    p = tg.Tensor([1.0, 2.0], requires_grad=True)
    p.grad = tg.Tensor([10.0, 10.0])
    before = p
    with tg.no_grad():
        p -= 0.1 * p.grad
    assert p is before and p.requires_grad and p.is_leaf
    np.testing.assert_allclose(p.numpy(), [0.0, 1.0])
    q = tg.Tensor([4.0])
    q *= 3
    q /= 2
    q += tg.Tensor([1.0])
    np.testing.assert_allclose(q.numpy(), [7.0])


def test_hand_written_sgd_loop_lowers_the_loss():
    rng = np.random.default_rng(0)
    x = tg.Tensor(rng.normal(size=(64, 3)))
    y = x @ tg.Tensor([[1.0], [-2.0], [0.5]]) + 0.3
    w, b = tg.zeros(3, 1, requires_grad=True), tg.zeros(1, requires_grad=True)
    losses = []
    for _ in range(30):
        loss = ((x @ w + b - y) ** 2).mean()
        losses.append(loss.item())
        w.grad = b.grad = None
        loss.backward()
        with tg.no_grad():
            w -= 0.1 * w.grad
            b -= 0.1 * b.grad
    assert losses[-1] < 0.05 * losses[0]


def test_optimizer_updates_bump_the_version():
    for make in (lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: Adam(ps, lr=0.1, weight_decay=0.1)):
        p = tg.ones(3, requires_grad=True)
        (p * p).sum().backward()
        make([p]).step()
        assert p._version == 1 and not np.allclose(p.numpy(), 1)


# ---------------------------------------------------------------- gradients through in-place writes
INDICES = [1, slice(1, 3), (slice(None), 2), (Ellipsis, slice(0, 4, 2)), np.array([3, 0]),
           np.array([[True, False, True, False, True]] * 4)]


def _setitem_grads(lib, index, base_requires_grad, rng_seed=0):
    rng = np.random.default_rng(rng_seed)
    x = lib.tensor(rng.normal(size=(4, 5)), requires_grad=True)
    base = x * 1.5 if base_requires_grad else lib.tensor(rng.normal(size=(4, 5)))
    region = np.zeros((4, 5))[index].shape
    value = lib.tensor(rng.normal(size=region), requires_grad=True)
    base[index if not isinstance(index, np.ndarray) else lib.tensor(index)] = value * 2
    weights = lib.tensor(rng.normal(size=(4, 5)))
    (base * weights).sum().backward()
    return (base.detach().numpy().copy(), value.grad.numpy().copy(),
            None if not base_requires_grad else x.grad.numpy().copy())


def test_setitem_gradient_reaches_the_value_and_the_rest():
    base, value_grad, x_grad = _setitem_grads(tg, slice(1, 3), True)
    assert value_grad.shape == (2, 5) and x_grad.shape == (4, 5)
    assert np.all(x_grad[1:3] == 0) and np.all(x_grad[[0, 3]] != 0)


@pytest.mark.oracle
@pytest.mark.parametrize("base_requires_grad", [True, False])
@pytest.mark.parametrize("index", INDICES, ids=str)
def test_setitem_gradients_match_torch(index, base_requires_grad):
    torch = pytest.importorskip("torch")
    for ours, theirs in zip(_setitem_grads(tg, index, base_requires_grad),
                            _setitem_grads(torch, index, base_requires_grad)):
        if theirs is not None:
            np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-12)


def _inplace_chain(lib, seed):
    rng = np.random.default_rng(seed)
    x, b = (lib.tensor(rng.normal(size=(3, 4)), requires_grad=True) for _ in range(2))
    c = lib.tensor(rng.uniform(1, 2, size=(4,)), requires_grad=True)
    y = x * 1
    y.mul_(b).add_(c, alpha=2).div_(c)
    y.pow_(2)
    y.clamp_(0.0, 3.0)
    y.neg_()
    y[1:, ::2].mul_(b[1:, ::2])  # through a view of a non-leaf: re-records y (CopySlices)
    y.view(12)[3:7].sub_(c)
    v = y[0]
    y.mul_(1.5)  # v is re-derived from the new y
    z = lib.zeros(3, 4)
    z.copy_(y * 2)
    loss = (v * v).sum() + (y * z).sum()
    loss.backward()
    return [loss.detach().numpy()] + [t.grad.numpy() for t in (x, b, c)]


@pytest.mark.oracle
@pytest.mark.parametrize("seed", [0, 1])
def test_inplace_op_gradients_match_torch(seed):
    torch = pytest.importorskip("torch")
    for ours, theirs in zip(_inplace_chain(tg, seed), _inplace_chain(torch, seed)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-12)


def test_inplace_op_on_non_leaf_records_it():
    x = tg.Tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    y = x * 1
    y.mul_(x)  # y = x², saved x is untouched: d/dx = 2x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert y.grad_fn.name() == "MulBackward0"


def test_fill_zero_and_random_fills_cut_the_gradient_to_old_values():
    x = tg.ones(2, 3, dtype=np.float64, requires_grad=True)
    for fill in (lambda t: t.fill_(2.0), lambda t: t.zero_(), lambda t: t.uniform_(-1, 1), lambda t: t.normal_(0, 2)):
        y = x * 3
        fill(y)
        (y * x).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), y.numpy())  # only the direct use of x counts
        x.grad = None


def test_fills_draw_from_their_distribution():
    tg.manual_seed(0)
    u = tg.zeros(20000).uniform_(-2, 3)
    n = tg.zeros(20000).normal_(1.0, 0.5)
    assert u.numpy().min() >= -2 and u.numpy().max() < 3 and abs(u.numpy().mean() - 0.5) < 0.05
    assert abs(n.numpy().mean() - 1.0) < 0.02 and abs(n.numpy().std() - 0.5) < 0.02
    assert tg.zeros(3).uniform_(**{"from": 5, "to": 6}).numpy().min() >= 5


@settings(max_examples=10)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3))
def test_setitem_without_grad_writes_like_numpy(shape):
    rng = np.random.default_rng(len(shape))
    array = rng.normal(size=shape)
    mask = rng.random(shape) > 0.5
    t = tg.Tensor(array.copy())
    t[tg.Tensor(mask)] = 7.0
    expected = array.copy()
    expected[mask] = 7.0
    np.testing.assert_array_equal(t.numpy(), expected)
    assert t._version == 1


@settings(max_examples=8)
@given(st.integers(2, 5), st.integers(2, 5), st.integers(0, 3))
def test_copy_slices_gradcheck(rows, cols, seed):
    rng = np.random.default_rng(seed)
    base = tg.Tensor(rng.normal(size=(rows, cols)), requires_grad=True)
    value = tg.Tensor(rng.normal(size=(cols,)), requires_grad=True)
    from tinygrad_cnn.ops.shape import Permute

    gradcheck(lambda b, v: CopySlices.apply(b, v, index=(rows - 1,)) * b, [base, value])
    gradcheck(lambda b, v: CopySlices.apply(b, v[:1], chain=((Permute, {"dims": (1, 0)}),),
                                            index=(slice(None), 0)), [base, value])
    gradcheck(lambda b, v: Copy.apply(b, v) * b, [base, value])
