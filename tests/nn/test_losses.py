"""Losses: fused cross-entropy values, gradients, stability and dtype; NLL and MSE; label errors."""

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.testing import gradcheck


def _reference_cross_entropy(z, y, smoothing=0.0):
    """Per-sample losses in float64 from the definition -sum_c q_c log softmax(z)_c."""
    z = z.astype(np.float64)
    logp = z - z.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    q = np.full(z.shape, smoothing / z.shape[1])
    q[np.arange(len(y)), y] += 1 - smoothing
    return -(q * logp).sum(1), q


def _batch(seed=0, n=6, c=5, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 3, (n, c)).astype(dtype), rng.integers(0, c, n)


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_value_and_gradient_match_the_definition(reduction, smoothing):
    z, y = _batch()
    logits = tg.Tensor(z, requires_grad=True)
    loss = F.cross_entropy(logits, tg.Tensor(y), reduction=reduction, label_smoothing=smoothing)
    per_sample, q = _reference_cross_entropy(z, y, smoothing)
    expected = {"mean": per_sample.mean(), "sum": per_sample.sum(), "none": per_sample}[reduction]
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-12)
    upstream = np.arange(1.0, 7.0) if reduction == "none" else np.array(1.0)
    loss.backward(upstream)
    softmax = np.exp(z - z.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    scale = {"mean": 1 / len(y), "sum": 1.0, "none": upstream.reshape(-1, 1)}[reduction]
    np.testing.assert_allclose(logits.grad, (softmax - q) * scale, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_and_nll_pass_gradcheck(reduction):
    z, y = _batch(seed=1)
    x = tg.Tensor(z, requires_grad=True)
    target = tg.Tensor(y)
    assert gradcheck(lambda t: F.cross_entropy(t, target, reduction=reduction, label_smoothing=0.2), [x])
    assert gradcheck(lambda t: F.nll_loss(t.log_softmax(1), target, reduction=reduction), [x])


def test_cross_entropy_is_one_graph_node():
    z, y = _batch()
    logits = tg.Tensor(z, requires_grad=True)
    target = tg.Tensor(y)
    loss = F.cross_entropy(logits, target)
    assert loss.grad_fn.op == "cross_entropy"
    assert loss.grad_fn.inputs == (logits, target)
    assert loss.grad_fn.params == {"reduction": "mean", "label_smoothing": 0.0, "weight": None, "ignore_index": -100}


def test_cross_entropy_equals_nll_of_log_softmax():
    z, y = _batch(seed=2)
    a = F.cross_entropy(tg.Tensor(z), tg.Tensor(y), reduction="none")
    b = F.nll_loss(F.log_softmax(tg.Tensor(z), 1), tg.Tensor(y), reduction="none")
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def test_cross_entropy_is_stable_and_exact_for_huge_logits():
    logits = tg.Tensor([[1e4, 0.0, -1e4], [-1e4, 1e4, 1e4]], requires_grad=True)
    loss = F.cross_entropy(logits, tg.Tensor(np.array([0, 0])), reduction="none")
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.numpy(), [0.0, 2e4 + np.log(2)], rtol=1e-6)
    loss.sum().backward()
    assert np.isfinite(logits.grad).all()
    np.testing.assert_allclose(logits.grad, [[0, 0, 0], [-1, 0.5, 0.5]], atol=1e-6)


def test_cross_entropy_keeps_float32():
    z, y = _batch(dtype=np.float32)
    logits = tg.Tensor(z, requires_grad=True)
    loss = F.cross_entropy(logits, tg.Tensor(y), label_smoothing=0.1)
    loss.backward()
    assert loss.dtype == np.float32 and logits.grad.numpy().dtype == np.float32


def test_target_may_be_an_array_or_a_list():
    z, y = _batch()
    expected = F.cross_entropy(tg.Tensor(z), tg.Tensor(y)).item()
    assert F.cross_entropy(tg.Tensor(z), y).item() == expected
    assert F.cross_entropy(tg.Tensor(z), y.tolist()).item() == expected


@pytest.mark.parametrize("loss_fn", [F.cross_entropy, F.nll_loss])
def test_bad_labels_raise_clear_errors(loss_fn):
    logits = tg.randn(4, 10)
    with pytest.raises(ValueError, match=r"in \[0, 9\] for 10 classes, got 12 at index 2"):
        loss_fn(logits, np.array([1, 2, 12, 3]))
    with pytest.raises(ValueError, match=r"got -1 at index 0"):
        loss_fn(logits, np.array([-1, 2, 1, 3]))
    with pytest.raises(TypeError, match="integer class indices"):
        loss_fn(logits, np.array([1.0, 2.0, 3.0, 4.0]))
    with pytest.raises(ValueError, match=r"target shape \(3,\) does not match input shape \(4, 10\)"):
        loss_fn(logits, np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="must be 2-D"):
        loss_fn(tg.randn(10), np.array([1]))
    with pytest.raises(ValueError, match="reduction"):
        loss_fn(logits, np.array([1, 2, 3, 4]), reduction="avg")
    with pytest.raises(TypeError, match="input must be a Tensor"):
        loss_fn(logits.numpy(), np.array([1, 2, 3, 4]))


def test_label_smoothing_out_of_range_raises():
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(tg.randn(2, 3), np.array([0, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=-0.1)
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


def test_nll_loss_values():
    logp = tg.Tensor(np.log(np.array([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]])), requires_grad=True)
    loss = F.nll_loss(logp, np.array([1, 0, 0]), reduction="sum")
    np.testing.assert_allclose(loss.numpy(), -np.log(0.8 * 0.5 * 0.9))
    loss.backward()
    np.testing.assert_array_equal(logp.grad, [[0, -1], [-1, 0], [-1, 0]])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss(reduction):
    rng = np.random.default_rng(4)
    a = tg.Tensor(rng.normal(size=(3, 4)), requires_grad=True)
    b = tg.Tensor(rng.normal(size=(3, 4)), requires_grad=True)
    out = nn.MSELoss(reduction=reduction)(a, b)
    sq = (a.numpy() - b.numpy()) ** 2
    np.testing.assert_allclose(out.numpy(), {"mean": sq.mean(), "sum": sq.sum(), "none": sq}[reduction])
    assert gradcheck(lambda x, y: F.mse_loss(x, y, reduction=reduction), [a, b])
    with pytest.raises(ValueError, match="must be equal"):
        F.mse_loss(a, tg.ones(4, 3, dtype=np.float64))


def test_loss_modules_call_their_functions():
    z, y = _batch()
    np.testing.assert_array_equal(
        nn.CrossEntropyLoss(reduction="sum", label_smoothing=0.3)(tg.Tensor(z), y).numpy(),
        F.cross_entropy(tg.Tensor(z), y, reduction="sum", label_smoothing=0.3).numpy())
    np.testing.assert_array_equal(nn.NLLLoss()(tg.Tensor(z), y).numpy(), F.nll_loss(tg.Tensor(z), y).numpy())
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
