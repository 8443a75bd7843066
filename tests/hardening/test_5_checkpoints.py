"""Class 5 of issue 16: checkpoints. Every corruption of the zip, and every hand-edited part
(optimizer state, RNG and loader generator states, scheduler, metadata, history), is a
CheckpointError naming the file at load, before any part is applied; the temporaries of a
killed save are removed by the next save into the folder; save errors name the target, and a
target below a regular file says "not a directory"."""

import json
import os
import signal
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_cnn import nn, optim
from tinygrad_cnn.checkpoint import CheckpointError, load, save


def model_and_file(tmp_path):
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    path = save(tmp_path / "ck.npz", model, opt, epoch=1)
    return model, opt, path


def weights(model):
    return [p.numpy().tolist() for p in model.parameters()]


def test_flipped_compression_method_is_a_checkpoint_error(tmp_path):
    model, opt, path = model_and_file(tmp_path)
    data = bytearray(path.read_bytes())
    for offset in range(len(data) - 4):  # every local and central header's method field
        if data[offset:offset + 4] in (b"PK\x03\x04", b"PK\x01\x02"):
            field = offset + (8 if data[offset + 2] == 3 else 10)
            data[field:field + 2] = (99).to_bytes(2, "little")
    path.write_bytes(bytes(data))
    before = weights(model)
    with pytest.raises(CheckpointError, match=str(path)):
        load(path, model, opt)
    assert weights(model) == before


@given(st.data())
@settings(max_examples=25)
def test_any_flipped_byte_or_truncation_loads_intact_or_is_a_checkpoint_error(tmp_path_factory, data):
    tmp = tmp_path_factory.mktemp("flip")
    model, opt, path = model_and_file(tmp)
    raw = bytearray(path.read_bytes())
    if data.draw(st.booleans(), label="truncate"):
        raw = raw[:data.draw(st.integers(0, 10**6), label="length") % len(raw)]
    else:
        i = data.draw(st.integers(0, 10**6), label="offset") % len(raw)
        raw[i] ^= data.draw(st.integers(1, 255), label="mask")
    path.write_bytes(bytes(raw))
    fresh = nn.Linear(3, 2)
    before = weights(fresh)
    try:
        load(path, fresh, optim.SGD(fresh.parameters(), lr=0.1, momentum=0.9))
    except CheckpointError as error:
        assert str(path) in str(error)
        assert weights(fresh) == before
    else:
        assert weights(fresh) == weights(model)


def test_target_below_a_regular_file_is_not_a_directory(tmp_path):
    model, opt, _ = model_and_file(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(NotADirectoryError, match="not a directory"):
        save(blocker / "sub" / "ck.npz", model, opt)
    with pytest.raises(CheckpointError, match="not a directory"):
        load(blocker / "ck.npz", model, opt)


def test_a_directory_is_not_a_checkpoint(tmp_path):
    model, opt, _ = model_and_file(tmp_path)
    with pytest.raises(CheckpointError, match="directory"):
        load(tmp_path, model, opt)


def rewrite(path, edit):
    """Hand-edit the checkpoint at ``path``: ``edit(meta, entries)`` on its metadata and arrays."""
    with np.load(path) as archive:
        entries = {name: archive[name] for name in archive.files}
    meta = json.loads(str(entries["metadata"]))
    edit(meta, entries)
    entries["metadata"] = np.array(json.dumps(meta))
    np.savez(path, **entries)


def group(meta):
    return meta["optimizer"]["param_groups"][0]


def buffers(meta):
    return meta["optimizer"]["state"]["__items__"][0][1]


EDITS = {
    "lr text": lambda m, e: group(m).update(lr="fast"),
    "lr negative": lambda m, e: group(m).update(lr=-0.1),
    "lr nan": lambda m, e: group(m).update(lr=float("nan")),
    "betas one": lambda m, e: group(m).update(betas={"__tuple__": [0.9]}),
    "beta above 1": lambda m, e: group(m).update(betas={"__tuple__": [0.9, 1.5]}),
    "eps inf": lambda m, e: group(m).update(eps=float("inf")),
    "amsgrad text": lambda m, e: group(m).update(amsgrad="yes"),
    "step negative": lambda m, e: e.update({buffers(m)["step"]["__tensor__"]: np.array(-3.0, np.float32)}),
    "step fraction": lambda m, e: e.update({buffers(m)["step"]["__tensor__"]: np.array(2.5, np.float32)}),
    "step text": lambda m, e: buffers(m).update(step="x"),
    "buffer text": lambda m, e: buffers(m).update(exp_avg="x"),
    "buffer shape": lambda m, e: e.update({buffers(m)["exp_avg"]["__tensor__"]: np.zeros(5, np.float32)}),
    "rng generator": lambda m, e: m["rng"].update(bit_generator="MT19937"),
    "rng negative": lambda m, e: m["rng"]["state"].update(inc=-5),
    "rng text": lambda m, e: m["rng"]["state"].update(state="abc"),
    "rng fraction": lambda m, e: m["rng"].update(has_uint32=0.5),
    "loader generator": lambda m, e: m["loader"]["generator"]["state"].update(inc=-1),
    "scheduler fraction": lambda m, e: m["scheduler"].update(last_epoch=1.5),
    "epoch text": lambda m, e: m.update(epoch="one"),
    "history text": lambda m, e: m["history"].update(train_loss=["low"]),
    "history lengths": lambda m, e: m["history"].update(lr=[0.1, 0.2]),
}


@pytest.mark.parametrize("edit", EDITS)
def test_a_hand_edited_part_is_a_checkpoint_error_at_load_and_nothing_changes(tmp_path, edit):
    from tinygrad_cnn import Tensor, random as tg_random
    from tinygrad_cnn.train import History
    from tinygrad_cnn.utils.data import DataLoader, TensorDataset

    def parts():
        model = nn.Linear(3, 2)
        opt = optim.Adam(model.parameters(), lr=0.01)
        model(Tensor(np.ones((4, 3), np.float32))).sum().backward()
        opt.step()
        loader = DataLoader(TensorDataset(Tensor(np.ones((4, 3), np.float32))), shuffle=True,
                            generator=np.random.default_rng(0))
        return model, opt, optim.lr_scheduler.StepLR(opt, 2), loader

    model, opt, scheduler, loader = parts()
    history = History([1.0], [0.5], [None], [None], [2.0], [0.01], [1.5])
    path = save(tmp_path / "ck.npz", model, opt, epoch=1, history=history, scheduler=scheduler, loader=loader)
    rewrite(path, EDITS[edit])
    model, opt, scheduler, loader = parts()
    before = (weights(model), repr(opt.state_dict()), scheduler.state_dict(), loader.state_dict(),
              tg_random.generator().bit_generator.state)
    with pytest.raises(CheckpointError, match=f"checkpoint {path}"):
        load(path, model, opt, scheduler=scheduler, loader=loader)
    assert before == (weights(model), repr(opt.state_dict()), scheduler.state_dict(), loader.state_dict(),
                      tg_random.generator().bit_generator.state)


def test_a_damaged_npy_header_under_a_valid_crc_is_a_checkpoint_error(tmp_path):
    model, opt, path = model_and_file(tmp_path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    assert b"'shape': (2, 3)" in members["model/weight.npy"]
    members["model/weight.npy"] = members["model/weight.npy"].replace(b"'shape': (2, 3)", b"'shape': (2, 3 ")
    with zipfile.ZipFile(path, "w") as archive:  # re-zipped, so every CRC fits: NumPy's header parser meets it
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(CheckpointError, match=f"checkpoint {path}: damaged"):
        load(path, nn.Linear(3, 2))


def test_the_temporaries_of_a_killed_save_are_removed_by_the_next_save(tmp_path):
    script = ("import os, signal, sys\n"
              "from tinygrad_cnn import nn\n"
              "from tinygrad_cnn.checkpoint import save\n"
              "os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)  # die between writing and renaming\n"
              "save(sys.argv[1], nn.Linear(3, 2))\n")
    killed = subprocess.run([sys.executable, "-c", script, str(tmp_path / "ck.npz")], capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(".ck.npz.") and left[0].endswith(".part")
    live = tmp_path / f".other.npz.{os.getpid()}@{socket.gethostname()}.{'0' * 12}.part"  # a save under way
    live.write_bytes(b"partial")
    save(tmp_path / "best.npz", nn.Linear(3, 2))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["best.npz", live.name])


@pytest.mark.parametrize("case", ["below a file", "is a directory", "folder not creatable"])
def test_save_errors_name_the_target(tmp_path, case):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    (tmp_path / "dir.npz").mkdir()
    target, error = {"below a file": (blocker / "ck.npz", NotADirectoryError),
                     "is a directory": (tmp_path / "dir.npz", IsADirectoryError),
                     "folder not creatable": (Path("/proc/no/such/ck.npz"), OSError)}[case]
    with pytest.raises(error) as info:
        save(target, nn.Linear(3, 2))
    assert str(target) in str(info.value) and ".part" not in str(info.value)
    assert blocker.read_text() == "x" and sorted(p.name for p in tmp_path.iterdir()) == ["dir.npz", "file"]
