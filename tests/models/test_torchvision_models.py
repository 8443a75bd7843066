"""torchvision's resnet18 and vgg11 and our ResNet20 against the same definitions written in
plain torch.nn (torchvision is not installed): equal state_dict keys and shapes, torch's
state_dict loads, and the logits (train and eval mode) and input gradients agree in float64."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.models import MODELS, ResNet20, get_model, resnet18, vgg11
from tinygrad_cnn.models.resnet import BasicBlock, ResNet, resnet50
from tinygrad_cnn.nn import init

torch = pytest.importorskip("torch", reason="the oracle tests need PyTorch (the 'oracle' extra)")
tnn = torch.nn

pytestmark = pytest.mark.oracle

# the torch side of ResNet20 (and torchvision's BasicBlock and stages) is the benchmarks' own
_spec = importlib.util.spec_from_file_location(
    "torch_models", Path(__file__).resolve().parents[2] / "benchmarks" / "torch_models.py")
torch_models = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(torch_models)
torch_stage, TorchResNet20 = torch_models.stage, torch_models.ResNet20


class TorchResNet18(tnn.Module):
    """torchvision.models.resnet18's module tree."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        self.relu = tnn.ReLU(inplace=True)
        self.maxpool = tnn.MaxPool2d(3, 2, 1)
        self.layer1 = torch_stage(64, 64, 2, 1)
        self.layer2 = torch_stage(64, 128, 2, 2)
        self.layer3 = torch_stage(128, 256, 2, 2)
        self.layer4 = torch_stage(256, 512, 2, 2)
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(512, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def torch_vgg11(num_classes=1000):
    """torchvision.models.vgg11's module tree (configuration "A", no BatchNorm)."""
    layers, channels = [], 3
    for v in [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]:
        if v == "M":
            layers.append(tnn.MaxPool2d(2, 2))
        else:
            layers += [tnn.Conv2d(channels, v, 3, padding=1), tnn.ReLU(inplace=True)]
            channels = v

    class VGG(tnn.Module):
        def __init__(self):
            super().__init__()
            self.features = tnn.Sequential(*layers)
            self.avgpool = tnn.AdaptiveAvgPool2d((7, 7))
            self.classifier = tnn.Sequential(
                tnn.Linear(512 * 7 * 7, 4096), tnn.ReLU(True), tnn.Dropout(0.5),
                tnn.Linear(4096, 4096), tnn.ReLU(True), tnn.Dropout(0.5), tnn.Linear(4096, num_classes))

        def forward(self, x):
            return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))

    return VGG()


def _shapes(state):
    return [(key, tuple(value.shape)) for key, value in state.items()]


def _load_and_compare(ours, theirs, shape, train_steps=0, rtol=1e-9):
    """Load torch's float64 state into ours; equal logits (after ``train_steps`` training-mode
    passes, which move BatchNorm's running statistics the same way), buffers and input grads."""
    theirs = theirs.double()
    with torch.no_grad():  # non-trivial BatchNorm statistics and affine parameters
        for name, value in theirs.state_dict().items():
            if value.is_floating_point() and ("bn" in name or "downsample.1" in name):
                value.copy_(torch.rand(value.shape, dtype=torch.float64) + 0.5)
    assert repr(ours.double().load_state_dict(theirs.state_dict())) == "<All keys matched successfully>"
    rng = np.random.default_rng(0)
    for _ in range(train_steps):
        x = rng.normal(size=shape)
        ours.train()(tg.tensor(x, dtype=np.float64))
        theirs.train()(torch.from_numpy(x))
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), rtol=rtol, atol=1e-12, err_msg=key)
    x = rng.normal(size=shape)
    mine, ref = tg.tensor(x, dtype=np.float64, requires_grad=True), torch.from_numpy(x).requires_grad_()
    logits, expected = ours.eval()(mine), theirs.eval()(ref)
    np.testing.assert_allclose(logits.numpy(), expected.detach().numpy(), rtol=rtol, atol=1e-10)
    logits.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=1e-7, atol=1e-10)


def test_resnet18_matches_torchvision_keys_shapes_and_logits():
    ours, theirs = resnet18(num_classes=7), TorchResNet18(num_classes=7)
    assert _shapes(ours.state_dict()) == _shapes(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert ours.get_params_count() == sum(p.numel() for p in theirs.parameters())
    assert resnet18().get_params_count() == 11_689_512  # torchvision's documented count
    _load_and_compare(ours, theirs, (2, 3, 32, 32))


def test_resnet20_for_mnist_matches_torch_and_is_registered():
    assert MODELS["resnet"] is ResNet20 and isinstance(get_model("resnet", num_classes=4), ResNet20)
    ours, theirs = ResNet20(), TorchResNet20()
    assert _shapes(ours.state_dict()) == _shapes(theirs.state_dict())
    assert ours.get_params_count() == sum(p.numel() for p in theirs.parameters())
    _load_and_compare(ours, theirs, (2, 1, 12, 12), train_steps=2)


def _fill(tensor):
    """He-scaled uniform float32 values, drawn in place (one pass over vgg11's 133M parameters)."""
    array = tensor.numpy()
    np.random.default_rng(array.size).random(dtype=array.dtype, out=array)
    array -= 0.5
    array *= np.sqrt(24.0 / array[0].size) if array.ndim > 1 else 0.2
    return tensor


def test_vgg11_matches_torchvision_keys_shapes_and_logits(monkeypatch):
    for name in ["uniform_", "normal_", "constant_"]:  # torch's weights are loaded below: skip initialising
        monkeypatch.setattr(init, name, lambda tensor, *args, **kwargs: tensor)
    ours = vgg11(num_classes=5)
    for param in ours.parameters():
        _fill(param)
    with torch.device("meta"):
        theirs = torch_vgg11(num_classes=5)
    assert _shapes(ours.state_dict()) == _shapes(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    assert ours.get_params_count() == 132_863_336 - 4096 * 995 - 995  # torchvision's count for 1000 classes
    theirs = theirs.to_empty(device="cpu")
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    ours.eval(), theirs.eval()
    x = np.random.default_rng(1).normal(size=(1, 3, 32, 32)).astype(np.float32)
    np.testing.assert_allclose(ours(tg.tensor(x)).numpy(), theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-4, atol=1e-6)


def test_resnet_inits_and_pretrained_weights_refused():
    model = resnet18()
    conv = model.layer1[0].conv1.weight.numpy()
    assert conv.std() == pytest.approx(np.sqrt(2 / (64 * 9)), rel=0.05)  # kaiming_normal_, fan_out, relu
    assert np.all(model.bn1.weight.numpy() == 1) and not model.bn1.bias.numpy().any()
    zero = ResNet(BasicBlock, [1, 1, 1, 1], zero_init_residual=True)
    assert not zero.layer2[0].bn2.weight.numpy().any() and zero.layer2[0].bn1.weight.numpy().all()
    assert resnet50().get_params_count() == 25_557_032  # torchvision's documented count (Bottleneck blocks)
    with pytest.raises(ValueError, match="weights=None"):
        resnet18(weights="IMAGENET1K_V1")
