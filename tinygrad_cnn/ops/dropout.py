"""Dropout on arrays: elementwise (dropout) and whole channels (dropout2d, torch's feature dropout)."""

from __future__ import annotations

import numpy as np

from tinygrad_cnn import random as _random
from tinygrad_cnn.autograd import Context, Function


class Dropout(Function):
    """a * mask / (1 - p), mask ~ Bernoulli(1 - p) drawn from the package generator with shape
    ``mask_shape`` (None: a's shape; (N, C, 1, 1) drops whole channels), broadcast over a;
    the gradient is grad * mask / (1 - p). With ``inplace`` the result is written into a."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, p: float, mask_shape: tuple[int, ...] | None = None,
                inplace: bool = False) -> np.ndarray:
        shape = a.shape if mask_shape is None else mask_shape
        keep = _random.generator().random(shape, dtype=np.float32) >= np.float32(p)
        scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
        ctx.mask = keep * a.dtype.type(scale)
        return np.multiply(a, ctx.mask, out=a) if inplace else a * ctx.mask

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return grad * ctx.mask
