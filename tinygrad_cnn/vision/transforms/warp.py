"""torchvision's grid-sampled warps: perspective and elastic_transform.

PIL images are warped by PIL (``Image.transform(..., PERSPECTIVE)``), as torchvision's PIL
backend. Tensors and ndarrays of shape (..., C, H, W) are sampled as torchvision's tensor backend
does with ``grid_sample`` (nearest or bilinear, zeros outside, align_corners=False), a fill
value blended in through an extra all-ones channel; integer images are sampled in float32 and
rounded back.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.vision.transforms.blur import cast_back, from_planes, image_array, pil_planes, work_dtype
from tinygrad_cnn.vision.transforms.image import (
    PIL_CODES, InterpolationMode, interpolation_mode, is_pil, like, pil_fill,
)


def _grid_sample(x: np.ndarray, grid: np.ndarray, mode: str) -> np.ndarray:
    """torch's grid_sample of (N, C, H, W) ``x`` at the (oh, ow, 2) normalised (x, y) ``grid``, zero padding,
    align_corners=False: (N, C, oh, ow), with the weights and sums of torch's CPU kernel."""
    h, w = x.shape[-2:]
    dtype = x.dtype.type
    ix = (grid[..., 0] + dtype(1)) * dtype(w / 2) - dtype(0.5)
    iy = (grid[..., 1] + dtype(1)) * dtype(h / 2) - dtype(0.5)

    def gather(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
        cols = np.clip(xs, 0, w - 1).astype(np.int64)
        rows = np.clip(ys, 0, h - 1).astype(np.int64)
        return np.where(inside, x[..., rows, cols], dtype(0))

    if mode == "nearest":
        return gather(np.rint(ix), np.rint(iy))
    x0, y0 = np.floor(ix), np.floor(iy)
    we, nn = ix - x0, iy - y0
    ea, sa = dtype(1) - we, dtype(1) - nn
    return (gather(x0, y0) * (sa * ea) + gather(x0 + 1, y0) * (sa * we)
            + gather(x0, y0 + 1) * (nn * ea) + gather(x0 + 1, y0 + 1) * (nn * we))


def _check_grid_inputs(array: np.ndarray, interpolation: InterpolationMode, fill: Any) -> None:
    channels = 1 if array.ndim == 2 else array.shape[-3]
    if isinstance(fill, (tuple, list)) and len(fill) > 1 and len(fill) != channels:
        raise ValueError("The number of elements in 'fill' cannot broadcast to match the number of channels of the "
                         f"image ({len(fill)} != {channels})")
    if interpolation not in (InterpolationMode.NEAREST, InterpolationMode.BILINEAR):
        raise ValueError(f"Interpolation mode '{interpolation.value}' is unsupported with Tensor input")


def apply_grid(array: np.ndarray, grid: np.ndarray, interpolation: InterpolationMode, fill: Any) -> np.ndarray:
    """torchvision's _apply_grid_transform: each (C, H, W) image of ``array`` sampled at the (oh, ow, 2) grid
    (in the grid's dtype); where the sample leaves the image ``fill`` (None: zeros) is blended in."""
    _check_grid_inputs(array, interpolation, fill)
    mode = interpolation.value
    channels, (h, w) = (1 if array.ndim == 2 else array.shape[-3]), array.shape[-2:]
    x = array.reshape(-1, channels, h, w).astype(grid.dtype, copy=False)
    if fill is not None:
        x = np.concatenate([x, np.ones((x.shape[0], 1, h, w), dtype=x.dtype)], axis=1)
    out = _grid_sample(x, grid, mode)
    if fill is not None:
        mask, out = out[:, -1:], out[:, :-1]
        fills = [float(f) for f in fill] if isinstance(fill, (tuple, list)) else [float(fill)]
        fill_img = np.asarray(fills, dtype=out.dtype).reshape(1, -1, 1, 1)
        if mode == "nearest":
            out = np.where(mask < 0.5, fill_img, out)
        else:
            out = out * mask + (1.0 - mask) * fill_img
    return cast_back(out.reshape(array.shape[:-2] + out.shape[-2:]), array.dtype)


# ---------------------------------------------------------------------------- perspective
def perspective_coeffs(startpoints: Sequence[Sequence[int]], endpoints: Sequence[Sequence[int]]) -> list[float]:
    """The 8 coefficients (a..h) mapping each output pixel (x, y) to the input pixel
    ((ax + by + c) / (gx + hy + 1), (dx + ey + f) / (gx + hy + 1)) that takes ``endpoints`` to ``startpoints``."""
    if len(startpoints) != 4 or len(endpoints) != 4:
        raise ValueError(f"Please provide exactly four corners, got {len(startpoints)} startpoints and "
                         f"{len(endpoints)} endpoints.")
    a_matrix = np.zeros((8, 8), dtype=np.float64)
    for i, (p1, p2) in enumerate(zip(endpoints, startpoints)):
        a_matrix[2 * i] = [p1[0], p1[1], 1, 0, 0, 0, -p2[0] * p1[0], -p2[0] * p1[1]]
        a_matrix[2 * i + 1] = [0, 0, 0, p1[0], p1[1], 1, -p2[1] * p1[0], -p2[1] * p1[1]]
    b_matrix = np.asarray(startpoints, dtype=np.float64).reshape(8)
    return np.linalg.lstsq(a_matrix, b_matrix, rcond=None)[0].astype(np.float32).tolist()


def _perspective_grid(coeffs: list[float], ow: int, oh: int, dtype: np.dtype) -> np.ndarray:
    theta1 = np.array([coeffs[0:3], coeffs[3:6]], dtype=dtype)
    theta2 = np.array([[coeffs[6], coeffs[7], 1.0]] * 2, dtype=dtype)
    base = np.empty((oh, ow, 3), dtype=dtype)
    base[..., 0] = np.linspace(0.5, ow - 0.5, ow)
    base[..., 1] = np.linspace(0.5, oh - 0.5, oh)[:, None]
    base[..., 2] = 1
    base = base.reshape(-1, 3)
    grid = (base @ (theta1.T / np.array([0.5 * ow, 0.5 * oh], dtype=dtype))) / (base @ theta2.T) - dtype.type(1.0)
    return grid.reshape(oh, ow, 2)


def perspective(img: Any, startpoints: Sequence[Sequence[int]], endpoints: Sequence[Sequence[int]],
                interpolation: InterpolationMode | int = InterpolationMode.BILINEAR, fill: Any = None) -> Any:
    """``img`` warped so its ``startpoints`` (the [top-left, top-right, bottom-right, bottom-left] corners as
    [x, y]) land on ``endpoints``, size kept; uncovered pixels get ``fill`` (zeros when None)."""
    coeffs = perspective_coeffs(startpoints, endpoints)
    interpolation = interpolation_mode(interpolation)
    if is_pil(img):
        from PIL import Image

        return img.transform(img.size, Image.Transform.PERSPECTIVE, coeffs, PIL_CODES[interpolation],
                             fillcolor=pil_fill(fill, img))
    array = image_array(img, "perspective")
    grid = _perspective_grid(coeffs, array.shape[-1], array.shape[-2], work_dtype(array.dtype))
    return like(apply_grid(array, grid, interpolation, fill), img)


# ---------------------------------------------------------------------------- elastic
def _linspace32(start: float, end: float, steps: int) -> np.ndarray:
    return np.linspace(start, end, steps).astype(np.float32)


def elastic_transform(img: Any, displacement: Any, interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
                      fill: Any = None) -> Any:
    """``img`` resampled at the identity grid plus ``displacement`` (1, H, W, 2) (x, y offsets in grid units,
    where the image spans [-1, 1]); samples outside the image get ``fill`` (zeros when None)."""
    if isinstance(interpolation, int) and not isinstance(interpolation, bool):
        warnings.warn("Argument interpolation should be of type InterpolationMode instead of int. "
                      "Please, use InterpolationMode enum.")
    interpolation = interpolation_mode(interpolation)
    if not isinstance(displacement, (Tensor, np.ndarray)):
        raise TypeError("Argument displacement should be a Tensor")
    displacement = displacement.numpy() if isinstance(displacement, Tensor) else displacement
    array = pil_planes(img) if is_pil(img) else image_array(img, "elastic_transform")
    h, w = array.shape[-2:]
    if displacement.shape != (1, h, w, 2):
        raise ValueError(f"Argument displacement shape should be {(1, h, w, 2)}, but given {tuple(displacement.shape)}")
    grid_y, grid_x = np.meshgrid(_linspace32((-h + 1) / h, (h - 1) / h, h), _linspace32((-w + 1) / w, (w - 1) / w, w),
                                 indexing="ij")
    grid = np.stack([grid_x, grid_y], axis=-1) + displacement[0]
    out = apply_grid(array, grid, interpolation, fill)
    return from_planes(out, img.mode) if is_pil(img) else like(out, img)
