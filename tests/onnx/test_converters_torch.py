"""Each layer converter against PyTorch's own layer: the converter reads a torch module's
attributes (PyTorch's names), onnxruntime runs the result, torch computes the reference.

This checks the converters whether or not our nn has the layer yet: the module handed to the
exporter is a stand-in of the same class name whose forward asks torch for the output.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the oracle tests need PyTorch (the 'oracle' extra)")
pytest.importorskip("onnx", reason="the onnx extra is not installed (pip install -e '.[onnx]')")
ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed (pip install -e '.[onnx]')")

import tinygrad_cnn.nn as nn  # noqa: E402
from tinygrad_cnn import Tensor  # noqa: E402
from tinygrad_cnn.onnx import export  # noqa: E402
from tinygrad_cnn.onnx.layers import LAYER_CONVERTERS  # noqa: E402

pytestmark = pytest.mark.oracle


def stand_in(reference: "torch.nn.Module") -> nn.Module:
    """A module named like ``reference``'s class, carrying its attributes (tensors as arrays),
    whose forward returns torch's output."""
    reference.eval()

    class StandIn(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            for key, value in vars(reference).items():
                if not key.startswith("_"):
                    object.__setattr__(self, key, value)
            for key, value in list(reference._parameters.items()) + list(reference._buffers.items()):
                object.__setattr__(self, key, None if value is None else value.detach().numpy())

        def forward(self, x: Tensor) -> Tensor:
            with torch.no_grad():
                out = reference(torch.from_numpy(x.numpy().copy())).numpy()
            return Tensor(out) + x.sum() * 0  # an op output, as a real layer's is

    StandIn.__name__ = type(reference).__name__
    StandIn.__module__ = "tinygrad_cnn.nn.stand_in"
    return StandIn()


T = torch.nn
CASES = [
    (lambda: T.BatchNorm2d(3), (3, 4, 4)),
    (lambda: T.BatchNorm2d(3, affine=False, track_running_stats=False), (3, 4, 4)),
    (lambda: T.BatchNorm1d(5), (5,)), (lambda: T.BatchNorm1d(3, eps=1e-3), (3, 6)),
    (lambda: T.LayerNorm((3, 4)), (2, 3, 4)), (lambda: T.LayerNorm(4, elementwise_affine=False), (3, 4)),
    (lambda: T.LayerNorm(4, bias=False), (3, 4)),
    (lambda: T.GroupNorm(2, 4), (4, 3, 3)), (lambda: T.GroupNorm(2, 4, affine=False), (4, 5)),
    (lambda: T.AdaptiveAvgPool2d(1), (3, 5, 6)), (lambda: T.AdaptiveAvgPool2d((3, 2)), (2, 6, 4)),
    (lambda: T.AdaptiveAvgPool2d((3, None)), (2, 7, 5)), (lambda: T.AdaptiveAvgPool2d((4, 3)), (2, 5, 7)),
    (lambda: T.AdaptiveMaxPool2d((2, 3)), (2, 5, 7)), (lambda: T.AdaptiveMaxPool2d(1), (2, 5, 7)),
    (lambda: T.LeakyReLU(0.1), (6,)), (lambda: T.ELU(0.7), (6,)),
    (lambda: T.GELU(), (6,)), (lambda: T.GELU(approximate="tanh"), (6,)), (lambda: T.SiLU(), (6,)),
    (lambda: T.Hardtanh(-0.5, 2.0), (6,)), (lambda: T.ReLU6(), (6,)),
    (lambda: T.Softplus(beta=2.0, threshold=3.0), (6,)), (lambda: T.Softmax(dim=1), (6,)),
    (lambda: T.LogSoftmax(dim=-1), (2, 6)), (lambda: T.Unflatten(1, (2, 3)), (6,)),
    (lambda: T.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2), (4, 5, 4)),
    (lambda: T.ConvTranspose2d(2, 3, (3, 2), stride=(1, 2), padding=(0, 1), dilation=2, bias=False), (2, 5, 4)),
]


@pytest.mark.parametrize("opset", [18, 20])
@pytest.mark.parametrize("make, shape", CASES, ids=[f"{i}" for i in range(len(CASES))])
def test_converter_matches_torch(make, shape, opset):
    torch.manual_seed(0)
    reference = make()
    assert type(reference).__name__ in LAYER_CONVERTERS
    with torch.no_grad():
        for p in reference.parameters():
            p.normal_()
        if getattr(reference, "running_mean", None) is not None:
            reference.running_mean.normal_()
            reference.running_var.uniform_(0.5, 2.0)
    x = (np.random.default_rng(0).standard_normal((3,) + shape) * 2).astype(np.float32)
    proto = export(stand_in(reference), Tensor(x[:2]), opset_version=opset)
    got = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    assert np.abs(expected).max() > 0.1
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
