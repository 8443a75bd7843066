"""The Module API against PyTorch: the same module tree built with tinygrad_cnn.nn and torch.nn
gives the same names (modules, children, parameters, buffers, state_dict keys and _metadata, in
the same order), the same repr, the same errors, and state dicts load both ways."""

from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn

torch = pytest.importorskip("torch", reason="the oracle tests need PyTorch (the 'oracle' extra)")

pytestmark = pytest.mark.oracle


def build(nn, lib):
    """One module tree with every kind of member, in either framework (``lib`` gives zeros/ones)."""

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 3, padding=1, bias=False)
            self.register_buffer("count", lib.zeros(1, dtype=getattr(lib, "int64", np.int64)))
            self.register_buffer("scratch", lib.zeros(2), persistent=False)
            self.gain = nn.Parameter(lib.ones(2))

        def forward(self, x):
            return self.conv(x) * self.gain.reshape(1, 2, 1, 1)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU())
            self.blocks = nn.ModuleList([Block(), Block()])
            self.heads = nn.ModuleDict(OrderedDict([("b", nn.Linear(2, 3)), ("a", nn.Linear(2, 4, bias=False))]))
            self.scales = nn.ParameterList([nn.Parameter(lib.ones(2)), nn.Parameter(lib.zeros(3))])
            self.table = nn.ParameterDict({"y": nn.Parameter(lib.ones(1)), "x": nn.Parameter(lib.ones(2))})
            self.shared = self.blocks[0]
            self.register_buffer("steps", lib.zeros(()))
            self.empty = None

        def forward(self, x):
            x = self.stem(x)
            for block in self.blocks:
                x = block(x)
            return self.heads["b"](x.mean((2, 3)))

    return Net()


@pytest.fixture
def pair():
    return build(nn, tg), build(torch.nn, torch)


def _names(pairs):
    return [name for name, _ in pairs]


def test_traversal_orders_and_names_equal_torch(pair):
    ours, theirs = pair
    for method, kwargs in [("named_modules", {}), ("named_modules", {"remove_duplicate": False}),
                           ("named_modules", {"prefix": "net"}), ("named_children", {}),
                           ("named_parameters", {}), ("named_parameters", {"remove_duplicate": False}),
                           ("named_parameters", {"prefix": "net", "recurse": True}),
                           ("named_parameters", {"recurse": False}), ("named_buffers", {}),
                           ("named_buffers", {"remove_duplicate": False}), ("named_buffers", {"recurse": False})]:
        assert _names(getattr(ours, method)(**kwargs)) == _names(getattr(theirs, method)(**kwargs)), (method, kwargs)
    assert len(list(ours.modules())) == len(list(theirs.modules()))
    assert len(list(ours.children())) == len(list(theirs.children()))
    assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert [b.shape for b in ours.buffers()] == [tuple(b.shape) for b in theirs.buffers()]


def test_state_dict_keys_metadata_and_keep_vars_equal_torch(pair):
    ours, theirs = pair
    mine, ref = ours.state_dict(), theirs.state_dict()
    assert list(mine) == list(ref)
    assert list(mine._metadata) == list(ref._metadata)
    assert list(ours.state_dict(prefix="m.")) == list(theirs.state_dict(prefix="m."))
    assert list(ours.state_dict(prefix="m.")._metadata) == list(theirs.state_dict(prefix="m.")._metadata)
    kept = ours.state_dict(keep_vars=True)
    assert kept["stem.0.weight"] is ours.stem[0].weight and mine["stem.0.weight"] is not ours.stem[0].weight
    assert np.shares_memory(mine["stem.0.weight"].numpy(), ours.stem[0].weight.numpy())
    destination = {}
    assert ours.state_dict(destination=destination) is destination and list(destination) == list(ref)


def test_state_dicts_load_both_ways(pair):
    ours, theirs = pair
    result = ours.load_state_dict(theirs.state_dict())  # real torch tensors
    assert repr(result) == repr(theirs.load_state_dict(theirs.state_dict())) == "<All keys matched successfully>"
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].numpy(), value.numpy())
    ours.stem[0].weight.numpy()[...] = 0.5
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})
    assert float(theirs.stem[0].weight.detach().sum()) == pytest.approx(0.5 * ours.stem[0].weight.numel())
    arrays = {k: v.numpy() + 1 for k, v in theirs.state_dict().items()}  # plain ndarrays
    ours.load_state_dict(arrays)
    np.testing.assert_array_equal(ours.blocks[1].count.numpy(), arrays["blocks.1.count"])
    assert ours.blocks[1].count.dtype == np.int64


def test_load_state_dict_non_strict_and_assign_as_torch(pair):
    ours, theirs = pair
    partial = {k: v for k, v in theirs.state_dict().items() if not k.startswith("heads")}
    partial["unknown.weight"] = torch.zeros(1)
    mine, ref = ours.load_state_dict(partial, strict=False), theirs.load_state_dict(partial, strict=False)
    assert mine.missing_keys == ref.missing_keys and mine.unexpected_keys == ref.unexpected_keys
    with pytest.raises(RuntimeError, match="Missing key"):
        ours.load_state_dict(partial)
    new = {k: np.full(v.shape, 3.0, dtype=np.float64 if v.is_floating_point() else np.int64)
           for k, v in theirs.state_dict().items()}
    weight = ours.stem[0].weight
    ours.load_state_dict(new, assign=True)
    assert ours.stem[0].weight is not weight and isinstance(ours.stem[0].weight, nn.Parameter)
    assert ours.stem[0].weight.dtype == np.float64 and ours.stem[0].weight.requires_grad
    assert "stem.0.weight" in dict(ours.named_parameters()) and ours.get_parameter("stem.0.weight") is ours.stem[0].weight


def test_repr_equals_torch(pair):
    ours, theirs = pair
    assert repr(ours) == repr(theirs)
    assert repr(nn.ModuleList([nn.ReLU()] * 3 + [nn.Linear(2, 2)])) == repr(
        torch.nn.ModuleList([torch.nn.ReLU()] * 3 + [torch.nn.Linear(2, 2)]))
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList()) == "ModuleList()"


def test_apply_visits_children_first_as_torch(pair):
    ours, theirs = pair
    seen_ours, seen_theirs = [], []
    assert ours.apply(lambda m: seen_ours.append(type(m).__name__)) is ours
    theirs.apply(lambda m: seen_theirs.append(type(m).__name__))
    assert seen_ours == seen_theirs


def test_submodule_parameter_buffer_lookup_and_errors_as_torch(pair):
    ours, theirs = pair
    assert ours.get_submodule("blocks.1.conv") is ours.blocks[1].conv and ours.get_submodule("") is ours
    assert ours.get_parameter("table.x") is ours.table["x"]
    assert ours.get_buffer("blocks.0.count") is ours.blocks[0].count
    for call in [lambda m: m.get_submodule("blocks.7"), lambda m: m.get_submodule("stem.0.weight"),
                 lambda m: m.get_parameter("blocks.0.count"), lambda m: m.get_parameter("stem.0.nothing"),
                 lambda m: m.get_buffer("stem.0.weight"), lambda m: m.missing_attribute]:
        with pytest.raises(AttributeError) as mine:
            call(ours)
        with pytest.raises(AttributeError) as ref:
            call(theirs)
        assert str(mine.value) == str(ref.value)


def test_registration_errors_have_torch_types(pair):
    ours, theirs = pair
    cases = [lambda m, lib: m.register_buffer("a.b", lib.zeros(1)),
             lambda m, lib: m.register_buffer("", lib.zeros(1)),
             lambda m, lib: m.register_buffer("stem", lib.zeros(1)),
             lambda m, lib: m.register_buffer("z", [1.0]),
             lambda m, lib: m.register_buffer(3, lib.zeros(1)),
             lambda m, lib: m.register_parameter("stem", None),
             lambda m, lib: m.add_module("a.b", None),
             lambda m, lib: m.add_module("steps", None),
             lambda m, lib: setattr(m, "steps", 3.0),
             lambda m, lib: setattr(m, "blocks", lib.zeros(1))]
    for case in cases:
        with pytest.raises(Exception) as ref:
            case(theirs, torch)
        with pytest.raises(type(ref.value)):
            case(ours, tg)
    with pytest.raises(ValueError, match="boolean"):
        ours.train("yes")


def test_buffers_follow_assignment_and_deletion(pair):
    ours, _ = pair
    block = ours.blocks[1]
    block.count = tg.ones(1, dtype=np.int64)
    assert block.get_buffer("count") is block.count and block._buffers["count"] is block.count
    block.scratch = None
    assert "blocks.1.scratch" not in dict(ours.named_buffers())
    del block.count
    assert "blocks.1.count" not in ours.state_dict() and not hasattr(block, "count")
    block.count = nn.Parameter(tg.ones(1))  # re-registered as another kind
    assert "blocks.1.count" in dict(ours.named_parameters())
    assert "count" in dir(block) and "0" not in dir(ours.stem) and "stem" in dir(ours)


def test_dtype_conversions_as_torch(pair):
    ours, theirs = pair
    ours(tg.randn(1, 1, 4, 4)).sum().backward()
    assert ours.double() is ours
    theirs.double()
    for (name, mine), (_, ref) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert mine.dtype == np.dtype(str(ref.dtype).replace("torch.", "")), name
    assert all(p.grad is None or p.grad.dtype == np.float64 for p in ours.parameters())
    assert ours.to(np.float32).stem[0].weight.dtype == np.float32
    assert ours.to("cpu", dtype=np.float64).stem[0].weight.dtype == np.float64
    assert ours.to(tg.zeros(1, dtype=np.float32)).stem[0].weight.dtype == np.float32
    assert ours.half().stem[0].weight.dtype == np.float16 and ours.float().cpu() is ours
    assert ours.blocks[0].count.dtype == np.int64  # integer buffers keep their dtype
    with pytest.raises(TypeError, match="floating point"):
        ours.to(np.int64)
    for device in ["cuda", "cuda:0", "mps"]:
        with pytest.raises(RuntimeError, match="CPU only"):
            ours.to(device)
    with pytest.raises(RuntimeError, match="CPU only"):
        ours.cuda()


def test_requires_grad_zero_grad_train_eval(pair):
    ours, _ = pair
    assert ours.requires_grad_(False) is ours and not any(p.requires_grad for p in ours.parameters())
    ours.requires_grad_()
    ours(tg.randn(1, 1, 4, 4)).sum().backward()
    ours.zero_grad(set_to_none=False)
    assert all(p.grad is None or not p.grad.numpy().any() for p in ours.parameters())
    ours.zero_grad()
    assert all(p.grad is None for p in ours.parameters())
    calls = []

    class Recorder(nn.Module):
        def train(self, mode=True):
            calls.append(mode)
            return super().train(mode)

    ours.blocks.append(Recorder())
    assert ours.eval() is ours and calls == [False] and not any(m.training for m in ours.modules())
    ours.train()
    assert calls == [False, True] and all(m.training for m in ours.modules())


def test_forward_hooks_prepend_and_context_handle():
    layer = nn.Identity()
    order = []
    layer.register_forward_hook(lambda m, a, out: order.append("last"))
    with layer.register_forward_hook(lambda m, a, out: order.append("first"), prepend=True):
        layer(tg.ones(1))
    layer(tg.ones(1))
    assert order == ["first", "last", "last"]


def test_old_checkpoints_without_a_later_key_load_as_torch_loads_them():
    torch_bn, net = torch.nn.BatchNorm2d(3), build(nn, tg)

    class Counter(nn.Module):
        _version = 2
        _added_in_version = {"count": 2}

        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(tg.ones(2))
            self.register_buffer("count", tg.full((), 7.0))

    old = {"weight": np.zeros(2)}  # no _metadata: saved before versions, as torch's BatchNorm treats it
    model = Counter()
    assert model.load_state_dict(old).missing_keys == [] and model.count.item() == 7.0
    versioned = OrderedDict(old)
    versioned._metadata = {"": {"version": 2}}
    with pytest.raises(RuntimeError, match='Missing key.*"count"'):
        model.load_state_dict(versioned)
    # torch's BatchNorm2d does the same for num_batches_tracked (added in its version 2)
    state = OrderedDict((k, v) for k, v in torch_bn.state_dict().items() if k != "num_batches_tracked")
    assert torch_bn.load_state_dict(state).missing_keys == []
    assert model.state_dict()._metadata[""] == {"version": 2} and net.state_dict()._metadata["blocks.0"] == {
        "version": 1}
