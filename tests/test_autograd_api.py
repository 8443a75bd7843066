"""The autograd surface, as torch's: backward's keywords, autograd.grad/backward, hooks,
grad_fn.name() and grad_fn.next_functions, each against PyTorch where it is installed."""

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import autograd


def _leaves(lib, seed=0):
    rng = np.random.default_rng(seed)
    x = lib.tensor(rng.normal(size=(4, 3)))
    w = lib.tensor(rng.normal(size=(3, 2)), requires_grad=True)
    b = lib.tensor(rng.normal(size=(2,)), requires_grad=True)
    return x, w, b


def _autograd_grad(lib):
    x, w, b = _leaves(lib)
    h = (x @ w + b).tanh()
    loss = (h * h).sum()
    gw, gb, gh = sub_autograd(lib).grad(loss, [w, b, h], retain_graph=True)
    untouched = w.grad is None and b.grad is None
    upstream = lib.tensor(np.linspace(-1, 1, 8).reshape(4, 2))
    (gw2,) = sub_autograd(lib).grad(h, w, grad_outputs=upstream)
    return [t.numpy() for t in (gw, gb, gh, gw2)], untouched


def sub_autograd(lib):
    return lib.autograd if hasattr(lib, "autograd") else autograd


def test_autograd_grad_leaves_grad_alone_and_matches_backward():
    (gw, gb, gh, _), untouched = _autograd_grad(tg)
    assert untouched
    x, w, b = _leaves(tg)
    h = (x @ w + b).tanh()
    h.retain_grad()
    (h * h).sum().backward()
    for ours, expected in zip((gw, gb, gh), (w.grad, b.grad, h.grad)):
        np.testing.assert_allclose(ours, expected.numpy(), rtol=1e-12)


@pytest.mark.oracle
def test_autograd_grad_matches_torch():
    torch = pytest.importorskip("torch")
    ours, ours_untouched = _autograd_grad(tg)
    theirs, their_untouched = _autograd_grad(torch)
    assert ours_untouched and their_untouched
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12)


def test_autograd_grad_unused_inputs():
    x, w, b = _leaves(tg)
    loss = (x @ w).sum()
    with pytest.raises(RuntimeError, match="at index 1 appears to not have been used in the graph"):
        autograd.grad(loss, [w, b], retain_graph=True)
    gw, gb = autograd.grad(loss, [w, b], allow_unused=True, retain_graph=True)
    assert gb is None and gw.shape == w.shape
    gw, gb = autograd.grad(loss, [w, b], materialize_grads=True)
    assert np.all(gb.numpy() == 0)
    with pytest.raises(RuntimeError, match="does not require grad"):
        autograd.grad((x @ w).sum(), [x])
    with pytest.raises(RuntimeError, match="only for scalar"):
        autograd.grad(x @ w, [w])


def test_create_graph_is_not_implemented():
    x, w, b = _leaves(tg)
    with pytest.raises(NotImplementedError, match="create_graph=True"):
        (x @ w).sum().backward(create_graph=True)
    with pytest.raises(NotImplementedError, match="create_graph=True"):
        autograd.grad((x @ w).sum(), [w], create_graph=True)
    assert w.grad is None


def _backward_inputs(lib):
    x, w, b = _leaves(lib)
    (x @ w + b).sum().backward(inputs=[b])
    first = (w.grad, b.grad.numpy().copy())
    loss = ((x @ w + b) ** 2).sum()
    sub_autograd(lib).backward([loss, (b * 3).sum()], inputs=(w,))
    return first[0] is None, first[1], w.grad.numpy(), b.grad.numpy()


def test_backward_inputs_accumulates_only_there():
    w_none, b_grad, w_grad, b_grad_after = _backward_inputs(tg)
    assert w_none and np.all(b_grad == 4) and np.all(b_grad_after == 4) and w_grad.shape == (3, 2)


@pytest.mark.oracle
def test_backward_inputs_matches_torch():
    torch = pytest.importorskip("torch")
    for a, b in zip(_backward_inputs(tg), _backward_inputs(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def _hooks(lib):
    x, w, b = _leaves(lib)
    seen = []
    handle = w.register_hook(lambda g: g * 2)
    b.register_hook(lambda g: seen.append(g.numpy().copy()))  # returning None keeps the gradient
    h = x @ w + b
    h.register_hook(lambda g: g + 1)
    h.retain_grad()
    (h * h).sum().backward(retain_graph=True)
    first = (w.grad.numpy().copy(), b.grad.numpy().copy(), h.grad.numpy().copy())
    handle.remove()
    w.grad = None
    (h * h).sum().backward()
    return list(first) + [w.grad.numpy(), seen[0]]


def test_hooks_rewrite_the_gradient_and_can_be_removed():
    w_hooked, b_grad, h_grad, w_plain, b_seen = _hooks(tg)
    np.testing.assert_allclose(w_hooked, 2 * w_plain)
    np.testing.assert_allclose(b_grad, b_seen)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        tg.zeros(3).register_hook(lambda g: g)


@pytest.mark.oracle
def test_hooks_match_torch():
    torch = pytest.importorskip("torch")
    for a, b in zip(_hooks(tg), _hooks(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def _graph(lib):
    import importlib

    F = importlib.import_module(f"{lib.__name__}.nn.functional")
    rng = np.random.default_rng(0)
    images = lib.tensor(rng.normal(size=(2, 1, 6, 6)))
    kernel = lib.tensor(rng.normal(size=(3, 1, 3, 3)), requires_grad=True)
    w = lib.tensor(rng.normal(size=(12, 2)), requires_grad=True)
    h = F.max_pool2d(F.conv2d(images, kernel).relu(), 2).flatten(1)
    out = (h @ w) * 2 - (h.exp().sum(1, keepdim=True) / 3).log()
    loss = out.sum() + (out ** 2).mean()

    def tree(node, depth=0):
        if node is None:
            return None
        if depth > 12 or not hasattr(node, "next_functions"):
            return node.name()
        # (torch lists a None edge for conv's absent bias; we list none)
        return node.name(), [tree(n, depth + 1) for n, _ in node.next_functions if n is not None]

    leaf = (w * 1).grad_fn.next_functions[0][0]
    return tree(loss.grad_fn), leaf.name(), leaf.variable is w, (w * 1).grad_fn.next_functions[1][0]


def test_next_functions_lead_to_accumulate_grad_nodes():
    names, leaf_name, is_w, constant = _graph(tg)
    assert names[0] == "AddBackward0" and leaf_name == "torch::autograd::AccumulateGrad" and is_w
    assert constant is None


@pytest.mark.oracle
def test_grad_fn_names_and_edges_match_torch():
    torch = pytest.importorskip("torch")
    assert _graph(tg) == _graph(torch)


def test_backward_keywords_and_errors():
    x, w, b = _leaves(tg)
    y = x @ w
    y.backward(gradient=tg.ones(4, 2), retain_graph=True)
    y.backward(tg.ones(4, 2))
    np.testing.assert_allclose(w.grad.numpy(), 2 * x.numpy().T @ np.ones((4, 2)))
    with pytest.raises(RuntimeError, match="does not require grad"):
        x.sum().backward()
    with pytest.raises(RuntimeError, match=r"Mismatch in shape"):
        (x @ w).backward(tg.ones(3))


def test_variable_is_torchs_old_wrapper():
    t = tg.ones(2)
    assert autograd.Variable(t, requires_grad=True) is t and t.requires_grad
