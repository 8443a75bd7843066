"""In-place activations (``inplace=True``, ``relu_`` and friends) against PyTorch in float64: the
input object is overwritten and returned with its version bumped, values and gradients match,
and torch's errors are raised (a leaf or a view of a leaf that requires grad, a value saved
for backward overwritten afterwards)."""

import numpy as np
import pytest
from hypothesis import given, settings

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.testing import gradcheck
from tinygrad_cnn.testing import strategies as ts

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")
TF = torch.nn.functional

pytestmark = pytest.mark.oracle

# (name, ours(x) in place, torch's(x) in place)
CASES = [
    ("relu", lambda t: F.relu(t, inplace=True), lambda t: TF.relu(t, inplace=True)),
    ("relu_", F.relu_, TF.relu_),
    ("Tensor.relu_", lambda t: t.relu_(), lambda t: t.relu_()),
    ("ReLU", nn.ReLU(inplace=True), torch.nn.ReLU(inplace=True)),
    ("leaky_relu", lambda t: F.leaky_relu(t, 0.2, inplace=True), lambda t: TF.leaky_relu(t, 0.2, inplace=True)),
    ("leaky_relu_", F.leaky_relu_, TF.leaky_relu_),
    ("LeakyReLU", nn.LeakyReLU(0.3, True), torch.nn.LeakyReLU(0.3, True)),
    ("elu", lambda t: F.elu(t, 0.7, inplace=True), lambda t: TF.elu(t, 0.7, inplace=True)),
    ("elu_", F.elu_, TF.elu_),
    ("ELU", nn.ELU(1.5, True), torch.nn.ELU(1.5, True)),
    ("hardtanh", lambda t: F.hardtanh(t, -2, 1.5, inplace=True), lambda t: TF.hardtanh(t, -2, 1.5, inplace=True)),
    ("hardtanh_", F.hardtanh_, TF.hardtanh_),
    ("Hardtanh", nn.Hardtanh(-0.5, 3, True), torch.nn.Hardtanh(-0.5, 3, True)),
    ("relu6", lambda t: F.relu6(t, inplace=True), lambda t: TF.relu6(t, inplace=True)),
    ("ReLU6", nn.ReLU6(True), torch.nn.ReLU6(True)),
    ("silu", lambda t: F.silu(t, inplace=True), lambda t: TF.silu(t, inplace=True)),
    ("SiLU", nn.SiLU(True), torch.nn.SiLU(True)),
]
IDS = [c[0] for c in CASES]


def _run(lib, fn, x, upstream):
    """x (leaf) -> y = x * 1.5 -> fn(y) in place -> (out, y, version, x.grad) for sum(out * upstream)."""
    leaf = lib.tensor(x, requires_grad=True)
    y = leaf * 1.5
    out = fn(y)
    (out * lib.tensor(upstream)).sum().backward()
    return out, y, y._version, leaf.grad.numpy()


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(max_examples=3)
@given(x=ts.distinct_arrays(ts.shapes(min_dims=1, max_dims=4), low=-7, high=7))
def test_inplace_activation_overwrites_its_input_and_matches_torch(case, x):
    _, ours_fn, torch_fn = case
    upstream = np.random.default_rng(0).normal(size=x.shape)
    out, y, version, grad = _run(tg, ours_fn, x, upstream)
    t_out, t_y, t_version, t_grad = _run(torch, torch_fn, x, upstream)
    assert out is y and t_out is t_y
    assert version == t_version == 1
    np.testing.assert_allclose(y.detach().numpy(), t_y.detach().numpy(), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(grad, t_grad, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_inplace_activation_on_a_leaf_that_requires_grad_raises_and_changes_nothing(case):
    _, ours_fn, torch_fn = case
    x = np.array([-1.5, 0.25, 2.0])
    ours, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        torch_fn(theirs)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        ours_fn(ours)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        torch_fn(theirs[1:])
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        ours_fn(ours[1:])
    np.testing.assert_array_equal(ours.detach().numpy(), x)
    assert ours._version == 0


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_inplace_activation_under_no_grad_writes_into_a_leaf(case):
    _, ours_fn, torch_fn = case
    x = np.array([-1.5, 0.25, 2.0])
    ours, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with tg.no_grad():
        assert ours_fn(ours) is ours
    with torch.no_grad():
        torch_fn(theirs)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    assert ours._version == theirs._version == 1 and ours.grad_fn is None


def test_overwriting_a_value_saved_for_backward_raises_as_torch():
    x = np.array([-1.5, 0.25, 2.0])
    for lib in (tg, torch):
        leaf = lib.tensor(x, requires_grad=True)
        y = leaf.sigmoid()  # sigmoid's backward reads its output y
        lib.nn.functional.relu(y, inplace=True)
        with pytest.raises(RuntimeError, match="modified by an inplace operation.*output 0 of Sigmoid"):
            y.sum().backward()
        # relu_'s own backward reads its result: writing into it again is caught too
        z = lib.nn.functional.relu(leaf * 2, inplace=True)
        z.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation.*output 0 of Relu"):
            z.sum().backward()


def test_inplace_activation_on_a_view_of_a_non_leaf_matches_torch():
    x = np.linspace(-2, 2, 12).reshape(3, 4)
    upstream = np.random.default_rng(1).normal(size=(3, 4))
    results = []
    for lib in (tg, torch):
        leaf = lib.tensor(x, requires_grad=True)
        y = leaf * 2
        view = y[1:, ::2]
        assert lib.nn.functional.elu(view, 0.5, inplace=True) is view
        (y * lib.tensor(upstream)).sum().backward()
        results.append((y.detach().numpy(), leaf.grad.numpy(), y.grad_fn.name()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)
    assert results[0][2] == "CopySlices" and results[1][2].endswith("CopySlices")


def test_inplace_relu_node_and_retain_grad_as_torch():
    x = np.array([[-1.0, 2.0], [3.0, -4.0]])
    names, grads = [], []
    for lib in (tg, torch):
        leaf = lib.tensor(x, requires_grad=True)
        y = leaf * 3
        y.retain_grad()
        lib.relu_(y) if lib is torch else y.relu_()
        (y * y).sum().backward()
        names.append((y.grad_fn.name(), y.grad_fn.next_functions[0][0].name()))
        grads.append((y.grad.numpy(), leaf.grad.numpy()))
    assert names[0] == names[1] == ("ReluBackward0", "MulBackward0")
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_resnet_block_with_inplace_relus_matches_out_of_place():
    from tinygrad_cnn.models.resnet import BasicBlock

    tg.manual_seed(0)
    block = BasicBlock(3, 3).double()
    x = np.random.default_rng(2).normal(size=(2, 3, 5, 5))
    grads = []
    for inplace in (True, False):
        block.relu = nn.ReLU(inplace=inplace)
        t = tg.tensor(x, requires_grad=True)
        out = block(t)
        out.sum().backward()
        grads.append((out.detach().numpy(), t.grad.numpy(), block.conv1.weight.grad.numpy().copy()))
        block.zero_grad()
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)


def test_relu_inplace_gradcheck():
    from tinygrad_cnn.ops.activation import ReLUInplace

    x = tg.tensor([[-1.3, 0.7, 2.1], [0.4, -0.2, 1.9]], dtype=tg.float64, requires_grad=True)
    # the op overwrites its input: each evaluation gets a fresh copy
    assert gradcheck(lambda t: ReLUInplace.apply(t * 1.0), [x])
    assert gradcheck(lambda t: F.elu(t * 1.0, 0.5, inplace=True), [x])


@pytest.mark.parametrize("drop", [lambda t, inplace: F.dropout(t, 0.4, True, inplace),
                                  lambda t, inplace: nn.Dropout2d(0.5, inplace)(t)], ids=["dropout", "dropout2d"])
def test_inplace_dropout_overwrites_its_input_with_the_out_of_place_result(drop):
    x = np.random.default_rng(4).normal(size=(3, 4, 2, 2))
    results = []
    for inplace in (True, False):
        tg.manual_seed(7)
        leaf = tg.tensor(x, requires_grad=True)
        y = leaf * 2
        out = drop(y, inplace)
        assert (out is y) == inplace and y._version == int(inplace)
        (out * out).sum().backward()
        results.append((out.detach().numpy(), leaf.grad.numpy()))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        drop(tg.tensor(x, requires_grad=True), True)


@pytest.mark.parametrize("make", [
    lambda a: a.astype(np.float32),  # C order, several blocks of the cached zeros
    lambda a: np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 0, -1)), -1, 0).astype(np.float32),  # conv's CHWN
    lambda a: a.astype(np.float32)[:, ::2],  # gaps in memory
    lambda a: a.copy(),  # float64
], ids=["c", "chwn", "strided", "float64"])
def test_relu_into_writes_max_of_a_and_zero_and_keeps_nan(make):
    from tinygrad_cnn.ops.activation import relu_into

    values = np.random.default_rng(5).normal(size=(3, 8, 40, 40))
    values[0, 0, 0, :3] = [np.nan, -np.inf, np.inf]
    a = make(values)
    expected = torch.relu(torch.from_numpy(a.copy())).numpy()
    assert relu_into(a) is a
    np.testing.assert_array_equal(a, expected)


@pytest.mark.parametrize("call", [
    lambda F, x: F.leaky_relu(x, 0.1, inplace=True), lambda F, x: F.leaky_relu_(x, 0.1),
    lambda F, x: F.elu(x, inplace=True), lambda F, x: F.elu_(x), lambda F, x: F.leaky_relu(x, 0.1),
    lambda F, x: F.elu(x), lambda F, x: F.hardtanh_(x), lambda F, x: F.relu6(x, inplace=True),
    lambda F, x: F.silu(x, inplace=True), lambda F, x: F.relu_(x),
])
def test_inplace_activation_nodes_carry_torchs_names(call):
    names = []
    for lib in (tg, torch):
        y = call(lib.nn.functional, lib.tensor([-1.5, 0.5, 2.0], requires_grad=True) * 1)
        names.append(y.grad_fn.name())
    assert names[0] == names[1]
