"""nn.Buffer: a tensor marked to be registered as a buffer when assigned to a Module, as torch's."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg


def test_assigned_buffers_register_as_torchs_do():
    torch = pytest.importorskip("torch")
    state = {}
    for lib in (tg, torch):
        module = lib.nn.Module()
        module.kept = lib.nn.Buffer(lib.ones(2))
        module.scratch = lib.nn.Buffer(lib.zeros(3), persistent=False)
        module.plain = lib.ones(1)  # a plain tensor is no buffer
        module.kept = lib.nn.Buffer(lib.full((4,), 2.0))  # reassigned: replaced in place
        state[lib] = ([name for name, _ in module.named_buffers()], list(module.state_dict()),
                      module.kept.numpy().tolist(), type(module.kept).__name__)
    assert state[tg] == state[torch] == (["kept", "scratch"], ["kept"], [2.0] * 4, "Tensor")


def test_a_buffer_is_detached_keeps_requires_grad_and_tests_as_buffer():
    source = tg.ones(2, requires_grad=True) * 3
    buffer = tg.nn.Buffer(source)
    assert isinstance(buffer, tg.nn.Buffer) and not isinstance(source, tg.nn.Buffer)
    assert buffer.grad_fn is None and buffer.requires_grad and buffer.persistent
    assert np.shares_memory(buffer.numpy(), source.numpy())
    assert tg.nn.Buffer().shape == (0,)
    with pytest.raises(TypeError, match="Buffer: data must be a Tensor"):
        tg.nn.Buffer([1.0, 2.0])
