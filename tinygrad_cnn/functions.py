"""Free functions on tensors, as torch's: where, maximum, minimum, cat, stack, pad."""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from tinygrad_cnn.ops import elementwise as E
from tinygrad_cnn.ops import reduce as R
from tinygrad_cnn.ops import shape as S
from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.tensor_math import ArrayLike


def where(condition: ArrayLike, input: ArrayLike, other: ArrayLike) -> Tensor:
    """``input`` where ``condition`` is true, else ``other`` (broadcast); differentiable in both."""
    cond = np.asarray(condition.numpy() if isinstance(condition, Tensor) else condition, dtype=bool)
    a = input if isinstance(input, Tensor) else None
    b = other if isinstance(other, Tensor) else None
    like = a if a is not None else b
    if like is None:
        return Tensor(np.where(cond, input, other))
    return E.Where.apply(like._lift(input), like._lift(other), condition=cond)


def maximum(input: Tensor, other: ArrayLike) -> Tensor:
    """Elementwise maximum of two tensors (broadcast)."""
    return input.maximum(other)


def minimum(input: Tensor, other: ArrayLike) -> Tensor:
    """Elementwise minimum of two tensors (broadcast)."""
    return input.minimum(other)


def cat(tensors: Iterable[Tensor], dim: int = 0) -> Tensor:
    """Tensors joined along existing dim ``dim``; all other dims must agree."""
    items = list(tensors)
    if not items:
        raise ValueError("cat: expected a non-empty list of tensors")
    for i, t in enumerate(items):
        if t.ndim == 0:
            raise RuntimeError(f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated "
                               f"(shapes {[x.shape for x in items]}); use stack")
    d = R.normalize_axis(dim, items[0].ndim, "cat")[0]
    for t in items[1:]:
        if t.ndim != items[0].ndim or t.shape[:d] + t.shape[d + 1:] != items[0].shape[:d] + items[0].shape[d + 1:]:
            raise ValueError(f"cat: shapes {[x.shape for x in items]} differ outside dim {dim}")
    return S.Cat.apply(*items, dim=d)


def stack(tensors: Iterable[Tensor], dim: int = 0) -> Tensor:
    """Tensors of one shape joined along a new dim ``dim``."""
    items = list(tensors)
    if not items:
        raise ValueError("stack: expected a non-empty list of tensors")
    if any(t.shape != items[0].shape for t in items):
        raise ValueError(f"stack: all tensors must have one shape, got {[t.shape for t in items]}")
    d = R.normalize_axis(dim, items[0].ndim + 1, "stack")[0]
    return S.Stack.apply(*items, dim=d)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Constant padding as torch.nn.functional.pad: ``pad`` lists (left, right) pairs starting
    from the LAST dim, e.g. (1, 1, 2, 2) pads W by 1 and H by 2."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: pad {tuple(pad)} must hold (before, after) pairs for at most {input.ndim} dims")
    if any(int(p) < 0 for p in pad):
        raise ValueError(f"pad: negative padding {tuple(pad)} is not supported")
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return S.Pad.apply(input, pad_width=tuple(widths), value=value)
