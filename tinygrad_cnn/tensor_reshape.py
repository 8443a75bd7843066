"""Tensor's shape methods beyond ``tensor_shape``'s: rot90, unfold and as_strided (views),
ravel, hsplit / vsplit / dsplit, sum_to_size, and the in-place shape changes squeeze_,
unsqueeze_, t_, transpose_, swapaxes_, swapdims_ (a mixin of Tensor).

An in-place shape change gives self the array and the graph node of the out-of-place op:
self keeps its memory and version counter (bumped, as torch's), a view stays a view of its
base (the op joins its view chain). As in torch, a leaf that requires grad refuses it.
Unlike torch, two things that predate the change see self's new shape: views taken of self
(re-derived from it), and ops that consumed self: the engine reads an input's shape at
backward time, so the backward of such an op raises RuntimeError when its gradient cannot be
summed to self's new shape (a transposed or a broadcast input), where torch's gives the
gradient (squeeze_ and unsqueeze_ of an unbroadcast input keep the values' order and work)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from tinygrad_cnn.argcheck import dim_arg, is_int
from tinygrad_cnn.ops import indexing as X
from tinygrad_cnn.tensor_shape import shape_arg

if TYPE_CHECKING:
    from tinygrad_cnn.tensor import Tensor


class ReshapeMixin:
    """Rotations, windows, strided views, splits by direction, sums to a shape, and shape
    changes in place; all differentiable."""

    _array: np.ndarray
    shape: tuple[int, ...]
    ndim: int

    # ---------------------------------------------------------------- views and copies
    def rot90(self, k: int = 1, dims: Sequence[int] = (0, 1)) -> "Tensor":
        """A copy rotated by 90 degrees ``k`` times (negative: clockwise) in the plane of the
        two ``dims``, from the first towards the second, as torch.rot90."""
        dims = tuple(dims)
        if len(dims) != 2:
            raise RuntimeError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
        if self.ndim < 2:
            raise RuntimeError(f"rot90: expected total dims >= 2, but got total dims = {self.ndim}")
        first, second = (dim_arg(d, self.ndim, "rot90") for d in dims)
        if first == second:
            raise RuntimeError(f"rot90: expected rotation dims to be different, but got dim0 = {dims[0]} and "
                               f"dim1 = {dims[1]}")
        return X.Rot90.apply(self, k=int(k) % 4, dims=(first, second))

    def unfold(self, dimension: int, size: int, step: int) -> "Tensor":
        """The windows of ``size`` entries along ``dimension``, one every ``step``, as a view:
        that dim counts the (length - size) // step + 1 windows and a new last dim of ``size``
        runs through each. Windows that overlap (step < size) cannot be written into."""
        d = dim_arg(dimension, self.ndim, "unfold")
        length = self.shape[d] if self.ndim else 1
        if not is_int(size) or not 0 <= size <= length:
            raise RuntimeError(f"unfold: maximum size for tensor at dimension {d} is {length} but size is {size}")
        if not is_int(step) or step <= 0:
            raise RuntimeError(f"unfold: step is {step} but must be > 0")
        return X.Unfold.apply(self, dimension=d, size=int(size), step=int(step))

    def as_strided(self, size: Sequence[int], stride: Sequence[int], storage_offset: int | None = None) -> "Tensor":
        """The view of ``size`` whose entry (i, j, ...) is element ``storage_offset + i *
        stride[0] + j * stride[1] + ...`` of self's elements in row-major order (torch's
        storage, for a contiguous tensor; the offset counts from self's first element).
        Strides are non-negative element counts; a view that reaches an element twice is
        read-only. Self must be contiguous."""
        size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
        if len(size) != len(stride):
            raise RuntimeError(f"as_strided: mismatch in length of strides and shape, got size {list(size)} and "
                               f"stride {list(stride)}")
        if min(stride, default=0) < 0:
            raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got strides: "
                               f"{list(stride)}")
        if min(size, default=0) < 0:
            raise RuntimeError(f"as_strided: Storage size calculation overflowed with sizes={list(size)} and "
                               f"strides={list(stride)}")
        offset = 0 if storage_offset is None else int(storage_offset)
        if offset < 0:
            raise RuntimeError(f"as_strided: Tensor: invalid storage offset {offset}")
        if not self._array.flags.c_contiguous:
            raise NotImplementedError("as_strided: self must be contiguous (its elements are read in row-major "
                                      "order, which is torch's storage order only then); call .contiguous() first")
        if storage_offset is not None and self._base is not None and self._starts_inside_base():
            raise NotImplementedError("as_strided: an explicit storage_offset on a view that starts inside its "
                                      "base's memory is not supported (torch counts it from the base's start)")
        needed = 0 if 0 in size else offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
        if needed > self._array.size:
            raise RuntimeError(f"as_strided: setStorage: sizes {list(size)}, strides {list(stride)}, storage offset "
                               f"{offset} requiring a storage of {needed} elements are out of bounds for storage of "
                               f"size {self._array.size}")
        return X.AsStrided.apply(self, size=size, stride=stride, storage_offset=offset)

    def _starts_inside_base(self) -> bool:
        root = self._base._array
        return self._array.size > 0 and root.size > 0 and \
            self._array.__array_interface__["data"][0] != root.__array_interface__["data"][0]

    def ravel(self) -> "Tensor":
        """The elements as a 1-D tensor in row-major order (a view when self is contiguous)."""
        return self.reshape(-1)

    def sum_to_size(self, *size: int | Sequence[int]) -> "Tensor":
        """Self summed down to ``size``, a shape that broadcasts to self's (the dims it lacks
        or has as 1 are summed): the reverse of ``expand``."""
        target = shape_arg(size)
        lead = self.ndim - len(target)
        if lead < 0 or any(n not in (1, m) for n, m in zip(target, self.shape[lead:])):
            raise RuntimeError(f"sum_to_size: size {{{list(target)}}} is not expandable to size "
                               f"{{{list(self.shape)}}}.")
        if target == self.shape:
            return self
        stretched = tuple(lead + i for i, n in enumerate(target) if n == 1 and self.shape[lead + i] != 1)
        axes = tuple(range(lead)) + stretched
        return self.sum(dim=axes, keepdim=True).reshape(target) if axes else self.reshape(target)

    # ---------------------------------------------------------------- splits by direction
    def _split_by(self, op: str, d: int, least: int, indices_or_sections: int | Sequence[int]) -> tuple["Tensor", ...]:
        if self.ndim < least:
            raise RuntimeError(f"torch.{op} requires a tensor with at least {least} dimension, but got a tensor with "
                               f"{self.ndim} dimensions!")
        if is_int(indices_or_sections):
            sections, n = int(indices_or_sections), self.shape[d]
            if sections <= 0 or n % sections:
                raise RuntimeError(f"torch.{op} attempted to split along dimension {d}, but the size of the "
                                   f"dimension {n} is not divisible by the split_size {sections}!")
            return self.split(n // sections, d) if n else self.tensor_split(sections, d)
        if not isinstance(indices_or_sections, (list, tuple)) or not all(is_int(i) for i in indices_or_sections):
            raise TypeError(f"{op}(): argument 'indices' must be an int or a sequence of ints, got "
                            f"{indices_or_sections!r}")
        bounds = [None, *(int(i) for i in indices_or_sections), None]
        return tuple(self[(slice(None),) * d + (slice(a, b),)] for a, b in zip(bounds, bounds[1:]))

    def hsplit(self, indices_or_sections: int | Sequence[int]) -> tuple["Tensor", ...]:
        """Pieces along dim 1 (dim 0 for a 1-D tensor): ``sections`` equal ones, or cut before
        each of the ``indices`` (as Python slices read them)."""
        return self._split_by("hsplit", 1 if self.ndim > 1 else 0, 1, indices_or_sections)

    def vsplit(self, indices_or_sections: int | Sequence[int]) -> tuple["Tensor", ...]:
        """``hsplit`` along dim 0 (at least 2 dims)."""
        return self._split_by("vsplit", 0, 2, indices_or_sections)

    def dsplit(self, indices_or_sections: int | Sequence[int]) -> tuple["Tensor", ...]:
        """``hsplit`` along dim 2 (at least 3 dims)."""
        return self._split_by("dsplit", 2, 3, indices_or_sections)

    # ---------------------------------------------------------------- shape changes in place
    def _reshape_self_(self, op: str, outplace: Callable[[Any], Any]) -> "Tensor":
        """Give self the shape of ``outplace(self)`` (a view op), in place; returns self."""
        record = self._records()
        self._check_inplace(op, record)
        if record and self._base is not None:
            self.refresh_view()
        result = outplace(self.from_op(self._array, self.grad_fn))
        self._array = result._array
        if self._base is not None:
            self._view_chain = self._view_chain + result._view_chain
        self._bump()
        if record:
            self._rebase(result.grad_fn)
        return self

    def squeeze_(self, dim: int | tuple[int, ...] | None = None) -> "Tensor":
        """``squeeze`` in place: self loses its size-1 dims (those of ``dim``); returns self."""
        for d in () if dim is None else (dim,) if is_int(dim) else dim:
            dim_arg(d, self.ndim, "squeeze_")
        return self._reshape_self_("squeeze_", lambda s: s.squeeze(dim))

    def unsqueeze_(self, dim: int) -> "Tensor":
        """``unsqueeze`` in place: a size-1 dim inserted at ``dim``; returns self."""
        dim_arg(dim, self.ndim + 1, "unsqueeze_")
        return self._reshape_self_("unsqueeze_", lambda s: s.unsqueeze(dim))

    def t_(self) -> "Tensor":
        """``t`` in place (a matrix transposed; 0-D and 1-D stay); returns self."""
        return self._reshape_self_("t_", lambda s: s.t())

    def transpose_(self, dim0: int, dim1: int) -> "Tensor":
        """``transpose`` in place: dims ``dim0`` and ``dim1`` swapped; returns self."""
        for d in (dim0, dim1):
            dim_arg(d, self.ndim, "transpose_")
        return self._reshape_self_("transpose_", lambda s: s.transpose(dim0, dim1))

    swapaxes_ = swapdims_ = transpose_
