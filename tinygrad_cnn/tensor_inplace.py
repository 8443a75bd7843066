"""Tensor's in-place methods (``add_``, ``+=``, ``__setitem__``, ``copy_``, ``fill_``, ...), views'
bookkeeping, the version counter and gradient hooks: a mixin of Tensor.

PyTorch's rules hold. An in-place op writes into the tensor's own memory (its views,
``detach()``ed copies and ``.data`` see it) and adds one to the version counter that the
tensor shares with its views and detached copies. Outside ``no_grad``:

- on a leaf that requires grad it raises RuntimeError (and on a view of one);
- when the tensor or the other operand requires grad it is recorded: the tensor's grad_fn
  becomes the op's node (``AddBackward0``, ...; ``CopySlices`` for a write through a view
  or ``__setitem__``, which re-records the view's base), so gradients flow both to the
  written values and to the untouched rest;
- an op that saved the tensor for backward notices the new version and its backward raises.

Under ``no_grad`` nothing is recorded: optimizers update parameters with these methods
(``p.sub_(update)``), which bumps the version so a backward through an older forward raises.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable

import numpy as np

from tinygrad_cnn import random
from tinygrad_cnn.autograd import Context, Function, VersionCounter, enable_grad, is_grad_enabled
from tinygrad_cnn.hooks import RemovableHandle
from tinygrad_cnn.ops import activation as A
from tinygrad_cnn.ops import elementwise as E
from tinygrad_cnn.ops import inplace as I
from tinygrad_cnn.tensor_shape import index_arg

_KIND = {"f": "Float", "i": "Long", "u": "Byte", "b": "Bool", "c": "ComplexFloat"}
_FLOAT_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double"}


def _torch_kind(dtype: np.dtype) -> str:
    dtype = np.dtype(dtype)
    return _FLOAT_NAMES.get(dtype.name) or _KIND.get(dtype.kind, dtype.name)


class InplaceMixin:
    """In-place ops, ``__setitem__``, the version counter, views and hooks."""

    _array: np.ndarray
    _requires_grad: bool
    grad_fn: Context | None
    _vc: VersionCounter | None = None
    _base: Any = None
    _view_chain: tuple = ()
    _view_root_fn: Context | None = None
    _no_grad_view = False
    _backward_hooks: dict | None = None
    _retains_grad = False

    # ---------------------------------------------------------------- version counter and views
    def version_counter(self) -> VersionCounter:
        """The VersionCounter this tensor shares with its views and detached copies. Made on
        first use; the node that made this tensor, if it saved it, is then handed it (at
        version 0), so that its backward sees later writes."""
        counter = self._vc
        if counter is None:
            counter = self._vc = VersionCounter()
            node = self.grad_fn
            if node is not None and node.output_counter is None and (j := node.saved_output_index(self._array)) >= 0:
                node.output_counter = (counter, 0, j)
        return counter

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's memory has seen, as torch's ``Tensor._version``."""
        return 0 if self._vc is None else self._vc.value

    def make_view_of(self, base: "InplaceMixin", function: type[Function], params: dict[str, Any]) -> None:
        """Mark this tensor, the output of view op ``function`` on ``base``, as a view sharing
        base's memory and version counter; remember how to re-derive it from the root base."""
        root = base._base if base._base is not None else base
        self._base = root
        self._view_chain = base._view_chain + ((function, params),)
        self._vc = base.version_counter()
        self._view_root_fn = root.grad_fn
        self._no_grad_view = self.grad_fn is None and root._requires_grad

    def refresh_view(self) -> None:
        """If this view's base was re-recorded by an in-place op since the view's grad_fn was
        made, re-derive that grad_fn from the base (as PyTorch regenerates views)."""
        root = self._base
        if root.grad_fn is self._view_root_fn or self._no_grad_view:
            return
        with enable_grad():
            t = root
            for function, params in self._view_chain:
                t = function.apply(t, **params)
        self.grad_fn, self._requires_grad, self._view_root_fn = t.grad_fn, t.requires_grad, root.grad_fn

    # ---------------------------------------------------------------- the rules
    def _check_inplace(self, op: str, record: bool) -> None:
        """Raise, before anything changes, when an in-place ``op`` on this tensor is not allowed."""
        if not self._array.flags.writeable:
            if 0 in self._array.strides and self._array.size > 1:
                raise RuntimeError(f"{op}: unsupported operation: more than one element of the written-to tensor "
                                   "refers to a single memory location. Please clone() the tensor before "
                                   "performing the operation.")
            raise RuntimeError(f"{op}: the tensor wraps a read-only array; clone() it before writing into it")
        if not record:
            return
        if self.grad_fn is None and self._requires_grad:
            raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place operation.")
        base = self._base
        if base is None:
            return
        if self._no_grad_view:
            raise RuntimeError(f"{op}: A view was created in no_grad mode and is being modified inplace with grad "
                               "mode enabled. Given that this use case is ambiguous and error-prone, it is "
                               "forbidden. You can clarify your code by moving both the view and the inplace "
                               "either both inside the no_grad block (if you don't want the inplace to be "
                               "tracked) or both outside (if you want the inplace to be tracked).")
        if base.grad_fn is None and base._requires_grad:
            raise RuntimeError(f"{op}: a view of a leaf Variable that requires grad is being used in an "
                               "in-place operation.")

    def _records(self, *others: Any) -> bool:
        return is_grad_enabled() and (self._requires_grad or self._no_grad_view
                                      or any(getattr(o, "_requires_grad", False) for o in others))

    def _check_result(self, op: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
        if tuple(shape) != self.shape:
            raise RuntimeError(f"{op}: output with shape {list(self.shape)} doesn't match the broadcast shape "
                               f"{list(shape)}")
        if not np.can_cast(dtype, self.dtype, "same_kind"):
            raise RuntimeError(f"{op}: result type {_torch_kind(dtype)} can't be cast to the desired output type "
                               f"{_torch_kind(self.dtype)}")

    def _bump(self) -> None:
        self.version_counter().bump()

    def _rebase(self, node: Context) -> None:
        """Make ``node`` (an in-place op's record) this tensor's grad_fn."""
        if self._retains_grad:  # the retained gradient is the new version's
            if self.grad_fn is not None:
                self.grad_fn.retained = None
            node.retained = weakref.ref(self)
        self.grad_fn, self._requires_grad = node, True

    # ---------------------------------------------------------------- the two paths
    def _ufunc_(self, op: str, ufunc: np.ufunc, other: Any, outplace: Callable[[Any], Any]) -> "InplaceMixin":
        """self = ufunc(self, other) in place: straight into the array when nothing is
        recorded, else through ``outplace(snapshot)`` (the differentiable out-of-place op)."""
        record = self._records(other)
        self._check_inplace(op, record)
        if record:
            return self._commit(op, outplace(self._snapshot()))
        arg = other._array if isinstance(other, InplaceMixin) else other
        array = self._array
        if arg.__class__ is np.ndarray and arg.shape == array.shape and arg.dtype == array.dtype \
                and array.dtype.kind == "f":  # the optimizers' case: nothing to broadcast or promote
            ufunc(array, arg, out=array)
            self._bump()
            return self
        if isinstance(arg, (list, tuple)):
            arg = np.asarray(arg)
        try:
            shape = np.broadcast_shapes(self.shape, np.shape(arg))
        except ValueError:
            raise RuntimeError(f"{op}: the size of other {list(np.shape(arg))} cannot be broadcast to this tensor's "
                               f"shape {list(self.shape)}") from None
        dtype = np.result_type(self._array, arg)
        if dtype.kind == "f" and self.dtype.kind != "f" and not isinstance(arg, np.ndarray) \
                or ufunc is np.true_divide and dtype.kind in "iub":
            dtype = np.dtype(np.float32)  # torch's default float type for Python floats and true division
        self._check_result(op, shape, dtype)
        ufunc(self._array, arg, out=self._array)
        self._bump()
        return self

    def _snapshot(self) -> "InplaceMixin":
        """A copy of this tensor's values standing for it in the graph before the write."""
        if self._base is not None:
            self.refresh_view()
        return self.from_op(self._array.copy(), self.grad_fn)

    def _commit(self, op: str, result: "InplaceMixin") -> "InplaceMixin":
        """Write ``result`` (this tensor's new values) into the array; when recorded, re-link
        this tensor (or, for a view, its base through CopySlices) to the result's node."""
        self._check_result(op, result.shape, result.dtype)
        if result.grad_fn is not None and self._base is not None:
            root = self._base
            node = I.CopySlices.apply(self.from_op(root._array, root.grad_fn), result,
                                      chain=self._view_chain).grad_fn
            np.copyto(self._array, result._array, casting="unsafe")
            self._bump()
            root._rebase(node)
            self.refresh_view()
            return self
        np.copyto(self._array, result._array, casting="unsafe")
        self._bump()
        if result.grad_fn is not None:
            self._rebase(result.grad_fn)
        return self

    def _copy_like_(self, op: str, function: type[Function], src: Any) -> "InplaceMixin":
        source = src if isinstance(src, InplaceMixin) else self.from_op(np.asarray(src, dtype=self.dtype), None)
        record = self._records(source)
        self._check_inplace(op, record)
        if record:
            return self._commit(op, function.apply(self._snapshot(), source))
        try:
            np.copyto(self._array, np.broadcast_to(source._array, self.shape), casting="unsafe")
        except ValueError:
            raise RuntimeError(f"{op}: the source of shape {list(source.shape)} cannot be broadcast to this "
                               f"tensor's shape {list(self.shape)}") from None
        self._bump()
        return self

    # ---------------------------------------------------------------- arithmetic in place
    def add_(self, other: Any, *, alpha: float = 1) -> "InplaceMixin":
        """self += alpha * other, in place (broadcast to self's shape); returns self."""
        if alpha != 1:
            other = other * alpha
        return self._ufunc_("add_", np.add, other, lambda s: s + other)

    def sub_(self, other: Any, *, alpha: float = 1) -> "InplaceMixin":
        """self -= alpha * other, in place; returns self."""
        if alpha != 1:
            other = other * alpha
        return self._ufunc_("sub_", np.subtract, other, lambda s: s - other)

    def mul_(self, other: Any) -> "InplaceMixin":
        """self *= other, in place; returns self."""
        return self._ufunc_("mul_", np.multiply, other, lambda s: s * other)

    def div_(self, other: Any, *, rounding_mode: str | None = None) -> "InplaceMixin":
        """self /= other (true division), in place; returns self."""
        if rounding_mode is not None:
            raise NotImplementedError(f"div_: rounding_mode={rounding_mode!r} is not implemented (only None)")
        return self._ufunc_("div_", np.true_divide, other, lambda s: s / other)

    def pow_(self, exponent: Any) -> "InplaceMixin":
        """self **= exponent, in place; returns self."""
        return self._ufunc_("pow_", np.power, exponent, lambda s: s ** exponent)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_
    __ipow__ = pow_

    def neg_(self) -> "InplaceMixin":
        """self = -self, in place; returns self."""
        record = self._records()
        self._check_inplace("neg_", record)
        if record:
            return self._commit("neg_", E.Neg.apply(self._snapshot()))
        if self.dtype.kind == "b":
            raise RuntimeError("neg_: Negation, the `-` operator, on a bool tensor is not supported.")
        np.negative(self._array, out=self._array)
        self._bump()
        return self

    def clamp_(self, min: float | None = None, max: float | None = None) -> "InplaceMixin":
        """Values limited to [min, max] in place (either bound may be None); returns self."""
        if min is None and max is None:
            raise ValueError("clamp_: at least one of min and max must be given")
        record = self._records()
        self._check_inplace("clamp_", record)
        if record:
            return self._commit("clamp_", E.Clamp.apply(self._snapshot(), min=min, max=max))
        bounds = [b for b in (min, max) if b is not None]
        self._check_result("clamp_", self.shape, np.result_type(self._array, *bounds))
        np.clip(self._array, min, max, out=self._array)
        self._bump()
        return self

    clip_ = clamp_

    def apply_inplace_(self, op: str, function: type[Function], **params: Any) -> "InplaceMixin":
        """self = function(self, **params), written into self's memory, as torch's in-place
        activations (``relu_``, ``F.elu(x, inplace=True)``, ...); returns self.

        ``function.forward`` must write into its input array and return it (saving for backward
        only what it computed before the write or the result). Recorded, the op's node becomes
        self's grad_fn, its edge pointing to self's previous node; a saved result is checked
        against self's version, so a later in-place write makes backward raise, as torch's."""
        record = self._records()
        self._check_inplace(op, record)
        if not record:
            function.apply(self, **params)
            self._bump()
            return self
        if self._base is not None:  # a view: the base is re-recorded through CopySlices
            return self._commit(op, function.apply(self._snapshot(), **params))
        result = function.apply(self.from_op(self._array, self.grad_fn), **params)
        self._bump()
        node, counter = result.grad_fn, self.version_counter()
        j = node.saved_output_index(result._array)
        if j >= 0:  # the result saved is this tensor's memory, at its version now
            node.output_counter = (counter, counter.value, j)
        self._rebase(node)
        return self

    def relu_(self) -> "InplaceMixin":
        """max(self, 0) in place; returns self."""
        return self.apply_inplace_("relu_", A.ReLUInplace)

    # ---------------------------------------------------------------- overwriting
    def copy_(self, src: Any, non_blocking: bool = False) -> "InplaceMixin":
        """Copy ``src`` (broadcast to self's shape, cast to self's dtype) into self; returns self.
        Differentiable with respect to ``src``."""
        return self._copy_like_("copy_", I.Copy, src)

    def fill_(self, value: Any) -> "InplaceMixin":
        """Set every element to ``value`` (a number or a one-element tensor); returns self."""
        if isinstance(value, InplaceMixin) and value._array.ndim != 0:
            raise RuntimeError(f"fill_: only supports 0-dimension value tensor but got tensor with "
                               f"{value._array.ndim} dimensions.")
        return self._copy_like_("fill_", I.Fill, value)

    def zero_(self) -> "InplaceMixin":
        """Set every element to 0; returns self."""
        return self._copy_like_("zero_", I.Zero, 0)

    def _random_(self, op: str, function: type[Function], draw: Callable[[np.random.Generator], np.ndarray],
                 generator: Any) -> "InplaceMixin":
        rng = random.resolve(generator, op)
        if self.dtype.kind != "f":
            raise RuntimeError(f"{op}: expects a floating point tensor, got dtype {self.dtype}")
        self._check_inplace(op, self._records())
        return self._copy_like_(op, function, draw(rng).astype(self.dtype))

    def uniform_(self, low: float = 0.0, high: float = 1.0, *, generator: Any = None,
                 **bounds: float) -> "InplaceMixin":
        """Fill with draws from U(low, high) (torch's keywords ``from``/``to`` are accepted); returns self."""
        low, high = bounds.pop("from", low), bounds.pop("to", high)
        if bounds:
            raise TypeError(f"uniform_: unexpected keyword arguments {sorted(bounds)}")
        if low > high:
            raise RuntimeError(f"uniform_: expects to return a [from, to) range, but found from={low} > to={high}")
        return self._random_("uniform_", I.Uniform, lambda g: g.uniform(low, high, self.shape), generator)

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> "InplaceMixin":
        """Fill with draws from N(mean, std²); returns self."""
        if std < 0:
            raise RuntimeError(f"normal_: expects std >= 0.0, but found std {std}")
        return self._random_("normal_", I.Normal, lambda g: g.normal(mean, std, self.shape), generator)

    def __setitem__(self, index: Any, value: Any) -> None:
        """``self[index] = value`` for ints, slices, None, Ellipsis, boolean masks and integer
        arrays; recorded (CopySlices) when self or value requires grad, outside no_grad."""
        idx = index_arg(index)
        value_t = value if isinstance(value, InplaceMixin) else None
        record = self._records(value_t)
        self._check_inplace("setitem", record)
        array = value_t._array if value_t is not None else np.asarray(value)
        if not record:
            try:
                self._array[idx] = array
            except ValueError as error:
                raise RuntimeError(f"setitem: shape mismatch: value of shape {list(array.shape)} cannot be "
                                   f"broadcast to the indexed region ({error})") from None
            self._bump()
            return
        if self._base is not None:
            self.refresh_view()
        root, chain = (self._base, self._view_chain) if self._base is not None else (self, ())
        if value_t is None:
            value_t = self.from_op(array, None)
        try:
            node = I.CopySlices.apply(self.from_op(root._array, root.grad_fn), value_t, chain=chain, index=idx).grad_fn
        except ValueError as error:
            raise RuntimeError(f"setitem: shape mismatch: value of shape {list(array.shape)} cannot be "
                               f"broadcast to the indexed region ({error})") from None
        self._array[idx] = array
        self._bump()
        root._rebase(node)
        if self._base is not None:
            self.refresh_view()

    # ---------------------------------------------------------------- hooks
    def register_hook(self, hook: Callable[[Any], Any]) -> RemovableHandle:
        """Run ``hook(grad)`` on the gradient computed for this tensor during backward; a
        returned tensor replaces the gradient. Returns a handle whose ``remove()`` undoes it."""
        if not self._requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._backward_hooks is None:
                self._backward_hooks = {}
            hooks = self._backward_hooks
        else:
            if self.grad_fn.tensor_hooks is None:
                self.grad_fn.tensor_hooks = {}
            hooks = self.grad_fn.tensor_hooks
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle
