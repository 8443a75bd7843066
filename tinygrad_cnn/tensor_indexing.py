"""Tensor's index writes and reads beyond ``tensor_shape``'s: index_add / index_copy /
index_fill / index_put, scatter_reduce, masked_scatter, take, take_along_dim, put,
fill_diagonal_, argwhere and the in-place forms (scatter_, scatter_add_, masked_fill_,
tril_, triu_, ...): a mixin of Tensor.

An in-place form computes its out-of-place result (on a snapshot of self when the write is
recorded) and commits it through ``_inplace_`` (in tensor_special_math, on ``tensor_inplace``'s
rules): the version counter, the leaf rules, views (CopySlices) and the graph behave as for
every other in-place op."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_cnn.argcheck import dim_arg
from tinygrad_cnn.dtypes import scalar_type_name
from tinygrad_cnn.ops import indexing as X

if TYPE_CHECKING:
    from tinygrad_cnn.tensor import Tensor

_SCATTER_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def index_array(index: Any) -> np.ndarray:
    """An index argument (a tensor, an array or a list of ints) as an array."""
    return np.asarray(index._array if hasattr(index, "_array") else index)


def in_range(index: np.ndarray, n: int, dim: int, op: str, error: type[Exception], negative: bool) -> np.ndarray:
    """``index`` (int64) checked against a dim of size ``n``: entries in [0, n), or [-n, n)
    counted from the end when ``negative``; ``error`` names the first bad entry."""
    bad = (index >= n) | (index < (-n if negative else 0))
    if bad.any():
        raise error(f"{op}: index {int(index[bad].flat[0])} is out of bounds for dimension {dim} with size {n}")
    return index % max(n, 1) if negative else index


class IndexingMixin:
    """Index writes (out of place and in place) and index reads; differentiable in self and
    in the values written."""

    _array: np.ndarray
    shape: tuple[int, ...]
    ndim: int

    # ---------------------------------------------------------------- helpers
    def _source(self, source: Any, name: str, op: str, message: str) -> "Tensor":
        """``source``, a tensor of self's dtype (TypeError / RuntimeError ``message`` otherwise)."""
        if not isinstance(source, IndexingMixin):
            raise TypeError(f"{op}: argument '{name}' must be a Tensor, not {type(source).__name__}")
        if source.dtype != self.dtype:
            raise RuntimeError(f"{op}: {message.format(scalar_type_name(self.dtype), scalar_type_name(source.dtype))}")
        return source

    def _slices_match(self, d: int, count: int, source: "Tensor", op: str, count_error: type[Exception]) -> None:
        if source.ndim != self.ndim and (self.ndim or source.ndim > 1):
            raise count_error(f"{op}: source and destination must have the same number of dims, got source "
                              f"shape {list(source.shape)} and self shape {list(self.shape)}")
        if self.ndim and source.shape[:d] + source.shape[d + 1:] != self.shape[:d] + self.shape[d + 1:]:
            raise RuntimeError(f"{op}: source tensor shape must match self tensor shape, excluding the specified "
                               f"dimension. Got self.shape = {list(self.shape)} source.shape = {list(source.shape)}")
        if (source.shape[d] if source.ndim else 1) != count:
            raise count_error(f"{op}: Number of indices ({count}) should be equal to source.size(dim) "
                              f"({source.shape[d] if source.ndim else 1}), for dim: {d}")

    def _along_1d(self, function: type, source: "Tensor", index: np.ndarray, d: int, **params: Any) -> "Tensor":
        """``function`` (IndexAdd, IndexCopy, IndexFill) applied with a 0-D self taken as 1-D."""
        if self.ndim:
            return function.apply(self, source, index=index, dim=d, **params)
        flat_source = source.reshape(1) if source.ndim == 0 and function is not X.IndexFill else source
        return function.apply(self.reshape(1), flat_source, index=index, dim=0, **params).reshape(())

    # ---------------------------------------------------------------- index_add / index_copy / index_fill
    def index_add(self, dim: int, index: Any, source: "Tensor", *, alpha: float = 1) -> "Tensor":
        """A copy of self with ``alpha * source`` added at the entries ``index`` (1-D, int64 or
        int32) of ``dim``: ``out[..., index[i], ...] += alpha * source[..., i, ...]``, repeats
        accumulating; ``source`` has self's shape but ``len(index)`` along dim."""
        op = "index_add_"
        d = dim_arg(dim, self.ndim, op)
        idx = index_array(index)
        if idx.dtype not in (np.int64, np.int32):
            raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index but got: {scalar_type_name(idx.dtype)}")
        if idx.ndim > 1:
            raise IndexError(f"{op}(): Index is supposed to be a vector, but got dim: {idx.ndim} with size "
                             f"{list(idx.shape)}")
        source = self._source(source, "source", op, "self ({}) and source ({}) must have the same scalar type")
        idx = idx.reshape(-1).astype(np.int64)
        self._slices_match(d, idx.size, source, op, RuntimeError)
        in_range(idx, self.shape[d] if self.ndim else 1, d, op, RuntimeError, negative=False)
        scale = alpha if self.dtype.kind == "f" else int(alpha)
        return self._along_1d(X.IndexAdd, source, idx, d, alpha=scale)

    def index_add_(self, dim: int, index: Any, source: "Tensor", *, alpha: float = 1) -> "Tensor":
        """``index_add`` written into self; returns self."""
        return self._inplace_("index_add_", lambda s: s.index_add(dim, index, source, alpha=alpha), source)

    def index_copy(self, dim: int, index: Any, source: "Tensor") -> "Tensor":
        """A copy of self with ``out[..., index[i], ...] = source[..., i, ...]`` along ``dim``
        (``index`` 1-D int64; which of repeated entries wins is unspecified, as torch's)."""
        op = "index_copy_"
        d = dim_arg(dim, self.ndim, op)
        idx = index_array(index)
        if idx.dtype != np.int64:
            raise RuntimeError(f"{op}(): Expected a long tensor for index, but got {scalar_type_name(idx.dtype)}")
        if idx.ndim > 1:
            raise IndexError(f"{op}(): Index should have dimension 1 or 0 (got {idx.ndim})")
        source = self._source(source, "source", op, "self and source expected to have the same dtype, but got "
                                                    "(self) {} and (source) {}")
        idx = idx.reshape(-1)
        self._slices_match(d, idx.size, source, op, IndexError)
        in_range(idx, self.shape[d] if self.ndim else 1, d, op, IndexError, negative=False)
        return self._along_1d(X.IndexCopy, source, idx, d)

    def index_copy_(self, dim: int, index: Any, source: "Tensor") -> "Tensor":
        """``index_copy`` written into self; returns self."""
        return self._inplace_("index_copy_", lambda s: s.index_copy(dim, index, source), source)

    def index_fill(self, dim: int, index: Any, value: Any) -> "Tensor":
        """A copy of self with the entries ``index`` (1-D int64, negative from the end) of
        ``dim`` set to ``value`` (a number or a 0-D tensor, differentiable)."""
        op = "index_fill_"
        d = dim_arg(dim, self.ndim, op)
        idx = index_array(index)
        if idx.dtype != np.int64:
            raise IndexError(f"{op}(): Expected dtype int64 for index.")
        if idx.ndim > 1:
            raise RuntimeError(f"{op}: Index has to be a vector/scalar, got shape {list(idx.shape)}")
        fill = self._lift(value)
        if fill.ndim:
            raise RuntimeError(f"{op} only supports a 0-dimensional value tensor, but got tensor with {fill.ndim} "
                               "dimension(s).")
        idx = in_range(idx.reshape(-1), self.shape[d] if self.ndim else 1, d, op, IndexError, negative=True)
        return self._along_1d(X.IndexFill, fill._cast(self.dtype), idx, d)

    def index_fill_(self, dim: int, index: Any, value: Any) -> "Tensor":
        """``index_fill`` written into self; returns self."""
        return self._inplace_("index_fill_", lambda s: s.index_fill(dim, index, value), value)

    # ---------------------------------------------------------------- index_put
    def _put_indices(self, indices: Any, op: str) -> tuple[tuple[np.ndarray, ...], tuple[int, ...]]:
        """(the integer arrays that ``indices`` select with, the shape of what they select):
        each entry a tensor of integers (one dim each) or bools (a mask over as many dims)."""
        if not isinstance(indices, (tuple, list)):
            raise TypeError(f"{op}(): argument 'indices' must be a tuple of Tensors, not {type(indices).__name__}")
        arrays: list[np.ndarray] = []
        axis = 0
        for k, item in enumerate(indices):
            if not isinstance(item, IndexingMixin):
                raise TypeError(f"{op}(): expected Tensor as element {k} in argument 0, but got {type(item).__name__}")
            a = item._array
            if a.dtype.kind == "b" or a.dtype == np.uint8:
                if a.ndim == 0 or a.shape != self.shape[axis:axis + a.ndim]:
                    raise IndexError(f"{op}: The shape of the mask {list(a.shape)} at index {k} does not match the "
                                     f"shape of the indexed tensor {list(self.shape)} at index {axis}")
                arrays.extend(np.nonzero(a))
                axis += a.ndim
            elif a.dtype.kind in "iu":
                if axis >= self.ndim:
                    raise IndexError(f"{op}: too many indices for tensor of dimension {self.ndim} (got {len(indices)})")
                arrays.append(in_range(a.astype(np.int64), self.shape[axis], axis, op, IndexError, negative=True))
                axis += 1
            else:
                raise IndexError(f"{op}: tensors used as indices must be long, int, byte or bool tensors, got "
                                 f"{scalar_type_name(a.dtype)}")
        try:
            selected = np.broadcast_shapes(*(a.shape for a in arrays))
        except ValueError:
            raise IndexError(f"{op}: shape mismatch: indexing tensors could not be broadcast together with shapes "
                             f"{', '.join(str(list(a.shape)) for a in arrays)}") from None
        return tuple(arrays), selected + self.shape[axis:]

    def index_put(self, indices: Any, values: "Tensor", accumulate: bool = False) -> "Tensor":
        """A copy of self with ``self[indices] = values`` (``indices`` a tuple of integer or
        bool tensors, as in ``self[i, j]``; ``values`` of self's dtype, broadcast to what they
        select), or ``+=`` with repeats accumulating when ``accumulate``."""
        op = "index_put"
        arrays, selected = self._put_indices(indices, op)
        values = self._source(values, "values", op, "Index put requires the source and destination dtypes match, "
                                                    "got {} for the destination and {} for the source.")
        if not _broadcasts(values.shape, selected):
            raise RuntimeError(f"{op}: shape mismatch: value tensor of shape {list(values.shape)} cannot be broadcast "
                               f"to indexing result of shape {list(selected)}")
        return X.IndexPut.apply(self, values, indices=arrays, accumulate=bool(accumulate))

    def index_put_(self, indices: Any, values: "Tensor", accumulate: bool = False) -> "Tensor":
        """``index_put`` written into self; returns self."""
        return self._inplace_("index_put_", lambda s: s.index_put(indices, values, accumulate), values)

    # ---------------------------------------------------------------- scatters in place, scatter_reduce
    def _scatter_src(self, src: "Tensor", index: Any, op: str) -> "Tensor":
        """``src`` checked (self's dtype, index's ndim) and cut to index's shape: the part a
        scatter reads (and so the part that gets a gradient)."""
        self._source(src, "src", op, "Expected self.dtype to be equal to src.dtype, got {} and {}")
        shape = index_array(index).shape
        if src.ndim != len(shape):
            raise RuntimeError(f"{op}: Index tensor must have the same number of dimensions as src tensor, got "
                               f"{len(shape)} and {src.ndim}")
        return src[tuple(slice(0, n) for n in shape)]

    def scatter_(self, dim: int, index: Any, src: Any = None, value: Any = None, *, reduce: str | None = None
                 ) -> "Tensor":
        """``scatter`` written into self: ``src`` (a tensor of self's dtype and index's ndim, or
        a number ``value``) at ``index`` along ``dim``; ``reduce`` "add" or "multiply" combines
        instead of overwriting (torch's deprecated form; differentiable here). Returns self."""
        source = value if src is None else src
        d = dim_arg(dim, self.ndim, "scatter_")
        if reduce not in (None, "add", "multiply"):
            raise RuntimeError(f"scatter_: reduce argument must be either add or multiply, got {reduce!r}.")
        if source is None:
            raise TypeError("scatter_: give src (a tensor) or value (a number)")
        if isinstance(source, IndexingMixin):
            if reduce is not None:
                warnings.warn("scatter_: the reduce argument with a Tensor src is deprecated, as in torch; use "
                              "scatter_reduce", UserWarning, stacklevel=2)
            source = self._scatter_src(source, index, "scatter_")
        elif reduce == "multiply":
            source = self._lift(source)._cast(self.dtype).expand(index_array(index).shape)
        if reduce == "multiply":
            return self._inplace_("scatter_", lambda s: s.scatter_reduce(d, index, source, "prod"), source)
        return self._inplace_("scatter_", lambda s: s.scatter(d, index, source, reduce=reduce), source)

    def scatter_add_(self, dim: int, index: Any, src: "Tensor") -> "Tensor":
        """``scatter_add`` written into self (``src`` of self's dtype); returns self."""
        source = self._scatter_src(src, index, "scatter_add_")
        return self._inplace_("scatter_add_", lambda s: s.scatter_add(dim, index, source), source)

    def scatter_reduce(self, dim: int, index: Any, src: "Tensor", reduce: str, *, include_self: bool = True
                       ) -> "Tensor":
        """A copy of self with each ``src[i][j]`` reduced into ``self[index[i][j]][j]`` (dim 0;
        likewise for other dims) by ``reduce``: "sum", "prod", "mean", "amax" or "amin";
        ``include_self=False`` leaves self's values out where something is scattered. ``index``
        and ``src`` have self's ndim, index no larger than src (nor than self outside dim)."""
        op = "scatter_reduce"
        if reduce not in _SCATTER_REDUCES:
            raise RuntimeError(f"{op}: reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
        d = dim_arg(dim, self.ndim, op)
        src = self._source(src, "src", op, "Expected self.dtype to be equal to src.dtype, got {} and {}")
        d, idx = self._index_along(d, index, op)
        if src.ndim != idx.ndim or any(m > n for m, n in zip(idx.shape, src.shape)):
            raise RuntimeError(f"{op}: Expected index {list(idx.shape)} to be no larger than self {list(self.shape)} "
                               f"apart from dimension {d} and to be no larger size than src {list(src.shape)}")
        return X.ScatterReduce.apply(self, src, index=idx, dim=d, reduce=reduce, include_self=bool(include_self))

    def scatter_reduce_(self, dim: int, index: Any, src: "Tensor", reduce: str, *, include_self: bool = True
                        ) -> "Tensor":
        """``scatter_reduce`` written into self; returns self."""
        return self._inplace_("scatter_reduce_", lambda s: s.scatter_reduce(dim, index, src, reduce,
                                                                            include_self=include_self), src)

    # ---------------------------------------------------------------- masks, triangles, diagonals in place
    def masked_fill_(self, mask: Any, value: Any) -> "Tensor":
        """``masked_fill`` written into self (``mask`` broadcast to self's shape); returns self."""
        return self._inplace_("masked_fill_", lambda s: s.masked_fill(mask, value), value)

    def masked_scatter(self, mask: Any, source: "Tensor") -> "Tensor":
        """self (broadcast with the bool ``mask``) with the places where mask is True filled,
        in row-major order, by the first elements of ``source`` (of self's dtype, at least as
        many elements as mask has True values)."""
        op = "masked_scatter"
        condition = index_array(mask)
        if condition.dtype != np.bool_:
            raise RuntimeError(f"{op}: only supports boolean masks, but got mask with dtype "
                               f"{scalar_type_name(condition.dtype)}")
        source = self._source(source, "source", op, "expected self and source to have same dtypes but got {} and {}")
        if not _broadcasts(condition.shape, self.shape, both=True):
            raise RuntimeError(f"{op}: the mask of shape {list(condition.shape)} does not broadcast with self's "
                               f"shape {list(self.shape)}")
        condition = np.broadcast_to(condition, np.broadcast_shapes(condition.shape, self.shape))
        if condition.sum() > source.numel():
            raise RuntimeError(f"{op}: Number of elements of source ({source.numel()}) < number of ones in mask "
                               f"({int(condition.sum())})")
        return X.MaskedScatter.apply(self, source, mask=condition)

    def masked_scatter_(self, mask: Any, source: "Tensor") -> "Tensor":
        """``masked_scatter`` written into self (``mask`` broadcast to self's shape); returns self."""
        condition = index_array(mask)
        if condition.dtype == np.bool_ and not _broadcasts(condition.shape, self.shape):
            raise RuntimeError(f"masked_scatter_: the mask of shape {list(condition.shape)} does not broadcast to "
                               f"self's shape {list(self.shape)}")
        return self._inplace_("masked_scatter_", lambda s: s.masked_scatter(mask, source), source)

    def tril_(self, diagonal: int = 0) -> "Tensor":
        """``tril`` written into self; returns self."""
        return self._inplace_("tril_", lambda s: s.tril(diagonal))

    def triu_(self, diagonal: int = 0) -> "Tensor":
        """``triu`` written into self; returns self."""
        return self._inplace_("triu_", lambda s: s.triu(diagonal))

    def fill_diagonal_(self, fill_value: Any, wrap: bool = False) -> "Tensor":
        """The main diagonal (entries (i, i, ...)) set to ``fill_value``, in place; a matrix
        taller than wide restarts its diagonal every ``cols + 1`` rows when ``wrap``. Needs at
        least 2 dims, all of one length beyond 2. Returns self."""
        if self.ndim < 2:
            raise RuntimeError(f"fill_diagonal_: dimensions must larger than 1, got shape {list(self.shape)}")
        if self.ndim > 2 and len(set(self.shape)) > 1:
            raise RuntimeError(f"fill_diagonal_: all dimensions of input must be of equal length, got "
                               f"{list(self.shape)}")
        on_diagonal = np.zeros(self.shape, dtype=bool)
        np.fill_diagonal(on_diagonal, True, wrap=bool(wrap))
        return self._inplace_("fill_diagonal_", lambda s: s.masked_fill(on_diagonal, fill_value), fill_value)

    # ---------------------------------------------------------------- flat reads and writes
    def _flat_index(self, index: Any, op: str) -> np.ndarray:
        idx = index_array(index)
        if idx.dtype != np.int64:
            raise RuntimeError(f"{op}(): Expected a long tensor for index, but got {scalar_type_name(idx.dtype)}")
        n = self._array.size
        bad = (idx >= n) | (idx < -n)
        if bad.any():
            raise IndexError(f"{op}: out of range: tried to access index {int(idx[bad].flat[0])} on a tensor of "
                             f"{n} elements.")
        return idx

    def take(self, index: Any) -> "Tensor":
        """The elements of self flattened at the positions ``index`` (an int64 tensor of any
        shape, negative from the end); the result has index's shape."""
        return X.Take.apply(self, index=self._flat_index(index, "take"))

    def put(self, index: Any, source: "Tensor", accumulate: bool = False) -> "Tensor":
        """A copy of self with its flattened elements at ``index`` (int64) set to (added to,
        when ``accumulate``) the elements of ``source`` (self's dtype, as many as index)."""
        op = "put_"
        idx = self._flat_index(index, op)
        source = self._source(source, "source", op, "self and source expected to have the same dtype, but got "
                                                    "self.dtype = {} and source.dtype = {}")
        if source.numel() != idx.size:
            raise IndexError(f"{op}(): Expected source and index to have the same number of elements, but got "
                             f"source.numel() = {source.numel()}, index.numel() = {idx.size}")
        return X.Put.apply(self, source, index=idx, accumulate=bool(accumulate))

    def put_(self, index: Any, source: "Tensor", accumulate: bool = False) -> "Tensor":
        """``put`` written into self; returns self."""
        return self._inplace_("put_", lambda s: s.put(index, source, accumulate), source)

    def take_along_dim(self, indices: Any, dim: int | None = None) -> "Tensor":
        """Values picked along ``dim`` at ``indices`` (int64, self's ndim; the other dims of
        self and indices broadcast), as ``gather``; with dim None, self and indices flattened."""
        op = "take_along_dim"
        idx = index_array(indices)
        if idx.dtype != np.int64:
            raise RuntimeError(f"torch.{op}(): dtype of indices should be Long but got {scalar_type_name(idx.dtype)}")
        if dim is None:
            return self.reshape(-1).gather(0, idx.reshape(-1))
        d = dim_arg(dim, self.ndim, op)
        if idx.ndim != self.ndim:
            raise RuntimeError(f"torch.{op}(): input and indices should have the same number of dimensions, but got "
                               f"{self.ndim} dimensions for input, and {idx.ndim} dimensions for indices")
        if not self.ndim:
            return self.gather(0, idx)
        outer = self.shape[:d] + (idx.shape[d],) + self.shape[d + 1:]
        if not _broadcasts(outer, idx.shape, both=True):
            raise RuntimeError(f"torch.{op}(): the shapes of input {list(self.shape)} and indices {list(idx.shape)} "
                               f"do not broadcast outside dim {d}")
        shape = list(np.broadcast_shapes(outer, idx.shape))
        picked = np.broadcast_to(idx, tuple(shape))
        shape[d] = self.shape[d]
        return self.expand(tuple(shape)).gather(d, picked)

    def argwhere(self) -> "Tensor":
        """The indices of the non-zero elements, one row per element: an (n, ndim) int64 tensor."""
        return self.from_op(np.argwhere(self._array).astype(np.int64), None)


def _broadcasts(shape: tuple[int, ...], target: tuple[int, ...], both: bool = False) -> bool:
    """True when ``shape`` broadcasts to ``target`` (with ``both``: when the two broadcast together)."""
    try:
        common = np.broadcast_shapes(shape, target)
    except ValueError:
        return False
    return both or common == tuple(target)
