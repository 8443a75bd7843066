"""Dropout in functional form, as torch.nn.functional: dropout (elements) and dropout2d (whole
channels). Re-exported by ``tinygrad_cnn.nn.functional``."""

from __future__ import annotations

from tinygrad_cnn.nn.checks import check_probability, check_tensor
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


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """During training, zero each whole channel input[n, c] of an (N, C, H, W) (or (N, C, L))
    input with probability ``p`` and scale the rest by 1/(1-p); the identity otherwise."""
    p = check_probability("dropout2d", p)
    check_tensor("dropout2d", "input", input)
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 3-D (N, C, L) or 4-D (N, C, H, W) input, got shape {input.shape}")
    if not training or p == 0:
        return input
    mask_shape = input.shape[:2] + (1,) * (input.ndim - 2)
    if inplace:
        return input.apply_inplace_("dropout2d_", D.Dropout, p=p, mask_shape=mask_shape, inplace=True)
    return D.Dropout.apply(input, p=p, mask_shape=mask_shape)
