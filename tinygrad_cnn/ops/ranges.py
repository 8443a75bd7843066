"""Evenly spaced values as torch computes them (linspace's arithmetic, on arrays)."""

from __future__ import annotations

import numpy as np


def linspace_values(start: float, end: float, steps: int, work: np.dtype) -> np.ndarray:
    """``steps`` values from ``start`` to ``end`` (both included) in the floating dtype ``work``,
    as torch.linspace computes them: the first half counted up from start, the second down from end."""
    first, last = work.type(start), work.type(end)
    if steps == 1:
        return np.full(1, first)
    index = np.arange(steps, dtype=work)
    step = (last - first) / work.type(max(steps - 1, 1))
    return np.where(index < steps // 2, first + step * index, last - step * (work.type(steps - 1) - index))
