"""ConvTranspose2d as torch.nn (Conv2d itself is in layers.py): weight (in, out/groups, KH, KW)
initialised as torch's, kaiming_uniform_(a=sqrt(5)) with fan_in = (out/groups)*KH*KW."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_cnn.argcheck import IntPair, nonnegative_pair, positive_int, positive_pair
from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.nn import init
from tinygrad_cnn.nn.factory import cast_to, factory_dtype
from tinygrad_cnn.nn.layers import conv_extra_repr
from tinygrad_cnn.nn.module import Module, Parameter
from tinygrad_cnn.ops.conv_transpose import transposed_output_size
from tinygrad_cnn.tensor import Tensor


class ConvTranspose2d(Module):
    """2-D transposed convolution: (N, in_channels, H, W) -> (N, out_channels, OH, OW) with
    OH = (H - 1)*sh - 2*ph + dh*(KH - 1) + output_padding_h + 1; see F.conv_transpose2d.
    ``forward(input, output_size)`` may ask for one of the sizes that output_padding reaches."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair, stride: IntPair = 1,
                 padding: IntPair = 0, output_padding: IntPair = 0, groups: int = 1, bias: bool = True,
                 dilation: IntPair = 1, padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        name = type(self).__name__
        dtype = factory_dtype(device, dtype, name)
        super().__init__()
        self.in_channels = positive_int(in_channels, "in_channels", name)
        self.out_channels = positive_int(out_channels, "out_channels", name)
        self.groups = positive_int(groups, "groups", name)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels={in_channels} and "
                             f"out_channels={out_channels}")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported for ConvTranspose2d, got {padding_mode!r}")
        self.kernel_size = positive_pair(kernel_size, "kernel_size", name)
        self.stride = positive_pair(stride, "stride", name)
        self.padding = nonnegative_pair(padding, "padding", name)
        self.dilation = positive_pair(dilation, "dilation", name)
        self.output_padding = nonnegative_pair(output_padding, "output_padding", name)
        if any(o >= max(s, d) for o, s, d in zip(self.output_padding, self.stride, self.dilation)):
            raise ValueError(f"{name}: output_padding {self.output_padding} must be smaller than either stride "
                             f"{self.stride} or dilation {self.dilation}")
        self.padding_mode = padding_mode
        self.weight = Parameter(np.empty((in_channels, out_channels // groups) + self.kernel_size, dtype=np.float32))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=np.float32))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        cast_to(self, dtype)

    def reset_parameters(self) -> None:
        """torch's initialisation: kaiming_uniform_(a=sqrt(5)); bias ~ U(+-1/sqrt(fan_in))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _output_padding(self, input: Tensor, output_size: tuple[int, ...] | None) -> tuple[int, int]:
        """The output_padding that gives ``output_size`` ((OH, OW) or with N, C leading), or the layer's own."""
        if output_size is None:
            return self.output_padding
        wanted = tuple(int(n) for n in tuple(output_size)[-2:])
        smallest = transposed_output_size(input.shape[-2:], self.kernel_size, self.stride, self.padding, (0, 0),
                                          self.dilation)
        extra = tuple(w - s for w, s in zip(wanted, smallest))
        if any(e < 0 or e >= max(s, d) for e, s, d in zip(extra, self.stride, self.dilation)):
            largest = tuple(s + max(st, d) - 1 for s, st, d in zip(smallest, self.stride, self.dilation))
            raise ValueError(f"{type(self).__name__}: requested an output size of {wanted}, but valid sizes range "
                             f"from {smallest} to {largest} (for an input of {tuple(input.shape)})")
        return extra  # type: ignore[return-value]

    def forward(self, input: Tensor, output_size: tuple[int, ...] | None = None) -> Tensor:
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(input, output_size), self.groups, self.dilation)

    def extra_repr(self) -> str:
        return conv_extra_repr(self)
