"""Tensor: a NumPy array that remembers the op that made it, so backward() can differentiate."""

from __future__ import annotations

from collections import namedtuple
from typing import Any, Iterable, Sequence

import numpy as np

from tinygrad_cnn import random as _random
from tinygrad_cnn.autograd import Context, run_backward
from tinygrad_cnn.ops import elementwise as E
from tinygrad_cnn.ops import matmul as M
from tinygrad_cnn.ops import reduce as R
from tinygrad_cnn.ops import shape as S

DEFAULT_DTYPE = np.dtype(np.float32)

ArrayLike = Any
Dim = int | tuple[int, ...] | None

MaxResult = namedtuple("MaxResult", ["values", "indices"])


def _as_array(data: ArrayLike, dtype: Any = None) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (np.ndarray, np.generic)):
        return np.asarray(data, dtype=dtype)
    return np.asarray(data, dtype=DEFAULT_DTYPE if dtype is None else dtype)


def _is_float(dtype: np.dtype) -> bool:
    return np.issubdtype(dtype, np.floating)


class Tensor:
    """An n-dimensional array (``.data``) with an optional gradient (``.grad``).

    Construction: from a NumPy array (its dtype kept), a list or a Python number (float32
    unless ``dtype`` says otherwise), or another Tensor (copied). Only floating tensors can
    require grad; integer tensors hold labels and indices.
    """

    __array_ufunc__ = None  # make ``ndarray * Tensor`` defer to Tensor.__rmul__

    def __init__(self, data: ArrayLike, requires_grad: bool = False, dtype: Any = None) -> None:
        array = _as_array(data, dtype)
        if isinstance(data, Tensor) and array is data.data:
            array = array.copy()
        self.data: np.ndarray = array
        self.grad: np.ndarray | None = None
        self.grad_fn: Context | None = None
        self._retains_grad = False
        self._requires_grad = False
        self.requires_grad = requires_grad

    @classmethod
    def _from_op(cls, data: np.ndarray, node: Context | None) -> "Tensor":
        out = cls.__new__(cls)
        out.data = data
        out.grad = None
        out.grad_fn = node
        out._retains_grad = False
        out._requires_grad = node is not None
        return out

    # ---------------------------------------------------------------- attributes
    @property
    def requires_grad(self) -> bool:
        """True when gradients flow to (a leaf) or through (an op result) this tensor."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and not _is_float(self.data.dtype):
            raise RuntimeError(
                f"requires_grad: only floating point tensors can require gradients, got dtype {self.data.dtype}"
            )
        if self.grad_fn is not None and not value:
            raise RuntimeError("requires_grad: cannot turn it off on a non-leaf tensor; use detach()")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user rather than by a recorded op."""
        return self.grad_fn is None

    @property
    def shape(self) -> tuple[int, ...]:
        """The dimensions, a tuple of ints."""
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype of ``data``."""
        return self.data.dtype

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """Number of elements (an int; use ``.shape`` for the dimensions)."""
        return self.data.size

    def dim(self) -> int:
        """Number of dimensions, as torch's ``Tensor.dim()``."""
        return self.data.ndim

    def numel(self) -> int:
        """Number of elements, as torch's ``Tensor.numel()``."""
        return self.data.size

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def item(self) -> float | int | bool:
        """The single value of a one-element tensor as a Python number."""
        if self.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted, got shape {self.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        """The values as nested Python lists."""
        return self.data.tolist()

    def detach(self) -> "Tensor":
        """A tensor sharing this one's data, cut from the graph (no grad, no grad_fn)."""
        return Tensor._from_op(self.data, None)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the accumulated gradient: ``grad = None`` (torch's default), or zeros of the
        tensor's shape when ``set_to_none=False`` and a gradient exists."""
        self.grad = None if set_to_none or self.grad is None else np.zeros_like(self.data)

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        self._retains_grad = True

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4, threshold=50)
        extra = [f"shape={self.shape}"]
        if self.dtype != DEFAULT_DTYPE:
            extra.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extra.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return f"tensor({body}, {', '.join(extra)})"

    # ---------------------------------------------------------------- autograd
    def backward(self, grad: ArrayLike | None = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        ``grad`` is the upstream gradient (same shape as self); it may be omitted only for a
        one-element tensor. The graph's saved arrays are freed unless ``retain_graph``.
        """
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no grad_fn")
        if grad is None:
            if self.size != 1:
                raise RuntimeError(
                    f"backward: grad can be implicitly created only for one-element outputs, got shape {self.shape}; "
                    "pass grad= of the same shape"
                )
            g = np.ones(self.shape, dtype=self.dtype)
        else:
            g = _as_array(grad, self.dtype)
            if g.shape != self.shape:
                raise RuntimeError(f"backward: grad shape {g.shape} does not match tensor shape {self.shape}")
        run_backward(self, g, retain_graph)

    def draw(self, **kwargs: Any) -> Any:
        """The graph that computed this tensor as a graphviz.Digraph (see tinygrad_cnn.viz.draw_graph)."""
        from tinygrad_cnn.viz import draw_graph

        return draw_graph(self, **kwargs)

    def _accumulate_grad(self, g: np.ndarray) -> None:
        if self.grad is None:
            self.grad = np.array(g, dtype=self.dtype)
        else:
            self.grad = self.grad + g

    # ---------------------------------------------------------------- arithmetic
    def _lift(self, other: ArrayLike) -> "Tensor":
        """``other`` as a constant tensor; numbers and lists take a float tensor's dtype (as torch)."""
        if isinstance(other, Tensor):
            return other
        weak = isinstance(other, (int, float, bool, np.number, list, tuple)) or np.ndim(other) == 0
        if weak and _is_float(self.dtype) and not np.iscomplexobj(other):
            return Tensor._from_op(np.asarray(other, dtype=self.dtype), None)
        return Tensor._from_op(np.asarray(other), None)

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
        return Tensor._from_op(ufunc(self.data, other.data if isinstance(other, Tensor) else other), None)

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
        if self.size != 1:
            raise RuntimeError(f"bool: the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.data)

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
        if not _is_float(dtype):
            return Tensor._from_op(self.data.astype(dtype), None)
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

    # ---------------------------------------------------------------- reductions
    def _reduce(self, fn: type, op: str, dim: Dim, keepdim: bool, **extra: Any) -> "Tensor":
        return fn.apply(self, axis=R.normalize_axis(dim, self.ndim, op), keepdims=bool(keepdim), **extra)

    def sum(self, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None, keepdims: bool | None = None) -> "Tensor":
        """Sum over ``dim`` (alias ``axis``: an int, a tuple or None for all)."""
        return self._reduce(R.Sum, "sum", _pick(dim, axis), _pick(keepdim, keepdims))

    def mean(self, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None, keepdims: bool | None = None) -> "Tensor":
        """Mean over ``dim`` (alias ``axis``)."""
        return self._reduce(R.Mean, "mean", _pick(dim, axis), _pick(keepdim, keepdims))

    def var(self, dim: Dim = None, keepdim: bool = False, *, correction: int = 1, axis: Dim = None,
            keepdims: bool | None = None) -> "Tensor":
        """Variance over ``dim`` with ``correction`` (1: unbiased, torch's default; 0: population)."""
        return self._reduce(R.Var, "var", _pick(dim, axis), _pick(keepdim, keepdims), correction=correction)

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
        return self._extreme(R.Max, R.MaxAlong, "max", np.argmax, _pick(dim, axis), _pick(keepdim, keepdims))

    def min(self, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None,
            keepdims: bool | None = None) -> "Tensor | MaxResult":
        """Minimum, shaped like ``max``'s result."""
        return self._extreme(R.Min, R.MinAlong, "min", np.argmin, _pick(dim, axis), _pick(keepdim, keepdims))

    def _extreme(self, fn: type, along: type, op: str, arg: Any, dim: Dim, keepdim: bool) -> "Tensor | MaxResult":
        if not isinstance(dim, (int, np.integer)):
            return self._reduce(fn, op, dim, keepdim)
        d = R.normalize_axis(dim, self.ndim, op)[0]
        indices = arg(self.data, axis=d, keepdims=True)
        values = along.apply(self, indices=indices, dim=d, keepdim=bool(keepdim))
        kept = indices if keepdim else np.squeeze(indices, axis=d)
        return MaxResult(values, Tensor._from_op(kept.astype(np.int64), None))

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> "Tensor":
        """Index of the maximum (of the flattened tensor when ``dim`` is None), int64."""
        out = np.argmax(self.data, axis=dim, keepdims=keepdim if dim is not None else False)
        return Tensor._from_op(np.asarray(out, dtype=np.int64), None)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> "Tensor":
        """Index of the minimum (of the flattened tensor when ``dim`` is None), int64."""
        out = np.argmin(self.data, axis=dim, keepdims=keepdim if dim is not None else False)
        return Tensor._from_op(np.asarray(out, dtype=np.int64), None)

    def logsumexp(self, dim: Dim, keepdim: bool = False) -> "Tensor":
        """log(sum(exp(self))) over ``dim``, stable for large inputs."""
        return self._reduce(R.LogSumExp, "logsumexp", dim, keepdim)

    def softmax(self, dim: int) -> "Tensor":
        """exp(self) normalised to sum 1 along ``dim``, stable for large inputs."""
        return R.Softmax.apply(self, dim=R.normalize_axis(dim, self.ndim, "softmax")[0])

    def log_softmax(self, dim: int) -> "Tensor":
        """self - logsumexp(self) along ``dim``, stable for large inputs."""
        return R.LogSoftmax.apply(self, dim=R.normalize_axis(dim, self.ndim, "log_softmax")[0])

    # ---------------------------------------------------------------- shape
    def reshape(self, *shape: int | Sequence[int]) -> "Tensor":
        """The same values in a new shape (one dim may be -1)."""
        target = _shape_arg(shape)
        known = int(np.prod([n for n in target if n != -1]))
        unknown = target.count(-1)
        fits = (unknown == 0 and known == self.size) or (unknown == 1 and known > 0 and self.size % known == 0)
        if not fits or any(n < -1 for n in target):
            raise ValueError(f"reshape: cannot reshape a tensor of shape {self.shape} into {target}")
        if unknown:
            target = tuple(self.size // known if n == -1 else n for n in target)
        return S.Reshape.apply(self, shape=target)

    view = reshape

    def permute(self, *dims: int | Sequence[int]) -> "Tensor":
        """Axes reordered: ``dims[i]`` is the input axis that becomes axis i."""
        order = _shape_arg(dims)
        if len(order) != self.ndim or any(not -self.ndim <= d < self.ndim for d in order) \
                or sorted(d % self.ndim for d in order) != list(range(self.ndim)):
            raise ValueError(f"permute: dims {order} are not a permutation of the {self.ndim} axes of {self.shape}")
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
        if self.ndim == 0:
            return self.reshape(1)
        start = R.normalize_axis(start_dim, self.ndim, "flatten")[0]
        end = R.normalize_axis(end_dim, self.ndim, "flatten")[0]
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {self.shape}")
        merged = int(np.prod(self.shape[start:end + 1]))
        return S.Reshape.apply(self, shape=self.shape[:start] + (merged,) + self.shape[end + 1:])

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
        target = _shape_arg(sizes)
        lead = len(target) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: cannot expand shape {self.shape} to fewer dims {target}")
        resolved = tuple(self.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(target))
        if any(n != m and n != 1 for n, m in zip(self.shape, resolved[lead:])):
            raise ValueError(f"expand: shape {self.shape} cannot be expanded to {target}")
        return S.Expand.apply(self, shape=resolved)

    def __getitem__(self, index: Any) -> "Tensor":
        return S.GetItem.apply(self, index=_index_arg(index))

    def split(self, split_size: int, dim: int = 0) -> tuple["Tensor", ...]:
        """Chunks of ``split_size`` along ``dim`` (the last may be shorter)."""
        d = R.normalize_axis(dim, self.ndim, "split")[0]
        n = self.shape[d]
        return tuple(self[(slice(None),) * d + (slice(i, i + split_size),)] for i in range(0, n, split_size))


def _pick(torch_value: Any, numpy_value: Any) -> Any:
    return torch_value if numpy_value is None else numpy_value


def _shape_arg(args: tuple) -> tuple[int, ...]:
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    return tuple(int(a) for a in args)


def _index_arg(index: Any) -> Any:
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


# -------------------------------------------------------------------- free functions
def tensor(data: ArrayLike, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data``, its dtype inferred as torch.tensor does:
    Python floats give float32, ints int64, bools bool; arrays keep theirs."""
    if dtype is None and not isinstance(data, (Tensor, np.ndarray, np.generic)):
        inferred = np.asarray(data)
        dtype = {"f": DEFAULT_DTYPE, "i": np.int64, "u": np.int64, "b": np.bool_}.get(inferred.dtype.kind)
    return Tensor(np.array(_as_array(data, dtype)), requires_grad=requires_grad)


def where(condition: ArrayLike, input: ArrayLike, other: ArrayLike) -> Tensor:
    """``input`` where ``condition`` is true, else ``other`` (broadcast); differentiable in both."""
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    a = input if isinstance(input, Tensor) else None
    b = other if isinstance(other, Tensor) else None
    like = a if a is not None else b
    if like is None:
        return Tensor(np.where(cond, input, other))
    return E.Where.apply(like._lift(input), like._lift(other), condition=cond)


def maximum(input: Tensor, other: ArrayLike) -> Tensor:
    """Elementwise maximum of two tensors (broadcast)."""
    return input.maximum(other)


def minimum(input: Tensor, other: ArrayLike) -> Tensor:
    """Elementwise minimum of two tensors (broadcast)."""
    return input.minimum(other)


def cat(tensors: Iterable[Tensor], dim: int = 0) -> Tensor:
    """Tensors joined along existing dim ``dim``; all other dims must agree."""
    items = list(tensors)
    if not items:
        raise ValueError("cat: expected a non-empty list of tensors")
    d = R.normalize_axis(dim, items[0].ndim, "cat")[0]
    for t in items[1:]:
        if t.ndim != items[0].ndim or t.shape[:d] + t.shape[d + 1:] != items[0].shape[:d] + items[0].shape[d + 1:]:
            raise ValueError(f"cat: shapes {[x.shape for x in items]} differ outside dim {dim}")
    return S.Cat.apply(*items, dim=d)


def stack(tensors: Iterable[Tensor], dim: int = 0) -> Tensor:
    """Tensors of one shape joined along a new dim ``dim``."""
    items = list(tensors)
    if not items:
        raise ValueError("stack: expected a non-empty list of tensors")
    if any(t.shape != items[0].shape for t in items):
        raise ValueError(f"stack: all tensors must have one shape, got {[t.shape for t in items]}")
    d = R.normalize_axis(dim, items[0].ndim + 1, "stack")[0]
    return S.Stack.apply(*items, dim=d)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Constant padding as torch.nn.functional.pad: ``pad`` lists (left, right) pairs starting
    from the LAST dim, e.g. (1, 1, 2, 2) pads W by 1 and H by 2."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: pad {tuple(pad)} must hold (before, after) pairs for at most {input.ndim} dims")
    if any(int(p) < 0 for p in pad):
        raise ValueError(f"pad: negative padding {tuple(pad)} is not supported")
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return S.Pad.apply(input, pad_width=tuple(widths), value=value)


def _factory(array: np.ndarray, dtype: Any, requires_grad: bool) -> Tensor:
    return Tensor(array.astype(DEFAULT_DTYPE if dtype is None else dtype, copy=False), requires_grad=requires_grad)


def zeros(*shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros with ``shape`` (float32 unless ``dtype``)."""
    return _factory(np.zeros(_shape_arg(shape)), dtype, requires_grad)


def ones(*shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones with ``shape``."""
    return _factory(np.ones(_shape_arg(shape)), dtype, requires_grad)


def full(shape: int | Sequence[int], fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value``."""
    return _factory(np.full(_shape_arg((shape,)), fill_value), dtype, requires_grad)


def randn(*shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples of ``shape`` from the generator seeded by ``manual_seed``."""
    return _factory(_random.generator().standard_normal(_shape_arg(shape)), dtype, requires_grad)


def rand(*shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform [0, 1) samples of ``shape`` from the generator seeded by ``manual_seed``."""
    return _factory(_random.generator().random(_shape_arg(shape)), dtype, requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 for integer arguments."""
    if end is None:
        start, end = 0, start
    values = np.arange(start, end, step)
    if dtype is None and np.issubdtype(values.dtype, np.integer):
        dtype = np.int64
    return _factory(values, dtype, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix (m defaults to n)."""
    return _factory(np.eye(n, m), dtype, requires_grad)


def zeros_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with ``other``'s shape and dtype."""
    return zeros(other.shape, dtype=other.dtype if dtype is None else dtype, requires_grad=requires_grad)


def ones_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with ``other``'s shape and dtype."""
    return ones(other.shape, dtype=other.dtype if dtype is None else dtype, requires_grad=requires_grad)
