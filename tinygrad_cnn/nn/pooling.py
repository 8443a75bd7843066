"""Adaptive pooling and unpooling layers as torch.nn: AdaptiveAvgPool2d, AdaptiveMaxPool2d, MaxUnpool2d
(MaxPool2d and AvgPool2d are in layers.py)."""

from __future__ import annotations

from typing import Any

from tinygrad_cnn.argcheck import nonnegative_pair, positive_pair
from tinygrad_cnn.nn import functional_pooling as FP
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.tensor import Tensor


class AdaptiveAvgPool2d(Module):
    """Mean over torch's adaptive bins to ``output_size`` (an int, or a pair with None keeping
    that input side): (N, C, H, W) -> (N, C, OH, OW); ``AdaptiveAvgPool2d(1)`` is global average pooling."""

    def __init__(self, output_size: FP.OutputSize) -> None:
        super().__init__()
        FP.adaptive_output_size(type(self).__name__, (1, 1, 1, 1), output_size)  # the form, checked now
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return FP.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(AdaptiveAvgPool2d):
    """Maximum over torch's adaptive bins to ``output_size``; with ``return_indices`` the layer
    also returns the flat positions of the maxima (for MaxUnpool2d)."""

    def __init__(self, output_size: FP.OutputSize, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:
        return FP.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class MaxUnpool2d(Module):
    """The inverse of MaxPool2d(return_indices=True): values back at their indices, zeros elsewhere."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size = positive_pair(kernel_size, "kernel_size", "MaxUnpool2d")
        self.stride = self.kernel_size if stride is None else positive_pair(stride, "stride", "MaxUnpool2d")
        self.padding = nonnegative_pair(padding, "padding", "MaxUnpool2d")

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        return FP.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
