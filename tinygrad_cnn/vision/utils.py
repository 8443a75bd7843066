"""torchvision.utils: make_grid, the images of a batch tiled into one picture."""

from __future__ import annotations

import numpy as np

from tinygrad_cnn.tensor import Tensor


def make_grid(tensor: Tensor | list, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range: tuple[float, float] | None = None, scale_each: bool = False,
              pad_value: float = 0.0) -> Tensor:
    """A (C, H', W') image tiling the images of ``tensor`` ((B, C, H, W) or a list of (C, H, W)),
    ``nrow`` per row with ``padding`` pixels of ``pad_value`` between, as torchvision's; a
    single-channel batch becomes three channels. ``normalize`` rescales to [0, 1] (by
    ``value_range``, else the min and max, per image with ``scale_each``)."""
    batch = np.stack([np.asarray(t) for t in tensor]) if isinstance(tensor, list) else np.asarray(tensor)
    if batch.ndim == 3:
        batch = batch[None]
    if batch.ndim != 4:
        raise ValueError(f"make_grid: expected a (B, C, H, W) tensor or a list of (C, H, W), got shape {batch.shape}")
    batch = batch.astype(np.float32 if batch.dtype.kind != "f" else batch.dtype)
    if batch.shape[1] == 1:
        batch = np.concatenate([batch] * 3, axis=1)
    if normalize:
        def rescale(x: np.ndarray) -> np.ndarray:
            low, high = value_range if value_range is not None else (float(x.min()), float(x.max()))
            return np.clip((x - low) / max(high - low, 1e-5), 0, 1)
        batch = np.stack([rescale(x) for x in batch]) if scale_each else rescale(batch)
    n, c, h, w = batch.shape
    cols = min(nrow, n)
    rows = -(-n // cols)
    grid = np.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value, dtype=batch.dtype)
    for k in range(n):
        y, x = divmod(k, cols)
        top, left = y * (h + padding) + padding, x * (w + padding) + padding
        grid[:, top:top + h, left:left + w] = batch[k]
    return Tensor(grid)
