"""normalize, cosine_similarity and pairwise_distance (and their layers) against PyTorch:
values and gradients, broadcasting, and the zero vectors where eps decides (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn.nn as nn
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.testing.oracle import check_against_torch

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")
TF = torch.nn.functional

pytestmark = pytest.mark.oracle

RNG = np.random.default_rng(0)
A, B = RNG.normal(size=(4, 5)), RNG.normal(size=(4, 5))
WITH_ZERO_ROWS = np.zeros((3, 4))
WITH_ZERO_ROWS[1] = RNG.normal(size=4)


@pytest.mark.parametrize("x, p, dim", [(A, 2.0, 1), (A, 1.0, 0), (A, 3.0, -1), (WITH_ZERO_ROWS, 2.0, 1)])
def test_normalize_matches_torch(x, p, dim):
    check_against_torch(lambda t: F.normalize(t, p, dim), lambda t: TF.normalize(t, p, dim), [x])


@pytest.mark.parametrize("x1, x2, dim", [(A, B, 1), (A, B[:1], -1), (A, B, 0), (WITH_ZERO_ROWS, WITH_ZERO_ROWS + 1, 1)])
def test_cosine_similarity_matches_torch(x1, x2, dim):
    check_against_torch(lambda a, b: F.cosine_similarity(a, b, dim), lambda a, b: TF.cosine_similarity(a, b, dim),
                        [x1, x2])
    check_against_torch(lambda a, b: nn.CosineSimilarity(dim)(a, b),
                        lambda a, b: torch.nn.CosineSimilarity(dim)(a, b), [x1, x2])


@pytest.mark.parametrize("x1, x2, p, keepdim", [(A, B, 2.0, False), (A, B, 1.0, True), (A, A.copy(), 2.0, False),
                                                (A, B[:1], 3.0, False)])
def test_pairwise_distance_matches_torch(x1, x2, p, keepdim):
    check_against_torch(lambda a, b: F.pairwise_distance(a, b, p, keepdim=keepdim),
                        lambda a, b: TF.pairwise_distance(a, b, p, keepdim=keepdim), [x1, x2])
    ours, theirs = nn.PairwiseDistance(p, keepdim=keepdim), torch.nn.PairwiseDistance(p, keepdim=keepdim)
    assert repr(ours) == repr(theirs)
    check_against_torch(lambda a, b: ours(a, b), lambda a, b: theirs(a, b), [x1, x2])
