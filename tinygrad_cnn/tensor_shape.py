"""Tensor's shape methods (reshape, view, permute, transpose, flatten, squeeze, expand,
indexing, split, chunk, narrow, repeat, flip, roll) and its gathers and scatters (gather,
scatter, index_select, masked_fill, masked_select, where): a mixin of Tensor."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinygrad_cnn.ops import elementwise as E
from tinygrad_cnn.ops import reduce as R
from tinygrad_cnn.ops import shape as S

Dim = int | tuple[int, ...] | None


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
            raise ValueError(f"reshape: cannot reshape a tensor of shape {tuple(self.shape)} into {target}")
        if unknown:
            target = tuple(self._array.size // known if n == -1 else n for n in target)
        return S.Reshape.apply(self, shape=target)

    view = reshape

    def permute(self, *dims: int | Sequence[int]) -> "Tensor":
        """Axes reordered: ``dims[i]`` is the input axis that becomes axis i."""
        order = shape_arg(dims)
        if len(order) != self.ndim or any(not -self.ndim <= d < self.ndim for d in order) \
                or sorted(d % self.ndim for d in order) != list(range(self.ndim)):
            raise ValueError(f"permute: dims {order} are not a permutation of the {self.ndim} axes of {tuple(self.shape)}")
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
        start = end = 0
        if self.ndim == 0:
            shape: tuple[int, ...] = (1,)
        else:
            start = R.normalize_axis(start_dim, self.ndim, "flatten")[0]
            end = R.normalize_axis(end_dim, self.ndim, "flatten")[0]
            if start > end:
                raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {tuple(self.shape)}")
            shape = self.shape[:start] + (int(np.prod(self.shape[start:end + 1])),) + self.shape[end + 1:]
        return S.Flatten.apply(self, shape=shape, start_dim=start, end_dim=end)

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
            raise ValueError(f"expand: cannot expand shape {tuple(self.shape)} to fewer dims {target}")
        resolved = tuple(self.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(target))
        if any(n != m and n != 1 for n, m in zip(self.shape, resolved[lead:])):
            raise ValueError(f"expand: shape {tuple(self.shape)} cannot be expanded to {target}")
        return S.Expand.apply(self, shape=resolved)

    def __getitem__(self, index: Any) -> "Tensor":
        return S.GetItem.apply(self, index=index_arg(index))

    def _dim(self, dim: int, op: str) -> int:
        return R.normalize_axis(dim, self.ndim, op)[0]

    def split(self, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple["Tensor", ...]:
        """Pieces along ``dim``: of ``split_size`` each (the last may be shorter), or of the
        listed sizes, which must add up to the dim's length."""
        d = self._dim(dim, "split")
        n = self.shape[d]
        if isinstance(split_size_or_sections, (int, np.integer)):
            size = int(split_size_or_sections)
            if size < 1 and n:
                raise RuntimeError(f"split: split_size must be a positive integer, got {size}")
            sizes = [min(size, n - i) for i in range(0, n, size)] if n else [0]
        else:
            sizes = [int(k) for k in split_size_or_sections]
            if sum(sizes) != n or min(sizes, default=0) < 0:
                raise RuntimeError(f"split: sizes {sizes} must be non-negative and add up to {n} (dim {dim} of {tuple(self.shape)})")
        starts = np.cumsum([0] + sizes[:-1])
        return tuple(self[(slice(None),) * d + (slice(int(a), int(a) + k),)] for a, k in zip(starts, sizes))

    def chunk(self, chunks: int, dim: int = 0) -> tuple["Tensor", ...]:
        """At most ``chunks`` pieces along ``dim`` of ceil(length / chunks) each, as torch.chunk."""
        if not isinstance(chunks, (int, np.integer)) or chunks < 1:
            raise RuntimeError(f"chunk: chunks must be a positive integer, got {chunks!r}")
        n = self.shape[self._dim(dim, "chunk")]
        return self.split(max(-(-n // int(chunks)), 1), dim)

    def tensor_split(self, sections: int, dim: int = 0) -> tuple["Tensor", ...]:
        """Exactly ``sections`` pieces along ``dim``, the first ``length % sections`` one longer."""
        n = self.shape[self._dim(dim, "tensor_split")]
        return self.split([n // sections + (i < n % sections) for i in range(sections)], dim)

    def select(self, dim: int, index: int) -> "Tensor":
        """The slice at ``index`` of ``dim``, that dim removed."""
        d = self._dim(dim, "select")
        if not -self.shape[d] <= index < self.shape[d]:
            raise IndexError(f"select: index {index} is out of range for dim {dim} of size {self.shape[d]}")
        return self[(slice(None),) * d + (int(index),)]

    def unbind(self, dim: int = 0) -> tuple["Tensor", ...]:
        """The slices along ``dim``, that dim removed from each."""
        d = self._dim(dim, "unbind")
        return tuple(self.select(d, i) for i in range(self.shape[d]))

    def narrow(self, dim: int, start: int, length: int) -> "Tensor":
        """``length`` entries of ``dim`` from ``start`` (negative counts from the end)."""
        d = self._dim(dim, "narrow")
        n = self.shape[d]
        begin = start + n if start < 0 else start
        if not 0 <= begin <= n or length < 0 or begin + length > n:
            raise RuntimeError(f"narrow: start {start} + length {length} exceeds dim {dim} of size {n}")
        return self[(slice(None),) * d + (slice(begin, begin + length),)]

    def view_as(self, other: "Tensor") -> "Tensor":
        """This tensor viewed with ``other``'s shape."""
        return self.reshape(other.shape)

    reshape_as = view_as

    def expand_as(self, other: "Tensor") -> "Tensor":
        """This tensor broadcast to ``other``'s shape."""
        return self.expand(other.shape)

    def t(self) -> "Tensor":
        """The transpose of a matrix (a 0-D or 1-D tensor is returned as it is), as torch.t."""
        if self.ndim > 2:
            raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, got {self.ndim} (shape {tuple(self.shape)})")
        return self.transpose(0, 1) if self.ndim == 2 else S.Reshape.apply(self, shape=self.shape)

    def swapaxes(self, axis0: int, axis1: int) -> "Tensor":
        """Axes ``axis0`` and ``axis1`` swapped (``transpose``)."""
        return self.transpose(axis0, axis1)

    swapdims = swapaxes

    def movedim(self, source: int | Sequence[int], destination: int | Sequence[int]) -> "Tensor":
        """The dims ``source`` moved to the positions ``destination``, the others kept in order."""
        sources = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
        targets = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
        if len(sources) != len(targets):
            raise RuntimeError(f"movedim: source {source} and destination {destination} must have one length")
        sources = tuple(self._dim(d, "movedim") for d in sources)
        targets = tuple(self._dim(d, "movedim") for d in targets)
        if len(set(sources)) != len(sources) or len(set(targets)) != len(targets):
            raise RuntimeError(f"movedim: repeated dim in source {source} or destination {destination}")
        order = [d for d in range(self.ndim) if d not in sources]
        for target, src in sorted(zip(targets, sources)):
            order.insert(target, src)
        return S.Permute.apply(self, dims=tuple(order))

    moveaxis = movedim

    def unflatten(self, dim: int, sizes: Sequence[int]) -> "Tensor":
        """Dim ``dim`` split into ``sizes`` (one may be -1)."""
        d = self._dim(dim, "unflatten")
        return self.reshape(self.shape[:d] + tuple(sizes) + self.shape[d + 1:])

    def contiguous(self, memory_format: Any = None) -> "Tensor":
        """self when its memory is row-major without gaps, else a row-major copy."""
        return self if self._array.flags.c_contiguous else S.Clone.apply(self)

    def clone(self, memory_format: Any = None) -> "Tensor":
        """A copy in new memory; differentiable."""
        return S.Clone.apply(self)

    # ---------------------------------------------------------------- repeats and reorders
    def repeat(self, *sizes: int | Sequence[int]) -> "Tensor":
        """Copies of this tensor, ``sizes[i]`` along dim i (more sizes than dims add leading dims)."""
        reps = shape_arg(sizes)
        if len(reps) < self.ndim or min(reps, default=0) < 0:
            raise RuntimeError(f"repeat: need at least {self.ndim} non-negative repeats for shape {tuple(self.shape)}, got {reps}")
        return S.Tile.apply(self, reps=reps)

    def tile(self, *dims: int | Sequence[int]) -> "Tensor":
        """``repeat``, with missing leading repeats taken as 1, as torch.tile."""
        reps = shape_arg(dims)
        return self.repeat((1,) * (self.ndim - len(reps)) + reps)

    def flip(self, *dims: int | Sequence[int]) -> "Tensor":
        """A copy with the order along ``dims`` reversed."""
        return S.Flip.apply(self, dims=R.normalize_axis(shape_arg(dims), self.ndim, "flip"))

    def fliplr(self) -> "Tensor":
        """The order along dim 1 reversed."""
        return self.flip(1)

    def flipud(self) -> "Tensor":
        """The order along dim 0 reversed."""
        return self.flip(0)

    def roll(self, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None) -> "Tensor":
        """Elements shifted by ``shifts`` along ``dims`` (of the flattened tensor when None),
        those pushed off one end coming back at the other, as torch.roll."""
        many = not isinstance(shifts, (int, np.integer))
        shift = tuple(int(k) for k in shifts) if many else int(shifts)
        if dims is None:
            if many and len(shift) != 1:
                raise RuntimeError(f"roll: without dims, shifts must be one integer, got {shifts}")
            return S.Roll.apply(self, shifts=shift[0] if many else shift, dims=None)
        axes = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
        if len(axes) != (len(shift) if many else 1):
            raise RuntimeError(f"roll: shifts {shifts} and dims {dims} must have one length")
        axes = tuple(R.normalize_axis(a, self.ndim, "roll")[0] for a in axes)
        return S.Roll.apply(self, shifts=shift if many else (shift,), dims=axes)

    def repeat_interleave(self, repeats: Any, dim: int | None = None) -> "Tensor":
        """Each entry of ``dim`` repeated ``repeats`` times (an int, or one count per entry) in
        place, as torch.repeat_interleave; of the flattened tensor when ``dim`` is None."""
        source = self.reshape(-1) if dim is None else self
        d = 0 if dim is None else source._dim(dim, "repeat_interleave")
        counts = np.asarray(repeats._array if isinstance(repeats, ShapeMixin) else repeats)
        if counts.dtype.kind not in "iu" or counts.ndim > 1 or (counts.size and counts.min() < 0):
            raise RuntimeError(f"repeat_interleave: repeats must be non-negative integers, got {repeats!r}")
        return source.index_select(d, np.repeat(np.arange(source.shape[d]), counts))

    def tril(self, diagonal: int = 0) -> "Tensor":
        """The lower triangle of the last two dims (on and below ``diagonal``), zeros above."""
        return self._triangle(np.tri(*self.shape[-2:], k=diagonal, dtype=bool) if self.ndim >= 2 else None, "tril")

    def triu(self, diagonal: int = 0) -> "Tensor":
        """The upper triangle of the last two dims (on and above ``diagonal``), zeros below."""
        return self._triangle(~np.tri(*self.shape[-2:], k=diagonal - 1, dtype=bool) if self.ndim >= 2 else None, "triu")

    def _triangle(self, keep: np.ndarray | None, op: str) -> "Tensor":
        if keep is None:
            raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape {tuple(self.shape)}")
        return self.masked_fill(~keep, 0)

    # ---------------------------------------------------------------- gathers and scatters
    def _index_along(self, dim: int, index: Any, op: str) -> tuple[int, np.ndarray]:
        """(dim, index array) checked as torch's gather/scatter want them."""
        d = self._dim(dim, op) if self.ndim else 0
        array = np.asarray(index._array if isinstance(index, ShapeMixin) else index)
        if array.dtype.kind not in "iu":
            raise RuntimeError(f"{op}: index must be an integer tensor, got dtype {array.dtype}")
        if array.ndim != self.ndim:
            raise RuntimeError(f"{op}: index has {array.ndim} dims but the tensor has {self.ndim} (shape {tuple(self.shape)})")
        if any(m > n for i, (m, n) in enumerate(zip(array.shape, self.shape)) if i != d):
            raise RuntimeError(f"{op}: index shape {tuple(array.shape)} exceeds the tensor's {tuple(self.shape)} outside dim {dim}")
        if array.size and (array.min() < -self.shape[d] or array.max() >= self.shape[d]):
            raise RuntimeError(f"{op}: index {int(array.max()) if array.max() >= self.shape[d] else int(array.min())} "
                               f"is out of bounds for dimension {dim} with size {self.shape[d]}")
        return d, array.astype(np.int64, copy=False)

    def gather(self, dim: int, index: Any) -> "Tensor":
        """``out[i][j] = self[index[i][j]][j]`` for dim 0 (and so on for other dims): values
        picked along ``dim`` at ``index`` (an int64 tensor of self's ndim), as torch.gather."""
        d, array = self._index_along(dim, index, "gather")
        return S.Gather.apply(self, index=array, dim=d)

    def scatter(self, dim: int, index: Any, src: Any = None, value: Any = None, *, reduce: str | None = None
                ) -> "Tensor":
        """A copy of self with ``src`` (a tensor, or a number ``value``) written at ``index``
        along ``dim`` (``self[index[i][j]][j] = src[i][j]`` for dim 0); ``reduce="add"`` adds
        instead. Differentiable in self and src."""
        if reduce not in (None, "add"):
            raise NotImplementedError(f"scatter: reduce={reduce!r} is not supported (None or 'add')")
        d, array = self._index_along(dim, index, "scatter")
        source = value if src is None else src
        if source is None:
            raise TypeError("scatter: give src (a tensor) or value (a number)")
        source = self._lift(source)
        if source.ndim and (source.ndim != self.ndim or any(m > n for m, n in zip(array.shape, source.shape))):
            raise RuntimeError(f"scatter: src shape {tuple(source.shape)} must cover index shape {tuple(array.shape)}")
        return S.Scatter.apply(self, source._cast(self.dtype), index=array, dim=d, add=reduce == "add")

    def scatter_add(self, dim: int, index: Any, src: "Tensor") -> "Tensor":
        """A copy of self with ``src`` added at ``index`` along ``dim``, repeats accumulating."""
        return self.scatter(dim, index, src, reduce="add")

    def index_select(self, dim: int, index: Any) -> "Tensor":
        """The entries of ``dim`` listed in the 1-D integer ``index``, in that order."""
        d = self._dim(dim, "index_select") if self.ndim else 0
        array = np.asarray(index._array if isinstance(index, ShapeMixin) else index)
        if array.ndim > 1 or array.dtype.kind not in "iu":
            raise RuntimeError(f"index_select: index must be a 0-D or 1-D integer tensor, got {array.dtype} {tuple(array.shape)}")
        return self[(slice(None),) * d + (array.reshape(-1),)]

    def masked_fill(self, mask: Any, value: Any) -> "Tensor":
        """A copy of self with ``value`` (a number or a 0-D tensor) where the bool ``mask``
        (broadcast to self's shape) is True; differentiable in self (and a tensor value)."""
        condition = np.asarray(mask._array if isinstance(mask, ShapeMixin) else mask)
        if condition.dtype != np.bool_:
            raise RuntimeError(f"masked_fill: mask must be a bool tensor, got dtype {condition.dtype}")
        if np.broadcast_shapes(condition.shape, self.shape) != self.shape:
            raise RuntimeError(f"masked_fill: mask of shape {tuple(condition.shape)} does not broadcast to {tuple(self.shape)}")
        fill = self._lift(value)
        if fill.ndim:
            raise RuntimeError(f"masked_fill: value must be a number or a 0-D tensor, got shape {tuple(fill.shape)}")
        return E.Where.apply(fill._cast(self.dtype), self, condition=condition)

    def masked_select(self, mask: Any) -> "Tensor":
        """The elements where the bool ``mask`` (broadcast with self) is True, as a 1-D tensor."""
        condition = np.asarray(mask._array if isinstance(mask, ShapeMixin) else mask)
        if condition.dtype != np.bool_:
            raise RuntimeError(f"masked_select: mask must be a bool tensor, got dtype {condition.dtype}")
        shape = np.broadcast_shapes(condition.shape, self.shape)
        source = self if shape == self.shape else self.expand(shape)
        return source[np.broadcast_to(condition, shape)]

    def where(self, condition: Any, other: Any) -> "Tensor":
        """self where ``condition`` is True, else ``other`` (broadcast), as torch.where."""
        cond = np.asarray(condition._array if isinstance(condition, ShapeMixin) else condition, dtype=bool)
        return E.Where.apply(*self._operands(other), condition=cond)

    def nonzero(self, *, as_tuple: bool = False) -> "Tensor | tuple[Tensor, ...]":
        """The indices of the non-zero elements: an (n, ndim) int64 tensor, or one 1-D tensor per dim."""
        found = np.nonzero(self._array.reshape(1) if self.ndim == 0 else self._array)
        if as_tuple:
            return tuple(self.from_op(i.astype(np.int64), None) for i in found)
        return self.from_op(np.stack(found, axis=1).astype(np.int64).reshape(-1, self.ndim), None)
