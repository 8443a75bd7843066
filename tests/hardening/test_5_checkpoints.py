"""Class 5 of issue 16: checkpoints. Every corruption of the zip is a CheckpointError naming
the file; a target below a regular file says "not a directory"; a failing load changes nothing."""

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
