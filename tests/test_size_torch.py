"""Tensor.shape is a torch.Size, as torch's: printed, sliced, added and compared the same way."""

from __future__ import annotations

import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")

EXPRESSIONS = ["s", "s[1:]", "s[::-1]", "s[0]", "(1,) + s", "s + (5,)", "s * 2", "2 * s", "s.numel()", "s.count(3)",
               "s == (2, 3, 4)", "s == [2, 3, 4]", "hash(s) == hash((2, 3, 4))", "len(s)", "list(s)"]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_a_shape_behaves_as_torchs(expression):
    ours = eval(expression, {"s": tg.zeros(2, 3, 4).shape})
    theirs = eval(expression, {"s": torch.zeros(2, 3, 4).shape})
    assert repr(ours) == repr(theirs) and type(ours).__name__ == type(theirs).__name__


def test_a_shape_prints_as_torchs_and_is_a_size():
    x, y = tg.zeros(64, 1, 28, 28), torch.zeros(64, 1, 28, 28)
    assert isinstance(x.shape, tg.Size) and isinstance(x.shape, tuple)
    assert f"Shape of X [N, C, H, W]: {x.shape}" == f"Shape of X [N, C, H, W]: {y.shape}"  # the quickstart's line
    assert str(x.shape) == str(y.shape) == str(x.size()) and repr(tg.zeros(()).shape) == repr(torch.zeros(()).shape)


def test_a_size_refuses_what_torchs_refuses():
    for s in (tg.zeros(2).shape, torch.zeros(2).shape):
        with pytest.raises(TypeError, match="can only concatenate tuple"):
            s + [1]
