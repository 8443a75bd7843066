"""torchvision's geometric functionals: resize, pad, crop, center_crop, flips, rotate, affine,
resized_crop, five_crop and ten_crop.

PIL images go through PIL's own operations (as torchvision's PIL backend). Arrays are
cropped, padded, flipped and nearest/bilinear-resized in NumPy; their rotations, affine warps
and remaining resizes run plane by plane through PIL's float ('F') images, so an array and the
PIL image of the same pixels come out alike.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

import numpy as np

from tinygrad_cnn.vision.transforms.image import (
    PIL_CODES, InterpolationMode, array_fills, as_array, get_dimensions, interpolation_mode, is_pil, like,
    pil_fill, planes_via_pil,
)


def resized_output_size(height: int, width: int, size: int | Sequence[int],
                        max_size: int | None = None) -> tuple[int, int]:
    """torchvision's (new_height, new_width) for ``resize``: an int (or 1-sequence) ``size`` sets the
    smaller edge, keeping the aspect ratio, with the longer edge capped at ``max_size``."""
    if isinstance(size, Sequence) and len(size) == 2:
        if max_size is not None:
            raise ValueError("max_size should only be passed if size specifies the length of the smaller edge, "
                             "i.e. size should be an int or a sequence of length 1 in torchscript mode.")
        return int(size[0]), int(size[1])
    requested = int(size if isinstance(size, numbers.Integral) else size[0])
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = requested, int(requested * long / short)
    if max_size is not None:
        if max_size <= requested:
            raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size for the "
                             f"smaller edge size = {size}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_long, new_short) if width <= height else (new_short, new_long)


def _nearest_axis(n_in: int, n_out: int, exact: bool) -> np.ndarray:
    """Source indices of a nearest resample, rounded as torch's kernel: a float32 scale, and
    ``floor(i * scale)`` in float32 (nearest) or ``floor(float32((i + 0.5) * scale))`` (nearest-exact)."""
    scale = np.float32(n_in) / np.float32(n_out)
    if exact:
        src = ((np.arange(n_out) + 0.5) * np.float64(scale)).astype(np.float32)
    else:
        src = np.arange(n_out, dtype=np.float32) * scale
    return np.minimum(np.floor(src).astype(np.int64), n_in - 1)


def _linear_axis(n_in: int, n_out: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices and weights of a half-pixel linear resample (torch's align_corners=False)."""
    src = np.maximum((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0.0)
    i0 = np.minimum(src.astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, (src - i0).astype(dtype)


def resize(img: Any, size: int | Sequence[int], interpolation: InterpolationMode = InterpolationMode.BILINEAR,
           max_size: int | None = None, antialias: bool | None = True) -> Any:
    """``img`` resized to ``size`` ((h, w), or the smaller edge for an int) with ``interpolation``.

    Arrays: NEAREST picks ``floor(i * in / out)`` and NEAREST_EXACT ``floor((i + 0.5) * in / out)``
    (torch's interpolate, its float32 rounding included), BILINEAR without antialias is torch's
    half-pixel bilinear; other modes (and antialiased bilinear) resample each plane with PIL in
    float32, which antialiases as torchvision's ``antialias=True`` does.
    """
    interpolation = interpolation_mode(interpolation)
    _, height, width = get_dimensions(img)
    new_h, new_w = resized_output_size(height, width, size, max_size)
    if is_pil(img):
        return img if (new_h, new_w) == (height, width) else img.resize((new_w, new_h), PIL_CODES[interpolation])
    array = as_array(img, "resize")
    if interpolation in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT):
        exact = interpolation is InterpolationMode.NEAREST_EXACT
        rows, cols = _nearest_axis(height, new_h, exact), _nearest_axis(width, new_w, exact)
        return like(array[..., rows[:, None], cols[None, :]], img)
    if interpolation is InterpolationMode.BILINEAR and not antialias:
        x = array if array.dtype.kind == "f" else array.astype(np.float32)
        r0, r1, fr = _linear_axis(height, new_h, x.dtype)
        c0, c1, fc = _linear_axis(width, new_w, x.dtype)
        rows = x[..., r0, :] * (1 - fr[:, None]) + x[..., r1, :] * fr[:, None]
        out = rows[..., c0] * (1 - fc) + rows[..., c1] * fc
        if array.dtype.kind in "iu":
            info = np.iinfo(array.dtype)
            out = np.clip(np.round(out), info.min, info.max)
        return like(out.astype(array.dtype), img)
    code = PIL_CODES[interpolation]
    return like(planes_via_pil(array, lambda plane, _: plane.resize((new_w, new_h), code)), img)


def _padding_ltrb(padding: int | Sequence[int]) -> tuple[int, int, int, int]:
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        return (int(padding),) * 4
    if not isinstance(padding, Sequence) or not all(isinstance(p, numbers.Integral) for p in padding):
        raise TypeError(f"Got inappropriate padding arg: {padding!r}")
    if len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")
    if len(padding) == 1:
        return (int(padding[0]),) * 4
    if len(padding) == 2:
        return int(padding[0]), int(padding[1]), int(padding[0]), int(padding[1])
    return tuple(int(p) for p in padding)


_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


def _pad_array(array: np.ndarray, ltrb: tuple[int, int, int, int], fills: list[float], mode: str) -> np.ndarray:
    """Pad the last two axes of (..., [C,] H, W) ``array`` by (left, top, right, bottom); a constant
    pad takes ``fills`` (one value, or one per channel)."""
    left, top, right, bottom = ltrb
    if mode != "constant":
        widths = [(0, 0)] * (array.ndim - 2) + [(top, bottom), (left, right)]
        return np.pad(array, widths, mode=mode)
    h, w = array.shape[-2:]
    out = np.empty(array.shape[:-2] + (top + h + bottom, left + w + right), dtype=array.dtype)
    if len(fills) > 1:
        if array.ndim < 3 or array.shape[-3] != len(fills):
            raise ValueError(f"pad: fill has {len(fills)} values for an image of shape {tuple(array.shape)}")
        out[...] = np.asarray(fills).reshape(-1, 1, 1).astype(array.dtype)
    else:
        out[...] = np.asarray(fills[0]).astype(array.dtype)
    out[..., top:top + h, left:left + w] = array
    return out


def pad(img: Any, padding: int | Sequence[int], fill: Any = 0, padding_mode: str = "constant") -> Any:
    """``img`` padded by ``padding`` (int, (left/right, top/bottom) or (left, top, right, bottom)) with
    ``fill`` (constant mode) or by ``padding_mode`` 'edge', 'reflect' or 'symmetric'."""
    ltrb = _padding_ltrb(padding)
    if padding_mode not in _PAD_MODES:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    if min(ltrb) < 0:
        raise ValueError(f"pad: negative padding {padding!r} is not supported")
    if not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError(f"Got inappropriate fill arg: {fill!r}")
    if is_pil(img):
        from PIL import Image

        fills = pil_fill(fill, img)
        if padding_mode == "constant" and img.mode != "P":
            left, top, right, bottom = ltrb
            out = Image.new(img.mode, (img.width + left + right, img.height + top + bottom), fills)
            out.paste(img, (left, top))
            return out
        fills = list(fills) if isinstance(fills, tuple) else [fills]
        hwc = np.array(img).reshape(img.height, img.width, -1).transpose(2, 0, 1)
        out = np.ascontiguousarray(_pad_array(hwc, ltrb, fills, padding_mode).transpose(1, 2, 0))
        out = Image.frombytes(img.mode, (out.shape[1], out.shape[0]), out.tobytes())
        if img.mode == "P":
            out.putpalette(img.getpalette())
        return out
    return like(_pad_array(as_array(img, "pad"), ltrb, array_fills(fill), padding_mode), img)


def crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    """The ``height`` x ``width`` window of ``img`` at (``top``, ``left``), zero-padded where it leaves the image."""
    if is_pil(img):
        return img.crop((left, top, left + width, top + height))
    array = as_array(img, "crop")
    h, w = array.shape[-2:]
    ltrb = (max(0, -left), max(0, -top), max(0, left + width - w), max(0, top + height - h))
    if any(ltrb):
        array = _pad_array(array, ltrb, [0.0], "constant")
        top, left = top + ltrb[1], left + ltrb[0]
    return like(array[..., top:top + height, left:left + width], img)


def center_crop(img: Any, output_size: int | Sequence[int]) -> Any:
    """The central ``output_size`` ((h, w) or int) window of ``img``, zero-padded when the image is smaller."""
    if isinstance(output_size, numbers.Integral):
        crop_h = crop_w = int(output_size)
    else:
        crop_h, crop_w = (output_size[0], output_size[0]) if len(output_size) == 1 else output_size[:2]
    _, h, w = get_dimensions(img)
    if crop_w > w or crop_h > h:
        ltrb = ((crop_w - w) // 2 if crop_w > w else 0, (crop_h - h) // 2 if crop_h > h else 0,
                (crop_w - w + 1) // 2 if crop_w > w else 0, (crop_h - h + 1) // 2 if crop_h > h else 0)
        img = pad(img, list(ltrb), fill=0)
        _, h, w = get_dimensions(img)
        if crop_w == w and crop_h == h:
            return img
    return crop(img, int(round((h - crop_h) / 2.0)), int(round((w - crop_w) / 2.0)), crop_h, crop_w)


def hflip(img: Any) -> Any:
    """``img`` mirrored left to right."""
    if is_pil(img):
        from PIL import Image

        return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return like(np.ascontiguousarray(as_array(img, "hflip")[..., ::-1]), img)


def vflip(img: Any) -> Any:
    """``img`` mirrored top to bottom."""
    if is_pil(img):
        from PIL import Image

        return img.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    return like(np.ascontiguousarray(as_array(img, "vflip")[..., ::-1, :]), img)


def rotate(img: Any, angle: float, interpolation: InterpolationMode = InterpolationMode.NEAREST,
           expand: bool = False, center: Sequence[int] | None = None, fill: Any = None) -> Any:
    """``img`` rotated ``angle`` degrees counter-clockwise about ``center`` (default the image centre);
    ``expand`` grows the output to hold the whole rotated image; uncovered pixels get ``fill``."""
    code = PIL_CODES[interpolation_mode(interpolation)]
    centre = None if center is None else tuple(center)
    if is_pil(img):
        return img.rotate(angle, code, expand, centre, fillcolor=pil_fill(fill, img))
    return like(planes_via_pil(as_array(img, "rotate"), lambda plane, f: plane.rotate(
        angle, code, expand, centre, fillcolor=f), array_fills(fill)), img)


def inverse_affine_matrix(center: Sequence[float], angle: float, translate: Sequence[float], scale: float,
                          shear: Sequence[float]) -> list[float]:
    """torchvision's 6-value inverse matrix (output -> input pixel) of rotation by ``angle`` and ``shear``
    (degrees), ``scale`` and ``translate`` about ``center``."""
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    matrix = [x / scale for x in (d, -b, 0.0, -c, a, 0.0)]
    matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty) + cx
    matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty) + cy
    return matrix


def affine(img: Any, angle: float, translate: Sequence[float], scale: float, shear: float | Sequence[float],
           interpolation: InterpolationMode = InterpolationMode.NEAREST, fill: Any = None,
           center: Sequence[int] | None = None) -> Any:
    """``img`` rotated by ``angle``, translated by ``translate`` pixels, scaled and sheared (degrees) about
    ``center`` (default the image centre), size kept; uncovered pixels get ``fill``."""
    if not isinstance(translate, Sequence) or len(translate) != 2:
        raise ValueError(f"Argument translate should be a sequence of length 2, got {translate!r}")
    if scale <= 0.0:
        raise ValueError(f"Argument scale should be positive, got {scale}")
    shear = [float(shear), 0.0] if isinstance(shear, numbers.Number) else [float(s) for s in shear]
    shear = shear * 2 if len(shear) == 1 else shear
    code = PIL_CODES[interpolation_mode(interpolation)]
    _, h, w = get_dimensions(img)
    matrix = inverse_affine_matrix(center if center is not None else [w * 0.5, h * 0.5], angle,
                                   [float(t) for t in translate], scale, shear)
    if is_pil(img):
        from PIL import Image

        return img.transform(img.size, Image.Transform.AFFINE, matrix, code, fillcolor=pil_fill(fill, img))

    def warp(plane, f):
        from PIL import Image

        return plane.transform(plane.size, Image.Transform.AFFINE, matrix, code, fillcolor=f)

    return like(planes_via_pil(as_array(img, "affine"), warp, array_fills(fill)), img)


def resized_crop(img: Any, top: int, left: int, height: int, width: int, size: int | Sequence[int],
                 interpolation: InterpolationMode = InterpolationMode.BILINEAR, antialias: bool | None = True) -> Any:
    """The ``height`` x ``width`` window of ``img`` at (``top``, ``left``), resized to ``size`` as ``resize``."""
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def _crop_size(size: int | Sequence[int]) -> Sequence[int]:
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, (tuple, list)) and len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError("Please provide only two dimensions (h, w) for size.")
    return size


def five_crop(img: Any, size: int | Sequence[int]) -> tuple[Any, Any, Any, Any, Any]:
    """The four corner ``size`` ((h, w) or int) crops of ``img`` and its centre crop: (tl, tr, bl, br, center)."""
    size = _crop_size(size)
    _, image_height, image_width = get_dimensions(img)
    crop_height, crop_width = size
    if crop_width > image_width or crop_height > image_height:
        raise ValueError(f"Requested crop size {size} is bigger than input size {(image_height, image_width)}")
    bottom, right = image_height - crop_height, image_width - crop_width
    return (crop(img, 0, 0, crop_height, crop_width), crop(img, 0, right, crop_height, crop_width),
            crop(img, bottom, 0, crop_height, crop_width), crop(img, bottom, right, crop_height, crop_width),
            center_crop(img, [crop_height, crop_width]))


def ten_crop(img: Any, size: int | Sequence[int], vertical_flip: bool = False) -> tuple[Any, ...]:
    """``five_crop`` of ``img``, then ``five_crop`` of ``img`` mirrored (top to bottom when ``vertical_flip``,
    else left to right): ten images."""
    size = _crop_size(size)
    return five_crop(img, size) + five_crop(vflip(img) if vertical_flip else hflip(img), size)
