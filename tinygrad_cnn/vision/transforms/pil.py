"""torchvision's to_pil_image and ToPILImage: a (C, H, W) tensor or an (H, W, C) array as a PIL image."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from tinygrad_cnn.tensor import Tensor

_CHANNEL_MODES = {2: ["LA"], 3: ["RGB", "YCbCr", "HSV"], 4: ["RGBA", "CMYK", "RGBX"]}
_DEFAULT_MODES = {2: "LA", 3: "RGB", 4: "RGBA"}


def _single_channel_mode(dtype: np.dtype) -> str | None:
    return {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16" if sys.byteorder == "little" else "I;16B",
            np.dtype(np.int32): "I", np.dtype(np.float32): "F"}.get(np.dtype(dtype))


def to_pil_image(pic: Any, mode: str | None = None) -> Any:
    """``pic`` (a (C, H, W) or (H, W) Tensor, or an (H, W, C) or (H, W) ndarray, at most 4
    channels) as a PIL image, as torchvision's: floating values are scaled by 255 and cast to
    uint8 (unless ``mode`` is "F"); the mode follows the channel count and dtype (L, LA, RGB,
    RGBA; I;16, I, F for one channel of int16, int32, float32) unless given."""
    from PIL import Image

    if isinstance(pic, Tensor):
        array = pic.detach().numpy()
        pic = array.transpose(1, 2, 0) if array.ndim == 3 else array
    elif not isinstance(pic, np.ndarray):
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if pic.ndim == 2:
        pic = pic[:, :, None]
    if pic.ndim != 3:
        raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    channels = pic.shape[-1]
    if channels > 4:
        raise ValueError(f"pic should not have > 4 channels. Got {channels} channels.")
    image = pic
    if np.issubdtype(image.dtype, np.floating) and mode != "F":
        image = (image * 255).astype(np.uint8)
    if channels == 1:
        image = image[:, :, 0]
        expected = _single_channel_mode(image.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {image.dtype}. Should be {expected}")
        mode = expected
    else:
        permitted = _CHANNEL_MODES[channels]
        if mode is not None and mode not in permitted:
            raise ValueError(f"Only modes {permitted} are supported for {channels}D inputs")
        if mode is None and image.dtype == np.uint8:
            mode = _DEFAULT_MODES[channels]
    if mode is None:
        raise TypeError(f"Input type {image.dtype} is not supported")
    height, width = image.shape[:2]
    # frombuffer reads the bytes in ``mode`` (Image.fromarray's mode argument did, before Pillow 11.3)
    return Image.frombuffer(mode, (width, height), np.ascontiguousarray(image).tobytes(), "raw", mode, 0, 1)


class ToPILImage:
    """``to_pil_image(pic, mode)`` as a transform."""

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def __call__(self, pic: Any) -> Any:
        return to_pil_image(pic, self.mode)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({'' if self.mode is None else f'mode={self.mode}'})"
