"""torchvision.utils: make_grid (the images of a batch tiled into one picture) and save_image."""

from __future__ import annotations

import io
import os
from typing import IO

import numpy as np

from tinygrad_cnn.fileio import atomic_write
from tinygrad_cnn.tensor import Tensor


def _batch(tensor: Tensor | list) -> np.ndarray:
    """``tensor`` as torchvision's make_grid reads it: a (B, C, H, W) array, one-channel images
    made three-channel, a list stacked, (C, H, W) and (H, W) images a batch of one."""
    if isinstance(tensor, list):
        if not all(isinstance(t, Tensor) for t in tensor):
            bad = next(type(t) for t in tensor if not isinstance(t, Tensor))
            raise TypeError(f"tensor or list of tensors expected, got a list containing {bad}")
        batch = np.stack([t.numpy() for t in tensor])
    elif isinstance(tensor, Tensor):
        batch = tensor.numpy()
    else:
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if batch.ndim == 2:
        batch = batch[None]
    if batch.ndim == 3:
        batch = (np.concatenate([batch] * 3) if batch.shape[0] == 1 else batch)[None]
    if batch.ndim != 4:
        raise ValueError(f"make_grid: expected a (B, C, H, W) tensor, a list of (C, H, W) or one image, "
                         f"got shape {tuple(batch.shape)}")
    return np.concatenate([batch] * 3, axis=1) if batch.shape[1] == 1 else batch


def make_grid(tensor: Tensor | list, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range: tuple[float, float] | None = None, scale_each: bool = False,
              pad_value: float = 0.0) -> Tensor:
    """A (C, H', W') image tiling the images of ``tensor`` ((B, C, H, W), a list of (C, H, W), or
    one (C, H, W) / (H, W) image), ``nrow`` per row with ``padding`` pixels of ``pad_value``
    around each, as torchvision's: one-channel images become three-channel, a single image comes
    back alone (no padding), the dtype is kept. ``normalize`` clamps to ``value_range`` (else the
    min and max; per image with ``scale_each``) and rescales that range to [0, 1]."""
    batch = _batch(tensor)
    if normalize:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
        batch = batch.copy()

        def rescale(x: np.ndarray) -> None:
            low, high = value_range if value_range is not None else (float(x.min()), float(x.max()))
            np.clip(x, low, high, out=x)
            x -= low
            x /= max(high - low, 1e-5)

        for image in (batch if scale_each else [batch]):
            rescale(image)
    if batch.shape[0] == 1:
        return Tensor(batch[0])
    n, c, h, w = batch.shape
    cols = min(nrow, n)
    rows = -(-n // cols)
    grid = np.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value, dtype=batch.dtype)
    for k in range(n):
        y, x = divmod(k, cols)
        top, left = y * (h + padding) + padding, x * (w + padding) + padding
        grid[:, top:top + h, left:left + w] = batch[k]
    return Tensor(grid)


def save_image(tensor: Tensor | list, fp: str | os.PathLike | IO[bytes], format: str | None = None,
               **kwargs) -> None:
    """Write ``make_grid(tensor, **kwargs)`` (values in [0, 1]) as an image file (PNG, JPEG, ...,
    by ``fp``'s extension or ``format``, required for a file object): each value becomes
    round(255 * v), clamped to 0..255, as torchvision's. A path is written atomically."""
    from PIL import Image

    grid = make_grid(tensor, **kwargs).numpy()
    pixels = np.clip(grid * 255 + 0.5, 0, 255).transpose(1, 2, 0).astype(np.uint8)
    image = Image.fromarray(pixels)
    if not isinstance(fp, (str, os.PathLike)):
        image.save(fp, format=format)
        return
    if format is None:  # PIL reads the format from the name: resolve it before the temporary file
        format = Image.registered_extensions().get(os.path.splitext(os.fspath(fp))[1].lower())
        if format is None:
            raise ValueError(f"save_image: unknown file extension in {os.fspath(fp)!r}; pass format=")
    buffer = io.BytesIO()
    image.save(buffer, format=format)
    atomic_write(fp, buffer.getvalue())
