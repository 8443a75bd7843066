"""Dropout in functional form, as torch.nn.functional: dropout (elements), dropout2d and
dropout3d (whole channels), alpha_dropout and feature_alpha_dropout (for SELU networks).
Re-exported by ``tinygrad_cnn.nn.functional``."""

from __future__ import annotations

import math

from tinygrad_cnn import random as _random
from tinygrad_cnn.nn.checks import check_probability, check_tensor
from tinygrad_cnn.nn.functional_composed import SELU_ALPHA, SELU_SCALE
from tinygrad_cnn.ops import dropout as D
from tinygrad_cnn.tensor import Tensor


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """During training, zero each element with probability ``p`` and scale the rest by 1/(1-p);
    the identity when not ``training`` or p = 0; ``inplace`` writes the result into ``input``."""
    p = check_probability("dropout", p)
    if not training or p == 0:
        return input
    if inplace:
        return check_tensor("dropout", "input", input).apply_inplace_("dropout_", D.Dropout, p=p, inplace=True)
    return D.Dropout.apply(check_tensor("dropout", "input", input), p=p)


def _channel_dropout(op: str, input: Tensor, p: float, training: bool, inplace: bool, ranks: tuple[int, int],
                     described: str, spatial: int) -> Tensor:
    """Dropout of whole channels: the mask has one entry per (sample, channel), or per channel of
    an unbatched input, and 1 in the ``spatial`` trailing dims; ``described`` names the ``ranks``."""
    p = check_probability(op, p)
    check_tensor(op, "input", input)
    if input.ndim not in ranks:
        raise ValueError(f"{op}: expected {described} input, got shape {input.shape}")
    if not training or p == 0:
        return input
    mask_shape = input.shape[:input.ndim - spatial] + (1,) * spatial
    if inplace:
        return input.apply_inplace_(op + "_", D.Dropout, p=p, mask_shape=mask_shape, inplace=True)
    return D.Dropout.apply(input, p=p, mask_shape=mask_shape)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """During training, zero each whole channel input[n, c] of an (N, C, H, W) (or (N, C, L))
    input with probability ``p`` and scale the rest by 1/(1-p); the identity otherwise."""
    return _channel_dropout("dropout2d", input, p, training, inplace, (3, 4), "a 3-D (N, C, L) or 4-D (N, C, H, W)",
                            input.ndim - 2)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """During training, zero each whole channel of an (N, C, D, H, W) or unbatched (C, D, H, W)
    input with probability ``p`` and scale the rest by 1/(1-p); the identity otherwise."""
    return _channel_dropout("dropout3d", input, p, training, inplace, (4, 5),
                            "a 4-D (C, D, H, W) or 5-D (N, C, D, H, W)", 3)


SELU_NEGATIVE = SELU_SCALE * SELU_ALPHA  # -SELU's limit at -inf, where alpha dropout sends dropped values


def _alpha_dropout(op: str, input: Tensor, p: float, training: bool, inplace: bool, feature: bool) -> Tensor:
    p = check_probability(op, p)
    check_tensor(op, "input", input)
    if not training or p == 0:
        return input
    shape = input.shape[:2] + (1,) * (input.ndim - 2) if feature else input.shape
    keep = (_random.generator().random(shape) >= p).astype(input.dtype)
    a = 1.0 / math.sqrt((SELU_NEGATIVE ** 2 * p + 1) * (1 - p)) if p < 1 else 0.0
    shift = ((keep - 1) * SELU_NEGATIVE * a + SELU_NEGATIVE * a * p).astype(input.dtype)
    result = input * Tensor(keep * input.dtype.type(a)) + Tensor(shift)
    return input.copy_(result) if inplace else result


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """During training, dropout that keeps SELU activations' mean and variance: each element is
    set, with probability ``p``, to SELU's negative limit, then all are scaled and shifted back
    (torch's constants); the identity otherwise."""
    return _alpha_dropout("alpha_dropout", input, p, training, inplace, feature=False)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """alpha_dropout of whole channels (dim 1) instead of single elements."""
    return _alpha_dropout("feature_alpha_dropout", input, p, training, inplace, feature=True)
