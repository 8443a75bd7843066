"""The margin, embedding and likelihood losses (functional and layers) against PyTorch, for
each reduction: values and gradients of every float input, reprs, buffers and errors
(skipped without torch)."""

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
A, B, C = RNG.normal(size=(5, 4)), RNG.normal(size=(5, 4)), RNG.normal(size=(5, 4))
SIGNS = np.where(RNG.random(5) > 0.5, 1.0, -1.0)
SIGNS_2D = np.where(RNG.random((5, 4)) > 0.5, 1.0, -1.0)
LABELS = RNG.integers(0, 4, 5)
BITS = (RNG.random((5, 4)) > 0.5).astype(float)
WEIGHT = RNG.random(4) + 0.5
COUNTS = np.abs(B) * 3

# name -> (call taking (functional module, library, *float inputs), the float inputs)
CASES = {
    "margin_ranking": (lambda f, lib, x, y: f.margin_ranking_loss(x, y, lib.tensor(SIGNS_2D), 0.3), [A, B]),
    "hinge_embedding": (lambda f, lib, x: f.hinge_embedding_loss(x, lib.tensor(SIGNS_2D), 0.7), [A]),
    "soft_margin": (lambda f, lib, x: f.soft_margin_loss(x, lib.tensor(SIGNS_2D)), [A]),
    "cosine_embedding": (lambda f, lib, x, y: f.cosine_embedding_loss(x, y, lib.tensor(SIGNS), 0.2), [A, B]),
    "triplet": (lambda f, lib, x, y, z: f.triplet_margin_loss(x, y, z), [A, B, C]),
    "triplet_swap_l1": (lambda f, lib, x, y, z: f.triplet_margin_loss(x, y, z, 0.5, 1.0, swap=True), [A, B, C]),
    "multilabel_soft_margin": (lambda f, lib, x: f.multilabel_soft_margin_loss(x, lib.tensor(BITS),
                                                                               lib.tensor(WEIGHT)), [A]),
    "multi_margin": (lambda f, lib, x: f.multi_margin_loss(x, lib.tensor(LABELS)), [A]),
    "multi_margin_squared_weighted": (lambda f, lib, x: f.multi_margin_loss(x, lib.tensor(LABELS), 2, 0.5,
                                                                            lib.tensor(WEIGHT)), [A]),
    "poisson": (lambda f, lib, x: f.poisson_nll_loss(x, lib.tensor(COUNTS)), [A]),
    "poisson_rates_full": (lambda f, lib, x: f.poisson_nll_loss(x, lib.tensor(COUNTS), log_input=False, full=True),
                           [np.abs(A) + 0.1]),
    "gaussian": (lambda f, lib, x, v: f.gaussian_nll_loss(x, lib.tensor(B), v), [A, np.abs(B) + 0.1]),
    "gaussian_full_one_var_per_row": (lambda f, lib, x, v: f.gaussian_nll_loss(x, lib.tensor(B), v, full=True),
                                      [A, np.abs(B[:, 0]) + 0.1]),
    "gaussian_clamped": (lambda f, lib, x, v: f.gaussian_nll_loss(x, lib.tensor(B), v, eps=0.5), [A, np.abs(B)]),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_margin_and_likelihood_losses_match_torch(name, reduction):
    call, arrays = CASES[name]

    def ours(*t):
        with_reduction = F if reduction == "mean" else _Reduced(F, reduction)
        return call(with_reduction, tg, *t)

    def theirs(*t):
        with_reduction = TF if reduction == "mean" else _Reduced(TF, reduction)
        return call(with_reduction, torch, *t)

    check_against_torch(ours, theirs, arrays)


class _Reduced:
    """A functional module whose loss functions get ``reduction=`` added."""

    def __init__(self, functional, reduction: str) -> None:
        self.functional, self.reduction = functional, reduction

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: getattr(self.functional, name)(*args, reduction=self.reduction, **kwargs)


@pytest.mark.parametrize("make, inputs", [
    (lambda lib: lib.nn.MarginRankingLoss(0.3), lambda lib: (lib.tensor(A), lib.tensor(B), lib.tensor(SIGNS_2D))),
    (lambda lib: lib.nn.HingeEmbeddingLoss(0.7, reduction="sum"), lambda lib: (lib.tensor(A), lib.tensor(SIGNS_2D))),
    (lambda lib: lib.nn.SoftMarginLoss(), lambda lib: (lib.tensor(A), lib.tensor(SIGNS_2D))),
    (lambda lib: lib.nn.CosineEmbeddingLoss(0.2), lambda lib: (lib.tensor(A), lib.tensor(B), lib.tensor(SIGNS))),
    (lambda lib: lib.nn.TripletMarginLoss(swap=True), lambda lib: (lib.tensor(A), lib.tensor(B), lib.tensor(C))),
    (lambda lib: lib.nn.MultiLabelSoftMarginLoss(lib.tensor(WEIGHT)), lambda lib: (lib.tensor(A), lib.tensor(BITS))),
    (lambda lib: lib.nn.MultiMarginLoss(2, weight=lib.tensor(WEIGHT)), lambda lib: (lib.tensor(A), lib.tensor(LABELS))),
    (lambda lib: lib.nn.PoissonNLLLoss(full=True), lambda lib: (lib.tensor(A), lib.tensor(COUNTS))),
    (lambda lib: lib.nn.GaussianNLLLoss(full=True), lambda lib: (lib.tensor(A), lib.tensor(B),
                                                                 lib.tensor(np.abs(C) + 0.1))),
])
def test_loss_layers_match_torch(make, inputs):
    ours, theirs = make(tg), make(torch)
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(ours(*inputs(tg)).numpy(), theirs(*inputs(torch)).numpy(), rtol=1e-9)


def test_margin_losses_refuse_what_torch_refuses():
    for lib, functional in ((tg, F), (torch, TF)):
        x = lib.tensor(A)
        with pytest.raises(ValueError, match="margin must be greater than 0"):
            functional.triplet_margin_loss(x, x, x, margin=0.0)
        with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
            functional.multi_margin_loss(x, lib.tensor(LABELS), p=3)
        with pytest.raises(ValueError, match="var has negative entry"):
            functional.gaussian_nll_loss(x, x, -lib.ones(5, 4))
