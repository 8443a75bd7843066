"""Every tinygrad_cnn.nn class and tinygrad_cnn.nn.functional function takes torch's arguments:
the same names, in the same order, with the same defaults and kinds (keyword-only, *args), as
torch.nn's / torch.nn.functional's of the same name, for __init__ and for every public method
torch's class defines (forward, reset_parameters, ...). A new difference fails here; the
deliberate ones are listed in ALLOWED, each with its reason. Then the arguments and methods this
comparison made us add, against torch: avg_pool2d's divisor_override (values and gradients),
mse_loss/l1_loss's weight, ParameterDict's dict methods, the containers' pop/extend names and
MultiheadAttention.merge_masks (skipped without torch)."""

from __future__ import annotations

import inspect
import re
import typing

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn
import tinygrad_cnn.nn.functional as F

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")

pytestmark = pytest.mark.oracle

EMPTY = inspect.Parameter.empty

# "Class.member" (or "F.function"): why ours deliberately differs from torch's.
ALLOWED = {
    # DataParallel runs its module on the CPU, the one device there is: no replicas to make,
    # no inputs to scatter over devices, nothing to apply in parallel or to gather back.
    "DataParallel.gather": "no devices to gather from",
    "DataParallel.parallel_apply": "no replicas to apply",
    "DataParallel.replicate": "no devices to replicate to",
    "DataParallel.scatter": "no devices to scatter to",
    # pop() with no key pops the last module, as a list's does (torch's needs the key): a call
    # torch accepts means the same here, and this package's programs and tests use the short form.
    "ModuleList.pop": "key defaults to -1",
    "Sequential.pop": "key defaults to -1",
}


def torch_signature(obj: typing.Any) -> inspect.Signature | None:
    """torch's signature of a function or class: inspect's, else (a builtin, or a *args/**kwargs
    dispatcher such as max_pool2d or RNN.__init__) its typing overload or its docstring's first line."""
    try:
        sig = inspect.signature(obj)
    except (ValueError, TypeError):
        sig = None
    kinds = None if sig is None else [p.kind for p in sig.parameters.values() if p.name != "self"]
    if kinds is not None and kinds != [inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD]:
        return sig
    for overload in typing.get_overloads(obj.__init__ if isinstance(obj, type) else obj):
        candidate = inspect.signature(overload)
        if all(p.kind != p.VAR_POSITIONAL for p in candidate.parameters.values()):
            return candidate.replace(parameters=[p for p in candidate.parameters.values() if p.name != "self"])
    match = re.match(r"\w+\((.*?)\)\s*(->|:|$)", (obj.__doc__ or "").strip(), re.S | re.M)
    if match:
        namespace: dict = {}
        exec(f"def documented({match.group(1)}): pass", namespace)  # torch's own documented signature
        return inspect.signature(namespace["documented"])
    return sig


def _same_default(a: typing.Any, b: typing.Any) -> bool:
    if a is EMPTY or b is EMPTY:
        return a is b
    if callable(a) and callable(b):  # activation=F.relu: the same function by name
        return getattr(a, "__name__", a) == getattr(b, "__name__", b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    try:
        return bool(a == b)
    except (TypeError, ValueError, RuntimeError):
        return repr(a) == repr(b)


def differences(ours: inspect.Signature, theirs: inspect.Signature) -> list[str]:
    """How ``ours`` differs from ``theirs``: parameter names and order, then each shared
    parameter's kind and default (``self`` ignored; 0 and 0.0 are the same default)."""
    a = [p for p in ours.parameters.values() if p.name != "self"]
    b = [p for p in theirs.parameters.values() if p.name != "self"]
    found = []
    if [p.name for p in a] != [p.name for p in b]:
        found.append(f"parameters {[p.name for p in a]} != torch's {[p.name for p in b]}")
    for p, q in zip(a, b):
        if p.name == q.name and p.kind != q.kind:
            found.append(f"{p.name}: {p.kind.name} != torch's {q.kind.name}")
        if p.name == q.name and not _same_default(p.default, q.default):
            found.append(f"{p.name}: default {p.default!r} != torch's {q.default!r}")
    return found


def class_differences(name: str) -> dict[str, list[str]]:
    """{member: differences} between nn.<name> and torch.nn.<name>: __init__ and each public
    method of torch's class and its torch.nn bases (Module's own excepted)."""
    ours, theirs = getattr(nn, name), getattr(torch.nn, name)
    found = {}
    if theirs.__init__ is torch.nn.Module.__init__:  # torch's takes nothing either (it raises on any argument)
        if inspect.signature(ours).parameters:
            found["__init__"] = [f"takes {inspect.signature(ours)}, torch's takes no arguments"]
    else:
        theirs_sig = torch_signature(theirs)
        assert theirs_sig is not None, f"torch.nn.{name}: no signature found"
        found["__init__"] = differences(inspect.signature(ours), theirs_sig)
    bases = [k for k in theirs.__mro__ if k.__module__.startswith("torch.nn") and k is not torch.nn.Module]
    members = sorted({m for k in bases for m in vars(k) if not m.startswith("_")})
    for member in members:
        theirs_member = getattr(theirs, member)
        if not callable(theirs_member) or isinstance(theirs_member, type):
            continue
        ours_member = getattr(ours, member, None)
        if ours_member is None:
            found[member] = ["missing"]
            continue
        theirs_sig = torch_signature(theirs_member)
        assert theirs_sig is not None, f"torch.nn.{name}.{member}: no signature found"
        found[member] = differences(inspect.signature(ours_member), theirs_sig)
    return {member: d for member, d in found.items() if d}


CLASSES = sorted(n for n in nn.__all__
                 if isinstance(getattr(nn, n), type) and isinstance(getattr(torch.nn, n, None), type))
FUNCTIONS = sorted(n for n in F.__all__ if callable(getattr(torch.nn.functional, n, None)))


def test_the_comparison_covers_the_whole_surface_and_can_fail():
    assert len(CLASSES) > 120 and len(FUNCTIONS) > 90
    def f(a, b=1, *, c=None): ...  # noqa: E306
    def g(a, b=1.0, c=None): ...  # noqa: E306
    def h(a, c=None, *, b=2): ...  # noqa: E306
    assert differences(inspect.signature(f), inspect.signature(f)) == []
    assert differences(inspect.signature(g), inspect.signature(f)) == [
        "c: POSITIONAL_OR_KEYWORD != torch's KEYWORD_ONLY"]
    assert len(differences(inspect.signature(h), inspect.signature(f))) == 1  # the order
    assert differences(inspect.signature(lambda a, b=True: 0), inspect.signature(lambda a, b=1: 0)) != []
    # torch's builtins and dispatchers resolve to their documented signatures
    assert list(torch_signature(torch.nn.functional.avg_pool2d).parameters)[-1] == "divisor_override"
    assert list(torch_signature(torch.nn.functional.max_pool2d).parameters)[-1] == "return_indices"
    assert list(torch_signature(torch.nn.GRU).parameters)[-2:] == ["device", "dtype"]


@pytest.mark.parametrize("name", CLASSES)
def test_each_layer_takes_torchs_arguments(name):
    found = {member: d for member, d in class_differences(name).items() if f"{name}.{member}" not in ALLOWED}
    assert found == {}, f"nn.{name} differs from torch.nn.{name}: {found}"


def function_differences(name: str) -> list[str]:
    """How F.<name>'s signature differs from torch.nn.functional.<name>'s."""
    theirs = torch_signature(getattr(torch.nn.functional, name))
    assert theirs is not None, f"torch.nn.functional.{name}: no signature found"
    return differences(inspect.signature(getattr(F, name)), theirs)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_function_takes_torchs_arguments(name):
    if f"F.{name}" not in ALLOWED:
        assert function_differences(name) == [], f"F.{name} differs from torch.nn.functional.{name}"


def test_every_allowed_difference_is_still_there():
    for key in ALLOWED:
        owner, member = key.split(".")
        still = function_differences(member) if owner == "F" else member in class_differences(owner)
        assert still, f"{key} no longer differs: drop it from ALLOWED"


RNG = np.random.default_rng(0)


@pytest.mark.parametrize("options", [dict(kernel_size=2, divisor_override=3),
                                     dict(kernel_size=3, stride=2, padding=1, divisor_override=-2),
                                     dict(kernel_size=(2, 3), padding=1, ceil_mode=True, count_include_pad=False,
                                          divisor_override=5)])
def test_avg_pool2d_divisor_override_values_and_gradients_match_torch(options):
    x = RNG.normal(size=(2, 3, 7, 6))
    ours, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = F.avg_pool2d(ours, **options), torch.nn.functional.avg_pool2d(theirs, **options)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    scale = RNG.normal(size=ref.shape)
    (out * tg.tensor(scale)).sum().backward()
    (ref * torch.tensor(scale)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-12)
    layer, theirs_layer = nn.AvgPool2d(**options), torch.nn.AvgPool2d(**options)
    assert repr(layer) == repr(theirs_layer) and layer.divisor_override == options["divisor_override"]
    np.testing.assert_allclose(layer(tg.tensor(x[0])).numpy(), theirs_layer(torch.tensor(x[0])).numpy(), rtol=1e-12)


def test_avg_pool2d_divisor_override_on_integers_and_its_errors_match_torch():
    x = np.arange(32).reshape(1, 2, 4, 4)
    out = F.avg_pool2d(tg.tensor(x), 2, divisor_override=3)
    ref = torch.nn.functional.avg_pool2d(torch.tensor(x), 2, divisor_override=3)
    assert out.dtype == tg.int64 and np.array_equal(out.numpy(), ref.numpy())
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        F.avg_pool2d(tg.ones(1, 1, 4, 4), 2, divisor_override=0)
    for bad in (2.5, True):
        with pytest.raises(TypeError, match="'divisor_override' must be int"):
            F.avg_pool2d(tg.ones(1, 1, 4, 4), 2, divisor_override=bad)
        with pytest.raises(TypeError):
            torch.nn.functional.avg_pool2d(torch.ones(1, 1, 4, 4), 2, divisor_override=bad)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_weighted_regression_losses_match_torch(name, reduction):
    x, y, w = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4)), RNG.uniform(size=(3, 4))
    ours, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = getattr(F, name)(ours, tg.tensor(y), reduction=reduction, weight=tg.tensor(w))
    ref = getattr(torch.nn.functional, name)(theirs, torch.tensor(y), reduction=reduction, weight=torch.tensor(w))
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        getattr(F, name)(tg.tensor(x), tg.tensor(y), weight=tg.ones(4))
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        getattr(torch.nn.functional, name)(torch.tensor(x), torch.tensor(y), weight=torch.ones(4))


def test_parameter_dict_methods_match_torch():
    results = []
    for lib in (tg, torch):
        d = lib.nn.ParameterDict({"a": lib.nn.Parameter(lib.ones(2)), "b": lib.nn.Parameter(lib.zeros(3))})
        key, value = d.popitem()
        kept = d.setdefault("a", lib.nn.Parameter(lib.zeros(5)))
        added = d.setdefault("c", lib.nn.Parameter(lib.ones(1)))
        copied = d.copy()
        fresh = d.fromkeys(["x", "y"])
        results.append((key, tuple(value.shape), tuple(kept.shape), tuple(added.shape), list(copied.keys()),
                        copied["a"] is d["a"], type(copied).__name__, list(fresh.keys()), fresh["x"]))
        with pytest.raises(KeyError, match="dictionary is empty"):
            lib.nn.ParameterDict().popitem()
    assert results[0] == results[1]


def test_container_pop_and_extend_take_torchs_argument_names():
    for lib in (tg, torch):
        seq = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Tanh())
        seq.extend(sequential=[lib.nn.Sigmoid()])
        assert type(seq.pop(key=0)).__name__ == "ReLU" and [type(m).__name__ for m in seq] == ["Tanh", "Sigmoid"]
        modules = lib.nn.ModuleList([lib.nn.ReLU(), lib.nn.Tanh(), lib.nn.Sigmoid()])
        assert type(modules.pop(key=slice(0, 2))).__name__ == "ModuleList" and len(modules) == 1


@pytest.mark.parametrize("masks", ["padding", "attn", "both", "attn3d", "none"])
def test_multihead_attention_merge_masks_matches_torch(masks):
    batch, length, heads = 2, 3, 2
    attn = RNG.normal(size=(length, length)) if masks != "attn3d" else RNG.normal(size=(batch * heads, length, length))
    padding = RNG.normal(size=(batch, length))
    query = RNG.normal(size=(batch, length, 4))
    results = []
    for lib in (tg, torch):
        layer = lib.nn.MultiheadAttention(4, heads, batch_first=True)
        merged, kind = layer.merge_masks(lib.tensor(attn) if masks in ("attn", "both", "attn3d") else None,
                                         lib.tensor(padding) if masks in ("padding", "both") else None,
                                         lib.tensor(query))
        results.append((None if merged is None else np.asarray(merged.detach().numpy() if lib is torch
                                                                else merged.numpy()), kind))
    (ours, our_kind), (ref, ref_kind) = results
    assert our_kind == ref_kind and (ours is None) == (ref is None)
    if ref is not None:
        np.testing.assert_array_equal(ours, ref)


def test_rms_norm_forward_takes_x_as_torch():
    x = RNG.normal(size=(2, 5))
    np.testing.assert_allclose(nn.RMSNorm(5, dtype=tg.float64)(x=tg.tensor(x)).numpy(),
                               torch.nn.RMSNorm(5, dtype=torch.float64)(x=torch.tensor(x)).detach().numpy(),
                               rtol=1e-12)


def _recurrent_twins(name: str, *args, **kwargs):
    """Our recurrent layer and torch's in float64, ours holding torch's weights."""
    theirs = getattr(torch.nn, name)(*args, **kwargs, dtype=torch.float64)
    ours = getattr(nn, name)(*args, **kwargs, dtype=tg.float64)
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _flat(result) -> list:
    if isinstance(result, tuple):
        return [t for part in result for t in _flat(part)]
    return [result.data if type(result).__name__ == "PackedSequence" else result]


@pytest.mark.parametrize("options, shape, state", [
    (dict(proj_size=2), (5, 3, 4), False),
    (dict(proj_size=3, num_layers=2, bidirectional=True), (5, 3, 4), True),
    (dict(proj_size=2, batch_first=True, bias=False), (3, 5, 4), False),
    (dict(proj_size=2, bidirectional=True), (5, 4), True),
])
def test_lstm_with_proj_size_matches_torch_with_its_gradients(options, shape, state):
    ours, theirs = _recurrent_twins("LSTM", 4, 6, **options)
    x = RNG.normal(size=shape)
    states = None
    if state:
        layers, batch = (2 if options.get("bidirectional") else 1) * options.get("num_layers", 1), shape[1:-1]
        states = (RNG.normal(size=(layers, *batch, options["proj_size"])), RNG.normal(size=(layers, *batch, 6)))
    a, b = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    outs = _flat(ours(a, None if states is None else tuple(tg.tensor(s) for s in states)))
    refs = _flat(theirs(b, None if states is None else tuple(torch.tensor(s) for s in states)))
    assert outs[0].shape[-1] == options["proj_size"] * (2 if options.get("bidirectional") else 1)
    for out, ref in zip(outs, refs):
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    sum((o * float(i + 1)).sum() for i, o in enumerate(outs)).backward()
    sum((r * float(i + 1)).sum() for i, r in enumerate(refs)).backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (key, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=key)


def test_lstm_with_proj_size_over_a_packed_sequence_matches_torch():
    ours, theirs = _recurrent_twins("LSTM", 4, 6, proj_size=3, bidirectional=True)
    x, lengths = RNG.normal(size=(5, 3, 4)), [3, 5, 2]
    packed = [lib.nn.utils.rnn.pack_padded_sequence(lib.tensor(x), lengths, enforce_sorted=False)
              for lib in (tg, torch)]
    for out, ref in zip(_flat(ours(packed[0])), _flat(theirs(packed[1]))):
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, options", [("RNN", dict(num_layers=2)), ("GRU", dict(bidirectional=True)),
                                           ("LSTM", dict(proj_size=2, num_layers=2, bidirectional=True)),
                                           ("LSTM", dict(bias=False, batch_first=True))])
def test_rnn_base_public_methods_match_torch(name, options):
    ours, theirs = _recurrent_twins(name, 3, 4, **options)
    assert ours.flatten_parameters() is None and theirs.flatten_parameters() is None
    assert len(ours.all_weights) == len(theirs.all_weights)
    for mine, reference in zip(ours.all_weights, theirs.all_weights):
        assert [tuple(w.shape) for w in mine] == [tuple(w.shape) for w in reference]
        for w, v in zip(mine, reference):
            np.testing.assert_array_equal(w.numpy(), v.detach().numpy())
    x, sizes = RNG.normal(size=(5, 2, 3)), [2, 2, 1]
    for lib, layer in ((tg, ours), (torch, theirs)):
        batch_sizes, data = lib.tensor(sizes), lib.tensor(RNG.normal(size=(5, 3)))
        assert layer.check_input(lib.tensor(x), None) is None and layer.check_input(data, batch_sizes) is None
    shapes = [tuple(layer.get_expected_hidden_size(lib.tensor(x), None))
              for lib, layer in ((tg, ours), (torch, theirs))]
    assert shapes[0] == shapes[1]
    assert tuple(ours.get_expected_hidden_size(tg.tensor(x), tg.tensor(sizes))) == tuple(
        theirs.get_expected_hidden_size(torch.tensor(x), torch.tensor(sizes)))
    if name == "LSTM":
        assert ours.get_expected_cell_size(tg.tensor(x), None) == theirs.get_expected_cell_size(torch.tensor(x), None)
    hidden = [RNG.normal(size=shapes[0])] * (2 if name == "LSTM" else 1)
    permuted = [_flat(layer.permute_hidden(tuple(map(lib.tensor, hidden)) if name == "LSTM" else lib.tensor(hidden[0]),
                                           lib.tensor([1, 0]))) for lib, layer in ((tg, ours), (torch, theirs))]
    for mine, reference in zip(*permuted):
        np.testing.assert_array_equal(mine.numpy(), reference.numpy())
    state = tg.tensor(hidden[0])
    assert ours.permute_hidden(state, None) is state
    for lib, layer in ((tg, ours), (torch, theirs)):
        with pytest.raises(ValueError, match=r"input dtype .* does not match weight dtype"):
            layer.check_input(lib.tensor(x).float(), None)
        with pytest.raises(RuntimeError, match="input must have 3 dimensions, got 2"):
            layer.check_input(lib.tensor(x[0]), None)
        with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 2, 3\), got \[1, 2, 4\]"):
            layer.check_hidden_size(lib.zeros(1, 2, 4), (1, 2, 3))
        with pytest.raises(RuntimeError, match="Expected hidden"):
            wrong = lib.zeros(1, 7, 4, dtype=lib.float64)
            layer.check_forward_args(lib.tensor(x), (wrong, wrong) if name == "LSTM" else wrong, None)


def test_recurrent_layers_reject_states_of_the_wrong_rank_and_inputs_of_the_wrong_dtype_as_torch():
    for lib in (tg, torch):
        gru, lstm = lib.nn.GRU(3, 4), lib.nn.LSTM(3, 4)
        with pytest.raises(RuntimeError, match="For batched 3-D input, hx should also be 3-D but got 2-D tensor"):
            gru(lib.zeros(5, 2, 3), lib.zeros(2, 4))
        with pytest.raises(RuntimeError, match=r"For unbatched 2-D input, hx and cx should also be 2-D but got "
                                               r"\(3-D, 2-D\) tensors"):
            lstm(lib.zeros(5, 3), (lib.zeros(1, 1, 4), lib.zeros(1, 4)))
        with pytest.raises(ValueError, match=r"input dtype .* does not match weight dtype"):
            gru(lib.zeros(5, 2, 3, dtype=lib.float64))
        with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
            lib.nn.LSTM(3, 4, proj_size=4)
        with pytest.raises(ValueError, match="proj_size should be a positive integer or zero"):
            lib.nn.LSTM(3, 4, proj_size=-1)
