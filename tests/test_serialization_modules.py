"""Whole models through torch.save / torch.load: this package's modules round trip; weights-only
loading refuses their classes until they are marked safe (torch.serialization's
add_safe_globals / safe_globals); whole models pickled by real torch (committed fixtures) load
into this package's classes and compute what torch's computed."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn
from tinygrad_cnn import serialization


class Net(nn.Module):
    """A user's model: its own attribute (scale) beside registered layers."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.act = nn.ReLU()
        self.scale = 5.0

    def forward(self, x: tg.Tensor) -> tg.Tensor:
        return self.act(self.fc(x)) * self.scale


@pytest.fixture(autouse=True)
def no_marked_globals():
    serialization.clear_safe_globals()
    yield
    serialization.clear_safe_globals()


def saved_net(tmp_path: Path) -> tuple[Net, Path]:
    tg.manual_seed(0)
    model = Net()
    path = tmp_path / "net.pt"
    tg.save(model, path)
    return model, path


def test_a_whole_model_round_trips_with_weights_only_false(tmp_path):
    model, path = saved_net(tmp_path)
    loaded = tg.load(path, weights_only=False)
    x = tg.randn(4, 3)
    assert type(loaded) is Net and loaded.scale == 5.0
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    assert [name for name, _ in loaded.named_parameters()] == ["fc.weight", "fc.bias"]
    loaded(x).sum().backward()
    assert loaded.fc.weight.grad is not None and model.fc.weight.grad is None


def test_weights_only_refuses_the_classes_until_marked_safe(tmp_path):
    _, path = saved_net(tmp_path)
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL .*\.Net was not an allowed global.*add_safe_globals"):
        tg.load(path)
    with pytest.raises(pickle.UnpicklingError, match="tinygrad_cnn.nn.layers.Linear"):
        with serialization.safe_globals([Net]):
            tg.load(path)


def test_safe_globals_admits_them_inside_the_block_only(tmp_path):
    model, path = saved_net(tmp_path)
    serialization.add_safe_globals([nn.ReLU])
    with serialization.safe_globals([Net, nn.Linear, nn.ReLU]):
        loaded = tg.load(path)
        assert serialization.get_safe_globals() == [nn.ReLU, Net, nn.Linear]
    assert serialization.get_safe_globals() == [nn.ReLU]  # marked before the block: still marked
    x = tg.randn(2, 3)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    with pytest.raises(pickle.UnpicklingError, match="Net"):
        tg.load(path)


def test_add_safe_globals_takes_a_pair_naming_the_global(tmp_path):
    model, path = saved_net(tmp_path)
    serialization.add_safe_globals([(Net, f"{Net.__module__}.Net"), (nn.Linear, "tinygrad_cnn.nn.layers.Linear"),
                                    nn.ReLU])
    np.testing.assert_array_equal(tg.load(path).fc.weight.numpy(), model.fc.weight.numpy())
    serialization.clear_safe_globals()
    assert serialization.get_safe_globals() == []


@pytest.mark.parametrize("entry, error", [((Net,), ValueError), ((Net, "a", "b"), ValueError), ((Net, 3), TypeError)])
def test_bad_safe_global_entries_are_refused_as_torch(entry, error):
    with pytest.raises(error, match="tuple"):
        serialization.add_safe_globals([entry])
    assert serialization.get_safe_globals() == []


# ------------------------------------------------------------------ files pickled by real torch
@pytest.fixture(scope="module")
def torch_files() -> Path:
    """Whole models real torch pickled (tests/fixtures/make_torch_models.py made them), with
    each one's input and torch's output: loaded here without torch."""
    return Path(__file__).parent / "fixtures" / "torch_models"


@pytest.mark.parametrize("key, classes", [
    ("cnn", ["Sequential", "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Dropout", "Flatten", "Linear"]),
    ("lstm", ["Sequential", "Embedding", "LSTM"]),
    ("mlp", ["Sequential", "Linear", "LayerNorm", "GELU"]),
    ("encoder", ["TransformerEncoder", "TransformerEncoderLayer", "MultiheadAttention",
                 "NonDynamicallyQuantizableLinear", "Linear", "Dropout", "LayerNorm", "ModuleList"]),
])
def test_a_model_pickled_by_torch_computes_what_torch_computed(torch_files, key, classes):
    expected = np.load(torch_files / "outputs.npz")
    with pytest.raises(pickle.UnpicklingError, match="not an allowed global"):
        tg.load(torch_files / f"{key}.pt")
    marked = [getattr(nn, name) for name in classes] + ([nn.functional.relu] if key == "encoder" else [])
    with serialization.safe_globals(marked):
        model = tg.load(torch_files / f"{key}.pt")
    assert model.training is False and all(not m.training for m in model.modules())
    x = tg.tensor(expected[key + "_input"])
    with tg.no_grad():
        out = model(x)
    out = out[0] if isinstance(out, tuple) else out
    np.testing.assert_allclose(out.numpy(), expected[key], rtol=1e-5, atol=1e-6)
    again = tg.load(torch_files / f"{key}.pt", weights_only=False)
    assert [n for n, _ in again.named_parameters()] == [n for n, _ in model.named_parameters()]
    assert set(again.state_dict()) == set(model.state_dict())


def test_the_loaded_model_trains(torch_files):
    model = tg.load(torch_files / "cnn.pt", weights_only=False)
    model.train()
    before = model[0].weight.numpy().copy()
    optimizer = tg.optim.SGD(model.parameters(), lr=0.1)
    loss = model(tg.randn(4, 1, 8, 8)).square().mean()
    loss.backward()
    optimizer.step()
    assert not np.array_equal(model[0].weight.numpy(), before)
    assert model[1].num_batches_tracked.item() == 2  # one batch in torch, one here


def test_loading_a_torch_pickled_model_leaves_the_random_generator_alone(torch_files):
    """Our classes are built by their __init__, which draws initial weights the file replaces."""
    tg.manual_seed(0)
    expected = tg.rand(4).numpy()
    tg.manual_seed(0)
    tg.load(torch_files / "cnn.pt", weights_only=False)
    np.testing.assert_array_equal(tg.rand(4).numpy(), expected)
