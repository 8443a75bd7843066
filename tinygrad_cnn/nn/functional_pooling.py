"""Adaptive pooling and max unpooling in functional form, as torch.nn.functional:
adaptive_avg_pool2d, adaptive_max_pool2d, max_unpool2d. Re-exported by ``tinygrad_cnn.nn.functional``."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.argcheck import is_int, nonnegative_pair, positive_pair
from tinygrad_cnn.nn.checks import check_tensor
from tinygrad_cnn.ops import adaptive_pool as AP
from tinygrad_cnn.tensor import Tensor

OutputSize = int | None | tuple[int | None, int | None]


def adaptive_output_size(op: str, shape: tuple[int, ...], output_size: OutputSize) -> tuple[int, int]:
    """``output_size`` (an int, or a pair whose None entries keep the input's size) as (OH, OW)
    for an (N, C, H, W) or (C, H, W) input of ``shape``; errors name ``op`` and the shape (a
    RuntimeError, torch's type, for the input's; ValueError for ``output_size``)."""
    if len(shape) not in (3, 4):
        raise RuntimeError(f"{op}: input must be 3-D (C, H, W) or 4-D (N, C, H, W), got shape {shape}")
    if any(n == 0 for n in shape[-2:]):
        raise RuntimeError(f"{op}: input spatial size must be non-zero, got shape {shape}")
    sizes = (output_size, output_size) if output_size is None or is_int(output_size) else tuple(output_size)
    if len(sizes) != 2 or not all(s is None or (is_int(s) and s >= 1) for s in sizes):
        raise ValueError(f"{op}: output_size must be a positive int, None or a pair of them, got {output_size!r}")
    return tuple(shape[-2 + i] if s is None else int(s) for i, s in enumerate(sizes))  # type: ignore[return-value]


def _batched(input: Tensor) -> tuple[Tensor, bool]:
    return (input.unsqueeze(0), True) if input.ndim == 3 else (input, False)


def adaptive_avg_pool2d(input: Tensor, output_size: OutputSize) -> Tensor:
    """Mean over torch's adaptive bins: (N, C, H, W) -> (N, C, OH, OW), bin i covering
    [floor(i*H/OH), ceil((i+1)*H/OH)); ``output_size`` 1 is global average pooling."""
    op = "adaptive_avg_pool2d"
    size = adaptive_output_size(op, check_tensor(op, "input", input).shape, output_size)
    x, unbatched = _batched(input)
    out = AP.AdaptiveAvgPool2d.apply(x, output_size=size)
    return out.squeeze(0) if unbatched else out


def adaptive_max_pool2d(input: Tensor, output_size: OutputSize,
                        return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Maximum over torch's adaptive bins: (N, C, H, W) -> (N, C, OH, OW); with ``return_indices``
    also the int64 flat positions h*W + w of each bin's first maximum."""
    op = "adaptive_max_pool2d"
    size = adaptive_output_size(op, check_tensor(op, "input", input).shape, output_size)
    x, unbatched = _batched(input)
    out = AP.AdaptiveMaxPool2d.apply(x, output_size=size)
    indices = Tensor(AP.adaptive_max_pool2d_indices(x.numpy(), size)) if return_indices else None
    if unbatched:
        out = out.squeeze(0)
        indices = None if indices is None else indices.squeeze(0)
    return (out, indices) if return_indices else out


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """Max pooling undone: (N, C, h, w) values put back at their flat plane positions ``indices``
    (as max_pool2d(return_indices=True) gives them) in zeros of (N, C, OH, OW), OH = (h - 1)*sh
    - 2*ph + KH unless ``output_size`` ((OH, OW), or with the leading N, C) says otherwise."""
    op = "max_unpool2d"
    check_tensor(op, "input", input)
    check_tensor(op, "indices", indices)
    kernel = positive_pair(kernel_size, "kernel_size", op)
    strides = kernel if stride is None else positive_pair(stride, "stride", op)
    pads = nonnegative_pair(padding, "padding", op)
    if input.ndim != 4 or indices.shape != input.shape:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W) with indices of its shape, got input "
                         f"{input.shape} and indices {indices.shape}")
    default = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(input.shape[2:], strides, pads, kernel))
    size = default if output_size is None else tuple(int(n) for n in tuple(output_size)[-2:])
    idx = indices.numpy()
    if not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"{op}: indices must be integers, got dtype {idx.dtype}")
    if idx.size and (idx.min() < 0 or idx.max() >= size[0] * size[1]):
        raise ValueError(f"{op}: found an invalid max index {int(idx.max())} (output size {size}, "
                         f"{size[0] * size[1]} positions per plane)")
    return AP.MaxUnpool2d.apply(input, indices=idx.astype(np.int64, copy=False), output_size=size)
