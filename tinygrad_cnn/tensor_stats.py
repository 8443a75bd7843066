"""Tensor's order statistics and nan-aware reductions, as torch's: aminmax, mode, kthvalue,
cummax, cummin, logcumsumexp, nansum, nanmean, nanmedian, quantile, nanquantile and msort:
a mixin of Tensor.

Results that carry indices are ``(values, indices)`` named tuples (tensor_reduce's
``MaxResult``); aminmax's is ``(min, max)``. Values are differentiable: the gradient goes to
the returned index (mode, kthvalue, cummax, nanmedian(dim)), or is shared evenly among ties
(aminmax, nanmedian()). Where several elements tie, the index is the one torch's CPU kernel
gives where that is defined (mode: the last occurrence; cummax/cummin: the latest extreme),
else that of a stable sort.
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_cnn.dtypes import scalar_type_name
from tinygrad_cnn.ops import reduce as R
from tinygrad_cnn.ops import statistics as ST
from tinygrad_cnn.tensor_reduce import Dim, MaxResult

if TYPE_CHECKING:
    from tinygrad_cnn.tensor import Tensor

AminmaxResult = namedtuple("AminmaxResult", ["min", "max"])

INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _one_dim(dim: Any, ndim: int, op: str) -> int:
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")
    return R.normalize_axis(dim, ndim, op)[0]


def _check_reduced(op: str, shape: tuple[int, ...], d: int) -> None:
    if shape[d] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size (input shape {shape}).")


class StatsMixin:
    """torch's order statistics (mode, kthvalue, quantile, ...) and nan-aware reductions."""

    _array: np.ndarray

    # ---------------------------------------------------------------- min and max together
    def aminmax(self, *, dim: int | None = None, keepdim: bool = False) -> AminmaxResult:
        """``(min, max)`` over all elements or over the one int ``dim``, as torch.aminmax; the
        gradient of each is shared evenly among tied extremes (as amin/amax)."""
        if dim is None:
            if self._array.size == 0:
                raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has "
                                   f"no identity (input shape {tuple(self.shape)}).")
        elif self.ndim:
            _check_reduced("aminmax", self._array.shape, _one_dim(dim, self.ndim, "aminmax"))
        else:
            _one_dim(dim, 0, "aminmax")
        return AminmaxResult(self.amin(dim, keepdim), self.amax(dim, keepdim))

    # ---------------------------------------------------------------- picks along one dim
    def _along(self, op: str, dim: Any, keepdim: bool, pick: Any, along: type) -> MaxResult:
        """(values, indices) at ``pick(array, d, order)`` (keepdims indices; ``order`` the stable
        argsort along d) along ``dim``; a 0-D tensor is its own result, at index 0."""
        if self.ndim == 0:
            _one_dim(dim, 0, op)
            values, indices = self.reshape(1)._along(op, 0, False, pick, along)
            return MaxResult(values, indices)
        d = _one_dim(dim, self.ndim, op)
        _check_reduced(op, self._array.shape, d)
        index = pick(self._array, d, np.argsort(self._array, axis=d, kind="stable"))
        values = along.apply(self, indices=index, dim=d, keepdim=bool(keepdim))
        return MaxResult(values, self.from_op(index if keepdim else np.squeeze(index, d), None))

    def mode(self, dim: int = -1, keepdim: bool = False) -> MaxResult:
        """The most frequent value along ``dim`` (the smallest of equally frequent ones) and
        the index of its last occurrence, as torch.mode."""
        return self._along("mode", dim, keepdim, lambda a, d, order: ST.mode_indices(a, order, d), ST.ModeAlong)

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False) -> MaxResult:
        """The ``k``-th smallest value along ``dim`` (k from 1; NaN is the largest) and its
        index, as torch.kthvalue."""
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
            raise TypeError(f"kthvalue(): argument 'k' must be int, not {type(k).__name__}")
        if self.dtype.kind == "b":
            raise NotImplementedError("kthvalue: \"kthvalue_cpu\" not implemented for 'Bool'")
        d = _one_dim(dim, max(self.ndim, 1), "kthvalue")
        size = self.shape[d] if self.ndim else 1
        if not 1 <= k <= size:
            raise RuntimeError(f"kthvalue(): selected number k ({k}) out of range for dimension {d} of size {size}")
        return self._along("kthvalue", dim, keepdim, lambda a, d, order: np.take(order, [k - 1], axis=d),
                           ST.KthvalueAlong)

    def nanmedian(self, dim: int | None = None, keepdim: bool = False) -> "Tensor | MaxResult":
        """The lower median of the non-NaN values (NaN when there are none): of all elements
        (the gradient shared among ties), or along ``dim`` as ``(values, indices)``, as torch.nanmedian."""
        if self.dtype.kind == "b":
            raise NotImplementedError("nanmedian: \"median_cpu\" not implemented for 'Bool'")
        if dim is None:
            return _median_all(self, True, "nanmedian")
        return self._along("nanmedian", dim, keepdim, lambda a, d, order: np.take_along_axis(
            order, ST.median_positions(a, d, ignore_nan=True), d), ST.NanmedianAlong)

    # ---------------------------------------------------------------- scans
    def _cumulative_extreme(self, op: str, dim: int, accumulate: np.ufunc, along: type) -> MaxResult:
        if self.ndim == 0:
            _one_dim(dim, 0, op)
            values, indices = self.reshape(1)._cumulative_extreme(op, 0, accumulate, along)
            return MaxResult(values.reshape(()), indices.reshape(()))
        d = _one_dim(dim, self.ndim, op)
        running = accumulate.accumulate(self._array, axis=d)
        index = ST.cumulative_extreme_indices(self._array, running, d)
        return MaxResult(along.apply(self, index=index, dim=d), self.from_op(index, None))

    def cummax(self, dim: int) -> MaxResult:
        """The running maximum along ``dim`` and where it was last reached (NaN propagates),
        as torch.cummax; the gradient goes to those indices."""
        return self._cumulative_extreme("cummax", dim, np.maximum, ST.Cummax)

    def cummin(self, dim: int) -> MaxResult:
        """The running minimum along ``dim`` and where it was last reached, as torch.cummin."""
        return self._cumulative_extreme("cummin", dim, np.minimum, ST.Cummin)

    def logcumsumexp(self, dim: int) -> "Tensor":
        """log(cumsum(exp(self))) along ``dim``, stable for large inputs; floating tensors only."""
        if self.dtype.kind != "f":
            raise NotImplementedError(f'logcumsumexp: "logcumsumexp_out_cpu" not implemented for '
                                      f"'{scalar_type_name(self.dtype)}'")
        d = _one_dim(dim, max(self.ndim, 1), "logcumsumexp")
        if self.ndim == 0:
            return ST.LogCumSumExp.apply(self.reshape(1), dim=0).reshape(())
        return ST.LogCumSumExp.apply(self, dim=d)

    # ---------------------------------------------------------------- nan-aware reductions
    def nansum(self, dim: Dim = None, keepdim: bool = False, *, dtype: Any = None) -> "Tensor":
        """The sum over ``dim`` treating NaN as 0 (dtype rules as ``sum``); no gradient to NaNs."""
        source = self._with_dtype(dtype, "nansum")
        if source.dtype.kind != "f":
            return source.sum(dim, keepdim)
        return source._reduce(ST.NanSum, "nansum", dim, keepdim)

    def nanmean(self, dim: Dim = None, keepdim: bool = False, *, dtype: Any = None) -> "Tensor":
        """The mean over ``dim`` of the non-NaN values (NaN where there are none), as torch.nanmean."""
        source = self._with_dtype(dtype, "nanmean")
        if source.dtype.kind != "f":
            raise RuntimeError("nanmean(): expected input to have floating point or complex dtype but got "
                               f"{scalar_type_name(source.dtype)}")
        return source._reduce(ST.NanMean, "nanmean", dim, keepdim)

    # ---------------------------------------------------------------- quantiles
    def quantile(self, q: Any, dim: int | None = None, keepdim: bool = False, *,
                 interpolation: str = "linear") -> "Tensor":
        """The ``q``-quantiles (q a number or a 0-D/1-D tensor in [0, 1]) over all elements or
        along ``dim``, as torch.quantile: NaN where a row holds NaN; a 1-D ``q`` adds a first
        dim of its length. ``interpolation`` between the two nearest sorted values: "linear",
        "lower", "higher", "midpoint" or "nearest" (round half to even). Differentiable."""
        return _quantile(self, q, dim, keepdim, interpolation, "quantile", ignore_nan=False)

    def nanquantile(self, q: Any, dim: int | None = None, keepdim: bool = False, *,
                    interpolation: str = "linear") -> "Tensor":
        """``quantile`` of the non-NaN values of each row (NaN for a row of NaNs only)."""
        return _quantile(self, q, dim, keepdim, interpolation, "nanquantile", ignore_nan=True)

    def msort(self) -> "Tensor":
        """The values sorted along dim 0 (``sort(0).values``), as torch.msort."""
        return self.sort(0).values


def _median_all(t: Any, ignore_nan: bool, op: str) -> Any:
    if t._array.size == 0 and t.dtype.kind != "f":
        raise RuntimeError(f"{op}(): an empty {t.dtype} tensor has no median")
    return ST.MedianAll.apply(t, ignore_nan=ignore_nan)


def _quantile_q(t: Any, q: Any, op: str) -> tuple[np.ndarray, bool]:
    """``q`` as a 1-D array in t's dtype, and whether it was a scalar (no q dim in the result)."""
    if hasattr(q, "numpy"):
        if q.dtype != t.dtype:
            raise RuntimeError(f"{op}() q tensor must be same dtype as the input tensor (q: {q.dtype}, input: "
                               f"{t.dtype})")
        if q.ndim > 1:
            raise RuntimeError(f"{op}() q must be a scalar or 1D tensor, got shape {tuple(q.shape)}")
        values, scalar = q.numpy().reshape(-1), q.ndim == 0
        if np.any(~((values >= 0) & (values <= 1))):
            raise RuntimeError(f"{op}() q values must be in the range [0, 1], got {values.tolist()}")
        return values, scalar
    if not isinstance(q, (int, float, np.number)) or isinstance(q, bool):
        raise TypeError(f"{op}(): q must be a number or a tensor, got {type(q).__name__}")
    if not 0 <= q <= 1:
        raise RuntimeError(f"{op}() q must be in the range [0, 1] but got {q}")
    return np.array([q], dtype=t.dtype), True


def _quantile(t: Any, q: Any, dim: int | None, keepdim: bool, interpolation: str, op: str,
              ignore_nan: bool) -> Any:
    """torch's quantile_compute: sort each row (NaNs last), rank = q * (n - 1) (n counting the
    non-NaN values for nanquantile; the last, NaN, place for a row with NaN in quantile),
    then the values at the neighbouring ranks, lerped as torch.lerp."""
    if t.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype, got {t.dtype}")
    if interpolation not in INTERPOLATIONS:
        raise RuntimeError(f"{op}() interpolation must be one of linear, lower, higher, midpoint or nearest, "
                           f"but got {interpolation}")
    qs, scalar_q = _quantile_q(t, q, op)
    if t._array.size == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty (input shape {tuple(t.shape)})")
    if dim is None:
        rows, reduced = t.reshape(-1), None
    else:
        reduced = _one_dim(dim, max(t.ndim, 1), op)
        rows = t.reshape(1) if t.ndim == 0 else t.movedim(reduced, -1)
    ordered = rows.sort(-1).values
    array, last = ordered.numpy(), ordered.shape[-1] - 1
    nan = np.isnan(array)
    if ignore_nan:
        ranks = np.maximum(qs * (np.sum(~nan, axis=-1, keepdims=True) - 1).astype(t.dtype), 0)
    else:
        ranks = np.where(nan.any(axis=-1, keepdims=True), t.dtype.type(last), qs * t.dtype.type(last))
    ranks = {"lower": np.floor, "higher": np.ceil, "nearest": np.round}.get(interpolation, lambda r: r)(ranks)
    below_index = np.broadcast_to(ranks.astype(np.int64), array.shape[:-1] + (qs.size,))
    below = ordered.gather(-1, below_index)
    if interpolation in ("linear", "midpoint"):
        weights = np.full_like(ranks, 0.5) if interpolation == "midpoint" else ranks - np.floor(ranks)
        above = ordered.gather(-1, np.broadcast_to(np.ceil(ranks).astype(np.int64), below_index.shape))
        small = np.abs(weights) < 0.5  # torch.lerp's two forms, for the same rounding
        below = (below + (above - below) * weights).where(small, above - (above - below) * (1 - weights))
    result = below.movedim(-1, 0)  # (q, *kept dims)
    if keepdim and t.ndim:
        result = result.reshape((qs.size,) + (1,) * t.ndim) if dim is None else result.unsqueeze(reduced + 1)
    return result.squeeze(0) if scalar_q else result
