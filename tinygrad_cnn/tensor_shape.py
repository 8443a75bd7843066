"""Tensor's shape methods (reshape, view, permute, transpose, flatten, squeeze, expand,
indexing, split): a mixin of Tensor."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinygrad_cnn.ops import reduce as R
from tinygrad_cnn.ops import shape as S


def shape_arg(args: tuple) -> tuple[int, ...]:
    """``f(2, 3)`` or ``f((2, 3))`` / ``f([2, 3])`` as the tuple (2, 3)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    return tuple(int(a) for a in args)


def index_arg(index: Any) -> Any:
    """An index with its tensors replaced by their arrays (lists become arrays, as torch reads them)."""
    if isinstance(index, ShapeMixin):
        return index._array
    if isinstance(index, tuple):
        return tuple(i._array if isinstance(i, ShapeMixin) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


class ShapeMixin:
    """Views and rearrangements; gradients flow back through each."""

    _array: np.ndarray
    shape: tuple[int, ...]
    ndim: int

    # ---------------------------------------------------------------- shape
    def reshape(self, *shape: int | Sequence[int]) -> "Tensor":
        """The same values in a new shape (one dim may be -1)."""
        target = shape_arg(shape)
        known = int(np.prod([n for n in target if n != -1]))
        unknown = target.count(-1)
        fits = (unknown == 0 and known == self._array.size) or (unknown == 1 and known > 0 and self._array.size % known == 0)
        if not fits or any(n < -1 for n in target):
            raise ValueError(f"reshape: cannot reshape a tensor of shape {self.shape} into {target}")
        if unknown:
            target = tuple(self._array.size // known if n == -1 else n for n in target)
        return S.Reshape.apply(self, shape=target)

    view = reshape

    def permute(self, *dims: int | Sequence[int]) -> "Tensor":
        """Axes reordered: ``dims[i]`` is the input axis that becomes axis i."""
        order = shape_arg(dims)
        if len(order) != self.ndim or any(not -self.ndim <= d < self.ndim for d in order) \
                or sorted(d % self.ndim for d in order) != list(range(self.ndim)):
            raise ValueError(f"permute: dims {order} are not a permutation of the {self.ndim} axes of {self.shape}")
        return S.Permute.apply(self, dims=tuple(d % self.ndim for d in order))

    def transpose(self, dim0: int = 0, dim1: int = 1) -> "Tensor":
        """Axes ``dim0`` and ``dim1`` swapped."""
        order = list(range(self.ndim))
        a, b = R.normalize_axis(dim0, self.ndim, "transpose")[0], R.normalize_axis(dim1, self.ndim, "transpose")[0]
        order[a], order[b] = order[b], order[a]
        return S.Permute.apply(self, dims=tuple(order))

    @property
    def T(self) -> "Tensor":
        """All axes reversed (the matrix transpose for 2-D)."""
        return S.Permute.apply(self, dims=tuple(reversed(range(self.ndim))))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        """Dims ``start_dim``..``end_dim`` (inclusive) merged into one."""
        if self.ndim == 0:
            return self.reshape(1)
        start = R.normalize_axis(start_dim, self.ndim, "flatten")[0]
        end = R.normalize_axis(end_dim, self.ndim, "flatten")[0]
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {self.shape}")
        merged = int(np.prod(self.shape[start:end + 1]))
        return S.Reshape.apply(self, shape=self.shape[:start] + (merged,) + self.shape[end + 1:])

    def squeeze(self, dim: Dim = None) -> "Tensor":
        """Size-1 dims removed (all of them, or those of ``dim`` that have size 1)."""
        axes = R.normalize_axis(dim, self.ndim, "squeeze")
        shape = tuple(n for i, n in enumerate(self.shape) if not (i in axes and n == 1))
        return S.Reshape.apply(self, shape=shape)

    def unsqueeze(self, dim: int) -> "Tensor":
        """A size-1 dim inserted at ``dim`` (negative counts from the end of the result)."""
        d = R.normalize_axis(dim, self.ndim + 1, "unsqueeze")[0]
        return S.Reshape.apply(self, shape=self.shape[:d] + (1,) + self.shape[d:])

    def expand(self, *sizes: int | Sequence[int]) -> "Tensor":
        """A broadcast view with ``sizes`` (-1 keeps a dim); gradients are summed back."""
        target = shape_arg(sizes)
        lead = len(target) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: cannot expand shape {self.shape} to fewer dims {target}")
        resolved = tuple(self.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(target))
        if any(n != m and n != 1 for n, m in zip(self.shape, resolved[lead:])):
            raise ValueError(f"expand: shape {self.shape} cannot be expanded to {target}")
        return S.Expand.apply(self, shape=resolved)

    def __getitem__(self, index: Any) -> "Tensor":
        return S.GetItem.apply(self, index=index_arg(index))

    def split(self, split_size: int, dim: int = 0) -> tuple["Tensor", ...]:
        """Chunks of ``split_size`` along ``dim`` (the last may be shorter)."""
        d = R.normalize_axis(dim, self.ndim, "split")[0]
        n = self.shape[d]
        return tuple(self[(slice(None),) * d + (slice(i, i + split_size),)] for i in range(0, n, split_size))
