"""The estimator's input rules: numbers, labels as class indices, and the shape of one sample."""

from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

import numpy as np


def is_real(value: Any) -> bool:
    """True for a real number that is not a bool (Python or NumPy)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def encode_labels(classes: np.ndarray, y: np.ndarray, what: str = "y") -> np.ndarray:
    """Labels as indices into ``classes`` (sorted); a label not among them is an error."""
    index = np.searchsorted(classes, y)
    known = (index < len(classes)) & (classes[np.minimum(index, len(classes) - 1)] == y)
    if not known.all():
        unseen = np.unique(np.asarray(y)[~known])
        raise ValueError(f"CNNClassifier: {what} has labels not among classes_ {classes.tolist()}: {unseen.tolist()}")
    return index.astype(np.int64)


def infer_input_shape(input_shape: Sequence[int] | None, sample_shape: tuple[int, ...] | None,
                      n_features: int) -> tuple[int, int, int]:
    """One sample's (C, H, W): ``input_shape`` when given, else the sample shape of 3-D/4-D X,
    else 1xSxS for S*S features, else a 1x1xF strip."""
    if input_shape is not None:
        shape = tuple(int(s) for s in input_shape)
        if len(shape) == 2:
            shape = (1,) + shape
        if len(shape) != 3 or min(shape) < 1 or math.prod(shape) != n_features:
            raise ValueError(
                f"CNNClassifier: input_shape {input_shape!r} must be (C, H, W) or (H, W) of positive sizes "
                f"holding the {n_features} features of each sample"
            )
        return shape  # type: ignore[return-value]
    if sample_shape is not None:
        if len(sample_shape) > 3:
            raise ValueError(
                f"CNNClassifier: X must be (N, F), (N, H, W) or (N, C, H, W), got samples of shape {sample_shape}"
            )
        return (1,) * (3 - len(sample_shape)) + tuple(sample_shape)  # type: ignore[return-value]
    side = math.isqrt(n_features)
    return (1, side, side) if side * side == n_features else (1, 1, n_features)
