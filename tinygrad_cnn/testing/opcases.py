"""The op-registry pattern of the project's tests, public for testing new ops: an ``OpCase``
names an op, how to draw its inputs with hypothesis, and how to apply it here and in torch;
``unary``, ``reduction`` and ``distinct_one_dim`` are the common input draws. Needs hypothesis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st

from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.testing import strategies as ts
from tinygrad_cnn.testing.gradcheck import gradcheck

Draw = Callable[[st.DataObject], tuple[list[np.ndarray], dict]]

__all__ = ["OpCase", "distinct_one_dim", "reduction", "torch_dims", "unary"]


@dataclass(frozen=True)
class OpCase:
    """One op under test: ``draw`` builds (arrays, params); ``ours``/``theirs`` apply the op."""

    name: str
    draw: Draw
    ours: Callable[..., Any]
    theirs: Callable[..., Any]

    def check_gradient(self, data: st.DataObject) -> None:
        """Draw inputs and check ``ours``'s backward against finite differences (float64)."""
        arrays, params = self.draw(data)
        gradcheck(lambda *t: self.ours(*t, **params), [Tensor(a, requires_grad=True) for a in arrays])

    def check_against_torch(self, data: st.DataObject) -> None:
        """Draw inputs and check ``ours``'s forward and input gradients against ``theirs`` in torch."""
        from tinygrad_cnn.testing.oracle import check_against_torch

        arrays, params = self.draw(data)
        check_against_torch(lambda *t: self.ours(*t, **params), lambda *t: self.theirs(*t, **params), arrays)


def unary(low: float = -2.0, high: float = 2.0, min_abs: float = 0.0, distinct: bool = False) -> Draw:
    """One float64 array of 0-3 dims with values in [low, high] (|x| >= min_abs, or all distinct)."""
    def draw(data: st.DataObject) -> tuple[list[np.ndarray], dict]:
        shape = data.draw(ts.shapes(min_dims=0, max_dims=3, max_side=4))
        maker = ts.distinct_arrays(shape, low, high) if distinct else ts.arrays(shape, low, high, min_abs)
        return [data.draw(maker)], {}
    return draw


def reduction(distinct: bool = False, min_count: int = 1) -> Draw:
    """One array with ``axis`` (None, an int or a tuple) and ``keepdims`` to reduce it over."""
    def draw(data: st.DataObject) -> tuple[list[np.ndarray], dict]:
        shape = data.draw(ts.shapes(min_dims=1, max_dims=3, max_side=4, min_side=min_count))
        array = data.draw(ts.distinct_arrays(shape) if distinct else ts.arrays(shape))
        axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1) |
                         st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True)
                         .map(tuple))
        return [array], {"axis": axis, "keepdims": data.draw(st.booleans())}
    return draw


def distinct_one_dim(data: st.DataObject) -> tuple[list[np.ndarray], dict]:
    """One array of distinct values (no ties) and a ``dim`` of it."""
    shape = data.draw(ts.shapes(min_dims=1, max_dims=3, max_side=4))
    return [data.draw(ts.distinct_arrays(shape))], {"dim": data.draw(st.integers(-len(shape), len(shape) - 1))}


def torch_dims(axis: Any, ndim: int) -> Any:
    """``axis`` as torch's reductions take it: None (all dims) spelled as the tuple of all dims."""
    return tuple(range(ndim)) if axis is None else axis
