"""one_hot and Embedding against PyTorch: values, the weight's gradient (repeated indices add,
the padding row gets none), max_norm's in-place renormalisation, reprs and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")
TF = torch.nn.functional

pytestmark = pytest.mark.oracle


@pytest.mark.parametrize("labels, classes", [([0, 2, 1, 2], -1), ([[1], [3]], 5), ([], 3)])
def test_one_hot_matches_torch(labels, classes):
    ours = F.one_hot(tg.tensor(labels, dtype=tg.int64), classes)
    theirs = TF.one_hot(torch.tensor(labels, dtype=torch.int64), classes)
    assert ours.dtype == tg.int64 and ours.tolist() == theirs.tolist() and tuple(ours.shape) == tuple(theirs.shape)


def test_one_hot_refuses_what_torch_refuses():
    for lib, functional in ((tg, F), (torch, TF)):
        for labels, classes, message in [([-1], -1, "non-negative"), ([3], 2, "smaller than num_classes"),
                                         ([], -1, "empty tensor")]:
            with pytest.raises(RuntimeError, match=message):
                functional.one_hot(lib.tensor(labels, dtype=lib.int64), classes)
        with pytest.raises(RuntimeError, match="LongTensor"):
            functional.one_hot(lib.tensor([1.0]))


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
@pytest.mark.parametrize("max_norm", [None, 1.0])
def test_embedding_values_and_weight_gradient_match_torch(padding_idx, max_norm):
    rng = np.random.default_rng(0)
    weight = (3 * rng.normal(size=(5, 3))).astype(np.float32)
    indices = np.array([[0, 2, 2], [4, 1, 2]])
    ours = tg.nn.Embedding.from_pretrained(tg.tensor(weight), freeze=False, padding_idx=padding_idx, max_norm=max_norm)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(weight), freeze=False, padding_idx=padding_idx,
                                                max_norm=max_norm)
    assert repr(ours) == repr(theirs)
    out, ref = ours(tg.tensor(indices)), theirs(torch.tensor(indices))
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-6)  # max_norm's writes
    upstream = rng.normal(size=out.shape).astype(np.float32)
    (out * tg.tensor(upstream)).sum().backward()
    (ref * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-6)


def test_embedding_starts_normal_with_a_zero_padding_row_and_can_be_frozen():
    tg.manual_seed(0)
    layer = tg.nn.Embedding(1000, 8, padding_idx=3)
    values = layer.weight.numpy()
    assert values.shape == (1000, 8) and np.all(values[3] == 0)
    assert abs(values.mean()) < 0.05 and abs(values.std() - 1) < 0.05
    frozen = tg.nn.Embedding.from_pretrained(tg.ones(4, 2))
    assert not frozen.weight.requires_grad and frozen(tg.tensor([1, 1])).tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_embedding_refuses_what_torch_refuses():
    for lib, functional in ((tg, F), (torch, TF)):
        with pytest.raises(IndexError, match="index out of range"):
            functional.embedding(lib.tensor([3]), lib.ones(2, 2))
        with pytest.raises(RuntimeError, match="Long, Int"):
            functional.embedding(lib.tensor([1.0]), lib.ones(2, 2))
        with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
            lib.nn.Embedding(10, 3, padding_idx=10)
