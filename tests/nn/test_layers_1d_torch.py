"""The 1-d layers and functional forms (conv1d, max/avg/adaptive pooling, dropout1d) against
PyTorch: values, input and weight gradients, indices, padding modes, unbatched inputs, reprs,
initialisation bounds and errors (skipped without torch)."""

from __future__ import annotations

import math

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


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, padding=1), dict(dilation=2, padding="same"),
                                    dict(padding="valid", stride=3), dict(padding=2, groups=2, bias=False),
                                    dict(padding=2, padding_mode="reflect"), dict(padding="same", padding_mode="circular"),
                                    dict(padding=1, stride=2, padding_mode="replicate")])
@pytest.mark.parametrize("shape", [(2, 4, 11), (4, 9)])
def test_conv1d_layer_matches_torch(kwargs, shape):
    theirs = torch.nn.Conv1d(4, 6, 3, **kwargs)
    ours = nn.Conv1d(4, 6, 3, **kwargs)
    assert repr(ours) == repr(theirs) and ours.weight.shape == tuple(theirs.weight.shape)
    bound = 1 / math.sqrt(ours.weight.shape[1] * 3)  # kaiming_uniform_(a=sqrt(5)), as torch's
    assert np.abs(ours.weight.numpy()).max() <= bound + 1e-7
    theirs.double()
    ours.weight = nn.Parameter(theirs.weight.detach().numpy().copy())
    if ours.bias is not None:
        ours.bias = nn.Parameter(theirs.bias.detach().numpy().copy())
    x = RNG.normal(size=shape)
    check_against_torch(lambda t: ours(t), lambda t: theirs(t), [x])
    ours(tg.tensor(x)).sum().backward()
    theirs(torch.tensor(x)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-9)


def test_conv1d_functional_matches_torch_and_refuses_what_torch_refuses():
    x, w, b = RNG.normal(size=(2, 4, 11)), RNG.normal(size=(6, 2, 3)), RNG.normal(size=6)
    check_against_torch(lambda *t: F.conv1d(*t, stride=2, padding=1, groups=2),
                        lambda *t: TF.conv1d(*t, stride=2, padding=1, groups=2), [x, w, b])
    for lib, functional in ((tg, F), (torch, TF)):
        with pytest.raises(RuntimeError, match="Expected 2D \\(unbatched\\) or 3D \\(batched\\) input to conv1d"):
            functional.conv1d(lib.ones(1, 2, 5, 1), lib.ones(3, 2, 3))
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv1d(1, 1, 3, padding_mode="mirror")


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1, dilation=2,
                                                              ceil_mode=True), dict(kernel_size=(3,), stride=2)])
@pytest.mark.parametrize("shape", [(2, 4, 11), (4, 9)])
def test_max_pool1d_values_gradients_and_indices_match_torch(kwargs, shape):
    x = RNG.permutation(int(np.prod(shape))).reshape(shape).astype(float)
    check_against_torch(lambda t: F.max_pool1d(t, **kwargs), lambda t: TF.max_pool1d(t, **kwargs), [x])
    ours, theirs = nn.MaxPool1d(return_indices=True, **kwargs), torch.nn.MaxPool1d(return_indices=True, **kwargs)
    assert repr(ours) == repr(theirs)
    assert ours(tg.tensor(x))[1].tolist() == theirs(torch.tensor(x))[1].tolist()


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                                              count_include_pad=False)])
def test_avg_pool1d_matches_torch(kwargs):
    x = RNG.normal(size=(2, 4, 11))
    ours, theirs = nn.AvgPool1d(**kwargs), torch.nn.AvgPool1d(**kwargs)
    assert repr(ours) == repr(theirs)
    check_against_torch(lambda t: ours(t), lambda t: theirs(t), [x])


@pytest.mark.parametrize("size", [1, 3, 4, 11])
def test_adaptive_pool1d_matches_torch(size):
    x = RNG.permutation(88).reshape(2, 4, 11).astype(float)
    for ours, theirs in ((nn.AdaptiveAvgPool1d(size), torch.nn.AdaptiveAvgPool1d(size)),
                         (nn.AdaptiveMaxPool1d(size), torch.nn.AdaptiveMaxPool1d(size))):
        assert repr(ours) == repr(theirs)
        check_against_torch(lambda t: ours(t), lambda t: theirs(t), [x])
    assert F.adaptive_max_pool1d(tg.tensor(x), size, True)[1].tolist() == \
        TF.adaptive_max_pool1d(torch.tensor(x), size, True)[1].tolist()


@pytest.mark.parametrize("shape", [(3, 4, 50), (4, 50)])
def test_dropout1d_zeroes_whole_channels_and_scales_the_rest(shape):
    tg.manual_seed(0)
    layer = nn.Dropout1d(0.5)
    assert repr(layer) == repr(torch.nn.Dropout1d(0.5))
    out = layer(tg.ones(*shape)).numpy()
    assert set(np.unique(out)) <= {0.0, 2.0} and np.all(out == out[..., :1])  # a channel is all kept or all dropped
    assert 0 < (out[..., 0] == 0).mean() < 1
    assert np.array_equal(layer.eval()(tg.ones(*shape)).numpy(), np.ones(shape, np.float32))
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match="Expected 2D or 3D input"):
            lib.nn.functional.dropout1d(lib.ones(2, 3, 4, 5))
