"""Tensor's sets and counts, as torch's (no gradients): unique, unique_consecutive, bincount,
histc, histogram (methods), and the functions bucketize and searchsorted. Indices and counts
are int64 (int32 where torch's ``out_int32`` asks for it)."""

from __future__ import annotations

import builtins
from collections import namedtuple
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_cnn.argcheck import dim_arg, is_int
from tinygrad_cnn.dtypes import scalar_type_name
from tinygrad_cnn.function import variable_type
from tinygrad_cnn.ops.ranges import linspace_values

if TYPE_CHECKING:
    from tinygrad_cnn.tensor import Tensor

HistogramResult = namedtuple("histogram", ["hist", "bin_edges"])
HistogramResult.__doc__ = "torch.return_types.histogram: (hist, bin_edges), the counts and the bins' edges."


def _groups(rows: np.ndarray, sort: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the distinct rows of ``rows`` (n, ...) in sorted or first-seen-run order, each row's
    group, each group's size); with ``sort`` False only equal neighbours merge. NaN equals nothing."""
    n = rows.shape[0]
    flat = rows.reshape(n, int(np.prod(rows.shape[1:])))
    order = np.lexsort(flat.T[::-1]) if sort and flat.shape[1] else np.arange(n)
    ordered = flat[order]
    starts = np.ones(n, dtype=bool)
    starts[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    group = np.cumsum(starts) - 1
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = group
    return rows[order][starts], inverse, np.bincount(group, minlength=int(starts.sum())).astype(np.int64)


class SetsMixin:
    """Distinct values, counts and histograms; the results carry no gradient."""

    _array: np.ndarray
    shape: tuple[int, ...]
    ndim: int

    def _distinct(self, op: str, sort: bool, return_inverse: bool, return_counts: bool, dim: int | None) -> Any:
        a = self._array
        if dim is None:
            values, inverse, counts = _groups(a.reshape(-1), sort)
            inverse = inverse.reshape(a.shape)
        else:
            if a.ndim == 0:
                raise IndexError(f"{op}: Dimension specified as {dim} but tensor has no dimensions")
            d = dim_arg(dim, a.ndim, op)
            values, inverse, counts = _groups(np.moveaxis(a, d, 0), sort)
            values = np.moveaxis(values, 0, d)
        wrap = self.from_op
        out = (wrap(np.ascontiguousarray(values), None),) + ((wrap(inverse, None),) if return_inverse else ()) \
            + ((wrap(counts, None),) if return_counts else ())
        return out if len(out) > 1 else out[0]

    def unique(self, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
               dim: int | None = None) -> Any:
        """The distinct elements in ascending order (the distinct slices along ``dim``, in
        lexicographic order, when given); with ``return_inverse`` also each element's (slice's)
        position among them (int64, of self's shape; of length ``shape[dim]``), with
        ``return_counts`` how often each occurs. As torch on the CPU, the result is sorted even
        for ``sorted=False``; NaNs are all distinct."""
        return self._distinct("unique", True, return_inverse, return_counts, dim)

    def unique_consecutive(self, return_inverse: bool = False, return_counts: bool = False,
                           dim: int | None = None) -> Any:
        """``unique`` merging only runs of equal neighbours (elements, or slices along ``dim``),
        in their order: [1, 1, 2, 1] gives [1, 2, 1]."""
        return self._distinct("unique_consecutive", False, return_inverse, return_counts, dim)

    def bincount(self, weights: Any = None, minlength: int = 0) -> "Tensor":
        """How often each value 0..max occurs in this 1-D non-negative integer tensor (at least
        ``minlength`` bins): int64, or the sums of ``weights`` (same length) per value, float32
        for float32 weights and float64 for any other."""
        a = self._array
        if a.dtype.kind not in "iu":
            raise NotImplementedError(f'bincount: "bincount_cpu" not implemented for \'{scalar_type_name(a.dtype)}\'')
        if a.ndim != 1 or (a.size and a.min() < 0):
            raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got shape {list(a.shape)}")
        if not is_int(minlength) or minlength < 0:
            raise RuntimeError(f"bincount: minlength should be >= 0, got {minlength!r}")
        if weights is None:
            return self.from_op(np.bincount(a, minlength=int(minlength)).astype(np.int64), None)
        w = np.asarray(weights._array if hasattr(weights, "_array") else weights)
        if w.shape != a.shape:
            raise RuntimeError(f"bincount: weights should be 1-d and have the same length as input, got "
                               f"{list(w.shape)} for input {list(a.shape)}")
        dtype = w.dtype if w.dtype in (np.float32, np.float64) else np.dtype(np.float64)
        sums = np.zeros(builtins.max(int(a.max()) + 1 if a.size else 0, int(minlength)), dtype=dtype)
        np.add.at(sums, a, w.astype(dtype))  # in order, in the weights' dtype, as torch adds them
        return self.from_op(sums, None)

    def _float_input(self, op: str) -> np.ndarray:
        if self._array.dtype.kind != "f":
            raise NotImplementedError(f'{op}: "histogram_cpu" not implemented for \'{scalar_type_name(self.dtype)}\'')
        return self._array.reshape(-1)

    def histc(self, bins: int = 100, min: float = 0, max: float = 0) -> "Tensor":
        """Counts of the elements in ``bins`` equal-width bins over [min, max] (the elements'
        own range when min == max; widened by 1 each way if still empty), elements outside
        left out, the last bin closed: a 1-D tensor of self's (floating) dtype."""
        values = self._float_input("histc")
        if not is_int(bins) or bins <= 0:
            raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins!r}")
        if min > max:
            raise RuntimeError(f"torch.histc: max must be larger than min, got min {min} and max {max}")
        low, high = values.dtype.type(min), values.dtype.type(max)
        if low == high and values.size:
            low, high = values.min(), values.max()
        if low == high:
            low, high = low - 1, high + 1
        if not (np.isfinite(low) and np.isfinite(high)):
            raise RuntimeError(f"torch.histc: range of [{low}, {high}] is not finite")
        kept = values[(values >= low) & (values <= high)]
        position = ((kept - low) * values.dtype.type(bins) / (high - low)).astype(np.int64)  # torch's rounding
        return self.from_op(np.bincount(np.minimum(position, bins - 1), minlength=bins).astype(self.dtype), None)

    def histogram(self, bins: Any = 100, *, range: tuple[float, float] | None = None, weight: Any = None,
                  density: bool = False) -> HistogramResult:
        """(hist, bin_edges) of the elements of this floating tensor: ``bins`` an int (that
        many equal bins over ``range``, by default the elements' range, widened by 0.5 each
        way if empty) or a 1-D tensor of increasing edges. Each bin holds [edge_i, edge_i+1),
        the last one closed; ``weight`` (self's shape) weighs the elements; ``density``
        divides by the total and the bin widths."""
        values = self._float_input("histogram")
        edges = self._bin_edges(values, bins, range)
        kept = (values >= edges[0]) & (values <= edges[-1])
        position = np.minimum(np.searchsorted(edges, values[kept], side="right") - 1, edges.size - 2)
        w = None
        if weight is not None:
            w = np.asarray(weight._array if hasattr(weight, "_array") else weight)
            if w.shape != self.shape:
                raise RuntimeError(f"torch.histogram: weight should have the input's shape {list(self.shape)}, got "
                                   f"{list(w.shape)}")
            w = w.reshape(-1)[kept].astype(np.float64)
        hist = np.bincount(position, weights=w, minlength=edges.size - 1).astype(self.dtype)
        if density:  # as torch: by the total, then by each bin's width, in self's dtype
            hist = hist / hist.dtype.type(hist.sum()) / np.diff(edges)
        return HistogramResult(self.from_op(hist, None), self.from_op(edges, None))

    def _bin_edges(self, values: np.ndarray, bins: Any, span: tuple[float, float] | None) -> np.ndarray:
        """The histogram's edges: ``bins`` itself (a 1-D tensor of self's dtype) or
        ``bins + 1`` edges laid out over the range as torch.linspace's formula (torch's
        vectorized loop may round some of them one ulp apart)."""
        if hasattr(bins, "_array"):
            edges = bins._array
            if edges.dtype != values.dtype:
                raise RuntimeError(f"torch.histogram: input tensor and bins tensors should have the same dtype, but "
                                   f"got input with dtype {values.dtype} and bins with dtype {edges.dtype}")
            if edges.ndim != 1 or edges.size < 1:
                raise RuntimeError(f"torch.histogram: bins tensor should have one dimension and at least 1 element, "
                                   f"got shape {list(edges.shape)}")
            return edges
        if not is_int(bins) or bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins!r} for dimension 0")
        if span is not None:
            low, high = (float(v) for v in span)
            if low > high:
                raise RuntimeError(f"torch.histogram: min should not exceed max, but got min {low} max {high}")
        else:
            low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
        if not (np.isfinite(low) and np.isfinite(high)):
            raise RuntimeError(f"torch.histogram: range [{low}, {high}] is not finite")
        if low == high:
            low, high = low - 0.5, high + 0.5
        return linspace_values(low, high, int(bins) + 1, values.dtype)


def _values(input: Any, like: Any) -> Any:
    """``input`` as a tensor (a Python number becomes a 0-D one)."""
    return input if isinstance(input, variable_type()) else like.from_op(np.asarray(input), None)


def _side(right: bool, side: str | None) -> str:
    if side is None:
        return "right" if right else "left"
    if side not in ("left", "right"):
        raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
    if right and side == "left":
        raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left while "
                           "right was True")
    return side


def searchsorted(sorted_sequence: "Tensor", input: Any, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: "Tensor | None" = None) -> "Tensor":
    """Where each of ``input`` (a tensor or a number) would go in ``sorted_sequence`` (sorted
    along its last dim) to keep it sorted: the first such place, or the last with
    ``right=True`` / ``side="right"``. A sequence of more than 1 dim searches its row with
    input's matching leading dims. ``sorter`` (int64) sorts an unsorted sequence. int64, or
    int32 with ``out_int32``."""
    op = "torch.searchsorted()"
    if not isinstance(sorted_sequence, variable_type()):
        raise TypeError(f"{op}: argument 'sorted_sequence' must be a Tensor, not {type(sorted_sequence).__name__}")
    where = _side(right, side)
    seq = sorted_sequence.numpy()
    values = _values(input, sorted_sequence).numpy()
    if seq.ndim == 0:
        raise RuntimeError(f"{op}: boundaries tensor should have positive dimension, but got 0 dimension")
    if seq.ndim > 1 and (values.ndim == 0 or seq.shape[:-1] != values.shape[:-1]):
        raise RuntimeError(f"{op}: boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries "
                           f"tensor and input value tensor must match, but we got boundaries tensor "
                           f"{list(seq.shape)} and input value tensor {list(values.shape)}")
    if sorter is not None:
        order = sorter.numpy()
        if order.dtype != np.int64:
            raise RuntimeError(f"{op}: sorter must be a tensor of long dtype but got dtype "
                               f"{scalar_type_name(order.dtype)}")
        if order.shape != seq.shape:
            raise RuntimeError(f"{op}: boundary and sorter must have the same size, but got boundary tensor "
                               f"{list(seq.shape)} and got sorter tensor {list(order.shape)}")
        if order.size and (order.min() < 0 or order.max() >= seq.shape[-1]):
            raise RuntimeError(f"{op}: sorter index out of range")
        seq = np.take_along_axis(seq, order, axis=-1)
    if seq.ndim == 1:
        found = np.searchsorted(seq, values, side=where)
    else:
        rows, cols = seq.reshape(-1, seq.shape[-1]), values.reshape(-1, values.shape[-1])
        found = np.stack([np.searchsorted(r, c, side=where) for r, c in zip(rows, cols)]).reshape(values.shape)
    return sorted_sequence.from_op(np.asarray(found, dtype=np.int32 if out_int32 else np.int64), None)


def bucketize(input: Any, boundaries: "Tensor", *, out_int32: bool = False, right: bool = False) -> "Tensor":
    """The bucket of each of ``input`` (a tensor or a number) among the increasing 1-D
    ``boundaries``: i with boundaries[i-1] < x <= boundaries[i] (<= x < with ``right=True``),
    so 0 before the first boundary and len(boundaries) after the last. int64, or int32 with
    ``out_int32``; of input's shape."""
    if not isinstance(boundaries, variable_type()):
        raise TypeError(f"bucketize(): argument 'boundaries' must be a Tensor, not {type(boundaries).__name__}")
    if boundaries.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, _values(input, boundaries), out_int32=out_int32, right=right)
