"""Bilinear (layer and F.bilinear) against PyTorch, and gumbel_softmax's samples: the categorical
frequencies, one-hot hard samples along any dim, and the straight-through gradient (skipped
without torch)."""

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


@pytest.mark.parametrize("shapes", [((4, 3), (4, 5)), ((2, 4, 3), (2, 4, 5))])
@pytest.mark.parametrize("with_bias", [True, False])
def test_bilinear_matches_torch(shapes, with_bias):
    arrays = [RNG.normal(size=shapes[0]), RNG.normal(size=shapes[1]), RNG.normal(size=(6, 3, 5))]
    arrays += [RNG.normal(size=6)] if with_bias else []
    check_against_torch(lambda *t: F.bilinear(*t), lambda *t: TF.bilinear(*t), arrays)


def test_bilinear_layer_starts_as_torchs_and_refuses_what_torch_refuses():
    layer = nn.Bilinear(3, 4, 5)
    assert repr(layer) == repr(torch.nn.Bilinear(3, 4, 5)) and list(layer.state_dict()) == ["weight", "bias"]
    assert layer.weight.shape == (5, 3, 4) and np.abs(layer.weight.numpy()).max() <= 1 / math.sqrt(3)
    assert layer(tg.ones(2, 3), tg.ones(2, 4)).shape == (2, 5)
    for lib, functional in ((tg, F), (torch, TF)):
        with pytest.raises(RuntimeError, match="input2 size does not match weight size"):
            functional.bilinear(lib.ones(2, 3), lib.ones(2, 4), lib.ones(5, 3, 3))


def test_gumbel_softmax_samples_the_categorical_distribution():
    tg.manual_seed(0)
    probabilities = np.array([0.1, 0.2, 0.7])
    logits = tg.tensor(np.tile(np.log(probabilities), (4000, 1)))
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True).numpy()
    assert set(np.unique(hard)) == {0.0, 1.0} and np.all(hard.sum(1) == 1)
    np.testing.assert_allclose(hard.mean(0), probabilities, atol=0.025)
    soft = F.gumbel_softmax(logits, tau=2.0).numpy()
    np.testing.assert_allclose(soft.sum(1), 1.0)
    np.testing.assert_array_less(0.0, soft)
    across = F.gumbel_softmax(tg.tensor(RNG.normal(size=(3, 5, 2))), dim=1, hard=True).numpy()
    assert np.all(across.sum(1) == 1)


def test_hard_gumbel_softmax_passes_the_soft_samples_gradient():
    logits, weights = np.log(np.tile([0.1, 0.2, 0.7], (4, 1))), RNG.normal(size=(4, 3))
    grads = []
    for hard in (True, False):
        x = tg.tensor(logits, requires_grad=True)
        tg.manual_seed(1)  # the same noise for both
        (F.gumbel_softmax(x, hard=hard) * tg.tensor(weights)).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)
