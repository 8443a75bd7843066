"""Function (one differentiable op), Context (its graph node) and the Variable protocol.

A Function subclass holds ``forward`` and ``backward`` side by side, on NumPy arrays.
``Function.apply`` runs forward and, when some input requires grad, links the output
tensor to a graph node (the ``ctx``) that remembers the inputs, the op's name, its
parameters, the module scope it ran in, the graph edges to the inputs' own nodes and the
versions of the input arrays that forward saved (so backward can refuse to use an array
that an in-place op has changed since). The backward walk lives in ``autograd``.

This module imports no tensor class: it works against the small ``Variable`` protocol
(minitorch's Variable and PyTorch's AccumulateGrad node are the models); ``tinygrad_cnn.tensor``
registers its Tensor class with ``register_variable_type`` when it is imported.
"""

from __future__ import annotations

import functools
import inspect
import itertools
from typing import Any, Protocol

import numpy as np

from tinygrad_cnn.grad_mode import _state
from tinygrad_cnn.node_names import node_name


class VersionCounter:
    """How many in-place writes a tensor's memory has seen: one cell shared by a tensor, its
    views and its ``detach()``ed copies; every in-place op adds one."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def bump(self) -> None:
        """Count one in-place write (here and in ``ALL_WRITES``)."""
        self.value += 1
        ALL_WRITES.value += 1


# in-place writes so far, to any tensor: a node made since the last one need not check its
# saved inputs that had no version counter (they are still at version 0)
ALL_WRITES = VersionCounter()


class Variable(Protocol):
    """What the engine needs of a tensor (``tinygrad_cnn.Tensor`` is the one implementation).

    - ``grad_fn``: the Context of the op that made it, None for a leaf;
    - ``requires_grad`` (also read as ``_requires_grad``), ``shape``, ``dtype``;
    - ``numpy()``: the ndarray the op reads (not copied), also read as ``_array``;
    - ``_vc``: its VersionCounter, or None while it has none (version 0);
    - ``accumulate_grad(grad)``: the sink at a leaf: add the ndarray ``grad`` to ``.grad``;
    - ``from_op(array, node)`` (a classmethod): wrap an op's output array, linked to ``node``;
    - ``version_counter()``: its VersionCounter (shared with views and detached copies);
    - ``_backward_hooks``: None or a dict of hooks ``hook(grad) -> grad | None`` run on the
      gradient reaching a leaf (non-leaf tensors keep theirs on their node: ``tensor_hooks``);
    - ``_base``: the tensor whose memory a view shares (None if not a view) and
      ``refresh_view()``, which re-derives a view's grad_fn from its base after the base was
      modified in place; ``make_view_of(base, function, params)`` marks an op's output a view.
    """

    grad_fn: "Context | None"
    requires_grad: bool
    _requires_grad: bool
    _array: np.ndarray
    _vc: VersionCounter | None
    shape: tuple[int, ...]
    dtype: np.dtype
    _backward_hooks: dict | None
    _base: "Variable | None"

    def numpy(self) -> np.ndarray: ...

    def accumulate_grad(self, grad: np.ndarray) -> None: ...

    def version_counter(self) -> VersionCounter: ...

    def refresh_view(self) -> None: ...

    def make_view_of(self, base: "Variable", function: type["Function"], params: dict[str, Any]) -> None: ...

    @classmethod
    def from_op(cls, array: np.ndarray, node: "Context | None") -> "Variable": ...


_variable_type: Any = None


def is_variable(value: Any) -> bool:
    """True when ``value`` is a tensor of the registered Variable type (tinygrad_cnn.Tensor)."""
    return isinstance(value, _variable_type)


def register_variable_type(cls: type) -> None:
    """Make ``cls`` (implementing ``Variable``) the type Function.apply takes and returns."""
    global _variable_type
    _variable_type = cls


def variable_type() -> Any:
    """The registered tensor class (what ``autograd.grad`` wraps its gradients in)."""
    return _variable_type


def _sized(shape: tuple[int, ...]) -> list[int]:
    """The sizes of ``shape`` other than 1."""
    return [n for n in shape if n != 1]


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``.
    RuntimeError when ``grad`` differs from ``shape`` otherwise than by broadcasting (an input
    whose shape changed in place, by t_ or squeeze_, after an op used it)."""
    if grad.shape == shape:
        return grad
    if _sized(grad.shape) == _sized(shape):  # only size-1 dims differ: the same values in the same order
        return grad.reshape(shape)
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    if _sized(grad.shape) != _sized(shape):
        raise RuntimeError(f"backward: a gradient of shape {tuple(grad.shape)} cannot be summed to its input's shape "
                           f"{tuple(shape)}: the input's shape was changed in place (t_, transpose_, squeeze_, "
                           "unsqueeze_) after an op used it; change the shape out of place instead")
    return grad.reshape(shape)


class AccumulateGrad:
    """The node PyTorch puts at a leaf: ``grad_fn.next_functions`` shows one per leaf input
    that requires grad; ``variable`` is the leaf tensor."""

    def __init__(self, variable: Variable) -> None:
        self.variable = variable

    @staticmethod
    def name() -> str:
        """PyTorch's name of the node: ``torch::autograd::AccumulateGrad``."""
        return "torch::autograd::AccumulateGrad"

    @property
    def next_functions(self) -> tuple:
        """A leaf has no inputs: ()."""
        return ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self) -> int:
        return id(self.variable)

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


# the needs_input_grad of one or two inputs, made once: one object fewer per node for the
# garbage collector to count and traverse (a chain of tiny ops: 1.3% fewer instructions)
_NEEDS_OF_ONE = ((False,), (True,))
_NEEDS_OF_TWO = (((False, False), (False, True)), ((True, False), (True, True)))
_sequence = itertools.count()  # creation order of the nodes: each comes after its inputs' nodes
_op_names: dict[type, str] = {}  # Function class -> Function.name(), computed once per class


class Context:
    """One recorded op: the graph node behind ``Tensor.grad_fn``.

    ``op`` is the op's short name (graph pictures use it), ``params`` its non-tensor
    arguments (stride, padding, ...), ``scope`` the module names it ran in, ``inputs`` the
    tensors it consumed and ``needs_input_grad`` which of them want a gradient. Forward
    stores what backward needs with ``save_for_backward`` or as plain attributes.
    Once recorded, ``edges`` holds, per input, the node its gradient goes to (the input's
    grad_fn at forward time, the leaf tensor itself, or None), ``saved_versions`` the
    (counter, version, input index, saved index) of each saved input whose tensor had a
    version counter, and ``writes`` the in-place writes made to any tensor before the node
    (``ALL_WRITES.value``). An output that forward saved (``saved_output_index``) gets its
    tensor's counter only when first written, viewed or detached, and then hands the node
    ``output_counter``, (its counter, the version the node saw, its index in ``saved_tensors``). ``sequence_nr``
    numbers the nodes in creation order (as torch's ``_sequence_nr()``); ``pending`` holds
    the gradient summed for the node while a backward walk is under way, and ``grad_writable``
    says whether nothing else holds that array (no other node, hook, retained or captured
    gradient, nor the caller): backward may then write its result into it.
    """

    # the node's own fields are slots: the instance dict holds only what forward stored
    __slots__ = ("function", "params", "scope", "inputs", "needs_input_grad", "saved_tensors", "freed", "edges",
                 "saved_versions", "writes", "output_counter", "tensor_hooks", "retained",
                 "sequence_nr", "pending", "grad_writable", "__dict__", "__weakref__")

    def __init__(self, function: type["Function"], params: dict[str, Any], inputs: tuple["Variable", ...],
                 needs_input_grad: tuple[bool, ...]) -> None:
        self.function = function
        self.params = params
        self.scope = _state.scope
        self.inputs = inputs
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple[np.ndarray, ...] = ()
        self.freed = False
        self.edges: tuple = ()
        self.saved_versions: tuple = ()
        self.writes = ALL_WRITES.value
        self.output_counter: tuple[VersionCounter, int, int] | None = None
        self.tensor_hooks: dict | None = None
        self.retained: Any = None
        self.sequence_nr = next(_sequence)
        self.pending: np.ndarray | None = None
        self.grad_writable = False

    @property
    def op(self) -> str:
        """The op's short name (``conv2d``, ``add``, ...): its Function's ``name()``."""
        function = self.function
        return _op_names.get(function) or _op_names.setdefault(function, function.name())

    def save_for_backward(self, *arrays: np.ndarray | None) -> None:
        """Keep ``arrays`` for backward (None for one not needed); they are dropped when the
        graph is freed. Saving an input's own array makes backward check that no in-place op
        changed that input since."""
        self.saved_tensors = arrays

    def saved_output_index(self, output: np.ndarray) -> int:
        """The index in ``saved_tensors`` of the op's ``output`` array (-1: forward did not save it)."""
        for j, s in enumerate(self.saved_tensors):
            if s is output:
                return j
        return -1

    def saved_attributes(self) -> dict[str, Any]:
        """What forward stored as plain attributes on ctx (beyond the node's own fields)."""
        return dict(self.__dict__)

    def release(self) -> None:
        """Drop everything saved for backward (called after backward unless retain_graph)."""
        self.saved_tensors = ()
        self.__dict__.clear()
        self.freed = True

    def name(self) -> str:
        """PyTorch's name for this node (``AddBackward0``, ``ConvolutionBackward0``, ...)."""
        return node_name(self)

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """One ``(node, 0)`` pair per input, as PyTorch's: the input's grad_fn, an
        AccumulateGrad for a leaf that requires grad, or None."""
        return tuple((e if e is None or isinstance(e, Context) else AccumulateGrad(e), 0) for e in self.edges)

    def __repr__(self) -> str:
        return f"<{self.name()}>"


class Function:
    """Base class of a differentiable op.

    Subclasses define ``forward(ctx, *arrays, **params) -> ndarray`` and
    ``backward(ctx, grad) -> ndarray | tuple`` (one gradient per tensor input, None where
    ``ctx.needs_input_grad`` is False). A gradient may keep a broadcast shape: the engine
    reduces it to the input's shape and dtype. ``ctx.params`` holds every keyword parameter
    of ``forward``: those given to ``apply`` and the defaults of the others, so backward may
    read any of them.

    Three class attributes describe what the op does with memory: ``is_view`` (its output may
    share the first input's memory: reshape, permute, expand, basic indexing),
    ``saves_inputs`` (indices of inputs whose values backward depends on although forward
    saved a derived copy, e.g. conv's im2col columns: as PyTorch, modifying such an input in
    place before backward is an error) and ``fresh_grads`` (backward returns new arrays that
    nothing else holds, none shared between inputs: the next node may write into them, see
    ``Context.grad_writable``).
    """

    op_name: str = ""
    is_view: bool = False
    saves_inputs: tuple[int, ...] = ()
    fresh_grads: bool = False

    @staticmethod
    def forward(ctx: Context, *arrays: np.ndarray, **params: Any) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> Any:
        raise NotImplementedError

    @classmethod
    def name(cls) -> str:
        """The op name recorded in the graph: ``op_name`` or the lower-cased class name."""
        return cls.op_name or cls.__name__.lower()

    @classmethod
    def apply(cls, *inputs: "Variable", **params: Any) -> "Variable":
        """Run forward on the inputs' arrays; record a graph node when some input needs grad."""
        # unrolled for the usual one or two inputs: for a tiny op, building lists in a loop
        # (and the zip below) cost 5% of its whole forward and backward
        try:
            if len(inputs) == 2:
                a, b = inputs
                arrays, needs = (a._array, b._array), _NEEDS_OF_TWO[a._requires_grad][b._requires_grad]
            elif len(inputs) == 1:
                a = inputs[0]
                arrays, needs = (a._array,), _NEEDS_OF_ONE[a._requires_grad]
            else:
                arrays, needs = tuple([t._array for t in inputs]), tuple([t._requires_grad for t in inputs])
        except AttributeError:
            raise _not_a_variable(cls, inputs) from None
        defaults = _keyword_defaults(cls, len(inputs))
        if defaults:
            params = {**params, **{k: v for k, v in defaults.items() if k not in params}}
        ctx = Context(cls, params, inputs, needs)
        out = cls.forward(ctx, *arrays, **params)
        if True in needs and _state.grad_enabled:
            versioned = False  # some input has a version counter (every view has its base's)
            for t in inputs:
                if t._vc is not None:
                    versioned = True
                    if t._base is not None:  # a view whose base an in-place op re-recorded
                        t.refresh_view()
            if len(inputs) == 2:
                ctx.edges = (a.grad_fn or (a if a._requires_grad else None),
                             b.grad_fn or (b if b._requires_grad else None))
            elif len(inputs) == 1:
                ctx.edges = (a.grad_fn or a,)  # it requires grad, or there would be no node
            else:
                ctx.edges = tuple([t.grad_fn or (t if t._requires_grad else None) for t in inputs])
            result = _variable_type.from_op(out, ctx)
            if versioned and (ctx.saved_tensors or cls.saves_inputs):
                ctx.saved_versions = _saved_versions(ctx)
        else:
            result = _variable_type.from_op(out, None)
        if cls.is_view and out.base is not None and np.may_share_memory(out, arrays[0]):
            result.make_view_of(inputs[0], cls, params)
        return result


def _not_a_variable(function: type[Function], inputs: tuple) -> TypeError:
    i, bad = next((i, x) for i, x in enumerate(inputs) if not isinstance(x, _variable_type))
    return TypeError(f"{function.name()}: input {i} must be a Tensor, got {type(bad).__name__}")


def _saved_versions(ctx: Context) -> tuple[tuple[VersionCounter, int, int, int], ...]:
    """(counter, version now, input index, saved index or -1) for each saved input (its own
    array, or one of ``saves_inputs``) that has a version counter. A tensor gets its counter
    on its first in-place write, view or detach: inputs without one are at version 0, and
    backward finds them by identity only when some tensor was written since (``ALL_WRITES``)."""
    entries = []
    for i, t in enumerate(ctx.inputs):
        counter = t._vc
        if counter is not None:
            j = saved_index(ctx, i)
            if j is not None:
                entries.append((counter, counter.value, i, j))
    return tuple(entries)


def saved_index(ctx: Context, i: int, sharing: bool = False) -> int | None:
    """Where ``ctx`` saved input ``i``: the index of its array in ``saved_tensors`` (with
    ``sharing``, also of an array sharing its memory: after forward, the input may have changed
    shape in place), -1 for one of the op's ``saves_inputs``, None when it was not saved."""
    array = ctx.inputs[i]._array
    for j, s in enumerate(ctx.saved_tensors):
        if s is array or (sharing and isinstance(s, np.ndarray) and np.may_share_memory(s, array)):
            return j
    return -1 if i in ctx.function.saves_inputs else None


@functools.cache
def _keyword_defaults(function: type[Function], n_inputs: int) -> dict[str, Any]:
    """The defaults of ``function.forward``'s parameters that ``n_inputs`` arrays (after ctx)
    leave unfilled: what ``apply`` records in ``ctx.params`` when they are not passed."""
    parameters = list(inspect.signature(function.forward).parameters.values())  # ctx, arrays..., keywords
    # a forward that declares keyword-only parameters (after ``*``) takes arrays positionally
    # and parameters by keyword only; otherwise the positions after the inputs are parameters
    kinds = (inspect.Parameter.KEYWORD_ONLY,) if any(p.kind == p.KEYWORD_ONLY for p in parameters) \
        else (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return {p.name: p.default for i, p in enumerate(parameters)
            if i > n_inputs and p.kind in kinds and p.default is not inspect.Parameter.empty}
