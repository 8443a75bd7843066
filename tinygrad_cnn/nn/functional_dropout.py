"""Dropout in functional form, as torch.nn.functional: dropout (elements), dropout2d and
dropout3d (whole channels), alpha_dropout and feature_alpha_dropout (for SELU networks).
Re-exported by ``tinygrad_cnn.nn.functional``."""

from __future__ import annotations

import math
import warnings

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


_RANK_WARNING = (
    "{op}: Received a {ndim}-D input to {op}, which is deprecated and will result in an error in a future release. "
    "To retain the behavior and silence this warning, please use dropout instead. Note that {op} exists to "
    "provide channel-wise dropout on inputs with {spatial} spatial dimensions, a channel dimension, and an optional "
    "batch dimension (i.e. {spatial_plus_one}D or {spatial_plus_two}D inputs).")
_DROPOUT2D_3D_WARNING = (
    "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is desired - "
    "input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will change in a future "
    "release to interpret the input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
    "channel-wise dropout behavior, please switch to using dropout1d instead.")


def _warn_rank(op: str, input: Tensor, spatial: int) -> None:
    """torch's deprecation warning for a channel dropout given an input of another rank than it is for."""
    if input.ndim not in (spatial + 1, spatial + 2):
        warnings.warn(_RANK_WARNING.format(op=op, ndim=input.ndim, spatial=spatial, spatial_plus_one=spatial + 1,
                                           spatial_plus_two=spatial + 2), stacklevel=3)


def channel_dropout(op: str, input: Tensor, p: float, training: bool, inplace: bool, channels: int) -> Tensor:
    """Dropout of whole channels: the mask has one entry per index of the first ``channels`` dims
    (sample and channel, or the channel of an unbatched input) and is broadcast over the rest."""
    if not training or p == 0:
        return input
    mask_shape = input.shape[:channels] + (1,) * (input.ndim - channels)
    if inplace:
        return input.apply_inplace_(op + "_", D.Dropout, p=p, mask_shape=mask_shape, inplace=True)
    return D.Dropout.apply(input, p=p, mask_shape=mask_shape)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """During training, zero each whole channel input[n, c] of an (N, C, H, W) (or (N, C, L))
    input with probability ``p`` and scale the rest by 1/(1-p); the identity otherwise. Other
    ranks from 2 up warn, as torch's, and drop input[n, c] likewise (elements of a 2-D input)."""
    p = check_probability("dropout2d", p)
    check_tensor("dropout2d", "input", input)
    _warn_rank("dropout2d", input, 2)
    if input.ndim == 3:
        warnings.warn(_DROPOUT2D_3D_WARNING, stacklevel=2)
    if training and p > 0 and input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return channel_dropout("dropout2d", input, p, training, inplace, 2)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """During training, zero each whole channel of an (N, C, D, H, W) or unbatched (C, D, H, W)
    input with probability ``p`` and scale the rest by 1/(1-p); the identity otherwise. Other
    ranks warn, as torch's, and are read as unbatched (the first dim the channels)."""
    p = check_probability("dropout3d", p)
    check_tensor("dropout3d", "input", input)
    _warn_rank("dropout3d", input, 3)
    return channel_dropout("dropout3d", input, p, training, inplace, 2 if input.ndim == 5 else 1)


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
