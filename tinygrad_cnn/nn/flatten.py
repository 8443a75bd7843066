"""Shape layers as torch.nn: Flatten (dims merged) and Unflatten (one dim split)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from tinygrad_cnn.argcheck import is_int
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.tensor import Tensor


class Flatten(Module):
    """Dims ``start_dim``..``end_dim`` merged: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Dim ``dim`` split into ``unflattened_size`` (one entry may be -1): with dim=1 and (2, 3),
    (N, 6, *) -> (N, 2, 3, *)."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        sizes = tuple(unflattened_size) if isinstance(unflattened_size, (tuple, list)) else None
        if not is_int(dim):
            raise TypeError(f"Unflatten: dim must be an int, got {dim!r}")
        if not sizes or not all(is_int(n) and (n >= 0 or n == -1) for n in sizes) or sizes.count(-1) > 1:
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints (at most one -1), "
                            f"got {unflattened_size!r}")
        self.dim = int(dim)
        self.unflattened_size = sizes

    def forward(self, input: Tensor) -> Tensor:
        if not -input.ndim <= self.dim < input.ndim:
            raise IndexError(f"Unflatten: dim {self.dim} is out of range for input of shape {tuple(input.shape)}")
        d = self.dim % input.ndim
        known = int(np.prod([n for n in self.unflattened_size if n != -1]))
        length = input.shape[d]
        if (-1 not in self.unflattened_size and known != length) or (known == 0 or length % known):
            raise RuntimeError(f"Unflatten: unflattened_size {self.unflattened_size} does not match dim {self.dim} "
                               f"of size {length} in input of shape {tuple(input.shape)}")
        return input.reshape(input.shape[:d] + self.unflattened_size + input.shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
