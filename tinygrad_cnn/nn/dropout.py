"""Dropout layers as torch.nn: Dropout (elements), Dropout2d and Dropout3d (whole channels),
AlphaDropout and FeatureAlphaDropout (for SELU networks), active in training mode."""

from __future__ import annotations

from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.nn import functional_dropout as FD
from tinygrad_cnn.nn.checks import check_probability
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.tensor import Tensor


class Dropout(Module):
    """In training mode, zeroes each element with probability ``p`` and scales the rest by
    1/(1-p); in eval mode, the identity. ``inplace`` writes the result into the input."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.p = check_probability(type(self).__name__, p)
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """In training mode, zeroes each whole channel of (N, C, H, W) input with probability ``p``
    and scales the rest by 1/(1-p); in eval mode, the identity."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(Dropout):
    """In training mode, zeroes each whole channel of (N, C, D, H, W) or (C, D, H, W) input with
    probability ``p`` and scales the rest by 1/(1-p); in eval mode, the identity."""

    def forward(self, input: Tensor) -> Tensor:
        return FD.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(Dropout):
    """Dropout for SELU networks (keeps the mean and variance); see F.alpha_dropout."""

    def forward(self, input: Tensor) -> Tensor:
        return FD.alpha_dropout(input, self.p, self.training, self.inplace)


class FeatureAlphaDropout(Dropout):
    """Alpha dropout of whole channels; see F.feature_alpha_dropout."""

    def forward(self, input: Tensor) -> Tensor:
        return FD.feature_alpha_dropout(input, self.p, self.training, self.inplace)
