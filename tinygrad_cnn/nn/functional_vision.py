"""torch.nn.functional's vision functions, from differentiable ops: pixel_shuffle,
pixel_unshuffle, channel_shuffle (reshapes and permutes), interpolate (nearest, nearest-exact,
linear, bilinear and trilinear as torch computes them: each spatial dim in turn an index_select,
and for the linear modes a weighted sum of the two neighbours; area as adaptive average pooling),
and the spatial-transformer pair affine_grid and grid_sample.
Re-exported by ``tinygrad_cnn.nn.functional``."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from tinygrad_cnn.nn.checks import check_tensor
from tinygrad_cnn.nn.functional_pooling import adaptive_avg_pool2d
from tinygrad_cnn.tensor import Tensor


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r), r = ``upscale_factor``: each group of r^2 channels
    becomes an r x r block of pixels."""
    check_tensor("pixel_shuffle", "input", input)
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    *batch, channels, h, w = input.shape
    if r < 1 or channels % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={channels} is not divisible by {r * r}")
    k = len(batch)
    blocks = input.reshape(*batch, channels // (r * r), r, r, h, w)
    order = tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2)
    return blocks.permute(*order).reshape(*batch, channels // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W), the inverse of pixel_shuffle."""
    check_tensor("pixel_unshuffle", "input", input)
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    *batch, channels, h, w = input.shape
    if r < 1 or h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by downscale_factor, but "
                           f"input.size(-2)={h} and input.size(-1)={w} are not both divisible by {r}")
    k = len(batch)
    blocks = input.reshape(*batch, channels, h // r, r, w // r, r)
    order = tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3)
    return blocks.permute(*order).reshape(*batch, channels * r * r, h // r, w // r)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """(N, C, *) with its channels regrouped: channel g * (C / groups) + i moves to i * groups + g."""
    check_tensor("channel_shuffle", "input", input)
    if input.ndim < 3:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    n, channels, *rest = input.shape
    if groups < 1 or channels % groups:
        raise RuntimeError(f"channel_shuffle: number of channels {channels} must be divisible by groups {groups}")
    return input.reshape(n, groups, channels // groups, *rest).transpose(1, 2).reshape(n, channels, *rest)


_LINEAR = {"linear": 1, "bilinear": 2, "trilinear": 3}
MODES = ("nearest", "nearest-exact", "area") + tuple(_LINEAR)


def _output_sizes(input: Tensor, size: int | Sequence[int] | None, scale_factor: float | Sequence[float] | None,
                  ) -> tuple[list[int], list[float | None]]:
    """Each spatial dim's output size and the scale factor torch uses for it (None: from the sizes)."""
    dims = input.ndim - 2
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: only one of size or scale_factor should be defined" if size is not None
                         else "interpolate: either size or scale_factor should be defined")
    if size is not None:
        sizes = [int(size)] * dims if isinstance(size, (int, np.integer)) else [int(s) for s in size]
        if len(sizes) != dims:
            raise ValueError(f"interpolate: Input and output must have the same number of spatial dimensions, "
                             f"but got input with spatial dimensions of {list(input.shape[2:])} and output size "
                             f"of {sizes}")
        return sizes, [None] * dims
    factors = [float(scale_factor)] * dims if isinstance(scale_factor, (int, float)) else \
        [float(f) for f in scale_factor]
    if len(factors) != dims:
        raise ValueError(f"interpolate: Input and scale_factor must have the same number of spatial dimensions, "
                         f"but got input with spatial dimensions of {list(input.shape[2:])} and scale_factor of "
                         f"shape {factors}")
    return [math.floor(n * f) for n, f in zip(input.shape[2:], factors)], factors


def _scale(in_size: int, out_size: int, factor: float | None, align_corners: bool) -> float:
    """How far apart, in input positions, two output positions are (torch's area_pixel_compute_scale)."""
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    return 1.0 / factor if factor is not None and factor > 0 else in_size / out_size


def _nearest(x: Tensor, dim: int, out_size: int, scale: float, exact: bool) -> Tensor:
    positions = (np.arange(out_size) + (0.5 if exact else 0.0)) * scale
    return x.index_select(dim, np.minimum(np.floor(positions).astype(np.int64), x.shape[dim] - 1))


def _linear(x: Tensor, dim: int, out_size: int, scale: float, align_corners: bool) -> Tensor:
    in_size = x.shape[dim]
    positions = np.arange(out_size) * scale if align_corners else \
        np.maximum((np.arange(out_size) + 0.5) * scale - 0.5, 0.0)
    low = np.minimum(np.floor(positions).astype(np.int64), in_size - 1)
    high = np.minimum(low + 1, in_size - 1)
    shape = [1] * x.ndim
    shape[dim] = out_size
    weight = Tensor((positions - low).astype(x.dtype).reshape(shape))
    return x.index_select(dim, low) * (1 - weight) + x.index_select(dim, high) * weight


def interpolate(input: Tensor, size: int | Sequence[int] | None = None,
                scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """``input`` (N, C, *spatial), 1 to 3 spatial dims, resampled to ``size`` or by ``scale_factor``
    (output size floor(in * factor)) in ``mode``, as torch.nn.functional.interpolate. (Where a
    factor keeps a dim's size, torch's linear kernels copy that dim, as here, while its nearest
    kernels disagree among themselves; here the nearest modes read it with the factor.)"""
    check_tensor("interpolate", "input", input)
    if mode not in MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported (one of {', '.join(MODES)})")
    if align_corners is not None and mode not in _LINEAR:
        raise ValueError("interpolate: align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if not 3 <= input.ndim <= 5:
        raise NotImplementedError(f"interpolate: input must be 3-D, 4-D or 5-D (N, C, *spatial), got "
                                  f"{input.ndim}D input of shape {tuple(input.shape)}")
    if mode in _LINEAR and input.ndim - 2 != _LINEAR[mode]:
        raise NotImplementedError(f"interpolate: Got {input.ndim}D input, but {mode} mode needs {_LINEAR[mode] + 2}D "
                                  "input")
    sizes, factors = _output_sizes(input, size, scale_factor)
    if recompute_scale_factor:
        factors = [None] * len(factors)
    if mode == "area":
        if input.ndim != 4:
            raise NotImplementedError("interpolate: mode 'area' is supported for 4-D input only")
        return adaptive_avg_pool2d(input, tuple(sizes))
    corners = bool(align_corners)
    out = input
    for i, (out_size, factor) in enumerate(zip(sizes, factors)):
        dim = 2 + i
        if mode in _LINEAR and out_size == input.shape[dim]:  # torch's linear kernels copy such a dim
            continue
        scale = _scale(input.shape[dim], out_size, factor, corners and mode in _LINEAR)
        out = _linear(out, dim, out_size, scale, corners) if mode in _LINEAR else \
            _nearest(out, dim, out_size, scale, mode == "nearest-exact")
    return out


def affine_grid(theta: Tensor, size: Sequence[int], align_corners: bool | None = None) -> Tensor:
    """The sampling grid (N, H, W, 2) of (x, y) in [-1, 1] that the affine maps ``theta`` (N, 2, 3)
    send an output of ``size`` (N, C, H, W) to, for grid_sample; differentiable in theta."""
    check_tensor("affine_grid", "theta", theta)
    if len(size) != 4:
        raise NotImplementedError(f"affine_grid: only 4-D sizes (N, C, H, W) are supported, got {list(size)}")
    n, _, h, w = (int(s) for s in size)
    if tuple(theta.shape) != (n, 2, 3):
        raise ValueError(f"affine_grid: Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                         f"{list(size)}. Got {list(theta.shape)}.")

    def positions(count: int) -> np.ndarray:
        if align_corners:
            return np.linspace(-1.0, 1.0, count) if count > 1 else np.zeros(1)
        return (2 * np.arange(count) + 1) / count - 1

    ys, xs = np.meshgrid(positions(h), positions(w), indexing="ij")
    base = np.stack([xs, ys, np.ones_like(xs)], axis=-1).reshape(1, h * w, 3).astype(theta.dtype)
    return (Tensor(base) @ theta.transpose(1, 2)).reshape(n, h, w, 2)


def _unnormalize(coordinate: Tensor, size: int, align_corners: bool) -> Tensor:
    return (coordinate + 1) / 2 * (size - 1) if align_corners else ((coordinate + 1) * size - 1) / 2


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """``input`` (N, C, H, W) sampled at ``grid`` (N, Ho, Wo, 2) of (x, y) in [-1, 1] ->
    (N, C, Ho, Wo), bilinearly (or at the nearest pixel); positions outside read zeros
    ("zeros") or the nearest edge ("border"). Differentiable in the input and, for bilinear,
    the grid."""
    check_tensor("grid_sample", "input", input)
    check_tensor("grid_sample", "grid", grid)
    if mode not in ("bilinear", "nearest"):
        raise NotImplementedError(f"grid_sample: mode {mode!r} is not supported ('bilinear' or 'nearest')")
    if padding_mode not in ("zeros", "border"):
        raise NotImplementedError(f"grid_sample: padding_mode {padding_mode!r} is not supported ('zeros' or 'border')")
    if input.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sample: expected input (N, C, H, W) and grid (N, H_out, W_out, 2) with one N, "
                           f"got input {list(input.shape)} and grid {list(grid.shape)}")
    n, _, h, w = input.shape
    corners = bool(align_corners)
    x = _unnormalize(grid[..., 0], w, corners)
    y = _unnormalize(grid[..., 1], h, corners)
    if padding_mode == "border":
        x, y = x.clamp(0, w - 1), y.clamp(0, h - 1)
    batch = np.broadcast_to(np.arange(n).reshape(n, 1, 1), x.shape)

    def read(rows: np.ndarray, cols: np.ndarray) -> Tensor:
        """input at integer (rows, cols) (N, Ho, Wo), zeros outside, as (N, C, Ho, Wo)."""
        inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
        values = input[batch, :, np.clip(rows, 0, h - 1), np.clip(cols, 0, w - 1)]  # (N, Ho, Wo, C)
        return (values * Tensor(inside[..., None].astype(input.dtype))).permute(0, 3, 1, 2)

    if mode == "nearest":
        return read(np.rint(y.numpy()).astype(np.int64), np.rint(x.numpy()).astype(np.int64))
    x0, y0 = np.floor(x.numpy()).astype(np.int64), np.floor(y.numpy()).astype(np.int64)
    wx1, wy1 = (x - Tensor(x0.astype(input.dtype))).unsqueeze(1), (y - Tensor(y0.astype(input.dtype))).unsqueeze(1)
    wx0, wy0 = 1 - wx1, 1 - wy1
    return (read(y0, x0) * wy0 * wx0 + read(y0, x0 + 1) * wy0 * wx1
            + read(y0 + 1, x0) * wy1 * wx0 + read(y0 + 1, x0 + 1) * wy1 * wx1)
