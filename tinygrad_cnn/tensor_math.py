"""Tensor's arithmetic, comparison, logical and elementwise methods (a mixin of Tensor).

Mixed integer/float operands promote as torch's do (an int tensor with a float tensor or a
Python float gives the float dtype, an int tensor divided by an int gives the default float
dtype), not as NumPy's (which would give float64).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.dtypes import get_default_dtype, scalar_type_name
from tinygrad_cnn.dtypes import is_floating as is_float
from tinygrad_cnn.ops import elementwise as E
from tinygrad_cnn.ops import matmul as M
from tinygrad_cnn.ops import unary as U

ArrayLike = Any

__all__ = ["ArrayLike", "MathMixin", "is_float"]

_WEAK = (int, float, bool, np.number, np.bool_, list, tuple)


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

    # ---------------------------------------------------------------- operands
    def _lift(self, other: ArrayLike) -> "Tensor":
        """``other`` as a constant tensor; Python numbers and lists are "weak", as torch's: they
        take a float tensor's dtype, a float given to an integer tensor takes the default float
        dtype, an int given to an integer tensor takes its dtype."""
        if isinstance(other, MathMixin):
            return other
        array = np.asarray(other)
        if (isinstance(other, _WEAK) or array.ndim == 0) and array.dtype.kind in "biuf":
            if is_float(self.dtype):
                array = array.astype(self.dtype)
            elif array.dtype.kind == "f":
                array = array.astype(get_default_dtype())
            elif self.dtype.kind in "iu" and array.dtype.kind in "biu":
                array = array.astype(self.dtype)
        return self.from_op(array, None)

    def _operands(self, other: ArrayLike, reverse: bool = False) -> tuple["Tensor", "Tensor"]:
        """(self, other) as tensors, an integer side cast to the float side's dtype (torch's promotion)."""
        if other.__class__ is self.__class__ and other._array.dtype is self._array.dtype:  # the common case
            return (other, self) if reverse else (self, other)
        b = other if isinstance(other, MathMixin) else self._lift(other)
        a: Any = self
        a_float = a._array.dtype.kind == "f"
        if a_float != (b._array.dtype.kind == "f"):
            if a_float:
                b = b.from_op(b._array.astype(a.dtype), None)
            else:
                a = a.from_op(a._array.astype(b.dtype), None)
        return (b, a) if reverse else (a, b)

    def _as_float(self) -> "Tensor":
        """self, or for an integer/bool tensor a constant copy in the default float dtype
        (what torch's float-valued functions such as sqrt and sin compute on)."""
        return self if self._array.dtype.kind == "f" else self.from_op(self._array.astype(get_default_dtype()), None)

    # ---------------------------------------------------------------- arithmetic
    def __add__(self, other: ArrayLike) -> "Tensor":
        return E.Add.apply(*self._operands(other))

    def __radd__(self, other: ArrayLike) -> "Tensor":
        return E.Add.apply(*self._operands(other, reverse=True))

    def __sub__(self, other: ArrayLike) -> "Tensor":
        return E.Sub.apply(*self._operands(other))

    def __rsub__(self, other: ArrayLike) -> "Tensor":
        return E.Sub.apply(*self._operands(other, reverse=True))

    def __mul__(self, other: ArrayLike) -> "Tensor":
        return E.Mul.apply(*self._operands(other))

    def __rmul__(self, other: ArrayLike) -> "Tensor":
        return E.Mul.apply(*self._operands(other, reverse=True))

    def __truediv__(self, other: ArrayLike) -> "Tensor":
        a, b = self._operands(other)
        return E.Div.apply(a._as_float(), b._as_float())

    def __rtruediv__(self, other: ArrayLike) -> "Tensor":
        a, b = self._operands(other, reverse=True)
        return E.Div.apply(a._as_float(), b._as_float())

    def __floordiv__(self, other: ArrayLike) -> "Tensor":
        return self.floor_divide(other)

    def __rfloordiv__(self, other: ArrayLike) -> "Tensor":
        return self._lift(other).floor_divide(self)

    def __mod__(self, other: ArrayLike) -> "Tensor":
        return self.remainder(other)

    def __rmod__(self, other: ArrayLike) -> "Tensor":
        return self._lift(other).remainder(self)

    def __neg__(self) -> "Tensor":
        return E.Neg.apply(self)

    def __abs__(self) -> "Tensor":
        return E.Abs.apply(self)

    def __pow__(self, exponent: ArrayLike) -> "Tensor":
        if isinstance(exponent, (int, float, np.number)) and not isinstance(exponent, bool):
            base = self._as_float() if isinstance(exponent, (float, np.floating)) else self
            return E.PowScalar.apply(base, exponent=exponent.item() if isinstance(exponent, np.number) else exponent)
        return E.Pow.apply(*self._operands(exponent))

    def __rpow__(self, base: ArrayLike) -> "Tensor":
        return E.Pow.apply(*self._operands(base, reverse=True))

    def __matmul__(self, other: ArrayLike) -> "Tensor":
        return M.MatMul.apply(self, self._lift(other))

    def __rmatmul__(self, other: ArrayLike) -> "Tensor":
        return M.MatMul.apply(self._lift(other), self)

    def matmul(self, other: ArrayLike) -> "Tensor":
        """Matrix product as torch.matmul: 1-D, 2-D and batched (broadcast) operands."""
        return self @ other

    def mm(self, mat2: "Tensor") -> "Tensor":
        """The product of two 2-D matrices (n, m) @ (m, p) -> (n, p), as torch.mm."""
        if self.ndim != 2 or np.ndim(mat2) != 2:
            raise RuntimeError(f"mm: both arguments must be 2-D matrices, got shapes {tuple(self.shape)} and {np.shape(mat2)}")
        return self @ mat2

    def bmm(self, mat2: "Tensor") -> "Tensor":
        """Batched matrix product (b, n, m) @ (b, m, p) -> (b, n, p), as torch.bmm (no broadcasting)."""
        other = np.shape(mat2)
        if self.ndim != 3 or len(other) != 3 or self.shape[0] != other[0]:
            raise RuntimeError(f"bmm: expected two 3-D tensors with one batch size, got shapes {tuple(self.shape)} and {other}")
        return self @ mat2

    def dot(self, other: "Tensor") -> "Tensor":
        """The inner product of two 1-D tensors of one length, as torch.dot."""
        if self.ndim != 1 or np.ndim(other) != 1 or self.shape != np.shape(other):
            raise RuntimeError(f"dot: expected two 1-D tensors of one length, got shapes {tuple(self.shape)} and {np.shape(other)}")
        return self @ other

    def outer(self, vec2: "Tensor") -> "Tensor":
        """The outer product (n,) x (m,) -> (n, m) of two 1-D tensors, as torch.outer."""
        if self.ndim != 1 or np.ndim(vec2) != 1:
            raise RuntimeError(f"outer: expected two 1-D tensors, got shapes {tuple(self.shape)} and {np.shape(vec2)}")
        return self.reshape(-1, 1) * self._lift(vec2).reshape(1, -1)

    def pow(self, exponent: ArrayLike) -> "Tensor":
        """self ** exponent (a number or a tensor)."""
        return self ** exponent

    def add(self, other: ArrayLike, *, alpha: float = 1) -> "Tensor":
        """self + alpha * other, broadcast."""
        return self + (other if alpha == 1 else self._lift(other) * alpha)

    def sub(self, other: ArrayLike, *, alpha: float = 1) -> "Tensor":
        """self - alpha * other, broadcast."""
        return self - (other if alpha == 1 else self._lift(other) * alpha)

    def mul(self, other: ArrayLike) -> "Tensor":
        """self * other, broadcast."""
        return self * other

    def div(self, other: ArrayLike, *, rounding_mode: str | None = None) -> "Tensor":
        """self / other, broadcast; ``rounding_mode`` "trunc" or "floor" rounds the quotient
        (no gradient), as torch.div."""
        if rounding_mode is None:
            return self / other
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
        if rounding_mode == "floor":
            return self.floor_divide(other)
        a, b = self._operands(other)
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.trunc(a._array / b._array) if is_float(a.dtype) else np.fix(np.true_divide(a._array, b._array))
        return self.from_op(np.asarray(q).astype(a.dtype), None)

    def floor_divide(self, other: ArrayLike) -> "Tensor":
        """floor(self / other), elementwise, as torch's ``//`` (no gradient)."""
        a, b = self._operands(other)
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.from_op(np.asarray(np.floor_divide(a._array, b._array)), None)

    def remainder(self, other: ArrayLike) -> "Tensor":
        """self - floor(self / other) * other (the sign of ``other``, as Python's ``%`` and
        torch.remainder); differentiable for floats."""
        a, b = self._operands(other)
        if not is_float(a.dtype):
            with np.errstate(divide="ignore", invalid="ignore"):
                return self.from_op(np.asarray(np.remainder(a._array, b._array)), None)
        return a - (a / b).floor() * b

    def neg(self) -> "Tensor":
        """-self."""
        return -self

    multiply, subtract, divide, true_divide, negative = mul, sub, div, div, neg

    # ---------------------------------------------------------------- comparisons and logic (no gradient)
    def _compare(self, other: ArrayLike, ufunc: np.ufunc) -> "Tensor":
        return self.from_op(np.asarray(ufunc(self._array, other._array if isinstance(other, MathMixin) else other)), None)

    def __invert__(self) -> "Tensor":
        """~self: bitwise not (logical not for bool tensors)."""
        return self.from_op(np.invert(self._array), None)

    bitwise_not = __invert__

    def logical_and(self, other: ArrayLike) -> "Tensor":
        """True where both are non-zero (a bool tensor)."""
        return self._compare(other, np.logical_and)

    def logical_or(self, other: ArrayLike) -> "Tensor":
        """True where either is non-zero (a bool tensor)."""
        return self._compare(other, np.logical_or)

    def logical_xor(self, other: ArrayLike) -> "Tensor":
        """True where exactly one is non-zero (a bool tensor)."""
        return self._compare(other, np.logical_xor)

    def logical_not(self) -> "Tensor":
        """True where self is zero (a bool tensor)."""
        return self.from_op(np.logical_not(self._array), None)

    def isnan(self) -> "Tensor":
        """True where self is NaN (a bool tensor)."""
        return self.from_op(np.isnan(self._array), None)

    def isinf(self) -> "Tensor":
        """True where self is +inf or -inf (a bool tensor)."""
        return self.from_op(np.isinf(self._array), None)

    def isfinite(self) -> "Tensor":
        """True where self is neither NaN nor infinite (a bool tensor)."""
        return self.from_op(np.isfinite(self._array), None)

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        if self._array.size != 1:
            raise RuntimeError(f"bool: the truth value of a tensor of shape {tuple(self.shape)} is ambiguous")
        return bool(self._array)

    # ---------------------------------------------------------------- unary
    def exp(self) -> "Tensor":
        """e ** self, elementwise."""
        return E.Exp.apply(self._as_float())

    def log(self) -> "Tensor":
        """Natural logarithm, elementwise."""
        return E.Log.apply(self._as_float())

    def sqrt(self) -> "Tensor":
        """Square root, elementwise."""
        return E.Sqrt.apply(self._as_float())

    def abs(self) -> "Tensor":
        """|self|, elementwise."""
        return E.Abs.apply(self)

    absolute = abs

    def relu(self) -> "Tensor":
        """max(self, 0), elementwise."""
        return E.ReLU.apply(self)

    def sigmoid(self) -> "Tensor":
        """1 / (1 + exp(-self)), elementwise, without overflow."""
        return E.Sigmoid.apply(self._as_float())

    def tanh(self) -> "Tensor":
        """Hyperbolic tangent, elementwise."""
        return E.Tanh.apply(self._as_float())

    def round(self, decimals: int = 0) -> "Tensor":
        """Rounded to ``decimals`` places, halves to even (as torch.round); gradient 0."""
        return U.Round.apply(self, decimals=int(decimals))

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> "Tensor":
        """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (default: 0 and the
        dtype's largest and smallest finite values); the gradient passes where self is finite."""
        return U.NanToNum.apply(self, nan=nan, posinf=posinf, neginf=neginf)

    def clamp(self, min: float | None = None, max: float | None = None) -> "Tensor":
        """Values limited to [min, max]; either bound may be None."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        return E.Clamp.apply(self, min=min, max=max)

    clip = clamp

    def clamp_min(self, min: float) -> "Tensor":
        """Values limited from below by ``min``."""
        return self.clamp(min=min)

    def clamp_max(self, max: float) -> "Tensor":
        """Values limited from above by ``max``."""
        return self.clamp(max=max)

    def maximum(self, other: ArrayLike) -> "Tensor":
        """Elementwise max(self, other), broadcast."""
        return E.Maximum.apply(*self._operands(other))

    def minimum(self, other: ArrayLike) -> "Tensor":
        """Elementwise min(self, other), broadcast."""
        return E.Minimum.apply(*self._operands(other))


def _compare_method(name: str, ufunc: np.ufunc, what: str) -> Any:
    def method(self: MathMixin, other: ArrayLike) -> "Tensor":
        return self._compare(other, ufunc)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"{what}, elementwise and broadcast: a bool (or, for bitwise ops, integer) tensor, no gradient."
    return method


# (torch's method names, the operator's dunder, the ufunc, what it computes)
COMPARISONS = [
    (("eq",), "__eq__", np.equal, "self == other"), (("ne", "not_equal"), "__ne__", np.not_equal, "self != other"),
    (("lt", "less"), "__lt__", np.less, "self < other"), (("le", "less_equal"), "__le__", np.less_equal, "self <= other"),
    (("gt", "greater"), "__gt__", np.greater, "self > other"),
    (("ge", "greater_equal"), "__ge__", np.greater_equal, "self >= other"),
    (("bitwise_and",), "__and__", np.bitwise_and, "self & other"), (("bitwise_or",), "__or__", np.bitwise_or, "self | other"),
    (("bitwise_xor",), "__xor__", np.bitwise_xor, "self ^ other"),
]
for _names, _dunder, _ufunc, _what in COMPARISONS:
    _method = _compare_method(_names[0], _ufunc, _what)
    for _alias in _names + (_dunder,):
        setattr(MathMixin, _alias, _method)
MathMixin.__rand__, MathMixin.__ror__, MathMixin.__rxor__ = (  # type: ignore[attr-defined]
    MathMixin.__and__, MathMixin.__or__, MathMixin.__xor__)  # type: ignore[attr-defined]


def _unary_method(name: str, op: type, floating: bool | None) -> Any:
    def method(self: MathMixin) -> "Tensor":
        if floating is None and self.dtype.kind != "f":
            raise NotImplementedError(f'{name}: "{name}_cpu" not implemented for \'{scalar_type_name(self.dtype)}\'')
        return op.apply(self._as_float() if floating else self)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"{op.__doc__.split(';')[0].rstrip('.')}, elementwise (``torch.{name}``)."
    return method


# (method name, op, computes in floating point even for an integer tensor: None for floating tensors only)
UNARY_METHODS = [
    ("sin", U.Sin, True), ("cos", U.Cos, True), ("tan", U.Tan, True), ("asin", U.Asin, True),
    ("acos", U.Acos, True), ("atan", U.Atan, True), ("sinh", U.Sinh, True), ("cosh", U.Cosh, True),
    ("log2", U.Log2, True), ("log10", U.Log10, True), ("log1p", U.Log1p, True), ("expm1", U.Expm1, True),
    ("rsqrt", U.Rsqrt, True), ("reciprocal", U.Reciprocal, True), ("square", U.Square, False),
    ("sign", U.Sign, False), ("floor", U.Floor, False), ("ceil", U.Ceil, False), ("trunc", U.Trunc, False),
    ("frac", U.Frac, None),
]
for _name, _op, _floating in UNARY_METHODS:
    setattr(MathMixin, _name, _unary_method(_name, _op, _floating))
MathMixin.arcsin, MathMixin.arccos, MathMixin.arctan, MathMixin.fix = (  # type: ignore[attr-defined]
    MathMixin.asin, MathMixin.acos, MathMixin.atan, MathMixin.trunc)  # type: ignore[attr-defined]

_UFUNC_METHODS = {
    np.add: "__add__", np.subtract: "__sub__", np.multiply: "__mul__", np.true_divide: "__truediv__",
    np.power: "__pow__", np.matmul: "__matmul__", np.negative: "__neg__", np.equal: "__eq__",
    np.not_equal: "__ne__", np.less: "__lt__", np.less_equal: "__le__", np.greater: "__gt__",
    np.greater_equal: "__ge__", np.exp: "exp", np.log: "log", np.sqrt: "sqrt", np.abs: "abs",
    np.tanh: "tanh", np.maximum: "maximum", np.minimum: "minimum", np.sin: "sin", np.cos: "cos", np.tan: "tan",
    np.sinh: "sinh", np.cosh: "cosh", np.log2: "log2", np.log10: "log10", np.log1p: "log1p", np.expm1: "expm1",
    np.square: "square", np.sign: "sign", np.floor: "floor", np.ceil: "ceil", np.trunc: "trunc",
    np.arcsin: "asin", np.arccos: "acos", np.arctan: "atan", np.arcsinh: "asinh", np.arccosh: "acosh",
    np.arctanh: "atanh", np.exp2: "exp2", np.deg2rad: "deg2rad", np.radians: "deg2rad", np.rad2deg: "rad2deg",
    np.degrees: "rad2deg", np.sinc: "sinc", np.signbit: "signbit", np.arctan2: "atan2", np.hypot: "hypot",
    np.fmod: "fmod", np.copysign: "copysign", np.logaddexp: "logaddexp", np.logaddexp2: "logaddexp2",
    np.fmax: "fmax", np.fmin: "fmin", np.nextafter: "nextafter", np.heaviside: "heaviside",
    np.float_power: "float_power",
}
