"""The losses against PyTorch in float64: cross_entropy and nll_loss with class weights,
ignore_index, probability targets and (N, C, d) inputs; BCE, BCE with logits (weight,
pos_weight), L1, smooth L1, Huber and KL divergence, every reduction, input and target
gradients (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn
import tinygrad_cnn.nn.functional as F

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")

pytestmark = pytest.mark.oracle

REDUCTIONS = ["mean", "sum", "none"]


def _compare(ours_fn, theirs_fn, arrays, grads=None, rtol=1e-6):
    """Values and the gradients of the arrays flagged in ``grads`` (default: the floating ones)."""
    grads = [np.issubdtype(a.dtype, np.floating) for a in arrays] if grads is None else grads
    ours = [tg.Tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    theirs = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    out, expected = ours_fn(*ours), theirs_fn(*theirs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=rtol, atol=1e-10)
    upstream = np.random.default_rng(0).normal(size=out.shape)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if a.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=1e-10,
                                       err_msg=f"gradient of input {i}")


@settings(max_examples=20)
@given(n=st.integers(1, 6), classes=st.integers(2, 5), weighted=st.booleans(), ignore=st.booleans(),
       smoothing=st.sampled_from([0.0, 0.2]), reduction=st.sampled_from(REDUCTIONS), extra=st.booleans(),
       seed=st.integers(0, 2**16))
def test_cross_entropy_and_nll_with_weights_and_ignore_index_match_torch(n, classes, weighted, ignore, smoothing,
                                                                         reduction, extra, seed):
    rng = np.random.default_rng(seed)
    shape = (n, classes, 3) if extra else (n, classes)
    z = rng.normal(0, 3, shape)
    y = rng.integers(0, classes, (n, 3) if extra else n)
    ignore_index = -100
    if ignore:
        ignore_index = int(rng.integers(0, classes))
        y.flat[0] = ignore_index  # at least one ignored label
    if ignore and (y == ignore_index).all() and reduction == "mean":
        y.flat[-1] = (ignore_index + 1) % classes
    w = rng.uniform(0.2, 2, classes) if weighted else None

    def ours(logits, target):
        weight = None if w is None else tg.Tensor(w)
        return F.cross_entropy(logits, target, weight, ignore_index=ignore_index, reduction=reduction,
                               label_smoothing=smoothing)

    def theirs(logits, target):
        weight = None if w is None else torch.tensor(w)
        return torch.nn.functional.cross_entropy(logits, target, weight, ignore_index=ignore_index,
                                                 reduction=reduction, label_smoothing=smoothing)

    _compare(ours, theirs, [z, y])
    module = nn.NLLLoss(None if w is None else tg.Tensor(w), ignore_index=ignore_index, reduction=reduction)
    reference = torch.nn.NLLLoss(None if w is None else torch.tensor(w), ignore_index=ignore_index,
                                 reduction=reduction)
    _compare(module, reference, [z, y])
    assert list(module.state_dict()) == list(reference.state_dict())


@settings(max_examples=10)
@given(n=st.integers(1, 5), classes=st.integers(2, 4), weighted=st.booleans(), smoothing=st.sampled_from([0.0, 0.3]),
       reduction=st.sampled_from(REDUCTIONS), seed=st.integers(0, 2**16))
def test_cross_entropy_with_probability_targets_matches_torch(n, classes, weighted, smoothing, reduction, seed):
    rng = np.random.default_rng(seed)
    z, t = rng.normal(0, 2, (n, classes)), rng.dirichlet(np.ones(classes), n)
    w = rng.uniform(0.2, 2, classes) if weighted else None
    ours = nn.CrossEntropyLoss(None if w is None else tg.Tensor(w), reduction=reduction, label_smoothing=smoothing)
    theirs = torch.nn.CrossEntropyLoss(None if w is None else torch.tensor(w), reduction=reduction,
                                       label_smoothing=smoothing)
    _compare(ours, theirs, [z, t])


def test_cross_entropy_fast_path_keeps_one_node_without_weights():
    z, y = np.random.default_rng(0).normal(size=(4, 3)), np.array([0, 2, 1, 1])
    loss = F.cross_entropy(tg.Tensor(z, requires_grad=True), tg.Tensor(y))
    assert loss.grad_fn.op == "cross_entropy" and loss.grad_fn.params["weight"] is None


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_elementwise_losses_match_torch(reduction):
    rng = np.random.default_rng(1)
    x, t = rng.normal(0, 2, (4, 3)), rng.normal(0, 2, (4, 3))
    p, q = rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(0, 1, (4, 3))
    w, pos = rng.uniform(0.5, 2, (4, 3)), rng.uniform(0.5, 3, 3)
    TF = torch.nn.functional
    _compare(nn.L1Loss(reduction=reduction), torch.nn.L1Loss(reduction=reduction), [x, t])
    _compare(nn.MSELoss(reduction=reduction), torch.nn.MSELoss(reduction=reduction), [x, t])
    for beta in (0.0, 0.5, 2.0):
        _compare(nn.SmoothL1Loss(reduction=reduction, beta=beta), torch.nn.SmoothL1Loss(reduction=reduction, beta=beta),
                 [x, t])
    for delta in (0.5, 2.0):
        _compare(nn.HuberLoss(reduction, delta), torch.nn.HuberLoss(reduction, delta), [x, t])
    _compare(nn.BCELoss(tg.Tensor(w), reduction=reduction), torch.nn.BCELoss(torch.tensor(w), reduction=reduction),
             [p, q], grads=[True, False])
    _compare(nn.BCEWithLogitsLoss(tg.Tensor(w), reduction=reduction, pos_weight=tg.Tensor(pos)),
             torch.nn.BCEWithLogitsLoss(torch.tensor(w), reduction=reduction, pos_weight=torch.tensor(pos)), [x, q])
    _compare(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction),
             lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction=reduction), [x * 30, q])
    logp, target = np.log(rng.dirichlet(np.ones(3), 4)), rng.dirichlet(np.ones(3), 4)
    with_zero = target.copy()
    with_zero[0, 1] = 0.0  # 0 log 0 = 0 (torch's target gradient there is nan, ours 0: not compared)
    for kl_reduction in (reduction, "batchmean"):
        _compare(nn.KLDivLoss(reduction=kl_reduction), torch.nn.KLDivLoss(reduction=kl_reduction), [logp, target])
        _compare(nn.KLDivLoss(reduction=kl_reduction), torch.nn.KLDivLoss(reduction=kl_reduction),
                 [logp, with_zero], grads=[True, False])
        _compare(nn.KLDivLoss(reduction=kl_reduction, log_target=True),
                 torch.nn.KLDivLoss(reduction=kl_reduction, log_target=True), [logp, np.log(target + 0.1)])


def test_loss_reprs_and_state_dict_keys_match_torch():
    w = np.ones(3)
    for ours, theirs in [(nn.BCELoss(), torch.nn.BCELoss()),
                         (nn.BCEWithLogitsLoss(pos_weight=tg.Tensor(w)), torch.nn.BCEWithLogitsLoss(
                             pos_weight=torch.tensor(w))),
                         (nn.CrossEntropyLoss(tg.Tensor(w)), torch.nn.CrossEntropyLoss(torch.tensor(w))),
                         (nn.L1Loss(), torch.nn.L1Loss()), (nn.SmoothL1Loss(), torch.nn.SmoothL1Loss()),
                         (nn.HuberLoss(), torch.nn.HuberLoss()), (nn.KLDivLoss(), torch.nn.KLDivLoss())]:
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())


def test_binary_cross_entropy_clamps_logs_as_torch():
    p, t = np.array([0.0, 1.0, 0.5]), np.array([1.0, 0.0, 1.0])
    ours = F.binary_cross_entropy(tg.Tensor(p), tg.Tensor(t), reduction="none").numpy()
    np.testing.assert_allclose(ours, torch.nn.functional.binary_cross_entropy(
        torch.tensor(p), torch.tensor(t), reduction="none").numpy())
