"""Hypothesis strategies for property-testing ops: shapes, and float64 arrays whose values stay
away from kinks (0 for relu/abs) and ties (max, pooling), in contiguous or strided layouts.

Hypothesis' raw float arrays are full of zeros and repeated values, so these strategies
*build* well-conditioned values instead of filtering them out with ``assume``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

LAYOUTS = ("contiguous", "transposed", "strided")


def shapes(min_dims: int = 1, max_dims: int = 4, min_side: int = 1, max_side: int = 5) -> st.SearchStrategy:
    """Array shapes (tuples of ints) with the given number of dims and side lengths."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 4,
                         max_side: int = 4) -> st.SearchStrategy:
    """A tuple of ``num_shapes`` shapes that broadcast together (size-1 dims included)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda result: result.input_shapes)


def in_layout(array: np.ndarray, layout: str) -> np.ndarray:
    """The same values as ``array`` stored ``contiguous``, ``transposed`` (reversed strides) or
    ``strided`` (every other element of a larger buffer)."""
    if layout == "contiguous":
        return np.ascontiguousarray(array)
    if layout == "transposed":
        return np.ascontiguousarray(array.T).T
    if layout == "strided":
        buffer = np.zeros(array.shape[:-1] + (2 * array.shape[-1],) if array.ndim else (), dtype=array.dtype)
        view = buffer[..., ::2] if array.ndim else buffer
        view[...] = array
        return view
    raise ValueError(f"in_layout: layout must be one of {LAYOUTS}, got {layout!r}")


@st.composite
def arrays(draw: st.DrawFn, shape: tuple[int, ...] | st.SearchStrategy, low: float = -2.0, high: float = 2.0,
           min_abs: float = 0.0, layout: str | None = None) -> np.ndarray:
    """float64 arrays of ``shape`` with values in [low, high] and |value| >= ``min_abs``
    (so relu, abs and sqrt-like ops are drawn away from their kink at 0); the layout is
    drawn from LAYOUTS unless given."""
    if isinstance(shape, st.SearchStrategy):
        shape = draw(shape)
    if low >= 0 or high <= 0:
        lo, hi = (max(low, min_abs), high) if low >= 0 else (low, min(high, -min_abs))
        out = draw(hnp.arrays(np.float64, shape, elements=st.floats(lo, hi)))
    else:
        magnitude = st.floats(min_abs, max(-low, high))
        values = draw(hnp.arrays(np.float64, shape, elements=magnitude))
        signs = draw(hnp.arrays(np.bool_, shape))
        out = np.clip(np.where(signs, values, -values), low, high)
    return in_layout(out, draw(st.sampled_from(LAYOUTS)) if layout is None else layout)


@st.composite
def distinct_arrays(draw: st.DrawFn, shape: tuple[int, ...] | st.SearchStrategy, low: float = -2.0,
                    high: float = 2.0, layout: str | None = None) -> np.ndarray:
    """float64 arrays of ``shape`` whose values are all different, at least
    (high - low) / (2 * size) apart, and never 0: no ties for max, min or pooling and no
    kink for relu. Built from a drawn permutation of evenly spaced levels."""
    if isinstance(shape, st.SearchStrategy):
        shape = draw(shape)
    size = int(np.prod(shape))
    order = draw(st.permutations(range(size))) if size else []
    step = (high - low) / max(size, 1)
    levels = low + (np.asarray(order, dtype=np.float64) + 0.5) * step
    jitter = draw(st.floats(-0.2, 0.2))
    levels = levels + jitter * step
    levels = np.where(np.abs(levels) < step / 4, levels + step / 2, levels)
    out = levels.reshape(shape)
    return in_layout(out, draw(st.sampled_from(LAYOUTS)) if layout is None else layout)
