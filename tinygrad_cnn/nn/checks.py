"""Argument checks shared by the functional forms (nn.functional and its sibling files)."""

from __future__ import annotations

from typing import Any

from tinygrad_cnn.tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def check_tensor(op: str, name: str, value: Any) -> Tensor:
    """``value`` itself when it is a Tensor; a TypeError naming ``op`` and ``name`` otherwise."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}")
    return value


def check_reduction(op: str, reduction: str) -> str:
    """``reduction`` itself when it is "mean", "sum" or "none"; a ValueError naming ``op`` otherwise."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def check_probability(op: str, p: float) -> float:
    """A dropout probability ``p`` in [0, 1] as a float; a ValueError naming ``op`` otherwise."""
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    return float(p)
