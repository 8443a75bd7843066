"""Module: registration order, traversal, state_dict round trips and errors, modes, scopes, repr, summary."""

from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn
import tinygrad_cnn.nn.functional as F


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
        self.head = nn.Linear(2 * 4 * 4, 3)

    def forward(self, x):
        return self.head(self.features(x).flatten(1) * self.scale)


def _ops_with_scopes(out):
    """(op, scope) of every node reachable from ``out``."""
    found, stack, seen = [], [out], set()
    while stack:
        t = stack.pop()
        if t.grad_fn is None or id(t) in seen:
            continue
        seen.add(id(t))
        found.append((t.grad_fn.op, t.grad_fn.scope))
        stack.extend(t.grad_fn.inputs)
    return found


def test_parameters_and_modules_are_registered_in_assignment_order():
    model = Block()
    assert [n for n, _ in model.named_parameters()] == [
        "scale", "features.0.weight", "features.0.bias", "head.weight", "head.bias"]
    assert [n for n, _ in model.named_children()] == ["features", "head"]
    assert [n for n, _ in model.named_modules()] == ["", "features", "features.0", "features.1", "head"]
    assert list(model.children()) == [model.features, model.head]
    assert list(model.modules())[0] is model
    assert [p is q for p, q in zip(model.parameters(), (model.scale, model.features[0].weight))] == [True, True]
    assert [n for n, _ in model.named_parameters(recurse=False)] == ["scale"]


def test_shared_parameters_and_modules_are_listed_once_but_kept_in_state_dict():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 3)
            self.b = self.a

    model = Tied()
    assert [n for n, _ in model.named_parameters()] == ["a.weight", "a.bias"]
    assert [n for n, _ in model.named_modules()] == ["", "a"]
    assert list(model.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]
    assert model.get_params_count() == 12


def test_reassignment_replaces_and_delattr_unregisters():
    model = Block()
    model.head = nn.Linear(32, 5)
    assert model.head.out_features == 5 and [n for n, _ in model.named_children()] == ["features", "head"]
    model.scale = nn.Parameter(np.zeros(2))
    assert model.scale.shape == (2,)
    del model.head
    assert [n for n, _ in model.named_children()] == ["features"]
    assert "head.weight" not in model.state_dict()


def test_bad_assignments_raise():
    model = Block()
    with pytest.raises(TypeError, match="parameter 'scale'"):
        model.scale = tg.Tensor([1.0])
    with pytest.raises(TypeError, match="child module 'head'"):
        model.head = "not a module"

    class Forgot(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Forgot()


def test_register_parameter_and_add_module():
    model = nn.Module()
    model.register_parameter("w", nn.Parameter(np.ones(2)))
    model.add_module("fc", nn.Linear(2, 1))
    model.register_module("act", nn.ReLU())
    model.add_module("missing", None)
    assert [n for n, _ in model.named_parameters()] == ["w", "fc.weight", "fc.bias"]
    assert [n for n, _ in model.named_children()] == ["fc", "act"]
    assert model.fc._name == "fc" and model.missing is None
    with pytest.raises(TypeError, match="cannot assign 'ndarray' object to parameter 'x'"):
        model.register_parameter("x", np.ones(2))
    with pytest.raises(TypeError, match="function is not a Module subclass"):
        model.add_module("y", F.relu)


def test_optional_parameter_set_to_none_is_skipped():
    layer = nn.Linear(4, 2, bias=False)
    assert layer.bias is None
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    assert list(layer.state_dict()) == ["weight"]
    out = layer(tg.ones(3, 4))
    np.testing.assert_allclose(out.numpy(), np.ones((3, 4)) @ layer.weight.numpy().T, rtol=1e-6)


def test_parameter_is_a_float_tensor_that_requires_grad():
    p = nn.Parameter(np.arange(3))
    assert p.requires_grad and p.dtype == np.float32 and p.is_leaf
    assert nn.Parameter(np.zeros(2)).dtype == np.float64
    source = tg.Tensor([1.0, 2.0])
    assert nn.Parameter(source).numpy() is source.numpy()
    assert repr(p).startswith("Parameter containing:\n")


def test_state_dict_holds_detached_tensors_sharing_memory_with_torch_names():
    model = Block()
    sd = model.state_dict()
    assert list(sd) == ["scale", "features.0.weight", "features.0.bias", "head.weight", "head.bias"]
    assert all(isinstance(v, tg.Tensor) and not v.requires_grad and v.grad_fn is None for v in sd.values())
    sd["head.weight"][...] = 123.0  # as torch's: the values share the parameters' memory
    assert np.all(model.head.weight.numpy() == 123.0)


def test_load_state_dict_round_trip_reproduces_outputs():
    tg.manual_seed(1)
    a, b = Block(), Block()
    x = tg.randn(2, 1, 6, 6)
    assert not np.allclose(a(x).numpy(), b(x).numpy())
    weight_array = b.head.weight.numpy()
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    assert b.head.weight.numpy() is weight_array  # copied in place: optimizers keep their references


def test_load_state_dict_accepts_tensors_and_casts_to_the_parameter_dtype():
    model = nn.Linear(2, 2)
    sd = {"weight": tg.Tensor(np.eye(2)), "bias": np.array([1.0, 2.0], dtype=np.float64)}
    model.load_state_dict(sd)
    assert model.weight.dtype == np.float32 and model.bias.dtype == np.float32
    np.testing.assert_array_equal(model.bias.numpy(), [1.0, 2.0])


def test_load_state_dict_lists_every_problem_in_one_error_and_changes_nothing():
    model = Block()
    before = model.state_dict()
    bad = model.state_dict()
    del bad["head.bias"]
    bad["extra.weight"] = np.zeros(3)
    bad["head.weight"] = np.zeros((7, 32))
    bad["features.0.bias"] = np.full(2, 5.0)  # valid: must not be copied either
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(bad)
    message = str(info.value)
    assert 'Missing key(s) in state_dict: "head.bias".' in message
    assert 'Unexpected key(s) in state_dict: "extra.weight".' in message
    assert "size mismatch for head.weight" in message and "(7, 32)" in message and "(3, 32)" in message
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_load_state_dict_non_strict_reports_keys_but_still_rejects_shapes():
    model = Block()
    partial = {"head.weight": np.zeros((3, 32)), "other": np.ones(1)}
    result = model.load_state_dict(partial, strict=False)
    assert "head.bias" in result.missing_keys and result.unexpected_keys == ["other"]
    np.testing.assert_array_equal(model.head.weight.numpy(), 0.0)
    with pytest.raises(RuntimeError, match="size mismatch"):
        model.load_state_dict({"head.weight": np.zeros((3, 31))}, strict=False)
    with pytest.raises(RuntimeError, match="not numeric"):
        model.load_state_dict({**model.state_dict(), "head.bias": np.array(["a", "b", "c"])})
    with pytest.raises(TypeError, match="dict-like"):
        model.load_state_dict([("head.bias", np.zeros(3))])


def test_train_eval_and_zero_grad_reach_every_descendant():
    model = Block()
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model(tg.randn(2, 1, 6, 6)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(np.all(p.grad == 0) for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_calls_push_the_registered_name_onto_the_graph_scope():
    model = Block()
    out = model(tg.randn(2, 1, 6, 6))
    scopes = {op: s for op, s in _ops_with_scopes(out)}
    assert scopes["conv2d"] == ("features", "0")
    assert scopes["relu"] == ("features", "1")
    assert scopes["linear"] == ("head",)
    assert scopes["mul"] == ()  # computed in the root module's own forward
    names = dict(model.named_modules())
    assert all(".".join(s) in names for _, s in _ops_with_scopes(out))
    assert nn.Linear(2, 2)(tg.ones(1, 2)).grad_fn.scope == ()  # a root pushes nothing


def test_forward_hooks_see_inputs_and_outputs_and_can_be_removed():
    layer = nn.Linear(3, 2)
    seen = []
    handle = layer.register_forward_hook(lambda m, args, out: seen.append((m, args[0].shape, out.shape)))
    pre = layer.register_forward_pre_hook(lambda m, args: (args[0] * 0.0,))
    out = layer(tg.ones(4, 3))
    assert seen == [(layer, (4, 3), (4, 2))]
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(layer.bias.numpy(), (4, 2)))
    handle.remove()
    pre.remove()
    layer(tg.ones(1, 3))
    assert len(seen) == 1


def test_to_double_converts_parameters_for_float64_gradient_checks():
    model = Block().double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    out = model(tg.randn(1, 1, 6, 6, dtype=np.float64))
    assert out.dtype == np.float64
    assert all(p.dtype == np.float32 for p in model.float().parameters())
    with pytest.raises(TypeError, match="floating"):
        model.to(np.int32)


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match=r"Module \[Module\] is missing the required \"forward\" function"):
        nn.Module()(tg.ones(1))


def test_sequential_indexing_iteration_and_names():
    layers = [nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and list(seq) == layers
    assert seq[0] is layers[0] and seq[-1] is layers[2]
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2"]
    head = seq[1:]
    assert isinstance(head, nn.Sequential) and list(head) == layers[1:]
    assert [n for n, _ in head.named_children()] == ["1", "2"]
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    x = tg.randn(5, 4)
    np.testing.assert_allclose(seq(x).numpy(), layers[2](layers[1](layers[0](x))).numpy())
    seq.append(nn.Sigmoid())
    assert [n for n, _ in seq.named_children()][-1] == "3"
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]
    with pytest.raises(TypeError, match="function is not a Module subclass"):
        nn.Sequential(nn.ReLU(), F.relu)


def test_repr_nests_children_like_pytorch():
    model = Block()
    assert repr(model) == (
        "Block(\n"
        "  (features): Sequential(\n"
        "    (0): Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))\n"
        "    (1): ReLU()\n"
        "  )\n"
        "  (head): Linear(in_features=32, out_features=3, bias=True)\n"
        ")"
    )


def test_summary_lists_each_call_with_its_output_shape_and_restores_modes():
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Dropout(0.5), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(4 * 5 * 5, 3))
    tg.manual_seed(0)
    expected_next = tg.random.generator().random()
    tg.manual_seed(0)
    table = model.summary((1, 10, 10), batch_size=2)
    assert tg.random.generator().random() == expected_next  # no dropout mask was drawn
    assert all(m.training for m in model.modules())
    rows = {line.split()[0]: line.split() for line in table.splitlines() if line[:1].isdigit()}
    assert rows["0"][1:3] == ["Conv2d", "3x3"] and "".join(rows["0"][3:-1]) == "(2,4,10,10)" and rows["0"][-1] == "40"
    assert rows["2"][2] == "2x2" and "".join(rows["2"][3:-1]) == "(2,4,5,5)"
    assert rows["3"][2] == "-" and "".join(rows["3"][3:-1]) == "(2,100)"
    assert rows["4"][-1] == "303"
    assert "Total params: 343" in table
    with pytest.raises(TypeError, match="pass input_shape"):
        model.summary()


class _Branch(nn.Module):
    def __init__(self, shared):
        super().__init__()
        self.act = shared

    def forward(self, x):
        return self.act(x)


class _TwoParents(nn.Module):
    """One ReLU registered as ``left.act`` first, then also held as ``right.0`` and ``direct``."""

    def __init__(self):
        super().__init__()
        shared = nn.ReLU()
        self.left = _Branch(shared)
        self.right = nn.Sequential(shared)
        self.direct = shared

    def forward(self, x):
        return self.left(x) * 2.0 + self.right(x) * 3.0 + self.direct(x)


def test_a_shared_module_is_named_after_the_parent_that_called_it():
    out = _TwoParents()(tg.randn(2, 3, requires_grad=True))
    relu_scopes = sorted(s for op, s in _ops_with_scopes(out) if op == "relu")
    assert relu_scopes == [("direct",), ("left", "act"), ("right", "0")]
