"""Tensor: a NumPy array that remembers the op that made it, so backward() can differentiate.

The class itself holds the array, the gradient and the graph link; its methods come from
mixins, one per family: ``tensor_inplace`` (in-place ops), ``tensor_math`` (operators,
elementwise), ``tensor_reduce`` (sum, mean, max, sort, ...), ``tensor_shape`` (views,
indexing, gathers) and ``tensor_convert`` (dtype/device conversions, new_*, queries).
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from tinygrad_cnn import autograd, printing
from tinygrad_cnn.autograd import Context, register_variable_type
from tinygrad_cnn.tensor_inplace import InplaceMixin
from tinygrad_cnn.tensor_convert import ConvertMixin
from tinygrad_cnn.tensor_math import ArrayLike, MathMixin, is_float
from tinygrad_cnn.tensor_reduce import MaxResult, ReduceMixin
from tinygrad_cnn.tensor_shape import ShapeMixin
from tinygrad_cnn.tensor_stats import StatsMixin
from tinygrad_cnn.tensor_sampling import SamplingMixin
from tinygrad_cnn.tensor_linalg import LinalgMixin
from tinygrad_cnn.tensor_indexing import IndexingMixin
from tinygrad_cnn.tensor_sets import SetsMixin
from tinygrad_cnn.tensor_reshape import ReshapeMixin
from tinygrad_cnn.tensor_special_math import SpecialMathMixin

DEFAULT_DTYPE = np.dtype(np.float32)

__all__ = ["DEFAULT_DTYPE", "MaxResult", "Size", "Tensor", "TensorDataError", "as_array"]


class TensorDataError(TypeError, ValueError, RuntimeError):
    """Data a Tensor cannot hold (None, objects, strings, ragged lists, complex numbers): a
    TypeError, and also the ValueError/RuntimeError torch.tensor raises for some of them."""


_REFUSED_KINDS = {"O": "objects", "U": "strings", "S": "bytes", "V": "structured records", "c": "complex numbers",
                  "M": "datetimes", "m": "timedeltas"}


def _refuse(data: Any, why: str) -> TensorDataError:
    shown = repr(data)
    return TensorDataError(f"Tensor: cannot make a tensor from {why}: {shown[:80]}{'...' if len(shown) > 80 else ''}")


def as_array(data: ArrayLike, dtype: Any = None) -> np.ndarray:
    """``data`` (a Tensor, an array, a number or nested lists) as an ndarray: arrays and
    tensors keep their dtype unless ``dtype`` is given; Python data becomes float32.
    None, objects, strings, ragged or mixed lists and complex values raise TensorDataError."""
    if isinstance(data, Tensor):
        data = data._array
    if isinstance(data, (np.ndarray, np.generic)):
        array = data
    elif isinstance(data, (bool, int, float)):
        return np.asarray(data, dtype=DEFAULT_DTYPE if dtype is None else dtype)
    else:
        try:
            array = np.asarray(data)
        except (ValueError, TypeError) as error:
            raise _refuse(data, f"ragged or mixed data ({error})") from None
        if dtype is None and array.dtype.kind in "biuf":
            dtype = DEFAULT_DTYPE
    if array.dtype.kind in _REFUSED_KINDS:
        raise _refuse(data, f"{_REFUSED_KINDS[array.dtype.kind]} (dtype {array.dtype})")
    if dtype is not None and np.dtype(dtype).kind in _REFUSED_KINDS:
        raise _refuse(data, f"dtype {np.dtype(dtype)}")
    return np.asarray(array, dtype=dtype)


def _legacy_zeros(sizes: tuple, dtype: Any) -> np.ndarray:
    """torch.Tensor(*sizes)'s tensor (torch leaves it uninitialised: zeros here), float32 unless ``dtype``."""
    shape = tuple(sizes[0]) if len(sizes) == 1 else sizes
    if not all(isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_)) and n >= 0 for n in shape):
        raise TypeError(f"Tensor(): sizes must be non-negative ints, got {sizes!r} (data goes in one list or array)")
    return np.zeros(shape, dtype=DEFAULT_DTYPE if dtype is None else dtype)


class Size(tuple):
    """A tensor's shape as ``Tensor.shape`` and ``Tensor.size()`` give it: a tuple of ints, as
    torch.Size (its slices, sums with tuples and repeats are Sizes too)."""

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        return int(np.prod(self, dtype=np.int64))

    def __getitem__(self, index: Any) -> Any:
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other: tuple) -> "Size":
        if not isinstance(other, tuple):
            raise TypeError(f"can only concatenate tuple (not {type(other).__name__}) to torch.Size")
        return Size(tuple.__add__(self, other))

    def __radd__(self, other: tuple) -> "Size":
        return Size(tuple.__add__(other, self)) if isinstance(other, tuple) else NotImplemented

    def __mul__(self, count: int) -> "Size":
        return Size(tuple.__mul__(self, count))

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"


class Tensor(InplaceMixin, MathMixin, ReduceMixin, ShapeMixin, ConvertMixin, StatsMixin, SamplingMixin, LinalgMixin,
             IndexingMixin, SetsMixin, ReshapeMixin, SpecialMathMixin):
    """An n-dimensional array with an optional gradient, as torch.Tensor.

    Construction: from a NumPy array (its dtype kept), a list or a Python number (float32
    unless ``dtype`` says otherwise), or another Tensor (copied); as torch's legacy
    constructor, ``Tensor(2, 3)`` (two or more sizes) or ``Tensor(torch.Size([2, 3]))`` is a
    zero-filled float tensor of that shape and ``Tensor()`` an empty one. Only floating tensors
    can require grad; integer tensors hold labels and indices. ``.numpy()`` is the array
    (shared), ``.data`` a detached Tensor sharing it, ``.grad`` a Tensor or None.
    """

    def __init__(self, data: ArrayLike = (), *sizes: int, requires_grad: bool = False, dtype: Any = None) -> None:
        if sizes or type(data) is Size:
            data = _legacy_zeros((data, *sizes), dtype)
        array = as_array(data, dtype)
        if isinstance(data, Tensor) and array is data._array:
            array = array.copy()
        self._array: np.ndarray = array
        self._grad: Tensor | None = None
        self.grad_fn: Context | None = None
        self._requires_grad = False
        self.requires_grad = requires_grad

    @classmethod
    def from_op(cls, array: np.ndarray, node: Context | None) -> "Tensor":
        """Wrap an op's output ``array`` (not copied), linked to the graph ``node`` (or None)."""
        out = Tensor.__new__(Tensor)
        out._array = array
        out._grad = None
        out.grad_fn = node
        out._requires_grad = node is not None
        return out

    # ---------------------------------------------------------------- attributes
    @property
    def requires_grad(self) -> bool:
        """True when gradients flow to (a leaf) or through (an op result) this tensor."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and not is_float(self._array.dtype):
            raise RuntimeError(
                f"requires_grad: only floating point tensors can require gradients, got dtype {self._array.dtype}"
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
    def shape(self) -> Size:
        """The dimensions, a ``Size`` (a tuple of ints), as torch's."""
        return Size(self._array.shape)

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype of the array."""
        return self._array.dtype

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self._array.ndim

    def size(self, dim: int | None = None) -> "Size | int":
        """The shape as a ``Size`` (a tuple), or the length of dimension ``dim``, as torch's."""
        if dim is None:
            return Size(self._array.shape)
        if not -self.ndim <= dim < max(self.ndim, 1):
            raise IndexError(f"size: dimension {dim} out of range for a tensor of {self.ndim} dims")
        return self._array.shape[dim]

    def dim(self) -> int:
        """Number of dimensions, as torch's ``Tensor.dim()``."""
        return self._array.ndim

    def numel(self) -> int:
        """Number of elements, as torch's ``Tensor.numel()``."""
        return self._array.size

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._array.size != 1 or self._array.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors of a single element can be converted to an index, got {self}")
        return int(self.item())

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    # ---------------------------------------------------------------- the array, .data and .grad
    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self._array

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if copy:
            return np.array(self._array, dtype=dtype)
        return self._array if dtype is None else self._array.astype(dtype, copy=False)

    @property
    def data(self) -> "Tensor":
        """This tensor's values as a new Tensor sharing the array, cut from the graph:
        writing into it changes this tensor and is not recorded."""
        return Tensor.from_op(self._array, None)

    @data.setter
    def data(self, value: "Tensor") -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data: expected a Tensor, got {type(value).__name__}")
        if self._requires_grad and not is_float(value.dtype):
            raise RuntimeError(f"data: cannot give a tensor that requires grad data of dtype {value.dtype}")
        self._array = value._array

    @property
    def grad(self) -> "Tensor | None":
        """The accumulated gradient (a Tensor of this tensor's shape), or None."""
        return self._grad

    @grad.setter
    def grad(self, value: "Tensor | None") -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"grad: assigned grad expected to be a Tensor or None but got {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"grad: assigned grad has shape {tuple(value.shape)}, the tensor has shape {tuple(self.shape)}")
            if value.dtype != self.dtype:
                raise RuntimeError(f"grad: assigned grad has dtype {value.dtype}, the tensor has dtype {self.dtype}")
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        """True when this non-leaf tensor keeps its ``.grad`` after backward (``retain_grad()``)."""
        return self._retains_grad

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward (a leaf always keeps it)."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad: can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            self._retains_grad = True
            self.grad_fn.retained = weakref.ref(self)

    def check_preset_grad(self) -> None:
        """Raise RuntimeError, naming this tensor, when its existing ``.grad`` no longer has its
        shape and dtype (e.g. after ``p.data`` or ``p.grad.data`` was replaced), so backward
        would broadcast into it or fail halfway; backward checks every leaf before accumulating."""
        grad = self._grad
        if grad is not None and (grad.shape != self.shape or grad.dtype != self.dtype):
            raise RuntimeError(f"backward: the existing .grad of tensor {self!r} has shape {tuple(grad.shape)}, dtype "
                               f"{grad.dtype}; the tensor has shape {tuple(self.shape)}, dtype {self.dtype} "
                               "(set .grad = None first)")

    def accumulate_grad(self, grad: np.ndarray) -> None:
        """Add the array ``grad`` (this tensor's shape and dtype) to ``.grad``: the engine's
        sink at a leaf. The first gradient is copied; later ones are added in place."""
        if self._grad is None:
            self._grad = Tensor.from_op(np.array(grad, dtype=self.dtype), None)
        else:
            self._grad._array += grad

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the accumulated gradient: ``grad = None`` (torch's default), or zeros of the
        tensor's shape when ``set_to_none=False`` and a gradient exists."""
        if set_to_none or self._grad is None:
            self._grad = None
        else:
            self._grad._array[...] = 0

    # ---------------------------------------------------------------- conversions
    def item(self) -> float | int | bool:
        """The single value of a one-element tensor as a Python number."""
        if self._array.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted, got shape {tuple(self.shape)}")
        return self._array.item()

    def tolist(self) -> Any:
        """The values as nested Python lists."""
        return self._array.tolist()

    def detach(self) -> "Tensor":
        """A tensor sharing this one's array and version counter, cut from the graph (no grad, no grad_fn)."""
        out = Tensor.from_op(self._array, None)
        out._vc = self.version_counter()
        return out

    def __repr__(self) -> str:
        body = printing.format_values(self._array, prefix="tensor(")
        extra = [f"shape={tuple(self.shape)}"]
        if self.dtype != DEFAULT_DTYPE:
            extra.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extra.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return f"tensor({body}, {', '.join(extra)})"

    # ---------------------------------------------------------------- autograd
    def backward(self, gradient: ArrayLike | None = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad (only
        for ``inputs`` when given), as torch's.

        ``gradient`` is the upstream gradient (same shape as self); it may be omitted only for
        a one-element tensor. The graph's saved arrays are freed unless ``retain_graph``.
        ``create_graph=True`` raises NotImplementedError (first-order gradients only).
        """
        if gradient is not None and not isinstance(gradient, Tensor):
            gradient = as_array(gradient, self.dtype)
        autograd.backward(self, None if gradient is None else (gradient,), retain_graph, create_graph, inputs)

    # ---------------------------------------------------------------- copying and pickling
    _GRAPH_STATE = ("grad_fn", "_vc", "_base", "_view_chain", "_view_root_fn", "_no_grad_view", "_retains_grad")

    def _state_without_graph(self) -> dict:
        """The instance attributes minus the graph links (grad_fn, views, version counter), so
        copying never walks the graph (a 20,000-op graph would be a RecursionError)."""
        state = {k: v for k, v in self.__dict__.items() if k not in self._GRAPH_STATE}
        state["grad_fn"] = None
        return state

    def __deepcopy__(self, memo: dict) -> "Tensor":
        """A leaf's deep copy (array, grad, requires_grad, subclass attributes), as torch's;
        a non-leaf raises RuntimeError, as torch's: copy ``t.detach()`` instead."""
        if self.grad_fn is not None:
            raise RuntimeError("deepcopy: only tensors created explicitly by the user (graph leaves) support the "
                               f"deepcopy protocol; this one was made by {self.grad_fn!r}: deepcopy t.detach() instead")
        import copy

        out = type(self).__new__(type(self))
        memo[id(self)] = out
        out.__dict__.update(copy.deepcopy(self._state_without_graph(), memo))
        return out

    def __getstate__(self) -> dict:
        """Pickled state: the values, grad and requires_grad, without the graph (as torch, a
        pickled non-leaf comes back as a leaf)."""
        return self._state_without_graph()

    def draw(self, **kwargs: Any) -> Any:
        """The graph that computed this tensor as a graphviz.Digraph (see tinygrad_cnn.viz.draw_graph)."""
        from tinygrad_cnn.viz.draw import draw_graph

        return draw_graph(self, **kwargs)


register_variable_type(Tensor)
