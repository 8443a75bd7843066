"""torchvision's gaussian_blur, and the small valid-window correlation it and adjust_sharpness share.

Arrays (Tensors, ndarrays) of shape (..., C, H, W) are blurred as torchvision's tensor backend does:
integer images in float32, the borders reflected, the result rounded back to the integer dtype.
PIL images take the same route (torchvision converts them to tensors and back).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.vision.transforms.image import as_array, is_pil, like
from tinygrad_cnn.vision.transforms.pil import to_pil_image


def image_array(img: Any, op: str, min_ndim: int = 2) -> np.ndarray:
    """The (..., C, H, W) array of a Tensor or ndarray image, with torchvision's TypeErrors for
    other inputs and for fewer than ``min_ndim`` dimensions."""
    if isinstance(img, (Tensor, np.ndarray)) and img.ndim < 2:
        raise TypeError("Tensor is not a torch image.")
    array = as_array(img, op)
    if array.ndim < min_ndim:
        raise TypeError(f"Input image tensor should have at least {min_ndim} dimensions, but found {array.ndim}")
    return array


def pil_planes(img: Any) -> np.ndarray:
    """A PIL image's pixels as a (C, H, W) array of its own dtype (as pil_to_tensor)."""
    return np.array(img).reshape(img.height, img.width, len(img.getbands())).transpose(2, 0, 1)


def from_planes(planes: np.ndarray, mode: str) -> Any:
    """A (C, H, W) array back to a PIL image of ``mode`` (as to_pil_image)."""
    return to_pil_image(np.ascontiguousarray(planes.transpose(1, 2, 0)), mode=mode)


def work_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype torchvision computes in for an image of ``dtype``: its own if floating, else float32."""
    return np.dtype(dtype) if np.dtype(dtype).kind == "f" else np.dtype(np.float32)


def cast_back(out: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """A float result cast to the image's ``dtype``, rounded first when that is an integer dtype."""
    if np.dtype(dtype).kind in "iu":
        out = np.round(out)
    return out.astype(dtype, copy=False)


def correlate2d(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The valid cross-correlation of each (H, W) plane of ``x`` with the (kh, kw) ``kernel``:
    shape (..., H - kh + 1, W - kw + 1), in ``x``'s dtype."""
    kh, kw = kernel.shape
    oh, ow = x.shape[-2] - kh + 1, x.shape[-1] - kw + 1
    out = np.zeros(x.shape[:-2] + (oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            out += kernel[i, j] * x[..., i:i + oh, j:j + ow]
    return out


def gaussian_kernel1d(kernel_size: int, sigma: float, dtype: np.dtype) -> np.ndarray:
    """The normalised Gaussian ``exp(-x^2 / (2 sigma^2))`` at the ``kernel_size`` integer offsets about 0."""
    half = (kernel_size - 1) * 0.5
    x = np.linspace(-half, half, kernel_size).astype(dtype)
    pdf = np.exp(-0.5 * (x / dtype.type(sigma)) ** 2)
    return pdf / pdf.sum()


def _check_blur_args(kernel_size: Any, sigma: Any) -> tuple[list[int], list[float]]:
    if not isinstance(kernel_size, (int, list, tuple)):
        raise TypeError(f"kernel_size should be int or a sequence of integers. Got {type(kernel_size)}")
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size, kernel_size]
    if len(kernel_size) != 2:
        raise ValueError(f"If kernel_size is a sequence its length should be 2. Got {len(kernel_size)}")
    for ksize in kernel_size:
        if ksize % 2 == 0 or ksize < 0:
            raise ValueError(f"kernel_size should have odd and positive integers. Got {kernel_size}")
    if sigma is None:
        sigma = [ksize * 0.15 + 0.35 for ksize in kernel_size]
    if not isinstance(sigma, (int, float, list, tuple)):
        raise TypeError(f"sigma should be either float or sequence of floats. Got {type(sigma)}")
    if isinstance(sigma, (int, float)):
        sigma = [float(sigma), float(sigma)]
    if len(sigma) == 1:
        sigma = [sigma[0], sigma[0]]
    if len(sigma) != 2:
        raise ValueError(f"If sigma is a sequence, its length should be 2. Got {len(sigma)}")
    for s in sigma:
        if s <= 0.0:
            raise ValueError(f"sigma should have positive values. Got {sigma}")
    return list(kernel_size), list(sigma)


def gaussian_blur(img: Any, kernel_size: int | Sequence[int], sigma: float | Sequence[float] | None = None) -> Any:
    """``img`` convolved with a (ky, kx) Gaussian kernel (``kernel_size`` = (kx, ky), odd; ``sigma`` =
    (sigma_x, sigma_y), default ``0.15 * k + 0.35``), borders reflected so the shape is kept."""
    kernel_size, sigma = _check_blur_args(kernel_size, sigma)
    array = pil_planes(img) if is_pil(img) else image_array(img, "gaussian_blur")
    dtype = work_dtype(array.dtype)
    kx = gaussian_kernel1d(kernel_size[0], sigma[0], dtype)
    ky = gaussian_kernel1d(kernel_size[1], sigma[1], dtype)
    px, py = kernel_size[0] // 2, kernel_size[1] // 2
    for pad, axis in ((px, -1), (py, -2)):
        if pad >= array.shape[axis]:
            raise RuntimeError(f"gaussian_blur: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({pad}, {pad}) at dimension {array.ndim + axis} of input "
                               f"{list(array.shape)}")
    x = np.pad(array.astype(dtype, copy=False), [(0, 0)] * (array.ndim - 2) + [(py, py), (px, px)], mode="reflect")
    # the 2-D kernel is the outer product ky kx: two 1-D passes
    out = cast_back(correlate2d(correlate2d(x, kx[None, :]), ky[:, None]), array.dtype)
    return from_planes(out, img.mode) if is_pil(img) else like(out, img)
