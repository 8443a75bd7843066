"""Models against PyTorch: the same state_dict in an equivalent torch model gives equal logits and gradients."""

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.models import LeNet, LeNet5, SimpleCNN
from tinygrad_cnn.data import load_mnist

torch = pytest.importorskip("torch", reason="the oracle tests need PyTorch (the 'oracle' extra)")
tnn = torch.nn

pytestmark = pytest.mark.oracle


class TorchSimpleCNN(tnn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = tnn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = tnn.Conv2d(8, 16, 3, padding=1)
        self.fc1 = tnn.Linear(784, 128)
        self.fc2 = tnn.Linear(128, 10)

    def forward(self, x):
        x = tnn.functional.max_pool2d(tnn.functional.relu(self.conv1(x)), 2)
        x = tnn.functional.max_pool2d(tnn.functional.relu(self.conv2(x)), 2)
        return self.fc2(tnn.functional.relu(self.fc1(x.flatten(1))))


class TorchLeNet(tnn.Module):
    def __init__(self, original=False):
        super().__init__()
        self.original = original
        self.conv1 = tnn.Conv2d(1, 6, 5, padding=2 if original else 0)
        self.conv2 = tnn.Conv2d(6, 16, 5)
        self.fc1 = tnn.Linear(400 if original else 256, 120)
        self.fc2 = tnn.Linear(120, 84)
        self.fc3 = tnn.Linear(84, 10)

    def forward(self, x):
        act = torch.tanh if self.original else tnn.functional.relu
        pool = tnn.functional.avg_pool2d if self.original else tnn.functional.max_pool2d
        x = pool(act(self.conv1(x)), 2)
        x = pool(act(self.conv2(x)), 2)
        x = act(self.fc1(x.flatten(1)))
        return self.fc3(act(self.fc2(x)))


@pytest.fixture(scope="module")
def images():
    _, _, x, y = load_mnist()
    return x[:16], y[:16]


@pytest.mark.parametrize("ours_cls, theirs_factory", [
    (SimpleCNN, TorchSimpleCNN),
    (LeNet, TorchLeNet),
    (LeNet5, lambda: TorchLeNet(original=True)),
])
def test_same_weights_give_torch_logits_and_gradients(ours_cls, theirs_factory, images):
    x, y = images
    tg.manual_seed(0)
    ours = ours_cls()
    theirs = theirs_factory()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})

    xt = tg.Tensor(x, requires_grad=True)
    logits = ours(xt)
    F.cross_entropy(logits, tg.Tensor(y)).backward()
    x_torch = torch.from_numpy(x).requires_grad_()
    t_logits = theirs(x_torch)
    tnn.functional.cross_entropy(t_logits, torch.from_numpy(y)).backward()

    assert logits.dtype == np.float32
    np.testing.assert_allclose(logits.numpy(), t_logits.detach().numpy(), rtol=1e-5, atol=1e-5)
    # Gradients are float32 sums of up to thousands of products whose rounding depends on the
    # summation order, and BLAS picks kernels by memory alignment, so the order (and the last
    # bits) can change from one process to the next: conv2.weight once differed from torch by
    # 1.04e-5 of its largest entry. Elements are held to 1e-5 relative, or 5e-5 of the scale.
    np.testing.assert_allclose(xt.grad, x_torch.grad.numpy(), rtol=1e-5,
                               atol=5e-5 * np.abs(x_torch.grad.numpy()).max())
    for name, p in ours.named_parameters():
        expected = dict(theirs.named_parameters())[name].grad.numpy()
        assert p.grad.numpy().dtype == np.float32
        np.testing.assert_allclose(p.grad, expected, rtol=1e-5, atol=5e-5 * np.abs(expected).max(),
                                   err_msg=name)


def test_torch_weights_load_into_our_model():
    torch.manual_seed(0)
    theirs = TorchLeNet()
    ours = LeNet()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32)
    np.testing.assert_allclose(ours(tg.Tensor(x)).numpy(), theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
