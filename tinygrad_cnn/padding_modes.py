"""F.pad's non-constant modes, as torch's: "reflect" (mirrored about the edge, the edge not
repeated), "replicate" (the edge repeated) and "circular" (wrapped around). Each padded dim is
an index_select of the input with the indices each mode reads, so the gradient adds back into
the elements read. torch pads 1, 2 or 3 trailing dims this way, of inputs with one or two dims
more (a batch and/or a channel dim)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from tinygrad_cnn.tensor import Tensor

MODES = ("reflect", "replicate", "circular")


def _source_indices(mode: str, size: int, before: int, after: int) -> np.ndarray:
    """Which input positions the ``before + size + after`` positions of a padded dim read."""
    positions = np.arange(-before, size + after)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    if mode == "circular":
        return positions % size
    period = 2 * (size - 1)  # reflect: ... 2 1 | 0 1 2 ... n-1 | n-2 n-3 ...
    folded = np.abs(positions) % period if period else np.zeros_like(positions)
    return np.where(folded < size, folded, period - folded)


def _check(mode: str, shape: tuple[int, ...], pad: Sequence[int]) -> None:
    dims = len(pad) // 2
    if len(pad) % 2 or dims not in (1, 2, 3) or len(shape) not in (dims + 1, dims + 2):
        raise NotImplementedError(f"pad: padding size {len(pad)} is not supported for {len(shape)}D input tensor "
                                  f"in mode {mode!r}: {2 * dims} padding values pad the last {dims} dims of a "
                                  f"{dims + 1}D or {dims + 2}D input")
    for i in range(dims):
        before, after = int(pad[2 * i]), int(pad[2 * i + 1])
        size = shape[len(shape) - 1 - i]
        if min(before, after) < 0:
            raise NotImplementedError(f"pad: negative padding {tuple(pad)} is not supported in mode {mode!r}")
        if mode == "reflect" and max(before, after) >= size:
            raise RuntimeError(f"pad: Padding size should be less than the corresponding input dimension, but got: "
                               f"padding ({before}, {after}) at dimension {len(shape) - 1 - i} of input {list(shape)}")
        if mode == "circular" and max(before, after) > size:
            raise RuntimeError(f"pad: Padding value causes wrapping around more than once (padding ({before}, "
                               f"{after}) of a dimension of size {size}, input {list(shape)})")
        if mode == "replicate" and size == 0:
            raise RuntimeError(f"pad: cannot replicate the edge of an empty dimension (input {list(shape)})")


def pad_by_mode(input: Tensor, pad: Sequence[int], mode: str) -> Tensor:
    """``input`` padded in ``mode`` (one of MODES): ``pad`` lists (before, after) pairs from the
    last dim backwards, as torch.nn.functional.pad."""
    _check(mode, tuple(input.shape), pad)
    out = input
    for i in range(len(pad) // 2):
        dim = input.ndim - 1 - i
        out = out.index_select(dim, _source_indices(mode, input.shape[dim], int(pad[2 * i]), int(pad[2 * i + 1])))
    return out
