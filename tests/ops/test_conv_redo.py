"""conv2d's weight gradient from im2col columns copied again in backward (ops/conv.py's
REDO_BYTES): the same bits as from columns kept since forward, torch's numbers, and no
columns held between forward and backward."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_cnn import Tensor
from tinygrad_cnn.nn.functional import conv2d
from tinygrad_cnn.ops import conv

# (input N, C, H, W; weight OC, C/groups, KH, KW; stride; padding; dilation; groups): LeNet's and
# SimpleCNN's first layers, strides, dilations and groups, and a last block of fewer rows
CASES = [
    ((64, 1, 28, 28), (6, 1, 5, 5), 1, 0, 1, 1),
    ((64, 1, 28, 28), (8, 1, 3, 3), 1, 1, 1, 1),
    ((64, 4, 17, 15), (6, 2, 3, 3), 2, 1, 1, 2),
    ((64, 3, 20, 20), (5, 3, 3, 2), 1, (2, 1), 2, 1),
    ((32, 2, 30, 34), (4, 2, 4, 4), (3, 2), 0, 1, 1),
]


def _run(case, redo: bool, requires_input_grad: bool, monkeypatch):
    """conv2d forward and backward on fixed data, with columns copied again (redo) or kept:
    (output, input grad or None, weight grad, bias grad, bytes the node saved)."""
    xs, ws, stride, padding, dilation, groups = case
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal(xs).astype(np.float32), requires_grad=requires_input_grad)
    w = Tensor((0.2 * rng.standard_normal(ws)).astype(np.float32), requires_grad=True)
    b = Tensor(rng.standard_normal(ws[0]).astype(np.float32), requires_grad=True)
    monkeypatch.setattr(conv, "REDO_BYTES", 0 if redo else 1 << 60)
    out = conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    saved = sum(a.nbytes for a in out.grad_fn.saved_tensors if a is not None)
    g = np.random.default_rng(2).standard_normal(out.shape).astype(np.float32)
    out.backward(Tensor(g))
    dx = None if x.grad is None else x.grad.numpy()
    return out.numpy(), dx, w.grad.numpy(), b.grad.numpy(), saved


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("requires_input_grad", [False, True])
def test_columns_copied_again_give_the_kept_columns_bits(case, requires_input_grad, monkeypatch):
    kept = _run(case, False, requires_input_grad, monkeypatch)
    redone = _run(case, True, requires_input_grad, monkeypatch)
    for a, b in zip(kept[:4], redone[:4]):
        assert (a is None and b is None) or (a.dtype == b.dtype and np.array_equal(a, b))
    xs, ws, groups = case[0], case[1], case[5]
    oh, ow = kept[0].shape[2:]
    assert conv._redo_blocks(ws[1] * ws[2] * ws[3], oh, ow * xs[0], 4) is not None
    assert kept[4] - redone[4] == groups * ws[1] * ws[2] * ws[3] * oh * ow * xs[0] * 4  # the columns, not held


@pytest.mark.oracle
@pytest.mark.parametrize("case", CASES[:3])
def test_columns_copied_again_give_torchs_weight_gradient(case, monkeypatch):
    torch = pytest.importorskip("torch")
    _, _, dw, db, _ = _run(case, True, False, monkeypatch)
    xs, ws, stride, padding, dilation, groups = case
    rng = np.random.default_rng(1)
    x = torch.tensor(rng.standard_normal(xs).astype(np.float32))
    w = torch.tensor((0.2 * rng.standard_normal(ws)).astype(np.float32), requires_grad=True)
    b = torch.tensor(rng.standard_normal(ws[0]).astype(np.float32), requires_grad=True)
    out = torch.nn.functional.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    out.backward(torch.tensor(np.random.default_rng(2).standard_normal(tuple(out.shape)).astype(np.float32)))
    np.testing.assert_allclose(dw, w.grad.numpy(), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(db, b.grad.numpy(), rtol=1e-4, atol=1e-3)


def test_only_large_first_layers_copy_their_columns_again():
    """Columns above REDO_BYTES with a patch under SMALL_PATCH rows are copied again, in
    blocks of whole weight-gradient blocks; LeNet's conv1 at batch 256 is, at 64 it is not."""
    assert conv._redo_blocks(25, 24, 24 * 64, 4) is None  # 3.7 MB: kept
    assert conv._redo_blocks(150, 8, 8 * 256, 4) is None  # conv2: a patch of 150, summed unblocked
    blocks = conv._redo_blocks(25, 24, 24 * 256, 4)
    assert blocks[0].start == 0 and blocks[-1].stop == 24 and len(blocks) % conv.PARTS == 0
    assert all(a.stop == b.start for a, b in zip(blocks, blocks[1:]))
    assert all(block.start * 24 * 256 % conv.gemm_blocks.COLUMN_BLOCK == 0 for block in blocks)
