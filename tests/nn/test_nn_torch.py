"""nn against PyTorch: losses (all reductions, label smoothing), gains, layer outputs and reprs."""

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.nn import init

torch = pytest.importorskip("torch", reason="the oracle tests need PyTorch (the 'oracle' extra)")

pytestmark = pytest.mark.oracle


@pytest.mark.parametrize("smoothing", [0.0, 0.05, 0.3])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_matches_torch(reduction, smoothing):
    rng = np.random.default_rng(0)
    z, y = rng.normal(0, 4, (16, 10)), rng.integers(0, 10, 16)
    upstream = rng.normal(size=16) if reduction == "none" else np.array(1.0)
    ours = tg.Tensor(z, requires_grad=True)
    loss = nn.CrossEntropyLoss(reduction=reduction, label_smoothing=smoothing)(ours, tg.Tensor(y))
    loss.backward(upstream)
    theirs = torch.tensor(z, requires_grad=True)
    expected = torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=smoothing)(theirs, torch.tensor(y))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(loss.numpy(), expected.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-6, atol=1e-12)


def test_cross_entropy_matches_torch_in_float32_for_huge_logits():
    z = np.array([[1e4, -1e4, 3.0], [0.5, 1e4, 1e4 - 1]], dtype=np.float32)
    y = np.array([1, 2])
    ours = tg.Tensor(z, requires_grad=True)
    loss = F.cross_entropy(ours, y, label_smoothing=0.1)
    loss.backward()
    theirs = torch.tensor(z, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(theirs, torch.tensor(y), label_smoothing=0.1)
    expected.backward()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-6)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), atol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_and_mse_match_torch(reduction):
    rng = np.random.default_rng(1)
    logp, y = rng.normal(size=(8, 4)), rng.integers(0, 4, 8)
    target = rng.normal(size=(8, 4))
    np.testing.assert_allclose(
        F.nll_loss(tg.Tensor(logp), y, reduction=reduction).numpy(),
        torch.nn.functional.nll_loss(torch.tensor(logp), torch.tensor(y), reduction=reduction).numpy(), rtol=1e-12)
    np.testing.assert_allclose(
        F.mse_loss(tg.Tensor(logp), tg.Tensor(target), reduction=reduction).numpy(),
        torch.nn.functional.mse_loss(torch.tensor(logp), torch.tensor(target), reduction=reduction).numpy(),
        rtol=1e-12)


@pytest.mark.parametrize("name, param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                                         ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                                         ("selu", None)])
def test_calculate_gain_matches_torch(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param), rel=1e-12)


def test_layer_outputs_match_torch_with_the_same_weights():
    tg.manual_seed(0)
    ours = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1, dilation=1, groups=1), nn.Tanh(),
                         nn.AvgPool2d(2), nn.Conv2d(4, 4, 3, padding="same", groups=2, bias=False), nn.Sigmoid(),
                         nn.MaxPool2d(2, stride=1), nn.Flatten(), nn.Linear(16, 5)).double()
    theirs = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, stride=2, padding=1), torch.nn.Tanh(),
                                 torch.nn.AvgPool2d(2), torch.nn.Conv2d(4, 4, 3, padding="same", groups=2, bias=False),
                                 torch.nn.Sigmoid(), torch.nn.MaxPool2d(2, stride=1), torch.nn.Flatten(),
                                 torch.nn.Linear(16, 5)).double()
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(2).normal(size=(2, 3, 12, 12))
    np.testing.assert_allclose(ours(tg.Tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-6,
                               atol=1e-12)
    assert repr(ours) == repr(theirs)
