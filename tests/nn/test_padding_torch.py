"""F.pad's reflect/replicate/circular modes, the padding layers and Conv2d's padding_mode
against PyTorch: values, gradients (the padded elements' gradients add back into the ones they
copy), reprs and the errors (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.testing.oracle import check_against_torch

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")
TF = torch.nn.functional

pytestmark = pytest.mark.oracle

RNG = np.random.default_rng(0)
CASES = [((2, 3, 4, 5), (2, 1, 1, 2)), ((3, 5), (4, 2)), ((2, 3, 6), (5, 5)), ((1, 2, 3, 4, 5), (1, 2, 0, 1, 2, 1)),
         ((2, 3, 4), (0, 3, 1, 2))]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape, pad", CASES)
def test_pad_modes_match_torch(mode, shape, pad):
    x = RNG.normal(size=shape)
    check_against_torch(lambda t: F.pad(t, pad, mode=mode), lambda t: TF.pad(t, pad, mode=mode), [x])


def test_pad_refuses_what_torch_refuses():
    x4 = np.arange(12.0).reshape(1, 1, 3, 4)
    for lib, functional in ((tg, F), (torch, TF)):
        x = lib.tensor(x4)
        with pytest.raises(RuntimeError, match="Padding size should be less than the corresponding input dimension"):
            functional.pad(x, (1, 1, 3, 0), mode="reflect")
        with pytest.raises(RuntimeError, match="wrapping around more than once"):
            functional.pad(x, (5, 0, 0, 0), mode="circular")
        with pytest.raises(NotImplementedError, match="(?i)padding size 2 is not supported for 4D input"):
            functional.pad(x, (1, 1), mode="reflect")
        with pytest.raises(NotImplementedError, match="Unrecognised padding mode"):
            functional.pad(x, (1, 1), mode="bogus")
        with pytest.raises(RuntimeError, match="doesn't take in value argument"):
            functional.pad(x, (1, 1, 1, 1), mode="reflect", value=2.0)


LAYERS = [("ZeroPad1d", (2,)), ("ZeroPad2d", ((1, 2, 0, 3),)), ("ZeroPad3d", (1,)), ("ConstantPad1d", ((1, 2), 3.5)),
          ("ConstantPad2d", (1, -1.0)), ("ConstantPad3d", ((1, 0, 0, 1, 2, 0), 2.0)), ("ReflectionPad1d", (2,)),
          ("ReflectionPad2d", ((1, 2, 2, 0),)), ("ReflectionPad3d", (1,)), ("ReplicationPad1d", ((3, 0),)),
          ("ReplicationPad2d", (2,)), ("ReplicationPad3d", ((1, 1, 0, 2, 1, 0),)), ("CircularPad1d", (1,)),
          ("CircularPad2d", ((1, 0, 2, 1),)), ("CircularPad3d", (1,))]


@pytest.mark.parametrize("name, args", LAYERS)
def test_padding_layers_match_torch(name, args):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    dims = int(name[-2])
    x = RNG.normal(size=(2, 3) + (4,) * dims)
    check_against_torch(lambda t: ours(t), lambda t: theirs(t), [x])


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("kernel, padding, stride", [(3, 1, 1), (4, "same", 1), (3, (2, 1), 2), (5, "valid", 1)])
def test_conv2d_padding_modes_match_torch(mode, kernel, padding, stride):
    torch.manual_seed(0)
    theirs = torch.nn.Conv2d(2, 3, kernel, stride=stride, padding=padding, padding_mode=mode)
    ours = nn.Conv2d(2, 3, kernel, stride=stride, padding=padding, padding_mode=mode)
    assert repr(ours) == repr(theirs)
    theirs = theirs.double()
    ours.weight = nn.Parameter(theirs.weight.detach().numpy().copy())
    ours.bias = nn.Parameter(theirs.bias.detach().numpy().copy())
    x = RNG.normal(size=(2, 2, 7, 6))
    check_against_torch(lambda t: ours(t), lambda t: theirs(t), [x])
    a, b = tg.tensor(x), torch.tensor(x)
    ours(a).sum().backward()
    theirs(b).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-9)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
