"""Graph semantics: accumulation, retain_graph, freed graphs, grad mode, detach, diamonds,
deep chains, scopes and needs_input_grad."""

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.autograd import Context, Function, scope


def test_gradients_accumulate_across_backward_calls():
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.numpy() + 3.0)
    x.zero_grad()
    assert x.grad is None


def test_retain_graph_allows_a_second_backward():
    x = tg.Tensor([0.5, -1.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * first)


def test_second_backward_through_a_freed_graph_raises():
    x = tg.Tensor([0.5, -1.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_freeing_drops_saved_arrays_but_keeps_structure():
    x = tg.Tensor([2.0], requires_grad=True)
    y = (x * x).sum()
    mul = y.grad_fn.inputs[0].grad_fn
    assert mul.op == "mul" and len(mul.saved_tensors) == 2
    y.backward()
    assert mul.freed and mul.saved_tensors == () and mul.inputs[0] is x


def test_backward_of_non_scalar_needs_explicit_grad():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    with pytest.raises(RuntimeError, match="one-element"):
        y.backward()
    y.backward(np.array([1.0, 10.0], dtype=np.float32))
    np.testing.assert_allclose(x.grad, [2.0, 20.0])


def test_backward_grad_of_wrong_shape_raises():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"grad shape \(3,\)"):
        (x * 2.0).backward(np.ones(3))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.Tensor([1.0]).sum().backward()


def test_no_grad_records_nothing_and_enable_grad_overrides():
    x = tg.Tensor([1.0], requires_grad=True)
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        y = x * 2.0
        with tg.enable_grad():
            z = x * 2.0
    assert tg.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad
    assert z.grad_fn is not None and z.requires_grad


def test_no_grad_works_as_decorator():
    @tg.no_grad()
    def infer(t):
        return t * 3.0

    out = infer(tg.Tensor([1.0], requires_grad=True))
    assert not out.requires_grad and tg.is_grad_enabled()


def test_set_grad_enabled_as_a_call_a_context_and_a_decorator():
    tg.set_grad_enabled(False)
    assert not tg.is_grad_enabled()
    tg.set_grad_enabled(True)
    assert tg.is_grad_enabled()
    with tg.set_grad_enabled(False):
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()

    @tg.set_grad_enabled(True)
    def recording():
        return tg.is_grad_enabled()

    assert tg.is_grad_enabled()
    with tg.no_grad():
        assert recording() and not tg.is_grad_enabled()


def test_detach_cuts_the_graph_and_shares_data():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2.0).detach()
    assert d.grad_fn is None and not d.requires_grad
    y = (d * x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad, d.numpy())


def test_tensor_used_twice_receives_both_gradients():
    x = tg.Tensor([3.0], requires_grad=True)
    a = x * 2.0
    b = x.exp()
    (a * b).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * np.exp(3.0) + 2 * 3.0 * np.exp(3.0), rtol=1e-6)


@pytest.mark.parametrize("build, expected", [
    (lambda w: w + w * 3.0, [4.0]),
    (lambda w: (w * 2.0) + (w * 2.0) * 3.0, [8.0]),
    (lambda w: (lambda h: h + h.exp())(w * 2.0), [2.0 + 2.0 * np.exp(2.0)]),
])
def test_an_input_that_is_also_an_ancestor_of_another_input(build, expected):
    """Ops whose earlier input also feeds a later one: every path's gradient arrives."""
    w = tg.Tensor([1.0], requires_grad=True, dtype=np.float64)
    build(w).sum().backward()
    np.testing.assert_allclose(w.grad, expected, rtol=1e-12)


def test_ten_thousand_op_chain_has_no_recursion_error():
    x = tg.Tensor([1.0], requires_grad=True, dtype=np.float64)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0001 ** 10_000], rtol=1e-9)


def test_integer_tensors_refuse_requires_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        tg.Tensor(np.array([1, 2]), requires_grad=True)
    labels = tg.Tensor(np.array([1, 2]))
    with pytest.raises(RuntimeError, match="int64"):
        labels.requires_grad_()


def test_retain_grad_keeps_an_intermediate_gradient():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad, 2 * h.numpy())


def test_node_records_op_params_and_scope():
    x = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    with scope("fc1"), scope("inner"):
        y = x.sum(axis=1, keepdims=True)
    assert y.grad_fn.op == "sum"
    assert y.grad_fn.params == {"axis": (1,), "keepdims": True}
    assert y.grad_fn.scope == ("fc1", "inner")
    assert (x * 2.0).grad_fn.scope == ()


def test_needs_input_grad_skips_work():
    calls = []

    class Probe(Function):
        @staticmethod
        def forward(ctx: Context, a, b):
            return a * b

        @staticmethod
        def backward(ctx: Context, grad):
            calls.append(ctx.needs_input_grad)
            return (grad if ctx.needs_input_grad[0] else None), (grad if ctx.needs_input_grad[1] else None)

    x = tg.Tensor([1.0], requires_grad=True)
    c = tg.Tensor([2.0])
    Probe.apply(x, c).sum().backward()
    assert calls == [(True, False)]
    assert x.grad is not None and c.grad is None


def test_broadcast_gradient_is_reduced_to_input_shape_and_dtype():
    bias = tg.Tensor(np.zeros((1, 3), dtype=np.float32), requires_grad=True)
    x = tg.Tensor(np.ones((4, 3), dtype=np.float64))
    (x + bias).sum().backward()
    assert bias.grad.numpy().shape == (1, 3) and bias.grad.numpy().dtype == np.float32
    np.testing.assert_allclose(bias.grad, [[4.0, 4.0, 4.0]])


def test_ops_without_grad_inputs_record_no_graph():
    y = tg.Tensor([1.0, 2.0]) * 2.0
    assert y.grad_fn is None and not y.requires_grad


def test_a_backward_that_fails_midway_changes_no_grad_and_frees_nothing():
    # the exp node runs before the mul node, whose saved input the in-place write changed:
    # backward fails when it reaches the mul node, after the exp node has run
    a = tg.Tensor([0.5, -1.0, 2.0], requires_grad=True)
    w = tg.Tensor([1.5, 2.0, -0.5], requires_grad=True)
    w.grad = tg.Tensor([7.0, 7.0, 7.0])
    h = a * 2.0
    y = h * w
    z = y.exp().sum()
    with tg.no_grad():
        h.add_(1.0)
    for _ in range(2):  # the same error both times: the first call freed nothing
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.backward()
    assert a.grad is None and w.grad.tolist() == [7.0, 7.0, 7.0]
    assert not z.grad_fn.freed and z.grad_fn.inputs[0].grad_fn.saved_tensors


def test_nodes_run_newest_first_so_each_gets_all_its_gradients():
    # x feeds nodes made long after it; its gradient must be complete before its node runs
    x = tg.Tensor([0.3, -0.7], requires_grad=True)
    h = x.tanh()
    late = h
    for _ in range(50):
        late = late * 1.01
    loss = (late + h * 2.0 + h.exp()).sum()
    loss.backward()
    torch = pytest.importorskip("torch")
    xt = torch.tensor([0.3, -0.7], dtype=torch.float32, requires_grad=True)
    ht = xt.tanh()
    lt = ht
    for _ in range(50):
        lt = lt * 1.01
    (lt + ht * 2.0 + ht.exp()).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6)


def _relu_graph(lib, x, w, v, case):
    """A graph in which a ReLU's incoming gradient, made by a linear layer (fresh_grads), is
    also another node's (an add hands one array to both inputs), retained, hooked, or captured."""
    relu, linear = lib.relu, lib.linear
    h = linear(x, w)
    if case == "shared":  # the add gives the same gradient array to both relus
        y = linear(relu(h) + relu(-h), v)
        return y.sum(), None
    a = relu(h)
    if case == "retained":
        a.retain_grad()
    seen = []
    if case == "hooked":
        a.register_hook(lambda g: seen.append(g))
    y = linear(a, v)
    return y.sum(), (a, seen)


@pytest.mark.parametrize("case", ["shared", "retained", "hooked", "captured", "plain"])
def test_relu_writes_into_its_incoming_gradient_only_when_nothing_else_holds_it(case):
    torch = pytest.importorskip("torch")
    import tinygrad_cnn.nn.functional as F

    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(shape).astype(np.float32) for shape in ((5, 4), (6, 4), (3, 6))]

    class Ours:
        relu, linear = staticmethod(F.relu), staticmethod(F.linear)

    class Torch:
        relu, linear = staticmethod(torch.relu), staticmethod(torch.nn.functional.linear)

    results = []
    for lib, make in ((Ours, lambda a: tg.Tensor(a, requires_grad=True)),
                      (Torch, lambda a: torch.tensor(a, requires_grad=True))):
        x, w, v = (make(a) for a in arrays)
        loss, kept = _relu_graph(lib, x, w, v, case)
        if case == "captured":
            grads = (tg.autograd.grad if lib is Ours else torch.autograd.grad)(loss, [kept[0], x])
            results.append([np.array(g.detach().numpy()) for g in grads])
            continue
        loss.backward()
        extra = []
        if case == "retained":
            extra = [kept[0].grad]
        elif case == "hooked":
            extra = kept[1]  # the gradient the hook saw, as it is after backward
        results.append([np.array(t.detach().numpy()) for t in [x.grad, w.grad, *extra]])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_relu_after_a_linear_layer_writes_its_gradient_into_the_incoming_array(monkeypatch):
    import tinygrad_cnn.nn.functional as F
    from tinygrad_cnn.ops import elementwise

    calls = []
    real = elementwise.relu_backward
    monkeypatch.setattr(elementwise, "relu_backward",
                        lambda grad, out, into=None: calls.append(into is grad) or real(grad, out, into))
    rng = np.random.default_rng(4)
    x, w, v = (tg.Tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True) for s in ((5, 4), (6, 4), (3, 6)))
    F.linear(F.relu(F.linear(x, w)), v).sum().backward()  # the gradient comes from linear (fresh_grads)
    F.relu(F.linear(x, w)).sum().backward()  # ... from sum, whose gradient is a broadcast of the caller's
    assert calls == [True, False]
