"""Tensor's arithmetic, comparison, elementwise and dtype methods (a mixin of Tensor)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.ops import elementwise as E
from tinygrad_cnn.ops import matmul as M

ArrayLike = Any


def is_float(dtype: np.dtype) -> bool:
    """True for floating dtypes (the ones that can carry gradients)."""
    return np.issubdtype(dtype, np.floating)


class MathMixin:
    """Operators and elementwise methods; every result is made by an op's ``apply``."""

    _array: np.ndarray

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy ufuncs on tensors give tensors, as torch's: those with a Tensor method
        (``ndarray * t``, ``np.exp(t)``) run it and stay differentiable; others compute on
        the arrays and return a constant tensor."""
        if method != "__call__" or kwargs:  # reductions (np.all), out=...: on the arrays
            arrays = [x._array if isinstance(x, MathMixin) else x for x in inputs]
            return getattr(ufunc, method)(*arrays, **kwargs)
        first = next(x for x in inputs if isinstance(x, MathMixin))
        name = _UFUNC_METHODS.get(ufunc)
        if name is not None:
            lead = inputs[0] if isinstance(inputs[0], MathMixin) else first._lift(inputs[0])
            return getattr(lead, name)(*inputs[1:])
        arrays = [x._array if isinstance(x, MathMixin) else x for x in inputs]
        return first.from_op(np.asarray(ufunc(*arrays)), None)

    # ---------------------------------------------------------------- arithmetic
    def _lift(self, other: ArrayLike) -> "Tensor":
        """``other`` as a constant tensor; numbers and lists take a float tensor's dtype (as torch)."""
        if isinstance(other, MathMixin):
            return other
        weak = isinstance(other, (int, float, bool, np.number, list, tuple)) or np.ndim(other) == 0
        if weak and is_float(self.dtype) and not np.iscomplexobj(other):
            return self.from_op(np.asarray(other, dtype=self.dtype), None)
        return self.from_op(np.asarray(other), None)

    def __add__(self, other: ArrayLike) -> "Tensor":
        return E.Add.apply(self, self._lift(other))

    def __radd__(self, other: ArrayLike) -> "Tensor":
        return E.Add.apply(self._lift(other), self)

    def __sub__(self, other: ArrayLike) -> "Tensor":
        return E.Sub.apply(self, self._lift(other))

    def __rsub__(self, other: ArrayLike) -> "Tensor":
        return E.Sub.apply(self._lift(other), self)

    def __mul__(self, other: ArrayLike) -> "Tensor":
        return E.Mul.apply(self, self._lift(other))

    def __rmul__(self, other: ArrayLike) -> "Tensor":
        return E.Mul.apply(self._lift(other), self)

    def __truediv__(self, other: ArrayLike) -> "Tensor":
        return E.Div.apply(self, self._lift(other))

    def __rtruediv__(self, other: ArrayLike) -> "Tensor":
        return E.Div.apply(self._lift(other), self)

    def __neg__(self) -> "Tensor":
        return E.Neg.apply(self)

    def __abs__(self) -> "Tensor":
        return E.Abs.apply(self)

    def __pow__(self, exponent: ArrayLike) -> "Tensor":
        if isinstance(exponent, (int, float, np.number)):
            return E.PowScalar.apply(self, exponent=exponent.item() if isinstance(exponent, np.number) else exponent)
        return E.Pow.apply(self, self._lift(exponent))

    def __rpow__(self, base: ArrayLike) -> "Tensor":
        return E.Pow.apply(self._lift(base), self)

    def __matmul__(self, other: ArrayLike) -> "Tensor":
        return M.MatMul.apply(self, self._lift(other))

    def __rmatmul__(self, other: ArrayLike) -> "Tensor":
        return M.MatMul.apply(self._lift(other), self)

    def matmul(self, other: ArrayLike) -> "Tensor":
        """Matrix product as np.matmul: 1-D, 2-D and batched (broadcast) operands."""
        return self @ other

    def pow(self, exponent: ArrayLike) -> "Tensor":
        """self ** exponent (a number or a tensor)."""
        return self ** exponent

    def add(self, other: ArrayLike) -> "Tensor":
        """self + other, broadcast."""
        return self + other

    def sub(self, other: ArrayLike) -> "Tensor":
        """self - other, broadcast."""
        return self - other

    def mul(self, other: ArrayLike) -> "Tensor":
        """self * other, broadcast."""
        return self * other

    def div(self, other: ArrayLike) -> "Tensor":
        """self / other, broadcast."""
        return self / other

    def neg(self) -> "Tensor":
        """-self."""
        return -self

    # ---------------------------------------------------------------- comparisons (no gradient)
    def _compare(self, other: ArrayLike, ufunc: np.ufunc) -> "Tensor":
        return self.from_op(ufunc(self._array, other._array if isinstance(other, MathMixin) else other), None)

    def __eq__(self, other: ArrayLike) -> "Tensor":  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other: ArrayLike) -> "Tensor":  # type: ignore[override]
        return self._compare(other, np.not_equal)

    def __lt__(self, other: ArrayLike) -> "Tensor":
        return self._compare(other, np.less)

    def __le__(self, other: ArrayLike) -> "Tensor":
        return self._compare(other, np.less_equal)

    def __gt__(self, other: ArrayLike) -> "Tensor":
        return self._compare(other, np.greater)

    def __ge__(self, other: ArrayLike) -> "Tensor":
        return self._compare(other, np.greater_equal)

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        if self._array.size != 1:
            raise RuntimeError(f"bool: the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self._array)

    # ---------------------------------------------------------------- unary
    def exp(self) -> "Tensor":
        """e ** self, elementwise."""
        return E.Exp.apply(self)

    def log(self) -> "Tensor":
        """Natural logarithm, elementwise."""
        return E.Log.apply(self)

    def sqrt(self) -> "Tensor":
        """Square root, elementwise."""
        return E.Sqrt.apply(self)

    def abs(self) -> "Tensor":
        """|self|, elementwise."""
        return E.Abs.apply(self)

    def relu(self) -> "Tensor":
        """max(self, 0), elementwise."""
        return E.ReLU.apply(self)

    def sigmoid(self) -> "Tensor":
        """1 / (1 + exp(-self)), elementwise, without overflow."""
        return E.Sigmoid.apply(self)

    def tanh(self) -> "Tensor":
        """Hyperbolic tangent, elementwise."""
        return E.Tanh.apply(self)

    def clamp(self, min: float | None = None, max: float | None = None) -> "Tensor":
        """Values limited to [min, max]; either bound may be None."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        return E.Clamp.apply(self, min=min, max=max)

    clip = clamp

    def maximum(self, other: ArrayLike) -> "Tensor":
        """Elementwise max(self, other), broadcast."""
        return E.Maximum.apply(self, self._lift(other))

    def minimum(self, other: ArrayLike) -> "Tensor":
        """Elementwise min(self, other), broadcast."""
        return E.Minimum.apply(self, self._lift(other))

    def to(self, dtype: Any) -> "Tensor":
        """This tensor converted to ``dtype`` (differentiable between float dtypes)."""
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return self
        if not is_float(dtype):
            return self.from_op(self._array.astype(dtype), None)
        return E.Cast.apply(self, dtype=dtype)

    astype = to

    def float(self) -> "Tensor":
        """This tensor as float32."""
        return self.to(np.float32)

    def double(self) -> "Tensor":
        """This tensor as float64."""
        return self.to(np.float64)

    def long(self) -> "Tensor":
        """This tensor as int64 (no gradient)."""
        return self.to(np.int64)


_UFUNC_METHODS = {
    np.add: "__add__", np.subtract: "__sub__", np.multiply: "__mul__", np.true_divide: "__truediv__",
    np.power: "__pow__", np.matmul: "__matmul__", np.negative: "__neg__", np.equal: "__eq__",
    np.not_equal: "__ne__", np.less: "__lt__", np.less_equal: "__le__", np.greater: "__gt__",
    np.greater_equal: "__ge__", np.exp: "exp", np.log: "log", np.sqrt: "sqrt", np.abs: "abs",
    np.tanh: "tanh", np.maximum: "maximum", np.minimum: "minimum",
}
