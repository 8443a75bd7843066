"""The 1-d layers of torch.nn: Conv1d, MaxPool1d, AvgPool1d, AdaptiveAvgPool1d,
AdaptiveMaxPool1d and Dropout1d, calling the 1-d functional forms (functional_1d); weights
initialised and reprs written as torch's."""

from __future__ import annotations

from typing import Any

from tinygrad_cnn.argcheck import positive_int
from tinygrad_cnn.functions import pad
from tinygrad_cnn.nn import functional_1d as F1
from tinygrad_cnn.nn.dropout import Dropout
from tinygrad_cnn.nn.factory import factory_dtype
from tinygrad_cnn.nn.layers import PADDING_MODES, _add_weight_and_bias, conv_extra_repr, reset_weight_and_bias
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.ops.conv_geometry import side_padding
from tinygrad_cnn.tensor import Tensor


def _one(value: Any, name: str, op: str, minimum: int = 1) -> tuple[int]:
    """A 1-d argument (an int or a 1-tuple) as a checked 1-tuple, as torch stores them."""
    n = F1.single(value, name, op)
    if not isinstance(n, int) or isinstance(n, bool) or n < minimum:
        raise ValueError(f"{op}: {name} must be an int >= {minimum}, got {value!r}")
    return (n,)


class Conv1d(Module):
    """1-D convolution: (N, in_channels, L) -> (N, out_channels, OL); weight (out_channels,
    in_channels/groups, K), bias (out_channels,); arguments as torch.nn.Conv1d."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        dtype = factory_dtype(device, dtype, "Conv1d")
        super().__init__()
        self.in_channels = positive_int(in_channels, "in_channels", "Conv1d")
        self.out_channels = positive_int(out_channels, "out_channels", "Conv1d")
        self.groups = positive_int(groups, "groups", "Conv1d")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"Conv1d: groups={groups} must divide in_channels={in_channels} and "
                             f"out_channels={out_channels}")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"Conv1d: padding_mode must be one of {PADDING_MODES}, but got "
                             f"padding_mode={padding_mode!r}")
        self.kernel_size = _one(kernel_size, "kernel_size", "Conv1d")
        self.stride = _one(stride, "stride", "Conv1d")
        self.dilation = _one(dilation, "dilation", "Conv1d")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Conv1d: padding must be an int, 'valid' or 'same', got {padding!r}")
            if padding == "same" and self.stride != (1,):
                raise ValueError(f"Conv1d: padding='same' is not supported for strided convolutions "
                                 f"(stride={self.stride})")
            self.padding: Any = padding
        else:
            self.padding = _one(padding, "padding", "Conv1d", minimum=0)
        self.padding_mode = padding_mode
        _add_weight_and_bias(self, (out_channels, in_channels // groups) + self.kernel_size, bias, dtype)

    def reset_parameters(self) -> None:
        """torch's initialisation: weight kaiming_uniform_(a=sqrt(5)), bias ~ U(+-1/sqrt(fan_in))."""
        reset_weight_and_bias(self)

    def forward(self, input: Tensor) -> Tensor:
        if self.padding_mode == "zeros":
            return F1.conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        padding = self.padding if isinstance(self.padding, str) else (0,) + self.padding
        _, _, left, right = side_padding(padding, (1,) + self.kernel_size, (1,) + self.stride,
                                         (1,) + self.dilation, "Conv1d")
        return F1.conv1d(pad(input, (left, right), self.padding_mode), self.weight, self.bias, self.stride, 0,
                         self.dilation, self.groups)

    def extra_repr(self) -> str:
        return conv_extra_repr(self)


class MaxPool1d(Module):
    """Maximum over windows of ``kernel_size``: (N, C, L) -> (N, C, OL)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return F1.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                             self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool1d(Module):
    """Mean over windows of ``kernel_size``: (N, C, L) -> (N, C, OL)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = _one(kernel_size, "kernel_size", "AvgPool1d")
        self.stride = self.kernel_size if stride is None else _one(stride, "stride", "AvgPool1d")
        self.padding = _one(padding, "padding", "AvgPool1d", minimum=0)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return F1.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                             self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(Module):
    """Mean over ``output_size`` near-equal windows: (N, C, L) -> (N, C, output_size)."""

    def __init__(self, output_size: int) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return F1.adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(AdaptiveAvgPool1d):
    """Maximum over ``output_size`` near-equal windows (and its positions with ``return_indices``)."""

    def __init__(self, output_size: int, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return F1.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class Dropout1d(Dropout):
    """In training mode, zeroes each whole channel of (N, C, L) or (C, L) input with probability
    ``p`` and scales the rest by 1/(1-p); in eval mode, the identity."""

    def forward(self, input: Tensor) -> Tensor:
        return F1.dropout1d(input, self.p, self.training, self.inplace)
