"""Argument checks shared by the functional forms (nn.functional and its sibling files)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np

from tinygrad_cnn.argcheck import Padding
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


@contextmanager
def runtime_errors() -> Iterator[None]:
    """Turn the shared argument rules' ValueError (argcheck, ops.pool.pool_arguments: the layer
    constructors raise it, as torch's do) into the RuntimeError torch's functional ops raise for
    the same values (a zero stride, a negative padding, a window larger than the input)."""
    try:
        yield
    except ValueError as exc:
        raise RuntimeError(str(exc)) from None


def check_conv2d_shapes(shape: tuple[int, ...], weight_shape: tuple[int, ...], bias_shape: tuple[int, ...] | None,
                        padding: Padding, dilation: tuple[int, int], groups: int) -> None:
    """RuntimeError (torch's type) naming conv2d, the argument and the shapes when a batched
    input (N, C, H, W), weight (OC, C/groups, KH, KW) and bias (OC,) do not fit together or the
    kernel (dilated) is larger than the padded input."""
    if len(weight_shape) != 4:
        raise RuntimeError(f"conv2d: weight must be 4-D (out_channels, in_channels/groups, KH, KW), "
                           f"got shape {weight_shape}")
    out_channels, group_channels, kh, kw = weight_shape
    if out_channels % groups:
        raise RuntimeError(f"conv2d: groups={groups} must divide the weight's {out_channels} output channels "
                           f"(weight {weight_shape})")
    if shape[1] != group_channels * groups:
        raise RuntimeError(f"conv2d: input {shape} has {shape[1]} channels but weight {weight_shape} expects "
                           f"{group_channels * groups} (groups={groups})")
    if bias_shape is not None and bias_shape != (out_channels,):
        raise RuntimeError(f"conv2d: bias shape {bias_shape} must be ({out_channels},) for weight {weight_shape}")
    if shape[0] and shape[1] and 0 in shape[2:]:
        raise RuntimeError(f"conv2d: only a zero batch or zero channels may be empty, got input shape {shape}")
    if padding == "same":  # pads to fit any kernel
        return
    pads = (0, 0) if padding == "valid" else padding
    padded = (shape[2] + 2 * pads[0], shape[3] + 2 * pads[1])
    effective = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    if effective[0] > padded[0] or effective[1] > padded[1]:
        raise RuntimeError(f"conv2d: kernel {(kh, kw)} (dilation {dilation}, effective {effective}) is larger than "
                           f"the padded input {padded} (input {shape}, padding {tuple(pads)})")


def check_pool_input(op: str, shape: tuple[int, ...]) -> None:
    """torch's pooling input rule: (C, H, W) or (N, C, H, W) with only N allowed to be 0; raises
    torch's types (IndexError for avg_pool2d of fewer than 3 dims, else RuntimeError) naming ``op``."""
    if len(shape) not in (3, 4):
        error = IndexError if op == "avg_pool2d" and len(shape) < 3 else RuntimeError
        raise error(f"{op}: input must be 3-D (C, H, W) or 4-D (N, C, H, W), got shape {shape}")
    if 0 in shape[-3:]:
        raise RuntimeError(f"{op}: only the batch dimension may be 0, got input shape {shape}")


def check_linear_shapes(shape: tuple[int, ...], weight_shape: tuple[int, ...],
                        bias_shape: tuple[int, ...] | None) -> tuple[int, ...]:
    """The output shape of linear(input, weight, bias): input (*, in_features), weight
    (out_features, in_features) or (in_features,) without bias, bias broadcastable to the output; a
    RuntimeError (torch's type) naming linear and the shapes otherwise."""
    if not shape or not weight_shape:
        raise RuntimeError(f"linear: both input and weight need at least 1 dimension, got input shape {shape} "
                           f"and weight shape {weight_shape}")
    if len(weight_shape) > 2:
        raise RuntimeError(f"linear: weight must be 2-D (out_features, in_features) or 1-D, got shape {weight_shape}")
    if shape[-1] != weight_shape[-1]:
        raise RuntimeError(f"linear: input shape {shape} does not match weight shape {weight_shape} "
                           f"(input's last dim must equal in_features={weight_shape[-1]})")
    out = shape[:-1] + weight_shape[:-1]
    if bias_shape is not None and len(weight_shape) == 1:
        raise RuntimeError(f"linear: a 1-D weight {weight_shape} takes no bias (torch's addmm needs a 2-D weight), "
                           f"got bias shape {bias_shape}")
    if bias_shape is not None:
        try:
            fits = np.broadcast_shapes(out, bias_shape) == out
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(f"linear: bias shape {bias_shape} does not broadcast to the output shape {out} "
                               f"(weight {weight_shape})")
    return out
