"""Checkpoints: exact round trips, bit-identical resume, atomic writes, clear errors."""

import json
import os

import numpy as np
import pytest

import tinygrad_cnn.nn as nn
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import checkpoint, manual_seed, optim
from tinygrad_cnn import random as tg_random
from tinygrad_cnn.checkpoint import CheckpointError
from tinygrad_cnn import Tensor
from tinygrad_cnn.data import load_digits
from tinygrad_cnn.utils.data import DataLoader, TensorDataset
from tinygrad_cnn.train import History, fit


class TinyNet(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.relu = nn.ReLU()
        self.flatten = nn.Flatten()
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(4 * 6 * 6, hidden)
        self.out = nn.Linear(hidden, 10)

    def forward(self, x):
        return self.out(self.relu(self.fc(self.drop(self.flatten(self.relu(self.conv(x)))))))


@pytest.fixture(scope="module")
def digits():
    pytest.importorskip("sklearn", reason="load_digits reads scikit-learn's digits data set")
    X, y = load_digits()
    return X[:600], y[:600]


def make_run(digits, seed, epochs_total=2):
    """Model, shuffling loader, Adam and a per-step cosine schedule, all from ``seed``."""
    manual_seed(seed)
    model = TinyNet()
    loader = DataLoader(TensorDataset(*map(Tensor, digits)), batch_size=32, shuffle=True,
                        generator=np.random.default_rng(int(tg_random.generator().integers(2**63))))
    opt = optim.Adam(model.parameters(), lr=5e-3)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs_total * len(loader))
    return model, loader, opt, scheduler


def train(run, epochs, history=None):
    model, loader, opt, scheduler = run
    return fit(model, loader, opt, F.cross_entropy, epochs, scheduler=scheduler, scheduler_interval="step",
               quiet=True, history=history)


def test_resumed_training_is_bit_identical_to_uninterrupted(digits, tmp_path):
    straight = make_run(digits, seed=0)
    train(straight, 2)
    rng_after_straight = tg_random.generator().bit_generator.state

    first = make_run(digits, seed=0)
    history = train(first, 1)
    checkpoint.save(tmp_path / "ckpt.npz", first[0], first[2], epoch=1, history=history, scheduler=first[3],
                    loader=first[1])
    manual_seed(12345)  # whatever happened to the RNG since, the checkpoint restores it
    resumed = make_run(digits, seed=7)
    info = checkpoint.load(tmp_path / "ckpt.npz", resumed[0], resumed[2], scheduler=resumed[3], loader=resumed[1])
    history = train(resumed, 1, history=info["history"])

    assert history.epochs == 2
    for key, value in straight[0].state_dict().items():
        np.testing.assert_array_equal(resumed[0].state_dict()[key], value, err_msg=key)
    a, b = straight[2].state_dict(), resumed[2].state_dict()
    for index, buffers in a["state"].items():
        assert buffers["step"] == b["state"][index]["step"]
        np.testing.assert_array_equal(buffers["exp_avg_sq"], b["state"][index]["exp_avg_sq"])
    assert straight[2].param_groups[0]["lr"] == resumed[2].param_groups[0]["lr"]
    assert tg_random.generator().bit_generator.state == rng_after_straight


def test_round_trip_restores_every_part(digits, tmp_path):
    model, loader, opt, scheduler = make_run(digits, seed=1)
    history = train((model, loader, opt, scheduler), 1)
    rng_state = tg_random.generator().bit_generator.state
    path = checkpoint.save(tmp_path / "sub" / "c.npz", model, opt, epoch=1, history=history, scheduler=scheduler,
                           loader=loader, extra={"note": "hi", "sizes": (1, 2), "by_class": {3: [0.5]}})
    assert path == tmp_path / "sub" / "c.npz"
    tg_random.manual_seed(99)
    model2, loader2, opt2, scheduler2 = make_run(digits, seed=2)
    info = checkpoint.load(path, model2, opt2, scheduler=scheduler2, loader=loader2)
    assert info["epoch"] == 1 and info["model_class"] == "TinyNet" and info["optimizer_class"] == "Adam"
    assert info["history"] == history
    assert info["extra"] == {"note": "hi", "sizes": (1, 2), "by_class": {3: [0.5]}}
    assert tg_random.generator().bit_generator.state == rng_state
    assert loader2.state_dict() == loader.state_dict()
    assert scheduler2.state_dict() == scheduler.state_dict()
    saved, restored = opt.state_dict(), opt2.state_dict()
    assert saved["param_groups"] == restored["param_groups"]
    assert isinstance(restored["param_groups"][0]["betas"], tuple)
    for index in saved["state"]:
        for name, value in saved["state"][index].items():
            np.testing.assert_array_equal(restored["state"][index][name], value)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(model2.state_dict()[key], value)


def test_file_is_a_plain_npz_without_pickles(digits, tmp_path):
    model, loader, opt, _ = make_run(digits, seed=0)
    train((model, loader, opt, None), 1)
    checkpoint.save(tmp_path / "c.npz", model, opt, epoch=1)
    with np.load(tmp_path / "c.npz", allow_pickle=False) as archive:
        names = set(archive.files)
        meta = json.loads(str(archive["metadata"]))
        np.testing.assert_array_equal(archive["model/conv.weight"], model.conv.weight.data)
    assert {f"model/{k}" for k in model.state_dict()} <= names
    assert meta["format"] == "tinygrad_cnn.checkpoint" and meta["epoch"] == 1
    # Adam's exp_avg, exp_avg_sq and (a 0-d float32 tensor, as torch's) step per parameter
    assert sum(name.startswith("state/") for name in names) == 3 * len(list(model.parameters()))
    assert checkpoint.load_metadata(tmp_path / "c.npz")["epoch"] == 1


def test_weights_only_checkpoint_loads_into_a_fresh_model(tmp_path):
    manual_seed(0)
    model = TinyNet()
    checkpoint.save(tmp_path / "w.npz", model)
    other = TinyNet()
    info = checkpoint.load(tmp_path / "w.npz", other)
    assert info["optimizer"] is None and info["history"] is None and info["epoch"] is None
    np.testing.assert_array_equal(other.fc.weight.data, model.fc.weight.data)


def test_mismatched_model_is_rejected_and_left_unchanged(tmp_path):
    manual_seed(0)
    checkpoint.save(tmp_path / "c.npz", TinyNet(hidden=16))
    other = TinyNet(hidden=8)
    before = other.state_dict()
    with pytest.raises(CheckpointError) as info:
        checkpoint.load(tmp_path / "c.npz", other)
    text = str(info.value)
    assert "c.npz" in text and "shape of fc.weight: file (16, 144), model (8, 144)" in text
    assert "out.weight" in text
    for key, value in other.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_missing_and_unexpected_keys_are_listed(tmp_path):
    manual_seed(0)
    model = TinyNet()
    checkpoint.save(tmp_path / "c.npz", model)
    model.extra = nn.Linear(2, 2)
    with pytest.raises(CheckpointError, match=r"missing from the file: extra\.weight \(2, 2\)"):
        checkpoint.load(tmp_path / "c.npz", model)
    small = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(CheckpointError, match=r"not in the model: conv\.weight"):
        checkpoint.load(tmp_path / "c.npz", small)


def test_components_that_were_not_saved_or_do_not_fit(tmp_path):
    manual_seed(0)
    model = TinyNet()
    checkpoint.save(tmp_path / "bare.npz", model)
    with pytest.raises(CheckpointError, match="no optimizer state"):
        checkpoint.load(tmp_path / "bare.npz", model, optim.Adam(model.parameters()))
    checkpoint.save(tmp_path / "adam.npz", model, optim.Adam(model.parameters()))
    with pytest.raises(CheckpointError, match="holds Adam state, cannot load it into SGD"):
        checkpoint.load(tmp_path / "adam.npz", model, optim.SGD(model.parameters(), lr=0.1))


def test_unreadable_files_raise_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        checkpoint.load(tmp_path / "absent.npz", TinyNet())
    (tmp_path / "junk.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(CheckpointError, match="junk.npz: damaged or not a .npz file"):
        checkpoint.load(tmp_path / "junk.npz", TinyNet())
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    with pytest.raises(CheckpointError, match="no 'metadata' entry"):
        checkpoint.load(tmp_path / "other.npz", TinyNet())


def test_failed_write_keeps_the_previous_checkpoint_and_no_temp_file(tmp_path, monkeypatch):
    manual_seed(0)
    model = TinyNet()
    path = checkpoint.save(tmp_path / "c.npz", model, epoch=1)
    before = path.read_bytes()

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.save(path, model, epoch=2)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["c.npz"]
    assert path.read_bytes() == before
    assert checkpoint.load_metadata(path)["epoch"] == 1


def test_unstorable_extra_is_refused_before_writing(tmp_path):
    with pytest.raises(TypeError, match="cannot store a value of type object"):
        checkpoint.save(tmp_path / "c.npz", TinyNet(), extra={"bad": object()})
    assert not (tmp_path / "c.npz").exists()


def test_history_is_saved(tmp_path):
    history = History(train_loss=[1.0], train_acc=[0.5], val_loss=[None], val_acc=[None], seconds=[1.0], lr=[0.1])
    checkpoint.save(tmp_path / "c.npz", TinyNet(), history=history)
    assert checkpoint.load(tmp_path / "c.npz", TinyNet())["history"] == history


def full_checkpoint(digits, path):
    """A checkpoint of every part after one epoch, and the run it was saved from."""
    run = make_run(digits, seed=3)
    history = train(run, 1)
    model, loader, opt, scheduler = run
    checkpoint.save(path, model, opt, epoch=1, history=history, scheduler=scheduler, loader=loader)
    return run


def snapshot(run):
    """Everything loading could change: weights, optimizer, scheduler, loader and package RNG states."""
    model, loader, opt, scheduler = run
    return (model.state_dict(), opt.state_dict(), scheduler.state_dict(), loader.state_dict(),
            tg_random.generator().bit_generator.state)


def assert_unchanged(run, before):
    after = snapshot(run)
    for key, value in before[0].items():
        np.testing.assert_array_equal(after[0][key], value, err_msg=key)
    assert after[1]["param_groups"] == before[1]["param_groups"]
    assert after[1]["state"].keys() == before[1]["state"].keys()
    for index, buffers in before[1]["state"].items():
        for name, value in buffers.items():
            np.testing.assert_array_equal(after[1]["state"][index][name], value)
    assert after[2:] == before[2:]


def _flip_a_weight_byte(data, path):
    with np.load(path) as archive:
        weights = archive["model/fc.weight"].tobytes()
    at = data.index(weights) + len(weights) // 2
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]


def _edit_metadata(path, edit):
    with np.load(path) as archive:
        entries = {name: archive[name] for name in archive.files}
    meta = json.loads(str(entries["metadata"]))
    entries["metadata"] = np.array(edit(meta))
    np.savez(path, **entries)


DAMAGE = {
    "truncated": (lambda data, path: data[: len(data) // 2], "damaged or not a .npz file"),
    "flipped byte": (_flip_a_weight_byte, "damaged or not a .npz file (BadZipFile: Bad CRC-32"),
    "text file": (lambda data, path: b"epoch 1\nweights 0.5\n", "damaged or not a .npz file"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_files_raise_checkpoint_error_and_change_nothing(digits, tmp_path, damage):
    path = tmp_path / "c.npz"
    full_checkpoint(digits, path)
    corrupt, message = DAMAGE[damage]
    path.write_bytes(corrupt(path.read_bytes(), path))
    run = make_run(digits, seed=4)
    before = snapshot(run)
    for attempt in (lambda: checkpoint.load_metadata(path),
                    lambda: checkpoint.load(path, run[0], run[2], scheduler=run[3], loader=run[1])):
        with pytest.raises(CheckpointError) as info:
            attempt()
        assert str(info.value).startswith(f"checkpoint {path}: ") and message in str(info.value)
    assert_unchanged(run, before)


@pytest.mark.parametrize("edit, message", [
    (lambda meta: "{not json", "metadata is not valid JSON"),
    (lambda meta: json.dumps([1, 2]), "metadata is not a JSON object"),
    (lambda meta: json.dumps({k: v for k, v in meta.items() if k not in ("rng", "history")}),
     "metadata lacks history, rng"),
    (lambda meta: json.dumps({**meta, "optimizer": {"__array__": "state/999"}}),
     "metadata refers to a missing array state/999"),
    (lambda meta: json.dumps({**meta, "history": {"loss": [1.0]}}), "history: History.from_dict: unknown keys"),
])
def test_bad_metadata_raises_checkpoint_error_and_changes_nothing(digits, tmp_path, edit, message):
    path = tmp_path / "c.npz"
    full_checkpoint(digits, path)
    _edit_metadata(path, edit)
    run = make_run(digits, seed=4)
    before = snapshot(run)
    with pytest.raises(CheckpointError) as info:
        checkpoint.load(path, run[0], run[2], scheduler=run[3], loader=run[1])
    assert str(info.value).startswith(f"checkpoint {path}: ") and message in str(info.value)
    assert_unchanged(run, before)


def test_scheduler_of_another_class_is_refused_before_anything_changes(digits, tmp_path):
    model, loader, opt, _ = full_checkpoint(digits, tmp_path / "cosine.npz")
    step = optim.lr_scheduler.StepLR(opt, step_size=1)
    checkpoint.save(tmp_path / "step.npz", model, opt, scheduler=step, loader=loader)
    run = make_run(digits, seed=4)
    before = snapshot(run)
    with pytest.raises(CheckpointError, match="holds StepLR state, cannot load it into CosineAnnealingLR"):
        checkpoint.load(tmp_path / "step.npz", run[0], run[2], scheduler=run[3], loader=run[1])
    assert_unchanged(run, before)


def test_loader_state_that_does_not_fit_is_refused_before_anything_changes(digits, tmp_path):
    model, loader, opt, scheduler = full_checkpoint(digits, tmp_path / "c.npz")
    loader.generator = np.random.Generator(np.random.MT19937(0))  # another bit generator: other state keys
    checkpoint.save(tmp_path / "mt.npz", model, opt, scheduler=scheduler, loader=loader)
    run = make_run(digits, seed=4)
    before = snapshot(run)
    with pytest.raises(CheckpointError, match=r"mt\.npz: loader state does not fit: generator: keys"):
        checkpoint.load(tmp_path / "mt.npz", run[0], run[2], scheduler=run[3], loader=run[1])
    assert_unchanged(run, before)


def test_optimizer_state_that_does_not_fit_is_refused_before_anything_changes(digits, tmp_path):
    full_checkpoint(digits, tmp_path / "c.npz")
    run = make_run(digits, seed=4)
    model, loader, _, scheduler = run
    two_groups = optim.Adam([{"params": [model.conv.weight]},
                             {"params": [p for p in model.parameters() if p is not model.conv.weight]}])
    run = (model, loader, two_groups, scheduler)
    before = snapshot(run)
    with pytest.raises(CheckpointError, match="optimizer state does not fit: .*1 parameter group"):
        checkpoint.load(tmp_path / "c.npz", model, two_groups, scheduler=scheduler, loader=loader)
    assert_unchanged(run, before)


def test_load_model_gives_the_trained_model_in_eval_mode_and_leaves_the_rng_alone(tmp_path):
    from tinygrad_cnn.models import LeNet

    manual_seed(3)
    model = LeNet()
    model.conv1.weight.numpy()[...] += 0.5  # weights no fresh LeNet has
    path = checkpoint.save(tmp_path / "run.npz", model, epoch=1, extra={"config": {"model": "lenet"}})
    rng = tg_random.generator().bit_generator.state
    loaded = checkpoint.load_model(path)
    assert tg_random.generator().bit_generator.state == rng
    assert type(loaded) is LeNet and not loaded.training
    for (name, mine), theirs in zip(model.state_dict().items(), loaded.state_dict().values()):
        np.testing.assert_array_equal(np.asarray(mine), np.asarray(theirs), err_msg=name)
    unknown = checkpoint.save(tmp_path / "tiny.npz", TinyNet(), epoch=1)
    with pytest.raises(CheckpointError, match="holds a TinyNet, which is not one of the models"):
        checkpoint.load_model(unknown)
