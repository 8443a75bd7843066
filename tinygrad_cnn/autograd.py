"""The autograd engine: grad mode, module scopes, Function (one differentiable op) and backward.

A Function subclass holds ``forward`` and ``backward`` side by side, on NumPy arrays.
``Function.apply`` runs forward and, when some input requires grad, links the output
tensor to a graph node (the ``ctx``) that remembers the inputs, the op's name, its
parameters and the module scope it ran in. ``run_backward`` walks that graph once, in
reverse topological order, without recursion.

The engine imports no tensor class. It works against the small ``Variable`` protocol below
(minitorch's Variable, PyTorch's AccumulateGrad node are the models); ``tinygrad_cnn.tensor``
registers its Tensor class with ``register_variable_type`` when it is imported.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from typing import Any, Iterator, Protocol, Sequence

import numpy as np

_state = threading.local()


class Variable(Protocol):
    """What the engine needs of a tensor (``tinygrad_cnn.Tensor`` is the one implementation).

    - ``grad_fn``: the Context of the op that made it, None for a leaf;
    - ``requires_grad``, ``shape``, ``dtype``;
    - ``numpy()``: the ndarray the op reads (not copied);
    - ``retains_grad``: True when a non-leaf keeps its gradient (``retain_grad()``);
    - ``accumulate_grad(grad)``: the sink at a leaf: add the ndarray ``grad`` to ``.grad``;
    - ``from_op(array, node)`` (a classmethod): wrap an op's output array, linked to ``node``.
    """

    grad_fn: "Context | None"
    requires_grad: bool
    retains_grad: bool
    shape: tuple[int, ...]
    dtype: np.dtype

    def numpy(self) -> np.ndarray: ...

    def accumulate_grad(self, grad: np.ndarray) -> None: ...

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


def _grad_flag() -> bool:
    return getattr(_state, "grad_enabled", True)


def is_grad_enabled() -> bool:
    """Return True when ops record the graph (the default), False inside ``no_grad``."""
    return _grad_flag()


class _GradMode(contextlib.ContextDecorator):
    """Context manager and decorator that records the graph (mode True) or not inside it."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._previous: list[bool] = []

    def __enter__(self) -> "_GradMode":
        self._previous.append(_grad_flag())
        _state.grad_enabled = self.mode
        return self

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled = self._previous.pop()


class no_grad(_GradMode):
    """Context manager and decorator: ops inside record no graph (inference, optimizer steps)."""

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(_GradMode):
    """Context manager and decorator: ops inside record the graph, even within ``no_grad``."""

    def __init__(self) -> None:
        super().__init__(True)


class set_grad_enabled(_GradMode):
    """As torch's: called plainly, ``set_grad_enabled(False)`` switches graph recording off
    from now on; as a context manager or decorator it applies only inside."""

    def __init__(self, mode: bool) -> None:
        super().__init__(mode)
        self._switched_from: bool | None = _grad_flag()
        _state.grad_enabled = self.mode

    def __enter__(self) -> "set_grad_enabled":
        previous, self._switched_from = self._switched_from, None
        self._previous.append(_grad_flag() if previous is None else previous)
        _state.grad_enabled = self.mode
        return self

    def __call__(self, function):  # used as a decorator: undo the switch made by __init__
        if self._switched_from is not None:
            _state.grad_enabled, self._switched_from = self._switched_from, None
        return super().__call__(function)


def _scope_stack() -> list[str]:
    stack = getattr(_state, "scope", None)
    if stack is None:
        stack = _state.scope = []
    return stack


def current_scope() -> tuple[str, ...]:
    """The module names enclosing the op being recorded, outermost first (``("conv1",)``)."""
    return tuple(_scope_stack())


@contextlib.contextmanager
def scope(name: str) -> Iterator[None]:
    """Push ``name`` onto the scope stack for the ops run inside (nn.Module.__call__ uses it)."""
    stack = _scope_stack()
    stack.append(name)
    try:
        yield
    finally:
        stack.pop()


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)


class Context:
    """One recorded op: the graph node behind ``Tensor.grad_fn``.

    ``op`` is the op's name, ``params`` its non-tensor arguments (stride, padding, ...),
    ``scope`` the module names it ran in, ``inputs`` the tensors it consumed and
    ``needs_input_grad`` which of them want a gradient. Forward stores what backward
    needs with ``save_for_backward`` or as plain attributes.
    """

    def __init__(self, function: type["Function"], params: dict[str, Any], inputs: Sequence["Variable"]) -> None:
        self.function = function
        self.op = function.name()
        self.params = params
        self.scope = current_scope()
        self.inputs: tuple["Variable", ...] = tuple(inputs)
        self.needs_input_grad = tuple(t.requires_grad for t in self.inputs)
        self.saved_tensors: tuple[np.ndarray, ...] = ()
        self.freed = False

    def save_for_backward(self, *arrays: np.ndarray) -> None:
        """Keep ``arrays`` for backward; they are dropped when the graph is freed."""
        self.saved_tensors = arrays

    def saved_attributes(self) -> dict[str, Any]:
        """What forward stored as plain attributes on ctx (beyond the node's own fields)."""
        return {k: v for k, v in vars(self).items() if k not in _NODE_FIELDS}

    def release(self) -> None:
        """Drop everything saved for backward (called after backward unless retain_graph)."""
        self.saved_tensors = ()
        for key in self.saved_attributes():
            delattr(self, key)
        self.freed = True

    def __repr__(self) -> str:
        return f"<{self.op}Backward>"


_NODE_FIELDS = frozenset({"function", "op", "params", "scope", "inputs", "needs_input_grad", "saved_tensors", "freed"})


class Function:
    """Base class of a differentiable op.

    Subclasses define ``forward(ctx, *arrays, **params) -> ndarray`` and
    ``backward(ctx, grad) -> ndarray | tuple`` (one gradient per tensor input, None where
    ``ctx.needs_input_grad`` is False). A gradient may keep a broadcast shape: the engine
    reduces it to the input's shape and dtype. ``ctx.params`` holds every keyword parameter
    of ``forward``: those given to ``apply`` and the defaults of the others, so backward may
    read any of them.
    """

    op_name: str = ""

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
        for i, t in enumerate(inputs):
            if not isinstance(t, _variable_type):
                raise TypeError(f"{cls.name()}: input {i} must be a Tensor, got {type(t).__name__}")
        defaults = _keyword_defaults(cls, len(inputs))
        if defaults:
            params = {**params, **{k: v for k, v in defaults.items() if k not in params}}
        ctx = Context(cls, params, inputs)
        out = cls.forward(ctx, *(t.numpy() for t in inputs), **params)
        recorded = _grad_flag() and any(ctx.needs_input_grad)
        return _variable_type.from_op(out, ctx if recorded else None)


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


def _topological_order(root: "Variable") -> list["Variable"]:
    """Tensors reachable from ``root`` through grad_fn links, each after all of its inputs.

    An iterative depth-first search: a tensor is emitted once every input of its op has
    been emitted, so walking the list backwards visits each tensor after all its consumers.
    """
    order: list["Variable"] = []
    expanded: set[int] = set()
    stack: list[tuple["Variable", bool]] = [(root, False)]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            order.append(tensor)
            continue
        if id(tensor) in expanded:
            continue
        expanded.add(id(tensor))
        stack.append((tensor, True))
        node = tensor.grad_fn
        if node is None:
            continue
        for parent in node.inputs:
            if parent.requires_grad and id(parent) not in expanded:
                stack.append((parent, False))
    return order


def run_backward(root: "Variable", grad: np.ndarray, retain_graph: bool) -> None:
    """Propagate ``grad`` (d root / d root) to every leaf that requires grad, accumulating ``.grad``."""
    order = _topological_order(root)
    for tensor in order:
        if tensor.grad_fn is not None and tensor.grad_fn.freed:
            raise RuntimeError(
                f"backward: trying to backward through the graph a second time (op "
                f"'{tensor.grad_fn.op}' already freed its saved arrays); pass retain_graph=True "
                "to the first backward call"
            )
    grads: dict[int, np.ndarray] = {id(root): grad}
    for tensor in reversed(order):
        g = grads.pop(id(tensor), None)
        if g is None:
            continue
        node = tensor.grad_fn
        if node is None or tensor.retains_grad:
            tensor.accumulate_grad(g)
        if node is None:
            continue
        input_grads = node.function.backward(node, g)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        for parent, needs, pg in zip(node.inputs, node.needs_input_grad, input_grads):
            if not needs or pg is None:
                continue
            pg = unbroadcast(np.asarray(pg), parent.shape)
            if pg.dtype != parent.dtype:
                pg = pg.astype(parent.dtype)
            key = id(parent)
            if key in grads:
                grads[key] = grads[key] + pg
            else:
                grads[key] = pg
        if not retain_graph:
            node.release()
