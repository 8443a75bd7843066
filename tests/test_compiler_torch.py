"""torch.compile without a compiler: a compiled Module or function computes what the original
does; the wrapper itself is torch's (OptimizedModule, "_orig_mod." keys, repr, decorator forms)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.compiler


def real_torch():
    return pytest.importorskip("torch")


def test_a_compiled_module_is_torchs_optimized_module_around_the_original():
    """(torch.compile itself is not called: importing its compiler takes half a minute; torch's
    OptimizedModule is a Module whose one child is ``_orig_mod``, so its keys and repr are these.)"""
    torch = real_torch()
    ours = tg.nn.Sequential(tg.nn.Linear(2, 3), tg.nn.ReLU())
    theirs = torch.nn.Module()
    theirs._orig_mod = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU())
    compiled = tg.compile(ours)
    assert type(compiled).__name__ == "OptimizedModule" and compiled._orig_mod is ours
    assert list(compiled.state_dict()) == list(theirs.state_dict()) == ["_orig_mod.0.weight", "_orig_mod.0.bias"]
    assert repr(compiled) == repr(theirs).replace("Module(", "OptimizedModule(", 1)
    x = tg.randn(4, 2)
    np.testing.assert_array_equal(compiled(x).numpy(), ours(x).numpy())
    compiled.eval()
    assert not ours.training and not compiled.training
    plain = tg.nn.Linear(2, 3)
    assert tg.compile(plain).weight is plain.weight and tg.compile(plain).in_features == 2


def test_compiling_a_function_and_the_decorator_forms():
    def double(x):
        return x * 2

    compiled = tg.compile(double)
    assert compiled is not double and compiled.__name__ == "double"
    np.testing.assert_array_equal(compiled(tg.ones(2)).numpy(), [2, 2])

    @tg.compile(mode="max-autotune", fullgraph=True)
    def add_one(x):
        return x + 1

    assert add_one(tg.ones(1)).tolist() == [2.0]
    assert tg.compile(double, disable=True) is double


def test_gradients_flow_through_a_compiled_module():
    model = tg.nn.Linear(3, 1)
    tg.compile(model)(tg.randn(5, 3)).sum().backward()
    assert model.weight.grad is not None and model.weight.grad.shape == (1, 3)


def test_compiler_helpers_and_bad_input():
    assert tinygrad_cnn.compiler.is_compiling() is False and tinygrad_cnn.compiler.reset() is None
    assert tinygrad_cnn.compiler.disable(len) is len and tinygrad_cnn.compiler.disable()(len) is len
    with pytest.raises(RuntimeError, match="callable"):
        tg.compile(3)
