"""Tensor's reductions (sum, mean, var, max, min, argmax, logsumexp, softmax): a mixin of Tensor."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from tinygrad_cnn.ops import reduce as R

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

    def sum(self, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None, keepdims: bool | None = None) -> "Tensor":
        """Sum over ``dim`` (alias ``axis``: an int, a tuple or None for all)."""
        return self._reduce(R.Sum, "sum", pick(dim, axis), pick(keepdim, keepdims))

    def mean(self, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None, keepdims: bool | None = None) -> "Tensor":
        """Mean over ``dim`` (alias ``axis``)."""
        return self._reduce(R.Mean, "mean", pick(dim, axis), pick(keepdim, keepdims))

    def var(self, dim: Dim = None, keepdim: bool = False, *, correction: int = 1, axis: Dim = None,
            keepdims: bool | None = None) -> "Tensor":
        """Variance over ``dim`` with ``correction`` (1: unbiased, torch's default; 0: population)."""
        return self._reduce(R.Var, "var", pick(dim, axis), pick(keepdim, keepdims), correction=correction)

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
        ``(values, indices)`` pair; over a tuple of dims, the values tensor."""
        return self._extreme(R.Max, R.MaxAlong, "max", np.argmax, pick(dim, axis), pick(keepdim, keepdims))

    def min(self, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None,
            keepdims: bool | None = None) -> "Tensor | MaxResult":
        """Minimum, shaped like ``max``'s result."""
        return self._extreme(R.Min, R.MinAlong, "min", np.argmin, pick(dim, axis), pick(keepdim, keepdims))

    def _extreme(self, fn: type, along: type, op: str, arg: Any, dim: Dim, keepdim: bool) -> "Tensor | MaxResult":
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
        dim, keepdim = pick(dim, axis), pick(keepdim, keepdims)
        R.check_nonempty("argmax", self.shape, None if dim is None else R.normalize_axis(dim, self.ndim, "argmax"))
        out = np.argmax(self._array, axis=dim, keepdims=keepdim if dim is not None else False)
        return self.from_op(np.asarray(out, dtype=np.int64), None)

    def argmin(self, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None,
               keepdims: bool | None = None) -> "Tensor":
        """Index of the minimum (of the flattened tensor when ``dim`` is None), int64."""
        dim, keepdim = pick(dim, axis), pick(keepdim, keepdims)
        R.check_nonempty("argmin", self.shape, None if dim is None else R.normalize_axis(dim, self.ndim, "argmin"))
        out = np.argmin(self._array, axis=dim, keepdims=keepdim if dim is not None else False)
        return self.from_op(np.asarray(out, dtype=np.int64), None)

    def logsumexp(self, dim: Dim, keepdim: bool = False) -> "Tensor":
        """log(sum(exp(self))) over ``dim``, stable for large inputs."""
        return self._reduce(R.LogSumExp, "logsumexp", dim, keepdim)

    def softmax(self, dim: int) -> "Tensor":
        """exp(self) normalised to sum 1 along ``dim``, stable for large inputs."""
        return R.Softmax.apply(self, dim=R.normalize_axis(dim, self.ndim, "softmax")[0])

    def log_softmax(self, dim: int) -> "Tensor":
        """self - logsumexp(self) along ``dim``, stable for large inputs."""
        return R.LogSoftmax.apply(self, dim=R.normalize_axis(dim, self.ndim, "log_softmax")[0])
