"""The 1-d forms of torch.nn.functional's convolution, pooling and channel dropout, as the 2-d
ops on a height-1 view: (N, C, L) is seen as (N, C, 1, L), each 1-d argument k as (1, k) (a
padding as (0, p)), and the height dropped from the result. Unbatched (C, L) inputs work as
torch's. Re-exported by ``tinygrad_cnn.nn.functional``."""

from __future__ import annotations

from typing import Any

from tinygrad_cnn.argcheck import Padding
from tinygrad_cnn.nn.checks import check_probability, check_tensor
from tinygrad_cnn.nn.functional_conv import conv2d
from tinygrad_cnn.nn.functional_dropout import channel_dropout
from tinygrad_cnn.nn.functional_pooling import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d
from tinygrad_cnn.tensor import Tensor


def single(value: Any, name: str, op: str) -> int:
    """A 1-d argument given as an int or a 1-tuple, as an int."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{op}: {name} must be an int or a tuple of one int, got {value!r}")
        value = value[0]
    return value


def _lengthwise(value: Any, name: str, op: str, height: int) -> Any:
    """A 1-d argument as the 2-d pair (height, value)."""
    return (height, single(value, name, op))


def _check_input(op: str, input: Any) -> Tensor:
    check_tensor(op, "input", input)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{op}: Expected 2D (unbatched) or 3D (batched) input to {op}, but got input of size: "
                           f"{list(input.shape)}")
    return input


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Padding = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D convolution (cross-correlation) as torch.nn.functional.conv1d: (N, C, L) with weight
    (OC, C/groups, K) -> (N, OC, OL); ``padding`` an int, "valid" or "same"."""
    _check_input("conv1d", input)
    check_tensor("conv1d", "weight", weight)
    if weight.ndim != 3:
        raise RuntimeError(f"conv1d: Expected 3-dimensional weight (out_channels, in_channels/groups, K), got "
                           f"weight of size {list(weight.shape)} for input of size {list(input.shape)}")
    pad = padding if isinstance(padding, str) else _lengthwise(padding, "padding", "conv1d", 0)
    out = conv2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias, _lengthwise(stride, "stride", "conv1d", 1), pad,
                   _lengthwise(dilation, "dilation", "conv1d", 1), groups)
    return out.squeeze(-2)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """1-D max pooling as torch.nn.functional.max_pool1d: (N, C, L) -> (N, C, OL); with
    ``return_indices`` also each window's position of its maximum in L."""
    _check_input("max_pool1d", input)
    kernel = _lengthwise(kernel_size, "kernel_size", "max_pool1d", 1)
    out = max_pool2d(input.unsqueeze(-2), kernel,
                       None if stride is None else _lengthwise(stride, "stride", "max_pool1d", 1),
                       _lengthwise(padding, "padding", "max_pool1d", 0),
                       _lengthwise(dilation, "dilation", "max_pool1d", 1), ceil_mode, return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """1-D average pooling as torch.nn.functional.avg_pool1d: (N, C, L) -> (N, C, OL)."""
    _check_input("avg_pool1d", input)
    out = avg_pool2d(input.unsqueeze(-2), _lengthwise(kernel_size, "kernel_size", "avg_pool1d", 1),
                       None if stride is None else _lengthwise(stride, "stride", "avg_pool1d", 1),
                       _lengthwise(padding, "padding", "avg_pool1d", 0), ceil_mode, count_include_pad)
    return out.squeeze(-2)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """(N, C, L) -> (N, C, output_size), the mean of each of output_size near-equal windows."""
    _check_input("adaptive_avg_pool1d", input)
    size = single(output_size, "output_size", "adaptive_avg_pool1d")
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, size)).squeeze(-2)


def adaptive_max_pool1d(input: Tensor, output_size: Any,
                        return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """(N, C, L) -> (N, C, output_size), the maximum of each of output_size near-equal windows
    (and its position in L with ``return_indices``)."""
    _check_input("adaptive_max_pool1d", input)
    size = single(output_size, "output_size", "adaptive_max_pool1d")
    out = adaptive_max_pool2d(input.unsqueeze(-2), (1, size), return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """During training, zero each whole channel of an (N, C, L) or unbatched (C, L) input with
    probability ``p`` and scale the rest by 1/(1-p); the identity otherwise."""
    check_tensor("dropout1d", "input", input)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
                           "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                           "channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return channel_dropout("dropout1d", input, check_probability("dropout1d", p), training, inplace, input.ndim - 1)
