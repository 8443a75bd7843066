"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict behave as
Python's list/dict while registering their items under torch's names; against torch.nn's
containers where torch is installed."""

from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn


def _children(module):
    return [name for name, _ in module.named_children()]


def test_sequential_list_operations_renumber_as_a_list():
    a, b, c, d = nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.Identity()
    seq = nn.Sequential(a, b)
    assert seq.append(c) is seq and list(seq) == [a, b, c]
    seq.insert(1, d)
    assert list(seq) == [a, d, b, c] and _children(seq) == ["0", "1", "2", "3"]
    seq.insert(-1, nn.Flatten())
    assert isinstance(seq[3], nn.Flatten) and seq[4] is c
    del seq[3]
    assert list(seq) == [a, d, b, c] and _children(seq) == ["0", "1", "2", "3"] and not hasattr(seq, "4")
    assert seq.pop(1) is d and list(seq) == [a, b, c]
    seq[0] = d
    assert seq[0] is d and seq.extend([a]) is seq and len(seq) == 4
    del seq[1:3]
    assert list(seq) == [d, a]
    assert list(seq + nn.Sequential(b)) == [d, a, b]
    with pytest.raises(IndexError, match="Sequential: index 5 is out of range for 2 items"):
        seq[5]
    with pytest.raises(IndexError, match="out of range"):
        seq.insert(3, b)
    with pytest.raises(TypeError, match="not a Module subclass"):
        seq.insert(0, "relu")
    with pytest.raises(TypeError):
        seq["0"]


def test_sequential_slices_keep_names_and_run():
    fc, act = nn.Linear(3, 2), nn.Tanh()
    named = nn.Sequential(OrderedDict([("fc", fc), ("act", act), ("out", nn.Linear(2, 1))]))
    assert _children(named) == ["fc", "act", "out"] and named.fc is fc
    head = named[:2]
    assert isinstance(head, nn.Sequential) and _children(head) == ["fc", "act"]
    x = tg.randn(4, 3)
    np.testing.assert_allclose(head(x).numpy(), act(fc(x)).numpy())
    assert list(named.state_dict()) == ["fc.weight", "fc.bias", "out.weight", "out.bias"]


def test_module_list_registers_items_and_has_no_forward():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
    layers += [nn.ReLU()]
    layers.extend([nn.Linear(2, 3)])
    layers.insert(0, nn.Identity())
    assert len(layers) == 5 and _children(layers) == ["0", "1", "2", "3", "4"]
    assert [type(m).__name__ for m in layers] == ["Identity", "Linear", "Linear", "ReLU", "Linear"]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[::2]) == 3
    assert list(layers.state_dict())[:2] == ["1.weight", "1.bias"]
    assert isinstance(layers.pop(), nn.Linear) and len(layers) == 4
    assert len(layers + nn.ModuleList([nn.ReLU()])) == 5
    with pytest.raises(NotImplementedError, match="forward"):
        layers(tg.ones(1, 2))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 1)])

    assert [n for n, _ in Net().named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]


def test_module_dict_is_an_ordered_dict_of_children():
    heads = nn.ModuleDict({"z": nn.Linear(2, 1), "a": nn.Linear(2, 3)})
    assert list(heads) == ["z", "a"] and list(heads.keys()) == ["z", "a"]  # insertion order, as torch's
    heads["m"] = nn.ReLU()
    heads.update([("b", nn.Tanh())])
    assert "m" in heads and len(heads) == 4 and _children(heads) == ["z", "a", "m", "b"]
    assert isinstance(heads.pop("m"), nn.ReLU) and "m" not in heads and not hasattr(heads, "m")
    assert [k for k, _ in heads.items()] == ["z", "a", "b"] and len(list(heads.values())) == 3
    with pytest.raises(KeyError):
        del heads["nope"]
    with pytest.raises(ValueError, match="element #0"):
        heads.update([nn.ReLU()])
    heads.clear()
    assert len(heads) == 0 and list(heads.state_dict()) == []


def test_parameter_list_and_dict_register_parameters():
    plist = nn.ParameterList([tg.ones(2), nn.Parameter(tg.zeros(3))])
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in plist)
    plist.append(tg.ones(1))
    plist += [tg.ones(4)]
    assert len(plist) == 4 and [n for n, _ in plist.named_parameters()] == ["0", "1", "2", "3"]
    assert plist[-1].shape == (4,) and len(plist[1:]) == 3
    plist[0] = tg.zeros(5)
    assert plist[0].shape == (5,) and isinstance(plist[0], nn.Parameter)
    with pytest.raises(IndexError):
        plist[4]
    pdict = nn.ParameterDict({"b": tg.ones(1), "a": tg.ones(2)})
    assert list(pdict) == ["a", "b"]  # a plain dict's keys sorted, as torch's ParameterDict
    pdict["c"] = nn.Parameter(tg.ones(3))
    assert [n for n, _ in pdict.named_parameters()] == ["a", "b", "c"]
    assert pdict.get("zz") is None and pdict.get("a") is pdict["a"] and "c" in pdict
    assert pdict.pop("a").shape == (2,) and list(pdict.keys()) == ["b", "c"]
    with pytest.raises(KeyError):
        pdict["a"]
    pdict.clear()
    assert len(pdict) == 0 and list(pdict.parameters()) == []


def test_container_names_and_reprs_equal_torch():
    torch = pytest.importorskip("torch", reason="the oracle tests need PyTorch")

    def build(nn, lib):
        seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))
        seq.insert(1, nn.Tanh())
        seq.append(nn.Sigmoid())
        del seq[0]
        return nn.ModuleDict({
            "seq": seq,
            "list": nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU()])[::2],
            "params": nn.ParameterList([nn.Parameter(lib.ones(2, 3)), nn.Parameter(lib.ones(1))]),
            "pdict": nn.ParameterDict({"w": nn.Parameter(lib.ones(2)), "b": nn.Parameter(lib.zeros(1))}),
        })

    ours, theirs = build(nn, tg), build(torch.nn, torch)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
