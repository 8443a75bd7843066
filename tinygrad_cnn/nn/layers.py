"""Layers as torch.nn: Conv2d, MaxPool2d, AvgPool2d, Linear, Bilinear, Identity.

Weights are initialised as PyTorch's defaults (kaiming_uniform_ with a=sqrt(5), bias
uniform in +-1/sqrt(fan_in)), drawn from the package generator (``manual_seed``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.nn.functional_conv import bilinear, conv2d_checked
from tinygrad_cnn.nn import init
from tinygrad_cnn.nn.factory import cast_to, factory_dtype
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.nn.parameter import Parameter
from tinygrad_cnn.argcheck import IntPair, Padding, padding_arg, positive_int, positive_pair
from tinygrad_cnn.ops.conv_geometry import side_padding
from tinygrad_cnn.tensor import Tensor


def _add_weight_and_bias(module: Module, weight_shape: tuple[int, ...], bias: bool, dtype: np.dtype | None) -> None:
    """Give ``module`` ``weight`` (weight_shape) and ``bias`` (weight_shape[0],) or None, initialised
    by its reset_parameters (PyTorch's Linear/Conv: see reset_weight_and_bias), in ``dtype``
    (None: float32)."""
    module.weight = Parameter(np.empty(weight_shape, dtype=np.float32))
    if bias:
        module.bias = Parameter(np.empty(weight_shape[0], dtype=np.float32))
    else:
        module.register_parameter("bias", None)
    module.reset_parameters()
    cast_to(module, dtype)


def reset_weight_and_bias(module: Module) -> None:
    """PyTorch's Linear/Conv initialisation of ``module.weight`` and ``module.bias`` (or None), in
    place: kaiming_uniform_(a=sqrt(5)), bias ~ U(+-1/sqrt(fan_in))."""
    init.kaiming_uniform_(module.weight, a=math.sqrt(5))
    if module.bias is not None:
        fan_in, _ = init.calculate_fan_in_and_fan_out(module.weight)
        init.uniform_(module.bias, -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in))


PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class Conv2d(Module):
    """2-D convolution over NCHW input: (N, in_channels, H, W) -> (N, out_channels, OH, OW).

    weight (out_channels, in_channels/groups, KH, KW), bias (out_channels,). Arguments as
    torch.nn.Conv2d; ``padding`` is an int, a pair, "valid" or "same"; ``padding_mode`` is
    "zeros" (the default), "reflect", "replicate" or "circular" (the input padded with F.pad
    first, as torch).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair, stride: IntPair = 1,
                 padding: Padding = 0, dilation: IntPair = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        dtype = factory_dtype(device, dtype, "Conv2d")
        super().__init__()
        self.in_channels = positive_int(in_channels, "in_channels", "Conv2d")
        self.out_channels = positive_int(out_channels, "out_channels", "Conv2d")
        self.groups = positive_int(groups, "groups", "Conv2d")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"Conv2d: groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}"
            )
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"Conv2d: padding_mode must be one of {PADDING_MODES}, but got "
                             f"padding_mode={padding_mode!r}")
        self.kernel_size = positive_pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = positive_pair(stride, "stride", "Conv2d")
        self.dilation = positive_pair(dilation, "dilation", "Conv2d")
        self.padding: Padding = padding_arg(padding, self.stride, "Conv2d")
        self.padding_mode = padding_mode
        _add_weight_and_bias(self, (out_channels, in_channels // groups) + self.kernel_size, bias, dtype)

    def reset_parameters(self) -> None:
        """torch's initialisation: weight kaiming_uniform_(a=sqrt(5)), bias ~ U(+-1/sqrt(fan_in))."""
        reset_weight_and_bias(self)

    def forward(self, input: Tensor) -> Tensor:
        if self.padding_mode == "zeros":
            return conv2d_checked(input, self.weight, self.bias, stride=self.stride, padding=self.padding,
                                    dilation=self.dilation, groups=self.groups)
        # as torch: the input padded in its mode first, then an unpadded convolution
        top, bottom, left, right = side_padding(self.padding, self.kernel_size, self.stride, self.dilation, "Conv2d")
        return conv2d_checked(F.pad(input, (left, right, top, bottom), self.padding_mode), self.weight, self.bias,
                                stride=self.stride, padding=(0, 0), dilation=self.dilation, groups=self.groups)

    def extra_repr(self) -> str:
        return conv_extra_repr(self)


def conv_extra_repr(module: Module) -> str:
    """torch's _ConvNd.extra_repr: channels, kernel and stride, then the settings that differ
    from their defaults (output_padding for the transposed convolutions)."""
    s = f"{module.in_channels}, {module.out_channels}, kernel_size={module.kernel_size}, stride={module.stride}"
    zeros, ones = (0,) * len(module.kernel_size), (1,) * len(module.kernel_size)
    if module.padding != zeros:
        s += f", padding={module.padding}"
    if module.dilation != ones:
        s += f", dilation={module.dilation}"
    if getattr(module, "output_padding", zeros) != zeros:
        s += f", output_padding={module.output_padding}"
    if module.groups != 1:
        s += f", groups={module.groups}"
    if module.bias is None:
        s += ", bias=False"
    if getattr(module, "padding_mode", "zeros") != "zeros":
        s += f", padding_mode={module.padding_mode}"
    return s


class MaxPool2d(Module):
    """Max over KHxKW windows: (N, C, H, W) -> (N, C, OH, OW); ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0,
                 dilation: IntPair = 1, return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Mean over KHxKW windows: (N, C, H, W) -> (N, C, OH, OW); ``stride`` defaults to ``kernel_size``;
    each window's sum divided by ``divisor_override`` instead when given."""

    def __init__(self, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class Linear(Module):
    """y = x @ weight.T + bias: (*, in_features) -> (*, out_features); weight (out, in), bias (out,)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        dtype = factory_dtype(device, dtype, type(self).__name__)
        super().__init__()
        self.in_features = positive_int(in_features, "in_features", "Linear")
        self.out_features = positive_int(out_features, "out_features", "Linear")
        _add_weight_and_bias(self, (out_features, in_features), bias, dtype)

    def reset_parameters(self) -> None:
        """torch's initialisation: weight kaiming_uniform_(a=sqrt(5)), bias ~ U(+-1/sqrt(in_features))."""
        reset_weight_and_bias(self)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """y = x1^T weight x2 + bias: (*, in1_features) and (*, in2_features) -> (*, out_features);
    weight (out, in1, in2) and bias (out,) start uniform in +-1/sqrt(in1_features), as torch's."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        dtype = factory_dtype(device, dtype, "Bilinear")
        super().__init__()
        self.in1_features = positive_int(in1_features, "in1_features", "Bilinear")
        self.in2_features = positive_int(in2_features, "in2_features", "Bilinear")
        self.out_features = positive_int(out_features, "out_features", "Bilinear")
        self.weight = Parameter(np.empty((out_features, in1_features, in2_features), dtype=np.float32))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=np.float32))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        cast_to(self, dtype)

    def reset_parameters(self) -> None:
        """weight and bias ~ U(-1/sqrt(in1_features), 1/sqrt(in1_features))."""
        bound = 1 / math.sqrt(self.in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class Identity(Module):
    """Returns its input unchanged; constructor arguments are accepted and ignored, as torch's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input
