"""Tensor's reductions (sum, mean, var, std, norm, prod, max, min, argmax, logsumexp, softmax),
scans (cumsum, cumprod) and orderings (sort, argsort, topk, median): a mixin of Tensor."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from tinygrad_cnn.dtypes import dtype_arg
from tinygrad_cnn.ops import reduce as R
from tinygrad_cnn.ops import shape as S
from tinygrad_cnn.ops import statistics as ST

Dim = int | tuple[int, ...] | None

MaxResult = namedtuple("MaxResult", ["values", "indices"])


def pick(torch_value: Any, numpy_value: Any) -> Any:
    """The numpy-style alias (``axis``/``keepdims``) when given, else the torch-style argument."""
    return torch_value if numpy_value is None else numpy_value


class ReduceMixin:
    """Reductions over ``dim`` (torch's names) or ``axis`` (NumPy's), with ``keepdim``."""

    _array: np.ndarray

    # ---------------------------------------------------------------- reductions
    def _reduce(self, fn: type, op: str, dim: Dim, keepdim: bool, **extra: Any) -> "Tensor":
        axes = R.normalize_axis(dim, self.ndim, op) if self.ndim else (R.normalize_axis(dim, 0, op) and ())
        return fn.apply(self, axis=axes, keepdims=bool(keepdim), **extra)

    def _with_dtype(self, dtype: Any, op: str) -> "Tensor":
        return self if dtype is None else self._cast(dtype_arg(dtype, op))

    def sum(self, dim: Dim = None, keepdim: bool = False, *, dtype: Any = None, axis: Dim = None,
            keepdims: bool | None = None) -> "Tensor":
        """Sum over ``dim`` (alias ``axis``: an int, a tuple or None for all), computed in
        ``dtype`` when given; bool and integer tensors sum to int64, as torch's."""
        source = self._with_dtype(dtype, "sum")
        if dtype is None and source.dtype.kind in "biu":
            source = source._cast(np.dtype(np.int64))
        return source._reduce(R.Sum, "sum", pick(dim, axis), pick(keepdim, keepdims))

    def mean(self, dim: Dim = None, keepdim: bool = False, *, dtype: Any = None, axis: Dim = None,
             keepdims: bool | None = None) -> "Tensor":
        """Mean over ``dim`` (alias ``axis``), computed in ``dtype`` when given."""
        source = self._with_dtype(dtype, "mean")
        if not np.issubdtype(source.dtype, np.inexact):
            raise RuntimeError(f"mean: input dtype should be floating point, got {source.dtype}; pass dtype= or "
                               "convert with .float()")
        return source._reduce(R.Mean, "mean", pick(dim, axis), pick(keepdim, keepdims))

    def var(self, dim: Dim = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: float | None = None, axis: Dim = None, keepdims: bool | None = None) -> "Tensor":
        """Variance over ``dim`` with ``correction`` (1, torch's default: unbiased; 0: the
        population's); torch's older ``unbiased`` (also ``var(False)``) still works."""
        dim, correction = _correction("var", pick(dim, axis), unbiased, correction)
        return self._reduce(R.Var, "var", dim, pick(keepdim, keepdims), correction=correction)

    def std(self, dim: Dim = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: float | None = None, axis: Dim = None, keepdims: bool | None = None) -> "Tensor":
        """Standard deviation: the square root of ``var`` with the same arguments."""
        return self.var(dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims).sqrt()

    def norm(self, p: float | str = "fro", dim: Dim = None, keepdim: bool = False, dtype: Any = None) -> "Tensor":
        """The vector p-norm over ``dim`` (all elements when None): p a number, inf, -inf or
        "fro" (= 2), as torch.norm; the gradient is 0 where the norm is 0. Another string ("nuc",
        or "fro" over more than two dims) is torch.linalg.matrix_norm's over ``dim`` (all dims when None)."""
        if p == "fro" and (dim is None or isinstance(dim, (int, np.integer)) or len(dim) <= 2):
            p = 2
        if isinstance(p, str):
            from tinygrad_cnn import linalg

            dims = tuple(range(self.ndim)) if dim is None else dim
            return linalg.matrix_norm(self._with_dtype(dtype, "norm"), p, dims, keepdim)
        if not isinstance(p, (int, float, np.number)):
            raise ValueError(f"norm: p must be a number, inf, -inf, 'fro' or 'nuc', got {p!r}")
        source = self._with_dtype(dtype, "norm")._as_float()
        return source._reduce(R.Norm, "norm", dim, keepdim, p=float(p))

    def prod(self, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> "Tensor":
        """Product of all elements, or over the one int ``dim``."""
        source = self._with_dtype(dtype, "prod")
        d = None if dim is None else R.normalize_axis(dim, self.ndim, "prod")[0]
        return R.Prod.apply(source, dim=d, keepdim=bool(keepdim))

    def cumsum(self, dim: int, *, dtype: Any = None) -> "Tensor":
        """Running sum along ``dim``."""
        return R.Cumsum.apply(self._with_dtype(dtype, "cumsum"), dim=R.normalize_axis(dim, self.ndim, "cumsum")[0])

    def cumprod(self, dim: int, *, dtype: Any = None) -> "Tensor":
        """Running product along ``dim``."""
        return R.Cumprod.apply(self._with_dtype(dtype, "cumprod"), dim=R.normalize_axis(dim, self.ndim, "cumprod")[0])

    def count_nonzero(self, dim: Dim = None) -> "Tensor":
        """The number of non-zero elements over ``dim`` (all when None), int64."""
        axes = R.normalize_axis(dim, self.ndim, "count_nonzero")
        return self.from_op(np.asarray(np.count_nonzero(self._array, axis=axes), dtype=np.int64), None)

    def all(self, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None, keepdims: bool | None = None,
            **numpy_kwargs: Any) -> "Tensor":
        """True where every element (over ``dim``, or all) is non-zero; a bool tensor, no gradient."""
        result = np.all(self._array, axis=pick(dim, axis), keepdims=bool(pick(keepdim, keepdims)), **numpy_kwargs)
        return self.from_op(np.asarray(result), None)

    def any(self, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None, keepdims: bool | None = None,
            **numpy_kwargs: Any) -> "Tensor":
        """True where some element (over ``dim``, or all) is non-zero; a bool tensor, no gradient."""
        result = np.any(self._array, axis=pick(dim, axis), keepdims=bool(pick(keepdim, keepdims)), **numpy_kwargs)
        return self.from_op(np.asarray(result), None)

    def amax(self, dim: Dim = None, keepdim: bool = False) -> "Tensor":
        """Maximum over ``dim``; the gradient is shared evenly among ties."""
        return self._reduce(R.Max, "amax", dim, keepdim)

    def amin(self, dim: Dim = None, keepdim: bool = False) -> "Tensor":
        """Minimum over ``dim``; the gradient is shared evenly among ties."""
        return self._reduce(R.Min, "amin", dim, keepdim)

    def max(self, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None,
            keepdims: bool | None = None) -> "Tensor | MaxResult":
        """Maximum: over everything (a tensor), or over one int ``dim`` as torch, a
        ``(values, indices)`` pair; over a tuple of dims, the values tensor; ``max(other_tensor)``
        is the elementwise maximum."""
        return self._extreme(R.Max, R.MaxAlong, "max", np.argmax, pick(dim, axis), pick(keepdim, keepdims))

    def min(self, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None,
            keepdims: bool | None = None) -> "Tensor | MaxResult":
        """Minimum, shaped like ``max``'s result."""
        return self._extreme(R.Min, R.MinAlong, "min", np.argmin, pick(dim, axis), pick(keepdim, keepdims))

    def _extreme(self, fn: type, along: type, op: str, arg: Any, dim: Dim, keepdim: bool) -> "Tensor | MaxResult":
        if hasattr(dim, "numpy"):  # torch.max(a, b): elementwise
            return self.maximum(dim) if op == "max" else self.minimum(dim)
        if not isinstance(dim, (int, np.integer)):
            return self._reduce(fn, op, dim, keepdim)
        d = R.normalize_axis(dim, self.ndim, op)[0]
        if self.ndim == 0:  # dim 0 of a scalar is the scalar itself, at index 0, as torch
            return MaxResult(fn.apply(self, axis=(), keepdims=False), self.from_op(np.zeros((), np.int64), None))
        R.check_nonempty(op, self.shape, (d,))
        indices = arg(self._array, axis=d, keepdims=True)
        values = along.apply(self, indices=indices, dim=d, keepdim=bool(keepdim))
        kept = indices if keepdim else np.squeeze(indices, axis=d)
        return MaxResult(values, self.from_op(kept.astype(np.int64), None))

    def argmax(self, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None,
               keepdims: bool | None = None) -> "Tensor":
        """Index of the maximum (of the flattened tensor when ``dim`` is None), int64."""
        return self._arg_extreme(np.argmax, "argmax", pick(dim, axis), pick(keepdim, keepdims))

    def argmin(self, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None,
               keepdims: bool | None = None) -> "Tensor":
        """Index of the minimum (of the flattened tensor when ``dim`` is None), int64."""
        return self._arg_extreme(np.argmin, "argmin", pick(dim, axis), pick(keepdim, keepdims))

    def _arg_extreme(self, arg: Any, op: str, dim: int | None, keepdim: bool) -> "Tensor":
        R.check_nonempty(op, self.shape, None if dim is None else R.normalize_axis(dim, self.ndim, op))
        out = arg(self._array, axis=dim, keepdims=keepdim if dim is not None else False)
        return self.from_op(np.asarray(out, dtype=np.int64), None)

    def logsumexp(self, dim: Dim, keepdim: bool = False) -> "Tensor":
        """log(sum(exp(self))) over ``dim``, stable for large inputs."""
        return self._reduce(R.LogSumExp, "logsumexp", dim, keepdim)

    def softmax(self, dim: int, dtype: Any = None) -> "Tensor":
        """exp(self) normalised to sum 1 along ``dim``, stable for large inputs."""
        source = self._with_dtype(dtype, "softmax")._as_float()
        return R.Softmax.apply(source, dim=R.normalize_axis(dim, self.ndim, "softmax")[0])

    def log_softmax(self, dim: int, dtype: Any = None) -> "Tensor":
        """self - logsumexp(self) along ``dim``, stable for large inputs."""
        source = self._with_dtype(dtype, "log_softmax")._as_float()
        return R.LogSoftmax.apply(source, dim=R.normalize_axis(dim, self.ndim, "log_softmax")[0])

    # ---------------------------------------------------------------- orderings
    def _order(self, dim: int, descending: bool, op: str) -> tuple[int, np.ndarray]:
        d = R.normalize_axis(dim, self.ndim, op)[0] if self.ndim else 0
        keys = self._array.reshape(1) if self.ndim == 0 else self._array
        if descending:
            keys = -keys.astype(np.int64) if keys.dtype.kind in "bu" else -keys
        order = np.argsort(keys, axis=d, kind="stable")
        return d, (order.reshape(()) if self.ndim == 0 else order).astype(np.int64)

    def _pick_along(self, order: np.ndarray, d: int) -> MaxResult:
        values = S.Gather.apply(self, index=order, dim=d) if self.ndim else self.reshape(())
        return MaxResult(values, self.from_op(order, None))

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> MaxResult:
        """The values sorted along ``dim`` and the indices they came from, a ``(values,
        indices)`` pair as torch.sort; ties keep their order. Values are differentiable."""
        d, order = self._order(dim, descending, "sort")
        return self._pick_along(order, d)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> "Tensor":
        """The indices that sort along ``dim`` (int64), ties in order."""
        return self.from_op(self._order(dim, descending, "argsort")[1], None)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> MaxResult:
        """The ``k`` largest (or smallest) values along ``dim`` and their indices, largest first."""
        d, order = self._order(dim, largest, "topk")
        n = self.shape[d] if self.ndim else 1
        if not 0 <= k <= n:
            raise RuntimeError(f"topk: k ({k}) is out of range for dimension {dim} of size {n}")
        return self._pick_along(np.take(order, range(k), axis=d) if self.ndim else order, d)

    def median(self, dim: int | None = None, keepdim: bool = False) -> "Tensor | MaxResult":
        """The lower median (of n sorted values, the ((n - 1) // 2)-th; NaN where there is a
        NaN): of all elements (the gradient shared among ties), or along ``dim`` as a
        ``(values, indices)`` pair, as torch.median."""
        if dim is None:
            return ST.MedianAll.apply(self, ignore_nan=False)
        d, order = self._order(dim, False, "median")
        middle = np.take_along_axis(order, ST.median_positions(self._array, d, False), d) if self.ndim else order
        values, indices = self._pick_along(middle, d)
        if keepdim or not self.ndim:
            return MaxResult(values, indices)
        return MaxResult(values.squeeze(d), self.from_op(np.squeeze(middle, d), None))


def _correction(op: str, dim: Any, unbiased: bool | None, correction: float | None) -> tuple[Any, float]:
    """(dim, correction) from torch's var/std arguments: ``var(True)`` passes ``unbiased``
    first; ``unbiased`` and ``correction`` exclude each other; the default correction is 1."""
    if isinstance(dim, (bool, np.bool_)):
        dim, unbiased = None, bool(dim)
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: give unbiased or correction, not both")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, correction
