"""Argument rules, written once (PyTorch's ``_pair``/``_single`` in torch/nn/modules/utils.py
are the model): every public function checks its integer and pair arguments through these.

Each takes the value, the argument's name and the op (or class) it belongs to, and raises
an error naming all three. Booleans are never integers here (``StepLR(step_size=True)`` is
refused); NumPy integers are (``StepLR(np.int64(3))`` is accepted).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.function import variable_type

IntPair = int | tuple[int, int]
Padding = IntPair | str


def is_int(value: Any) -> bool:
    """True for Python and NumPy integers, False for bools and everything else."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def integer(value: Any, name: str, op: str, minimum: int | None = None) -> int:
    """``value`` as an int (at least ``minimum`` when given): TypeError if it is not an
    integer, ValueError if it is too small."""
    if not is_int(value):
        raise TypeError(f"{op}: {name} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return int(value)


def positive_int(value: Any, name: str, op: str) -> int:
    """``value`` as an int >= 1 (sizes, counts, steps); ValueError naming it otherwise."""
    if not is_int(value) or value < 1:
        raise ValueError(f"{op}: {name} must be a positive integer, got {value!r}")
    return int(value)


def pair(value: Any, name: str, op: str) -> tuple[int, int]:
    """``value`` (an int or a pair of ints) as a pair; TypeError naming ``op`` and ``name`` otherwise."""
    if is_int(value):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(is_int(v) for v in value):
        return int(value[0]), int(value[1])
    raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")


def positive_pair(value: Any, name: str, op: str) -> tuple[int, int]:
    """``value`` (an int or a pair) as a pair of ints >= 1 (kernel sizes, strides, dilations)."""
    result = pair(value, name, op)
    if min(result) < 1:
        raise ValueError(f"{op}: {name} must be >= 1, got {result}")
    return result


def nonnegative_pair(value: Any, name: str, op: str) -> tuple[int, int]:
    """``value`` (an int or a pair) as a pair of ints >= 0 (paddings)."""
    result = pair(value, name, op)
    if min(result) < 0:
        raise ValueError(f"{op}: {name} must be >= 0, got {result}")
    return result


def padding_arg(padding: Any, stride: tuple[int, int], op: str) -> Padding:
    """A convolution's ``padding`` checked: "valid", "same" (stride 1 only) or a pair of ints >= 0."""
    if not isinstance(padding, str):
        return nonnegative_pair(padding, "padding", op)
    if padding not in ("valid", "same"):
        raise ValueError(f"{op}: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    if padding == "same" and stride != (1, 1):
        raise ValueError(f"{op}: padding='same' is not supported for strided convolutions (stride={stride})")
    return padding


class DimensionError(IndexError, ValueError):
    """A dim out of range: torch's IndexError, and the ValueError the reductions here raised first."""


def out_of_range(dim: int, ndim: int, op: str) -> DimensionError:
    """The error for ``dim`` outside the ``ndim`` dims of a tensor (a 0-D tensor has one), in torch's words."""
    n = max(ndim, 1)
    return DimensionError(f"{op}: dim {dim} is out of range for a tensor of {ndim} dimension(s): Dimension out of "
                          f"range (expected to be in range of [{-n}, {n - 1}], but got {dim})")


def dim_arg(dim: Any, ndim: int, op: str) -> int:
    """``dim`` as a non-negative axis of a tensor of ``ndim`` dims (a 0-D tensor has the axis
    0, also called -1); DimensionError (an IndexError, as torch's) when it is out of range."""
    n = max(ndim, 1)
    if not is_int(dim):
        raise TypeError(f"{op}: dim must be an integer, got {dim!r}")
    if not -n <= dim < n:
        raise out_of_range(dim, ndim, op)
    return int(dim) % n


def tensor_arg(value: Any, name: str, op: str) -> Any:
    """``value`` when it is a Tensor; TypeError in torch's words ("{op}(): argument '{name}' must be
    Tensor, not int") otherwise."""
    if not isinstance(value, variable_type()):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(value).__name__}")
    return value
