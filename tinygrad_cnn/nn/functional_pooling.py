"""Pooling in functional form, as torch.nn.functional: max_pool2d, avg_pool2d,
adaptive_avg_pool2d, adaptive_max_pool2d, max_unpool2d. Re-exported by ``tinygrad_cnn.nn.functional``."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.argcheck import IntPair, is_int, nonnegative_pair, positive_pair
from tinygrad_cnn.dtypes import scalar_type_name
from tinygrad_cnn.nn.checks import check_pool_input, check_tensor, runtime_errors
from tinygrad_cnn.ops import adaptive_pool as AP
from tinygrad_cnn.ops import pool as P
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
    size = adaptive_output_size(op, check_tensor(op, "input", input).numpy().shape, output_size)
    x, unbatched = _batched(input)
    out = AP.AdaptiveAvgPool2d.apply(x, output_size=size)
    return out.squeeze(0) if unbatched else out


def adaptive_max_pool2d(input: Tensor, output_size: OutputSize,
                        return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Maximum over torch's adaptive bins: (N, C, H, W) -> (N, C, OH, OW); with ``return_indices``
    also the int64 flat positions h*W + w of each bin's first maximum."""
    op = "adaptive_max_pool2d"
    size = adaptive_output_size(op, check_tensor(op, "input", input).numpy().shape, output_size)
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
                         f"{tuple(input.shape)} and indices {tuple(indices.shape)}")
    default = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(input.shape[2:], strides, pads, kernel))
    size = default if output_size is None else tuple(int(n) for n in tuple(output_size)[-2:])
    idx = indices.numpy()
    if not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"{op}: indices must be integers, got dtype {idx.dtype}")
    if idx.size and (idx.min() < 0 or idx.max() >= size[0] * size[1]):
        raise ValueError(f"{op}: found an invalid max index {int(idx.max())} (output size {size}, "
                         f"{size[0] * size[1]} positions per plane)")
    return AP.MaxUnpool2d.apply(input, indices=idx.astype(np.int64, copy=False), output_size=size)


def _pool_arguments(op: str, input: Tensor, kernel_size: IntPair, stride: IntPair | None, padding: IntPair,
                    dilation: IntPair, ceil_mode: bool) -> dict:
    """Pooling's checked arguments for a batched or unbatched ``input``, with torch's exception types."""
    check_tensor(op, "input", input)
    check_pool_input(op, input.numpy().shape)
    with runtime_errors():
        return P.pool_arguments(op, (1,) * (4 - input.ndim) + input.shape, kernel_size, stride, padding, dilation,
                                ceil_mode)


def max_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0,
               dilation: IntPair = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """2-D max pooling as torch.nn.functional.max_pool2d: (N, C, H, W) -> (N, C, OH, OW), or
    unbatched (C, H, W) -> (C, OH, OW).

    OH = floor((H + 2*ph - dh*(KH - 1) - 1) / sh) + 1 (ceil with ``ceil_mode``, as long as
    the last window starts inside the input or its top/left padding); ``stride`` defaults
    to ``kernel_size``; ``padding`` (at most half the kernel) pads with -inf. With
    ``return_indices``, also returns int64 indices (N, C, OH, OW): the flat position h*W + w
    of each window's maximum in its input plane, as torch's. A window lying entirely in the
    padding (possible only with dilation) gives -inf and passes no gradient, as torch's.
    Bad values and shapes raise RuntimeError naming the argument, as torch's.
    """
    args = _pool_arguments("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    if input.ndim == 3:
        out = max_pool2d(input.unsqueeze(0), **args, return_indices=return_indices)
        return tuple(t.squeeze(0) for t in out) if return_indices else out.squeeze(0)
    out = P.MaxPool2d.apply(input, **args)
    if not return_indices:
        return out
    # rarely asked for: recomputed here rather than kept by every call
    return out, Tensor(P.max_pool2d_indices(input.numpy(), **args))


def avg_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0,
               ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """2-D average pooling as torch.nn.functional.avg_pool2d: (N, C, H, W) -> (N, C, OH, OW), or
    unbatched (C, H, W) -> (C, OH, OW).

    Output size as max_pool2d's (no dilation); ``stride`` defaults to ``kernel_size``;
    ``padding`` (at most half the kernel) pads with zeros, which count in the divisor when
    ``count_include_pad`` (the default), except where a ``ceil_mode`` window overhangs the
    padding, exactly as torch. A ``divisor_override`` (a non-zero int) divides every window's
    sum instead. Bad values and shapes raise torch's exception types.
    """
    op = "avg_pool2d"
    if divisor_override is not None:
        if not is_int(divisor_override):
            raise TypeError(f"{op}(): argument 'divisor_override' must be int, not "
                            f"{type(divisor_override).__name__}")
        if divisor_override == 0:
            raise RuntimeError(f"{op}: divisor must be not zero (divisor_override=0)")
    args = _pool_arguments(op, input, kernel_size, stride, padding, 1, ceil_mode)
    del args["dilation"]
    args["count_include_pad"] = bool(count_include_pad)
    if divisor_override is not None:  # a parameter of the op only when given (graph views, exports)
        args["divisor_override"] = int(divisor_override)
    if input.ndim == 3:
        return avg_pool2d(input.unsqueeze(0), **args).squeeze(0)
    if input.dtype == np.int64:  # torch averages Long exactly and truncates toward zero
        mean = P.AvgPool2d.apply(Tensor(input.numpy().astype(np.float64)), **args)
        return Tensor(np.trunc(mean.numpy()).astype(np.int64))
    if input.dtype.kind not in "f":
        raise NotImplementedError(f'"avg_pool2d" not implemented for \'{scalar_type_name(input.dtype)}\' '
                                  f"(input dtype {input.dtype}, shape {tuple(input.shape)})")
    return P.AvgPool2d.apply(input, **args)
