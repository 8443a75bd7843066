"""Image kinds for the transforms: PIL image or (..., C, H, W) Tensor/ndarray, interpolation modes,
fill values, the plane-by-plane route of arrays through PIL's float images, and torchvision's
dtype conversion with value scaling (convert_array_dtype)."""

from __future__ import annotations

import sys
import warnings
from enum import Enum
from typing import Any, Callable, Sequence

import numpy as np

from tinygrad_cnn.tensor import Tensor


class InterpolationMode(Enum):
    """Interpolation methods, by torchvision's names and values."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# PIL's resampling codes (Image.Resampling values), so PIL need not be imported to build the table
PIL_CODES = {InterpolationMode.NEAREST: 0, InterpolationMode.NEAREST_EXACT: 0, InterpolationMode.LANCZOS: 1,
              InterpolationMode.BILINEAR: 2, InterpolationMode.BICUBIC: 3, InterpolationMode.BOX: 4,
              InterpolationMode.HAMMING: 5}


def interpolation_mode(mode: InterpolationMode | int, name: str = "interpolation") -> InterpolationMode:
    """``mode`` as an InterpolationMode (PIL's integer codes accepted, as torchvision)."""
    if isinstance(mode, InterpolationMode):
        return mode
    if isinstance(mode, int) and not isinstance(mode, bool):
        for member, code in PIL_CODES.items():
            if code == mode and member is not InterpolationMode.NEAREST_EXACT:
                return member
    raise TypeError(f"Argument {name} should be a InterpolationMode or a corresponding Pillow integer constant, "
                    f"got {mode!r}")


# ---------------------------------------------------------------------------- image kinds
def is_pil(img: Any) -> bool:
    """Whether ``img`` is a PIL image (without importing PIL when nothing has)."""
    image = sys.modules.get("PIL.Image")
    return image is not None and isinstance(img, image.Image)


def as_array(img: Any, op: str) -> np.ndarray:
    """The (..., C, H, W) array of a Tensor or ndarray image."""
    if isinstance(img, Tensor):
        array = img.numpy()
    elif isinstance(img, np.ndarray):
        array = img
    else:
        raise TypeError(f"{op}: img should be PIL Image, Tensor or ndarray. Got {type(img)}")
    if array.ndim < 2:
        raise ValueError(f"{op}: an image array needs at least 2 dimensions (..., H, W), got shape {tuple(array.shape)}")
    return array


def like(array: np.ndarray, img: Any) -> Any:
    """``array`` as the kind of ``img``: a Tensor for a Tensor, else the ndarray itself."""
    return Tensor(array) if isinstance(img, Tensor) else array


def get_dimensions(img: Any) -> list[int]:
    """``[channels, height, width]`` of an image."""
    if is_pil(img):
        return [len(img.getbands()), img.height, img.width]
    array = as_array(img, "get_dimensions")
    return [1 if array.ndim == 2 else array.shape[-3], array.shape[-2], array.shape[-1]]


# ---------------------------------------------------------------------------- through PIL, plane by plane
def planes_via_pil(array: np.ndarray, fn: Callable, fills: Sequence[float] | None = None) -> np.ndarray:
    """``fn(plane_image, fill)`` on each (H, W) plane of ``array`` as a PIL 'F' image, restacked."""
    from PIL import Image

    lead, (h, w) = array.shape[:-2], array.shape[-2:]
    channels = array.shape[-3] if array.ndim >= 3 else 1
    fills = [0.0] if fills is None else list(fills)
    if len(fills) not in (1, channels):
        raise ValueError(f"The number of elements in 'fill' does not match the number of channels of the "
                         f"image ({len(fills)} != {channels})")
    planes = array.reshape(-1, h, w).astype(np.float32)
    out = [np.asarray(fn(Image.fromarray(plane), float(fills[k % len(fills)])), dtype=np.float32)
           for k, plane in enumerate(planes)]
    result = np.stack(out).reshape(*lead, *out[0].shape)
    if array.dtype.kind in "iu":
        info = np.iinfo(array.dtype)
        result = np.clip(np.round(result), info.min, info.max)
    return result.astype(array.dtype)


def pil_fill(fill: Any, img: Any) -> Any:
    """torchvision's _parse_fill: ``fill`` as PIL wants it for ``img``'s bands."""
    bands = len(img.getbands())
    fill = 0 if fill is None else fill
    if isinstance(fill, (int, float)) and bands > 1:
        fill = tuple([fill] * bands)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * bands
        elif len(fill) != bands:
            raise ValueError(f"The number of elements in 'fill' does not match the number of channels of the "
                             f"image ({len(fill)} != {bands})")
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
    return fill


def array_fills(fill: Any) -> list[float]:
    """``fill`` (None, a number or one value per channel) as a list of floats for an array image."""
    if fill is None:
        return [0.0]
    return [float(f) for f in fill] if isinstance(fill, (list, tuple)) else [float(fill)]


def convert_array_dtype(array: np.ndarray, dtype: Any) -> np.ndarray:
    """``array`` converted to ``dtype`` with torchvision's value scaling (ints span [0, max], floats [0, 1])."""
    dtype = np.dtype(dtype)
    if array.dtype == dtype:
        return array
    if array.dtype.kind == "f":
        if dtype.kind == "f":
            return array.astype(dtype)
        eps = 1e-3
        bound = float(np.iinfo(dtype).max)
        return (array * (bound + 1.0 - eps)).astype(dtype)
    in_max = int(np.iinfo(array.dtype).max)
    if dtype.kind == "f":
        return np.divide(array, dtype.type(in_max), dtype=dtype)
    out_max = int(np.iinfo(dtype).max)
    if in_max > out_max:
        return (array // ((in_max + 1) // (out_max + 1))).astype(dtype)
    return (array.astype(dtype) * ((out_max + 1) // (in_max + 1)))


def check_scale_ratio(scale: Any, ratio: Any) -> None:
    """torchvision's checks of a random crop's or erasure's (min, max) area ``scale`` and aspect
    ``ratio`` ranges: TypeError for a non-sequence, a warning for a (max, min) pair."""
    if not isinstance(scale, Sequence):
        raise TypeError("Scale should be a sequence")
    if not isinstance(ratio, Sequence):
        raise TypeError("Ratio should be a sequence")
    if scale[0] > scale[1] or ratio[0] > ratio[1]:
        warnings.warn("Scale and ratio should be of kind (min, max)")
