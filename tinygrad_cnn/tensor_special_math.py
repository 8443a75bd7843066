"""Tensor's elementwise math beyond tensor_math (a mixin of Tensor): inverse hyperbolic
functions, exp2, degree/radian conversion, sgn and the sign/infinity tests, erf, erfc, erfinv,
lgamma, digamma, logit, sinc, i0; the binary atan2, hypot, fmod, copysign, xlogy, logaddexp(2),
fmax, fmin, float_power, heaviside, nextafter, lerp, addcmul, addcdiv; and the in-place ``name_``
form of these and of tensor_math's elementwise methods, under torch's in-place rules.

Integer and bool inputs promote to the default float dtype where torch's do (erf, atan2, ...);
the ops torch refuses for integers (hypot, logaddexp, lerp, ...) raise its error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from tinygrad_cnn.ops import binary_math as B
from tinygrad_cnn.ops import special_ops as SP
from tinygrad_cnn.ops import unary as U
from tinygrad_cnn.tensor_inplace import InplaceMixin
from tinygrad_cnn.tensor_math import ArrayLike, _unary_method

if TYPE_CHECKING:
    from tinygrad_cnn.tensor import Tensor

_ADDCDIV_INTEGER = ("addcdiv: Integer division with addcdiv is no longer supported, and in a future release addcdiv "
                    "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can be "
                    "implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer "
                    "inputs and as (input + value * tensor1 / tensor2) for float inputs. The future addcdiv "
                    "behavior is just the latter implementation: (input + value * tensor1 / tensor2), for all dtypes.")


class SpecialMathMixin:
    """Elementwise special functions and their in-place forms; results come from ops' ``apply``."""

    _array: np.ndarray

    # ---------------------------------------------------------------- tests (bool results, no gradient)
    def signbit(self) -> "Tensor":
        """True where the sign bit is set (negative numbers, -0.0 and -nan), a bool tensor."""
        return self.from_op(np.signbit(self._array), None)

    def isneginf(self) -> "Tensor":
        """True where self is -inf (a bool tensor)."""
        return self.from_op(np.isneginf(self._array) if self.dtype.kind == "f" else np.zeros(self.shape, bool), None)

    def isposinf(self) -> "Tensor":
        """True where self is +inf (a bool tensor)."""
        return self.from_op(np.isposinf(self._array) if self.dtype.kind == "f" else np.zeros(self.shape, bool), None)

    def isreal(self) -> "Tensor":
        """True where self has no imaginary part: everywhere, tensors being real (a bool tensor)."""
        return self.from_op(np.ones(self.shape, bool), None)

    def logit(self, eps: float | None = None) -> "Tensor":
        """log(self / (1 - self)), self first clamped to [eps, 1 - eps] when ``eps`` is given."""
        return U.Logit.apply(self._as_float(), eps=None if eps is None else float(eps))

    # ---------------------------------------------------------------- binary
    def _floats(self, other: ArrayLike, op: str = "", integers: bool = True) -> tuple["Tensor", "Tensor"]:
        """(self, other) promoted as torch's binary float ops: an integer pair becomes the default
        float dtype, or raises NotImplementedError naming ``op`` when ``integers`` is False."""
        a, b = self._operands(other)
        if a.dtype.kind != "f" and b.dtype.kind != "f":
            if not integers:
                raise NotImplementedError(f'"{op}_cpu" not implemented for integer tensors (dtypes {a.dtype} and '
                                          f"{b.dtype}); convert them to a floating point dtype")
            return a._as_float(), b._as_float()
        return a, b

    def atan2(self, other: ArrayLike) -> "Tensor":
        """arctan(self / other) in the quadrant of (other, self), elementwise, broadcast."""
        return B.Atan2.apply(*self._floats(other))

    arctan2 = atan2

    def hypot(self, other: ArrayLike) -> "Tensor":
        """sqrt(self**2 + other**2) without overflow, broadcast; floating tensors only (as torch)."""
        return B.Hypot.apply(*self._floats(other, "hypot", integers=False))

    def fmod(self, other: ArrayLike) -> "Tensor":
        """self - trunc(self / other) * other (the sign of self, C's fmod), broadcast; integers stay
        integers (division by an integer 0 raises, as torch)."""
        a, b = self._operands(other)
        if a.dtype.kind in "iub" and b.dtype.kind in "iub":
            if a.dtype.kind == "b" and b.dtype.kind == "b":
                raise NotImplementedError('fmod: "fmod_cpu" not implemented for \'Bool\'')
            if (b._array == 0).any():
                raise RuntimeError("fmod: ZeroDivisionError (an integer divisor is 0)")
        return B.Fmod.apply(a, b)

    def copysign(self, other: ArrayLike) -> "Tensor":
        """|self| with the sign of other, broadcast (a float tensor)."""
        return B.Copysign.apply(*self._floats(other))

    def xlogy(self, other: ArrayLike) -> "Tensor":
        """self * log(other), 0 where self is 0 (unless other is NaN), broadcast."""
        return B.Xlogy.apply(*self._floats(other))

    def logaddexp(self, other: ArrayLike) -> "Tensor":
        """log(exp(self) + exp(other)) without overflow, broadcast; floating tensors only."""
        return B.LogAddExp.apply(*self._floats(other, "logaddexp", integers=False))

    def logaddexp2(self, other: ArrayLike) -> "Tensor":
        """log2(2**self + 2**other) without overflow, broadcast; floating tensors only."""
        return B.LogAddExp2.apply(*self._floats(other, "logaddexp2", integers=False))

    def fmax(self, other: ArrayLike) -> "Tensor":
        """Elementwise max that ignores a NaN on one side (NaN only where both are), broadcast."""
        return B.Fmax.apply(*self._operands(other))

    def fmin(self, other: ArrayLike) -> "Tensor":
        """Elementwise min that ignores a NaN on one side (NaN only where both are), broadcast."""
        return B.Fmin.apply(*self._operands(other))

    def nextafter(self, other: ArrayLike) -> "Tensor":
        """The next representable float after self towards other, broadcast; floating tensors only."""
        return B.Nextafter.apply(*self._floats(other, "nextafter", integers=False))

    def heaviside(self, values: ArrayLike) -> "Tensor":
        """0 where self < 0, ``values`` where self == 0, 1 where self > 0 (self's dtype, which
        ``values`` must share, as torch); not differentiable."""
        other = self._lift(values)
        if other.dtype != self.dtype:
            raise RuntimeError(f"heaviside is not yet implemented for tensors with different dtypes (input {self.dtype},"
                               f" values {other.dtype})")
        return B.Heaviside.apply(self, other)

    def float_power(self, exponent: ArrayLike) -> "Tensor":
        """self ** exponent computed in float64 (the result is float64), as torch.float_power."""
        base = self if self.dtype == np.float64 else self.to(np.float64)
        power: Any
        if isinstance(exponent, (int, float, np.integer, np.floating)) and not isinstance(exponent, bool):
            power = float(exponent)
        else:
            power = self._lift(exponent)
            power = power if power.dtype == np.float64 else power.to(np.float64)
        with np.errstate(all="ignore"):  # a negative base to a fractional power is NaN, silently (as torch)
            return base ** power

    def lerp(self, end: ArrayLike, weight: ArrayLike) -> "Tensor":
        """self + weight * (end - self), broadcast; ``weight`` a number or a tensor; ``end`` (and a
        tensor weight) must have self's dtype, a floating one, as torch."""
        end = self._lift(end)
        if end.dtype != self.dtype:
            raise RuntimeError(f"lerp: expected dtype {self.dtype} for `end` but got dtype {end.dtype}")
        if self.dtype.kind != "f":
            raise NotImplementedError(f"lerp: \"lerp_kernel_scalar\" not implemented for dtype {self.dtype}")
        if not isinstance(weight, SpecialMathMixin):
            return B.LerpScalar.apply(self, end, weight=float(weight))
        if weight.dtype != self.dtype:
            raise RuntimeError(f"lerp: expected dtype {self.dtype} for `weight` but got dtype {weight.dtype}")
        return B.Lerp.apply(self, end, weight)

    def _three(self, tensor1: ArrayLike, tensor2: ArrayLike) -> list["Tensor"]:
        """self, tensor1, tensor2 in their common dtype (a float one if any is float)."""
        items = [self, self._lift(tensor1), self._lift(tensor2)]
        floats = [t.dtype for t in items if t.dtype.kind == "f"]
        common = np.result_type(*floats) if floats else np.result_type(*(t.dtype for t in items))
        return [t if t.dtype == common else t.to(common) for t in items]

    def addcmul(self, tensor1: ArrayLike, tensor2: ArrayLike, *, value: float = 1) -> "Tensor":
        """self + value * tensor1 * tensor2, broadcast."""
        items = self._three(tensor1, tensor2)
        if items[0].dtype.kind == "b":
            raise NotImplementedError("addcmul: \"addcmul_cpu_out\" not implemented for 'Bool'")
        return B.Addcmul.apply(*items, value=value)

    def addcdiv(self, tensor1: ArrayLike, tensor2: ArrayLike, *, value: float = 1) -> "Tensor":
        """self + value * tensor1 / tensor2, broadcast; tensor1 and tensor2 may not both be integers."""
        t1, t2 = self._lift(tensor1), self._lift(tensor2)
        if t1.dtype.kind in "iub" and t2.dtype.kind in "iub":
            raise RuntimeError(_ADDCDIV_INTEGER)
        return B.Addcdiv.apply(*self._three(t1, t2), value=value)

    # ---------------------------------------------------------------- in place
    def _inplace_(self, op: str, outplace: Callable[["Tensor"], "Tensor"], *others: Any) -> "Tensor":
        """self = outplace(self), written into self's memory under torch's rules (refused on a leaf
        that requires grad, recorded when self or ``others`` require grad, the version bumped);
        the one path of the mixins' in-place forms (here, tensor_linalg, tensor_indexing).
        An op whose derivative reads only its result (exp, sqrt, tanh, ...) saved this tensor's new
        memory, as torch's: a later write makes its backward fail."""
        record = self._records(*others)
        self._check_inplace(op, record)
        result = outplace(self._snapshot() if record else self)
        self._commit(op, result)
        node = result.grad_fn
        j = -1 if node is None else node.saved_output_index(result._array)
        if j >= 0 and getattr(node.function, "saves", ("a",)) == ("out",):
            counter = self.version_counter()
            node.output_counter = (counter, counter.value, j)
        return self

    def float_power_(self, exponent: ArrayLike) -> "Tensor":
        """self = self ** exponent in float64, in place: self must be float64 (as torch)."""
        if self.dtype != np.float64:
            raise RuntimeError(f"float_power_: the base given to float_power_ has dtype {self.dtype} but the "
                               "operation's result requires dtype Double")
        return self._inplace_("float_power_", lambda s: s.float_power(exponent), exponent)

    def lerp_(self, end: ArrayLike, weight: ArrayLike) -> "Tensor":
        """self = lerp(self, end, weight), in place; returns self."""
        return self._inplace_("lerp_", lambda s: s.lerp(end, weight), end, weight)

    def addcmul_(self, tensor1: ArrayLike, tensor2: ArrayLike, *, value: float = 1) -> "Tensor":
        """self += value * tensor1 * tensor2, in place; returns self."""
        return self._inplace_("addcmul_", lambda s: s.addcmul(tensor1, tensor2, value=value), tensor1, tensor2)

    def addcdiv_(self, tensor1: ArrayLike, tensor2: ArrayLike, *, value: float = 1) -> "Tensor":
        """self += value * tensor1 / tensor2, in place; returns self."""
        return self._inplace_("addcdiv_", lambda s: s.addcdiv(tensor1, tensor2, value=value), tensor1, tensor2)

    def logit_(self, eps: float | None = None) -> "Tensor":
        """self = logit(self, eps), in place; returns self."""
        return self._inplace_("logit_", lambda s: s.logit(eps))

    def round_(self, decimals: int = 0) -> "Tensor":
        """self rounded to ``decimals`` places in place (halves to even); returns self."""
        return self._inplace_("round_", lambda s: s.round(decimals))

    def nan_to_num_(self, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> "Tensor":
        """NaN and infinities replaced in place (as nan_to_num); returns self."""
        return self._inplace_("nan_to_num_", lambda s: s.nan_to_num(nan, posinf, neginf))

    def clamp_min_(self, min: float) -> "Tensor":
        """Values limited from below by ``min``, in place; returns self."""
        return self.clamp_(min=min)

    def clamp_max_(self, max: float) -> "Tensor":
        """Values limited from above by ``max``, in place; returns self."""
        return self.clamp_(max=max)

    def logical_not_(self) -> "Tensor":
        """self = logical_not(self) (0/1 in self's dtype), in place; as torch's, not recorded in the graph."""
        return self._value_inplace_("logical_not_", np.logical_not(self._array))

    def bitwise_not_(self) -> "Tensor":
        """self = ~self (logical not for bools), in place; returns self."""
        return self._value_inplace_("bitwise_not_", np.invert(self._array))

    def _value_inplace_(self, op: str, values: np.ndarray) -> "Tensor":
        """Write the non-differentiable ``values`` into self (cast to its dtype), leaving the graph as it
        is (torch's logical_*_ and bitwise_*_); the leaf rule and the version counter still apply."""
        self._check_inplace(op, self._records())
        try:
            shape = np.broadcast_shapes(self.shape, values.shape)
        except ValueError:
            shape = values.shape
        self._check_result(op, shape, self.dtype)
        np.copyto(self._array, values, casting="unsafe")
        self._bump()
        return self


def _binary_inplace(name: str) -> Callable[..., "Tensor"]:
    def method(self: SpecialMathMixin, other: ArrayLike) -> "Tensor":
        return self._inplace_(f"{name}_", lambda s: getattr(s, name)(other), other)

    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = f"self = self.{name}(other), in place (other broadcast to self's shape); returns self."
    return method


def _unary_inplace(name: str) -> Callable[..., "Tensor"]:
    def method(self: SpecialMathMixin) -> "Tensor":
        return self._inplace_(f"{name}_", lambda s: getattr(s, name)())

    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = f"self = self.{name}(), in place; returns self."
    return method


def _logical_inplace(name: str, ufunc: np.ufunc) -> Callable[..., "Tensor"]:
    def method(self: SpecialMathMixin, other: ArrayLike) -> "Tensor":
        return self._value_inplace_(f"{name}_", np.asarray(ufunc(self._array, getattr(other, "_array", other))))

    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = f"self = self.{name}(other) (in self's dtype), in place; not recorded in the graph, as torch's."
    return method


# (method name, op) of the new float-valued unary methods: integer inputs compute in the default float dtype
SPECIAL_UNARY = [
    ("asinh", U.Asinh), ("acosh", U.Acosh), ("atanh", U.Atanh), ("exp2", U.Exp2), ("deg2rad", U.Deg2Rad),
    ("rad2deg", U.Rad2Deg), ("sinc", U.Sinc), ("erf", SP.Erf), ("erfc", SP.Erfc), ("erfinv", SP.Erfinv),
    ("lgamma", SP.Lgamma), ("digamma", SP.Digamma), ("i0", SP.I0),
]
for _name, _op in SPECIAL_UNARY:
    setattr(SpecialMathMixin, _name, _unary_method(_name, _op, True))
SpecialMathMixin.sgn = _unary_method("sgn", U.Sgn, False)  # type: ignore[attr-defined]
SpecialMathMixin.arcsinh, SpecialMathMixin.arccosh, SpecialMathMixin.arctanh = (  # type: ignore[attr-defined]
    SpecialMathMixin.asinh, SpecialMathMixin.acosh, SpecialMathMixin.atanh)  # type: ignore[attr-defined]

UNARY_INPLACE = (
    "abs absolute acos arccos acosh arccosh asin arcsin asinh arcsinh atan arctan atanh arctanh ceil cos cosh "
    "deg2rad digamma erf erfc erfinv exp exp2 expm1 fix floor frac i0 lgamma log log10 log1p log2 negative "
    "rad2deg reciprocal rsqrt sgn sigmoid sign sin sinc sinh sqrt square tan tanh trunc"
).split()
BINARY_INPLACE = "atan2 arctan2 copysign fmod hypot heaviside nextafter remainder xlogy floor_divide".split()
for _name in UNARY_INPLACE:
    setattr(SpecialMathMixin, f"{_name}_", _unary_inplace(_name))
for _name in BINARY_INPLACE:
    setattr(SpecialMathMixin, f"{_name}_", _binary_inplace(_name))
for _name, _ufunc in (("logical_and", np.logical_and), ("logical_or", np.logical_or),
                      ("logical_xor", np.logical_xor), ("bitwise_and", np.bitwise_and),
                      ("bitwise_or", np.bitwise_or), ("bitwise_xor", np.bitwise_xor)):
    setattr(SpecialMathMixin, f"{_name}_", _logical_inplace(_name, _ufunc))
SpecialMathMixin.multiply_, SpecialMathMixin.subtract_ = InplaceMixin.mul_, InplaceMixin.sub_  # type: ignore
SpecialMathMixin.divide_ = SpecialMathMixin.true_divide_ = InplaceMixin.div_  # type: ignore[attr-defined]
