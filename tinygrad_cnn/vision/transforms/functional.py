"""torchvision's ``transforms.functional``: conversions, normalize, erase, the geometric and colour functions.

An image is a PIL image, a Tensor or an ndarray of shape (..., C, H, W) (only ``to_tensor``
reads ndarrays as (H, W, C)); each function returns the kind it was given.
"""

from __future__ import annotations

import functools
from typing import Any, Sequence

import numpy as np

from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.vision.transforms.blur import gaussian_blur
from tinygrad_cnn.vision.transforms.color import (
    adjust_brightness, adjust_contrast, adjust_gamma, adjust_hue, adjust_saturation, adjust_sharpness, autocontrast,
    equalize, invert, posterize, rgb_to_grayscale, solarize, to_grayscale,
)
from tinygrad_cnn.vision.transforms.geometry import (
    affine, center_crop, crop, five_crop, hflip, inverse_affine_matrix, pad, resize, resized_crop, resized_output_size,
    rotate, ten_crop, vflip,
)
from tinygrad_cnn.vision.transforms.image import (InterpolationMode, as_array, convert_array_dtype, get_dimensions,
                                                  is_pil, like)
from tinygrad_cnn.vision.transforms.pil import to_pil_image
from tinygrad_cnn.vision.transforms.warp import elastic_transform, perspective

__all__ = [
    "InterpolationMode", "affine", "center_crop", "convert_array_dtype", "convert_image_dtype", "crop", "erase",
    "get_dimensions", "hflip", "inverse_affine_matrix", "normalize", "pad", "pil_to_tensor", "resize",
    "resized_output_size", "rotate", "to_pil_image", "to_tensor", "vflip",
    "adjust_brightness", "adjust_contrast", "adjust_gamma", "adjust_hue", "adjust_saturation", "adjust_sharpness",
    "autocontrast", "elastic_transform", "equalize", "five_crop", "gaussian_blur", "invert", "perspective",
    "posterize", "resized_crop", "rgb_to_grayscale", "solarize", "ten_crop", "to_grayscale",
]


# ---------------------------------------------------------------------------- conversions
def to_tensor(pic: Any) -> Tensor:
    """A PIL image or (H, W[, C]) ndarray as a (C, H, W) Tensor: uint8 scaled to float32 in [0, 1],
    other dtypes kept (PIL 'I' -> int32, 'I;16' -> int16, 'F' -> float32, '1' -> 0/1 as float32)."""
    if is_pil(pic):
        dtypes = {"I": np.int32, "I;16": np.int16, "F": np.float32}
        if pic.mode == "1":
            array = np.array(pic, dtype=np.uint8) * np.uint8(255)
        else:  # the raw bytes are the pixels in the mode's native layout: no per-pixel conversion
            array = np.frombuffer(pic.tobytes(), dtype=dtypes.get(pic.mode, np.uint8))
        array = array.reshape(pic.height, pic.width, len(pic.getbands()))
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        array = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    chw = np.ascontiguousarray(array.transpose(2, 0, 1))
    if chw.dtype == np.uint8:
        return Tensor(np.divide(chw, np.float32(255), dtype=np.float32))
    return Tensor(np.array(chw), dtype=chw.dtype)


def pil_to_tensor(pic: Any) -> Tensor:
    """A PIL image as a (C, H, W) Tensor of its own dtype (uint8 for 'L'/'RGB'), unscaled."""
    if not is_pil(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    array = np.array(pic).reshape(pic.height, pic.width, len(pic.getbands()))
    return Tensor(np.ascontiguousarray(array.transpose(2, 0, 1)), dtype=array.dtype)


def convert_image_dtype(image: Tensor, dtype: Any = np.float32) -> Tensor:
    """A Tensor image converted to ``dtype``, its values rescaled to that dtype's range."""
    if not isinstance(image, Tensor):
        raise TypeError(f"Input img should be Tensor Image. Got {type(image)}")
    out = convert_array_dtype(image.numpy(), dtype)
    return Tensor(out, dtype=out.dtype)


@functools.lru_cache(maxsize=64)
def _channel_stats(mean: tuple, std: tuple, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """mean and std as read-only (C, 1, 1) arrays of ``dtype`` (cached: Normalize runs once per sample)."""
    mean_a = np.asarray(mean, dtype=dtype).reshape(-1, 1, 1)
    std_a = np.asarray(std, dtype=dtype).reshape(-1, 1, 1)
    if (std_a == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {dtype}, leading to division by zero.")
    mean_a.flags.writeable = std_a.flags.writeable = False
    return mean_a, std_a


def normalize(tensor: Any, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> Any:
    """``(tensor - mean[c]) / std[c]`` per channel of a float (..., C, H, W) Tensor or ndarray."""
    if not isinstance(tensor, (Tensor, np.ndarray)):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    array = as_array(tensor, "normalize")
    if array.dtype.kind != "f":
        raise TypeError(f"Input tensor should be a float tensor. Got {array.dtype}.")
    if array.ndim < 3:
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = {tuple(array.shape)}")
    mean_a, std_a = _channel_stats(tuple(np.ravel(mean)), tuple(np.ravel(std)), array.dtype)
    if mean_a.shape[0] not in (1, array.shape[-3]) or std_a.shape[0] not in (1, array.shape[-3]):
        raise ValueError(f"normalize: mean {list(mean)} and std {list(std)} must have 1 or "
                         f"{array.shape[-3]} values (the image's channels)")
    if inplace:
        np.subtract(array, mean_a, out=array)
        np.divide(array, std_a, out=array)
        return tensor
    return like((array - mean_a) / std_a, tensor)


def erase(img: Any, i: int, j: int, h: int, w: int, v: Any, inplace: bool = False) -> Any:
    """A (..., C, H, W) Tensor or ndarray with the ``h`` x ``w`` box at (``i``, ``j``) set to ``v``."""
    if not isinstance(img, (Tensor, np.ndarray)):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    array = as_array(img, "erase")
    out = array if inplace else array.copy()
    out[..., i:i + h, j:j + w] = np.asarray(v.numpy() if isinstance(v, Tensor) else v, dtype=out.dtype)
    return img if inplace else like(out, img)
