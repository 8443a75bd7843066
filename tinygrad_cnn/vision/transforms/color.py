"""torchvision's colour functionals: grayscale, brightness, contrast, saturation, hue, gamma,
sharpness, invert, posterize, solarize, autocontrast and equalize.

PIL images go through PIL (``convert``, ImageEnhance, ImageOps), as torchvision's PIL backend.
Tensors and ndarrays of shape (..., C, H, W) follow torchvision's tensor arithmetic: integer
images are worked on in float32 and cast back by truncation (rounding after a convolution),
floating images keep their dtype and are clamped to [0, 1].
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from tinygrad_cnn.vision.transforms.blur import cast_back, correlate2d, image_array, work_dtype
from tinygrad_cnn.vision.transforms.image import convert_array_dtype, is_pil, like


# ---------------------------------------------------------------------------- tensor helpers
def max_value(dtype: np.dtype) -> int:
    """The largest value of an image of ``dtype``: the integer maximum, or 1 for floating images."""
    dtype = np.dtype(dtype)
    return int(np.iinfo(dtype).max) if dtype.kind in "iu" else 1


def _channels(array: np.ndarray, permitted: tuple[int, ...] = (1, 3)) -> int:
    c = 1 if array.ndim == 2 else array.shape[-3]
    if c not in permitted:
        raise TypeError(f"Input image tensor permitted channel values are {list(permitted)}, but found {c}")
    return c


def _blend(img1: np.ndarray, img2: np.ndarray, ratio: float) -> np.ndarray:
    """``ratio * img1 + (1 - ratio) * img2`` clamped to img1's range, in img1's dtype (truncated)."""
    ratio = float(ratio)
    dtype = work_dtype(img1.dtype)
    out = ratio * img1.astype(dtype, copy=False) + (1.0 - ratio) * img2.astype(dtype, copy=False)
    return np.clip(out, 0, max_value(img1.dtype)).astype(img1.dtype)


def _gray(array: np.ndarray) -> np.ndarray:
    """(..., 1, H, W) luma ``0.2989 R + 0.587 G + 0.114 B`` of a 3-channel array (a copy of a 1-channel one)."""
    if array.shape[-3] != 3:
        return array.copy()
    r, g, b = (array[..., k, :, :].astype(work_dtype(array.dtype), copy=False) for k in range(3))
    return (0.2989 * r + 0.587 * g + 0.114 * b).astype(array.dtype)[..., None, :, :]


def _rgb2hsv(img: np.ndarray) -> np.ndarray:
    r, g, b = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    maxc, minc = img.max(axis=-3), img.min(axis=-3)
    eqc = maxc == minc
    cr = maxc - minc
    ones = np.ones_like(maxc)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = cr / np.where(eqc, ones, maxc)
        cr_divisor = np.where(eqc, ones, cr)
        rc, gc, bc = (maxc - r) / cr_divisor, (maxc - g) / cr_divisor, (maxc - b) / cr_divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = np.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return np.stack((h, s, maxc), axis=-3)


def _hsv2rgb(img: np.ndarray) -> np.ndarray:
    h, s, v = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    i = np.floor(h * 6.0)
    f = (h * 6.0) - i
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    sector = i.astype(np.int32) % 6
    return np.stack([np.choose(sector, planes) for planes in
                     ((v, q, p, p, t, v), (t, v, v, q, p, p), (p, p, t, v, v, q))], axis=-3)


# ---------------------------------------------------------------------------- grayscale
def to_grayscale(img: Any, num_output_channels: int = 1) -> Any:
    """A PIL image of any mode as grayscale (PIL's 'L' conversion): mode 'L', or 'RGB' with r = g = b."""
    if not is_pil(img):
        raise TypeError("Input should be PIL Image")
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    from PIL import Image

    gray = img.convert("L")
    return gray if num_output_channels == 1 else Image.merge("RGB", (gray, gray, gray))


def rgb_to_grayscale(img: Any, num_output_channels: int = 1) -> Any:
    """An RGB image as grayscale: (..., 1, H, W) luma ``0.2989 R + 0.587 G + 0.114 B`` in the image's dtype
    (truncated), repeated to 3 channels when ``num_output_channels`` is 3; PIL images as to_grayscale."""
    if is_pil(img):
        return to_grayscale(img, num_output_channels)
    array = image_array(img, "rgb_to_grayscale", min_ndim=3)
    _channels(array)
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    gray = _gray(array)
    if num_output_channels == 3:  # torchvision expands to the input's shape (a 1-channel input stays 1-channel)
        gray = np.ascontiguousarray(np.broadcast_to(gray, array.shape))
    return like(gray, img)


# ---------------------------------------------------------------------------- blends
def _enhance(img: Any, factor: float, name: str, enhancer: str, degenerate: Callable[[np.ndarray], Any]) -> Any:
    """torchvision's ``adjust_<name>``: a PIL image through ImageEnhance.<enhancer>; an array
    (``factor`` >= 0) blended by ``factor`` with ``degenerate(array)``, or returned unchanged
    when that is None."""
    if is_pil(img):
        from PIL import ImageEnhance

        return getattr(ImageEnhance, enhancer)(img).enhance(factor)
    if factor < 0:
        raise ValueError(f"{name}_factor ({factor}) is not non-negative.")
    array = image_array(img, f"adjust_{name}")
    other = degenerate(array)
    return img if other is None else like(_blend(array, other, factor), img)


def _black(array: np.ndarray) -> np.ndarray:
    _channels(array)
    return np.zeros_like(array)


def _mean_gray(array: np.ndarray) -> np.ndarray:
    """The mean gray level of each image, (..., 1, 1, 1), in the working dtype."""
    gray = _gray(array) if _channels(array) == 3 else array
    axes = tuple(range(-min(3, array.ndim), 0))
    return np.mean(gray, axis=axes, keepdims=True, dtype=np.float64).astype(work_dtype(array.dtype))


def _gray_of_color(array: np.ndarray) -> np.ndarray | None:
    return None if _channels(array) == 1 else _gray(array)


def _smoothed(array: np.ndarray) -> np.ndarray | None:
    """The image smoothed by torchvision's 3x3 kernel (borders kept); None for images too small."""
    _channels(array)
    if array.shape[-1] <= 2 or array.shape[-2] <= 2:
        return None
    dtype = work_dtype(array.dtype)
    kernel = np.ones((3, 3), dtype=dtype)
    kernel[1, 1] = 5.0
    kernel /= kernel.sum()
    degenerate = array.copy()
    degenerate[..., 1:-1, 1:-1] = cast_back(correlate2d(array.astype(dtype, copy=False), kernel), array.dtype)
    return degenerate


def adjust_brightness(img: Any, brightness_factor: float) -> Any:
    """``img * brightness_factor`` clamped to the dtype's range (0 gives black, 1 the original)."""
    return _enhance(img, brightness_factor, "brightness", "Brightness", _black)


def adjust_contrast(img: Any, contrast_factor: float) -> Any:
    """``img`` blended with its mean gray level (per image): 0 gives solid gray, 1 the original."""
    return _enhance(img, contrast_factor, "contrast", "Contrast", _mean_gray)


def adjust_saturation(img: Any, saturation_factor: float) -> Any:
    """``img`` blended with its grayscale: 0 gives black and white, 1 the original; 1-channel images unchanged."""
    return _enhance(img, saturation_factor, "saturation", "Color", _gray_of_color)


def adjust_sharpness(img: Any, sharpness_factor: float) -> Any:
    """``img`` blended with its 3x3 smoothed version (borders kept): 0 blurs, 1 is the original, 2 sharpens."""
    return _enhance(img, sharpness_factor, "sharpness", "Sharpness", _smoothed)


# ---------------------------------------------------------------------------- hue and gamma
def adjust_hue(img: Any, hue_factor: float) -> Any:
    """``img`` with its HSV hue shifted cyclically by ``hue_factor`` (in [-0.5, 0.5]); 1-channel images
    (and PIL modes L, 1, I, F) unchanged."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if is_pil(img):
        from PIL import Image

        if img.mode in {"L", "1", "I", "F"}:
            return img
        h, s, v = img.convert("HSV").split()
        np_h = np.array(h, dtype=np.uint8)
        np_h += np.int32(hue_factor * 255).astype(np.uint8)  # wraps around, as intended
        return Image.merge("HSV", (Image.fromarray(np_h), s, v)).convert(img.mode)
    array = image_array(img, "adjust_hue")
    if _channels(array) == 1:
        return img
    hsv = _rgb2hsv(convert_array_dtype(array, np.float32))
    hsv[..., 0, :, :] = (hsv[..., 0, :, :] + hue_factor) % 1.0
    return like(convert_array_dtype(_hsv2rgb(hsv), array.dtype), img)


def adjust_gamma(img: Any, gamma: float, gain: float = 1) -> Any:
    """Gamma correction ``gain * img ** gamma`` on [0, 1]-scaled intensities, clamped, in the image's dtype."""
    if is_pil(img):
        if gamma < 0:
            raise ValueError("Gamma should be a non-negative real number")
        mode = img.mode
        gamma_map = [int((255 + 1 - 1e-3) * gain * pow(ele / 255.0, gamma)) for ele in range(256)] * 3
        return img.convert("RGB").point(gamma_map).convert(mode)
    array = image_array(img, "adjust_gamma")
    _channels(array)
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    result = array if array.dtype.kind == "f" else convert_array_dtype(array, np.float32)
    result = np.clip(gain * result ** result.dtype.type(gamma), 0, 1)
    return like(convert_array_dtype(result, array.dtype), img)


# ---------------------------------------------------------------------------- point operations
def invert(img: Any) -> Any:
    """``max - img`` (255 for uint8, 1 for floating images)."""
    if is_pil(img):
        from PIL import ImageOps

        return ImageOps.invert(img)
    array = image_array(img, "invert", min_ndim=3)
    _channels(array)
    return like(np.asarray(max_value(array.dtype), dtype=array.dtype) - array, img)


def posterize(img: Any, bits: int) -> Any:
    """A uint8 image with only the top ``bits`` (0-8) bits of each value kept."""
    if not 0 <= bits <= 8:
        raise ValueError(f"The number if bits should be between 0 and 8. Got {bits}")
    if is_pil(img):
        from PIL import ImageOps

        return ImageOps.posterize(img, bits)
    array = image_array(img, "posterize", min_ndim=3)
    if array.dtype != np.uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {array.dtype}")
    _channels(array)
    return like(array & np.uint8(-int(2 ** (8 - bits)) & 0xFF), img)


def solarize(img: Any, threshold: float) -> Any:
    """``img`` with every value at or above ``threshold`` inverted."""
    if is_pil(img):
        from PIL import ImageOps

        return ImageOps.solarize(img, threshold)
    array = image_array(img, "solarize", min_ndim=3)
    _channels(array)
    if threshold > max_value(array.dtype):
        raise TypeError("Threshold should be less than bound of img.")
    inverted = np.asarray(max_value(array.dtype), dtype=array.dtype) - array
    # compared in the dtype torch promotes to (float32 for integer images)
    return like(np.where(array >= work_dtype(array.dtype).type(threshold), inverted, array), img)


def autocontrast(img: Any) -> Any:
    """Each channel stretched linearly so its lowest value becomes 0 and its highest the dtype's maximum
    (constant channels unchanged)."""
    if is_pil(img):
        from PIL import ImageOps

        return ImageOps.autocontrast(img)
    array = image_array(img, "autocontrast", min_ndim=3)
    _channels(array)
    bound = max_value(array.dtype)
    dtype = work_dtype(array.dtype)
    minimum = array.min(axis=(-2, -1), keepdims=True).astype(dtype)
    maximum = array.max(axis=(-2, -1), keepdims=True).astype(dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = bound / (maximum - minimum)
    constant = ~np.isfinite(scale)
    minimum[constant] = 0
    scale[constant] = 1
    return like(np.clip((array - minimum) * scale, 0, bound).astype(array.dtype), img)


def _equalize_channel(chan: np.ndarray) -> np.ndarray:
    hist = np.bincount(chan.ravel(), minlength=256)
    nonzero = hist[hist != 0]
    step = int(nonzero[:-1].sum()) // 255
    if step == 0:
        return chan
    lut = (np.cumsum(hist) + step // 2) // step
    lut = np.clip(np.concatenate([[0], lut[:-1]]), 0, 255)
    return lut[chan].astype(np.uint8)


def equalize(img: Any) -> Any:
    """Each channel of a uint8 (C, H, W) or (N, C, H, W) image remapped so its histogram is near uniform."""
    if is_pil(img):
        from PIL import ImageOps

        return ImageOps.equalize(img)
    array = image_array(img, "equalize")
    if not 3 <= array.ndim <= 4:
        raise TypeError(f"Input image tensor should have 3 or 4 dimensions, but found {array.ndim}")
    if array.dtype != np.uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {array.dtype}")
    _channels(array)
    planes = array.reshape(-1, *array.shape[-2:])
    return like(np.stack([_equalize_channel(p) for p in planes]).reshape(array.shape), img)
