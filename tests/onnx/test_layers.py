"""Every nn layer exports: traced at batch 2, run in onnxruntime at batch 3, equal to our forward.

Layers another branch is still adding are looked up by name and skip (saying so) until they
exist in tinygrad_cnn.nn.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

pytest.importorskip("onnx", reason="the onnx extra is not installed (pip install -e '.[onnx]')")
ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed (pip install -e '.[onnx]')")

import tinygrad_cnn.nn as nn  # noqa: E402
from tinygrad_cnn import Tensor, manual_seed, no_grad  # noqa: E402
from tinygrad_cnn.onnx import export  # noqa: E402


def check(model: nn.Module, shape: tuple[int, ...], atol: float = 1e-5, opset: int | None = None) -> None:
    """Export ``model`` traced on a (2, *shape) batch; onnxruntime on a (3, *shape) batch must match."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((3,) + shape) * 2).astype(np.float32)
    proto = export(model, Tensor(x[:2]), opset_version=opset)
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x})[0]
    with no_grad():
        expected = model.eval()(Tensor(x)).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=atol)


def layer(name: str) -> Callable[..., nn.Module]:
    cls = getattr(nn, name, None)
    if cls is None:
        pytest.skip(f"nn.{name} does not exist yet (being added on another branch); its converter waits for it")
    return cls


def warmed(module: nn.Module, shape: tuple[int, ...]) -> nn.Module:
    """``module`` after a few training-mode batches, so running statistics are not the initial ones."""
    rng = np.random.default_rng(1)
    module.train()
    with no_grad():
        for _ in range(3):
            module(Tensor((rng.standard_normal((4,) + shape) * 3 + 1).astype(np.float32)))
    return module.eval()


CASES: list[tuple[str, Callable[[], Any], tuple[int, ...]]] = [
    ("Conv2d", lambda: nn.Conv2d(4, 6, 3, stride=2, padding=1, dilation=1, groups=2), (4, 9, 8)),
    ("Conv2d", lambda: nn.Conv2d(3, 4, (3, 2), padding="same", dilation=(2, 1), bias=False), (3, 7, 6)),
    ("Conv2d", lambda: nn.Conv2d(3, 3, 2, padding="valid", groups=3), (3, 5, 5)),
    ("MaxPool2d", lambda: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 8, 7)),
    ("MaxPool2d", lambda: nn.MaxPool2d(2, dilation=2), (2, 7, 7)),
    ("AvgPool2d", lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 8, 7)),
    ("AvgPool2d", lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), (2, 8, 7)),
    ("AvgPool2d", lambda: nn.AvgPool2d(2), (2, 6, 6)),
    ("AvgPool2d", lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, divisor_override=5), (2, 8, 7)),
    ("Linear", lambda: nn.Linear(5, 3), (5,)),
    ("Linear", lambda: nn.Linear(5, 3, bias=False), (4, 5)),
    ("Flatten", lambda: nn.Flatten(), (2, 3, 4)),
    ("Flatten", lambda: nn.Flatten(2, 3), (2, 3, 4)),
    ("Flatten", lambda: nn.Flatten(0, -1), (2, 3)),
    ("ReLU", lambda: nn.ReLU(), (4,)),
    ("Sigmoid", lambda: nn.Sigmoid(), (4,)),
    ("Tanh", lambda: nn.Tanh(), (4,)),
    ("Dropout", lambda: nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)), (4,)),
    ("Identity", lambda: nn.Sequential(nn.Identity(), nn.ReLU()), (4,)),
    ("Sequential", lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(18, 3)), (1, 5, 5)),
    ("BatchNorm2d", lambda: warmed(layer("BatchNorm2d")(3), (3, 4, 4)), (3, 4, 4)),
    ("BatchNorm2d", lambda: layer("BatchNorm2d")(3, affine=False, track_running_stats=False), (3, 4, 4)),
    ("BatchNorm1d", lambda: warmed(layer("BatchNorm1d")(5), (5,)), (5,)),
    ("BatchNorm1d", lambda: warmed(layer("BatchNorm1d")(3), (3, 6)), (3, 6)),
    ("LayerNorm", lambda: layer("LayerNorm")((3, 4)), (2, 3, 4)),
    ("LayerNorm", lambda: layer("LayerNorm")(4, elementwise_affine=False), (3, 4)),
    ("GroupNorm", lambda: layer("GroupNorm")(2, 4), (4, 3, 3)),
    ("AdaptiveAvgPool2d", lambda: layer("AdaptiveAvgPool2d")(1), (3, 5, 6)),
    ("AdaptiveAvgPool2d", lambda: layer("AdaptiveAvgPool2d")((3, 2)), (2, 6, 4)),
    ("AdaptiveAvgPool2d", lambda: layer("AdaptiveAvgPool2d")((3, None)), (2, 7, 5)),
    ("AdaptiveMaxPool2d", lambda: layer("AdaptiveMaxPool2d")((2, 3)), (2, 5, 7)),
    ("AdaptiveMaxPool2d", lambda: layer("AdaptiveMaxPool2d")(1), (2, 5, 7)),
    ("LeakyReLU", lambda: layer("LeakyReLU")(0.1), (6,)),
    ("ELU", lambda: layer("ELU")(0.7), (6,)),
    ("GELU", lambda: layer("GELU")(), (6,)),
    ("GELU", lambda: layer("GELU")(approximate="tanh"), (6,)),
    ("SiLU", lambda: layer("SiLU")(), (6,)),
    ("Hardtanh", lambda: layer("Hardtanh")(-0.5, 2.0), (6,)),
    ("ReLU6", lambda: layer("ReLU6")(), (6,)),
    ("Softplus", lambda: layer("Softplus")(beta=2.0, threshold=3.0), (6,)),
    ("Softmax", lambda: layer("Softmax")(dim=1), (6,)),
    ("LogSoftmax", lambda: layer("LogSoftmax")(dim=-1), (2, 6)),
    ("Dropout2d", lambda: nn.Sequential(layer("Dropout2d")(0.3), nn.ReLU()), (2, 3, 3)),
    ("Unflatten", lambda: layer("Unflatten")(1, (2, 3)), (6,)),
    ("ConvTranspose2d", lambda: layer("ConvTranspose2d")(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
     (4, 5, 4)),
]


@pytest.mark.parametrize("name, make, shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_exports(name, make, shape):
    manual_seed(0)
    check(make(), shape)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_below_opset_20_is_written_out(approximate):
    check(layer("GELU")(approximate=approximate), (6,), opset=18)


@given(kernel=st.integers(1, 3), stride=st.integers(1, 3), padding=st.integers(0, 1), dilation=st.integers(1, 2),
       groups=st.sampled_from([1, 2]), ceil_mode=st.booleans(), count_include_pad=st.booleans(),
       size=st.integers(6, 9))
def test_conv_and_pool_options(kernel, stride, padding, dilation, groups, ceil_mode, count_include_pad, size):
    manual_seed(0)
    pool_padding = min(padding, kernel // 2)
    model = nn.Sequential(
        nn.Conv2d(2, 4, kernel, stride=stride, padding=padding, dilation=dilation, groups=groups),
        nn.MaxPool2d(kernel, stride=stride, padding=pool_padding, dilation=dilation, ceil_mode=ceil_mode),
        nn.AvgPool2d(1 + pool_padding, stride=1, padding=pool_padding, ceil_mode=ceil_mode,
                     count_include_pad=count_include_pad),
    )
    try:
        with no_grad():
            model(Tensor(np.zeros((1, 2, size, size), np.float32)))
    except RuntimeError:  # torch's type for a window larger than its input
        assume(False)
    check(model, (2, size, size))


class Functional(nn.Module):
    """A forward calling one nn.functional function (no layer converter applies: its op converts)."""

    def __init__(self, call: Callable[[Tensor], Tensor]) -> None:
        super().__init__()
        self.call = call

    def forward(self, x: Tensor) -> Tensor:
        return self.call(x)


def function(name: str) -> Callable[..., Tensor]:
    import tinygrad_cnn.nn.functional as F

    fn = getattr(F, name, None)
    if fn is None:
        pytest.skip(f"F.{name} does not exist yet (being added on another branch); its op converter waits for it")
    return fn


def _params(*shapes: tuple[int, ...]) -> list[Tensor]:
    rng = np.random.default_rng(5)
    return [Tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True) for s in shapes]


FUNCTIONAL = [
    ("leaky_relu", lambda: lambda x: function("leaky_relu")(x, 0.2), (6,)),
    ("elu", lambda: lambda x: function("elu")(x, 0.5), (6,)),
    ("gelu", lambda: lambda x: function("gelu")(x), (6,)),
    ("gelu-tanh", lambda: lambda x: function("gelu")(x, approximate="tanh"), (6,)),
    ("silu", lambda: lambda x: function("silu")(x), (6,)),
    ("hardtanh", lambda: lambda x: function("hardtanh")(x, -0.5, 1.5), (6,)),
    ("relu6", lambda: lambda x: function("relu6")(x), (6,)),
    ("softplus", lambda: lambda x: function("softplus")(x, beta=2.0, threshold=2.0), (6,)),
    ("adaptive_avg_pool2d", lambda: lambda x: function("adaptive_avg_pool2d")(x, (2, 3)), (2, 5, 7)),
    ("adaptive_max_pool2d", lambda: lambda x: function("adaptive_max_pool2d")(x, 1), (2, 5, 7)),
    ("conv_transpose2d", lambda: (lambda w, bias: lambda x: function("conv_transpose2d")(
        x, w, bias, stride=2, padding=1, output_padding=1))(*_params((3, 4, 3, 3), (4,))), (3, 4, 4)),
    ("batch_norm", lambda: (lambda w, bias, mean, var: lambda x: function("batch_norm")(
        x, mean.detach(), var.detach().abs() + 0.5, w, bias, training=False, eps=1e-3))(
        *_params((3,), (3,), (3,), (3,))), (3, 4, 4)),
    ("layer_norm", lambda: (lambda w, bias: lambda x: function("layer_norm")(x, (3, 4), w, bias))(
        *_params((3, 4), (3, 4))), (2, 3, 4)),
    ("layer_norm-plain", lambda: lambda x: function("layer_norm")(x, 4), (3, 4)),
    ("group_norm", lambda: (lambda w, bias: lambda x: function("group_norm")(x, 2, w, bias))(
        *_params((4,), (4,))), (4, 3, 3)),
]


@pytest.mark.parametrize("name, make, shape", FUNCTIONAL, ids=[c[0] for c in FUNCTIONAL])
def test_functional_ops_export(name, make, shape):
    check(Functional(make()), shape)
