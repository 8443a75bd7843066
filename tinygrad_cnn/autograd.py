"""The autograd engine and its public face, as ``torch.autograd``: ``backward``, ``grad``,
``Function``, grad mode and the module scope stack.

``run_backward`` walks the graph of nodes (Contexts, plus leaf tensors as sinks) once, in
reverse creation order, without recursion: a heap hands out the node made last among
those waiting for their turn. A node whose saved arrays were freed by an earlier backward,
or whose saved input was modified in place since forward, raises RuntimeError when its
turn comes; since leaves accumulate only once the walk has succeeded, nothing is
accumulated then. Hooks registered with ``Tensor.register_hook`` rewrite the gradient that
reaches their tensor; ``retain_grad()`` tensors accumulate theirs.

The engine imports no tensor class: it works against the ``Variable`` protocol of
``tinygrad_cnn.function`` (exported here as ``VariableLike``: ``autograd.Variable`` is PyTorch's
old wrapper function).
"""

from __future__ import annotations

import re
from heapq import heappop, heappush
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from tinygrad_cnn.function import (ALL_WRITES, AccumulateGrad, Context, Function, VersionCounter, is_variable,
                                   register_variable_type, saved_index, unbroadcast, variable_type)
from tinygrad_cnn.function import Variable as VariableLike
from tinygrad_cnn.tensor_function import TensorFunction
from tinygrad_cnn.grad_mode import (current_scope, enable_grad, is_grad_enabled, no_grad, scope,
                                    set_grad_enabled)

__all__ = [
    "AccumulateGrad", "Context", "Function", "TensorFunction", "Variable", "VariableLike", "VersionCounter", "backward", "current_scope",
    "enable_grad", "grad", "is_grad_enabled", "is_variable", "no_grad", "register_variable_type", "run_backward", "scope",
    "set_grad_enabled", "unbroadcast",
]

_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor", "int64": "LongTensor",
               "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
               "bool": "BoolTensor"}


def _vertex(t: VariableLike) -> Any:
    """Where the gradient of ``t`` goes: its grad_fn, or the tensor itself for a leaf."""
    return t.grad_fn if t.grad_fn is not None else t


def _modified_error(node: Context, counter: VersionCounter, version: int, i: int, j: int) -> RuntimeError:
    """PyTorch's error for a saved array that an in-place op changed after forward."""
    if i >= 0:
        saved = node.inputs[i]
        producer = saved.grad_fn  # as PyTorch: the saved tensor's grad_fn now
    else:
        saved, producer = node.saved_tensors[j], node
    kind = _TYPE_NAMES.get(np.dtype(saved.dtype).name, f"{np.dtype(saved.dtype).name}Tensor")
    text = (f"one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"[tinygrad_cnn.{kind} [{', '.join(str(n) for n in saved.shape)}]]")
    if producer is not None:
        text += f", which is output 0 of {re.sub(r'Backward[0-9]*$', '', producer.name())},"
    return RuntimeError(
        f"{text} is at version {counter.value}; expected version {version} instead. Hint: the op "
        f"{node.name()} saved it for backward; clone() it before modifying it in place, or modify it after backward."
    )


def _freed_error(node: Context) -> RuntimeError:
    return RuntimeError(
        f"Trying to backward through the graph a second time (op {node.name()} already freed its saved arrays). "
        "Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). "
        "Specify retain_graph=True if you need to backward through the graph a second time."
    )


def _check_runnable(node: Context) -> None:
    """Raise RuntimeError when ``node`` cannot run: an earlier backward freed its saved arrays,
    or an in-place op changed a saved array since forward."""
    if node.freed:
        raise _freed_error(node)
    for counter, version, i, j in node.saved_versions:
        if counter.value != version:
            raise _modified_error(node, counter, version, i, j)
    if node.output_counter is not None and node.output_counter[0].value != node.output_counter[1]:
        counter, version, j = node.output_counter
        raise _modified_error(node, counter, version, -1, j)
    if node.writes != ALL_WRITES.value:  # saved inputs that had no version counter were at version 0
        recorded = {i for _, _, i, _ in node.saved_versions}
        for i, t in enumerate(node.inputs):
            if t._vc is not None and t._vc.value and i not in recorded:
                j = saved_index(node, i, sharing=True)
                if j is not None:
                    raise _modified_error(node, t._vc, 0, i, j)


def post_order(roots: Sequence[Any], children: Callable[[Any], Iterable[Any]]) -> list[Any]:
    """Every vertex reachable from ``roots`` through ``children(vertex)`` (None entries skipped),
    each listed after all of its children (iterative depth-first post-order, so a deep graph meets no recursion
    limit). The last root, and of a vertex's children the last, is explored first; a vertex
    is marked when it is expanded, not when it is first pushed. The ONNX export orders its
    graph with it, and ``autograd.grad`` finds the nodes on the way to its inputs."""
    order: list[Any] = []
    expanded: set[int] = set()
    stack: list[tuple[Any, bool]] = [(v, False) for v in roots]
    while stack:
        vertex, children_done = stack.pop()
        if children_done:
            order.append(vertex)
            continue
        if id(vertex) in expanded:
            continue
        expanded.add(id(vertex))
        stack.append((vertex, True))
        for child in children(vertex):
            if child is not None and id(child) not in expanded:
                stack.append((child, False))
    return order


def _edges(vertex: Any) -> tuple:
    """The vertices (or None) a node's gradient flows to; none for a leaf."""
    return vertex.edges if vertex.__class__ is Context else ()


def _run_hooks(hooks: dict, grad: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Pass ``grad`` through each hook in turn (a hook returning None keeps it)."""
    wrap = variable_type().from_op
    for hook in list(hooks.values()):
        result = hook(wrap(grad, None))
        if result is not None:
            new = np.asarray(result.numpy() if hasattr(result, "numpy") else result, dtype=dtype)
            if new.shape != grad.shape:
                raise RuntimeError(f"hook {hook!r}: returned a gradient of shape {tuple(new.shape)}, expected {tuple(grad.shape)}")
            grad = new
    return grad


def run_backward(roots: Sequence[VariableLike], grads: Sequence[np.ndarray], retain_graph: bool,
                 targets: Iterable[VariableLike] | None = None) -> dict[int, np.ndarray] | None:
    """Propagate ``grads`` (d root / d root, one array per root) through the graph.

    With ``targets`` None, accumulate into ``.grad`` of every leaf that requires grad (and of
    retain_grad() tensors); otherwise accumulate nowhere and return {id(tensor): gradient}
    for the targets that the roots reach, running only the nodes on the way to them.

    Nodes run in decreasing ``sequence_nr`` (their creation order, which lists every node
    after the nodes of its inputs), so a node runs once all its consumers have given it their
    gradients; the gradient waiting for a node is kept on it (``pending``). A node is checked
    runnable when its turn comes; the leaves and retained tensors accumulate, and the nodes
    free their saved arrays, only once the whole walk has succeeded, so a failing backward
    changes nothing.
    """
    for root in roots:
        if root._base is not None:
            root.refresh_view()
    start = [_vertex(r) for r in roots]
    capture = runs = None
    if targets is not None:  # only nodes with a path to a target run
        capture = {id(_vertex(t)): t for t in targets}
        live, runs = set(capture), set()
        for vertex in post_order(start, _edges):
            if vertex.__class__ is Context and any(e is not None and id(e) in live for e in vertex.edges):
                runs.add(id(vertex))
                live.add(id(vertex))
    heap: list[tuple[int, Context]] = []
    leaves: dict[int, list] = {}  # id(leaf) -> [leaf, gradient so far]
    for vertex, g in zip(start, grads):
        _deliver(vertex, g, heap, leaves, False)
    captured: dict[int, np.ndarray] = {}
    retained, ran = [], []
    try:
        _walk(heap, leaves, capture, runs, captured, retained, ran)
    except BaseException:
        for _, waiting in heap:
            waiting.pending = None
        raise
    for entry in leaves.values():
        leaf = entry[0]
        if leaf._backward_hooks:
            entry[1] = _run_hooks(leaf._backward_hooks, entry[1], leaf.dtype)
    if capture is not None:
        for key, (leaf, g) in leaves.items():
            if key in capture:
                captured[id(capture[key])] = g
    else:  # a bad preset .grad anywhere raises before any leaf accumulates
        for leaf, _ in leaves.values():
            leaf.check_preset_grad()
        for leaf, g in leaves.values():
            leaf.accumulate_grad(g)
        for kept, g in retained:
            kept.accumulate_grad(g)
    if not retain_graph:
        for node in ran:
            node.release()
    return captured if capture is not None else None


def _walk(heap: list, leaves: dict, capture: dict | None, runs: set | None, captured: dict, retained: list,
          ran: list) -> None:
    """run_backward's walk: run the nodes on ``heap`` (and those they hand gradients to) in
    decreasing sequence_nr, collecting the leaves' gradients in ``leaves``, the retained
    tensors' in ``retained``, the targets' in ``captured`` and the nodes run in ``ran``. As
    torch's, gradients are computed without NumPy's floating-point warnings (0 * inf in a
    derivative and the like)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        while heap:
            node = heappop(heap)[1]
            g, node.pending = node.pending, None
            if node.tensor_hooks:
                g = _run_hooks(node.tensor_hooks, g, g.dtype)
                node.grad_writable = False
            if capture is None:
                if node.retained is not None and (kept := node.retained()) is not None:
                    retained.append((kept, g))
                    node.grad_writable = False
            else:
                if id(node) in capture:
                    captured[id(capture[id(node)])] = g
                    node.grad_writable = False
                if id(node) not in runs:
                    continue
            if node.freed or node.saved_versions or node.writes != ALL_WRITES.value:
                _check_runnable(node)
            function = node.function
            input_grads = function.backward(node, g)
            if input_grads.__class__ is not tuple:
                input_grads = (input_grads,)
            fresh = function.fresh_grads
            for edge, parent, pg in zip(node.edges, node.inputs, input_grads):
                if edge is None or pg is None:
                    continue
                array = parent._array
                if pg.__class__ is not np.ndarray or pg.shape != array.shape or pg.dtype is not array.dtype:
                    pg = _fitted(pg, array)
                if edge.__class__ is Context and edge.pending is None:  # _deliver's first case, inlined
                    edge.pending, edge.grad_writable = pg, fresh
                    heappush(heap, (-edge.sequence_nr, edge))
                else:
                    _deliver(edge, pg, heap, leaves, fresh)
            ran.append(node)


def _fitted(grad: Any, array: np.ndarray) -> np.ndarray:
    """``grad`` as an ndarray of ``array``'s shape (broadcast axes summed away) and dtype."""
    grad = np.asarray(grad)
    if grad.shape != array.shape:
        grad = unbroadcast(grad, array.shape)
    return grad if grad.dtype == array.dtype else grad.astype(array.dtype)


def _deliver(vertex: Any, g: np.ndarray, heap: list, leaves: dict, fresh: bool) -> None:
    """Add the gradient ``g`` to what waits for ``vertex``: a node's on the node (pushing it on
    ``heap`` when it is the first), a leaf's in ``leaves``. ``fresh``: nothing else holds ``g``
    (a ``fresh_grads`` op made it), so the node's backward may write into it; so it may into a
    sum the engine made."""
    if vertex.__class__ is Context:
        if vertex.pending is None:
            vertex.pending = g
            vertex.grad_writable = fresh
            heappush(heap, (-vertex.sequence_nr, vertex))
        else:
            vertex.pending = vertex.pending + g
            vertex.grad_writable = True
    elif (entry := leaves.get(id(vertex))) is None:
        leaves[id(vertex)] = [vertex, g]
    else:
        entry[1] = entry[1] + g


def _tuple(x: Any) -> tuple:
    if x is None:
        return ()
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _root_grads(outputs: tuple, grad_outputs: tuple, caller: str) -> list[np.ndarray]:
    """Check the roots and turn their upstream gradients into arrays (ones for a scalar)."""
    if grad_outputs and len(grad_outputs) != len(outputs):
        raise RuntimeError(f"{caller}: got {len(grad_outputs)} gradients for {len(outputs)} outputs")
    grads, kind = [], variable_type()
    for i, t in enumerate(outputs):
        if not isinstance(t, kind):
            raise TypeError(f"{caller}: element {i} of the outputs must be a Tensor, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError(f"{caller}: element {i} of tensors does not require grad and does not have a grad_fn")
        g = grad_outputs[i] if grad_outputs else None
        if g is None:
            if t.numpy().size != 1:
                raise RuntimeError(f"{caller}: grad can be implicitly created only for scalar (one-element) outputs, "
                                   f"got shape {tuple(t.shape)}; pass a gradient of the same shape")
            grads.append(np.ones(t.shape, dtype=t.dtype))
            continue
        g = np.asarray(g.numpy() if isinstance(g, kind) else g, dtype=t.dtype)
        if g.shape != tuple(t.shape):
            raise RuntimeError(f"{caller}: Mismatch in shape: grad shape {tuple(g.shape)} for output {i} "
                               f"of shape {tuple(t.shape)}")
        grads.append(g)
    return grads


def _no_create_graph(caller: str, create_graph: bool) -> None:
    if create_graph:
        raise NotImplementedError(f"{caller}: create_graph=True (a differentiable backward, for higher-order "
                                  "gradients) is not implemented: tinygrad_cnn computes first-order gradients only")


def backward(tensors: VariableLike | Sequence[VariableLike], grad_tensors: Any = None,
             retain_graph: bool | None = None, create_graph: bool = False, inputs: VariableLike | Sequence[VariableLike] | None = None) -> None:
    """As ``torch.autograd.backward``: accumulate d(sum of tensors * grad_tensors)/d(leaf) into
    ``leaf.grad`` for every leaf that requires grad, or only into ``inputs`` when given.

    ``grad_tensors`` holds one upstream gradient per tensor (None for a one-element tensor).
    The graph's saved arrays are freed unless ``retain_graph``.
    """
    _no_create_graph("backward", create_graph)
    roots = _tuple(tensors)
    grads = _root_grads(roots, _tuple(grad_tensors) if grad_tensors is not None else (), "backward")
    keep = bool(create_graph if retain_graph is None else retain_graph)
    if inputs is None:
        run_backward(roots, grads, keep)
        return
    wanted = _tuple(inputs)
    if not wanted:
        raise RuntimeError("backward: 'inputs' argument to backward() cannot be empty.")
    for t in wanted:
        if not t.requires_grad:
            raise RuntimeError("backward: One of the differentiated Tensors given as 'inputs' does not require grad")
    captured = run_backward(roots, grads, keep, wanted)
    for t in wanted:
        if id(t) in captured:
            t.accumulate_grad(captured[id(t)])


def grad(outputs: VariableLike | Sequence[VariableLike], inputs: VariableLike | Sequence[VariableLike],
         grad_outputs: Any = None,
         retain_graph: bool | None = None, create_graph: bool = False, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple[VariableLike | None, ...]:
    """As ``torch.autograd.grad``: the gradients of sum(outputs * grad_outputs) with respect to
    each of ``inputs`` (one Tensor per input, its shape), accumulating into no ``.grad``.

    An input the outputs do not depend on raises RuntimeError unless ``allow_unused`` (its
    gradient is then None) or ``materialize_grads`` (zeros). First order only.
    """
    _no_create_graph("autograd.grad", create_graph)
    if is_grads_batched:
        raise NotImplementedError("autograd.grad: is_grads_batched=True is not implemented")
    roots, wanted = _tuple(outputs), _tuple(inputs)
    if not wanted:
        raise RuntimeError("autograd.grad: grad requires non-empty inputs.")
    for t in wanted:
        if not isinstance(t, variable_type()):
            raise TypeError(f"autograd.grad: inputs must be Tensors, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError("autograd.grad: One of the differentiated Tensors does not require grad")
    grads = _root_grads(roots, _tuple(grad_outputs) if grad_outputs is not None else (), "autograd.grad")
    captured = run_backward(roots, grads, bool(create_graph if retain_graph is None else retain_graph), wanted)
    wrap, result = variable_type().from_op, []
    for i, t in enumerate(wanted):
        g = captured.get(id(t))
        if g is None:
            if materialize_grads:
                result.append(wrap(np.zeros(t.shape, dtype=t.dtype), None))
                continue
            if not allow_unused:
                raise RuntimeError(f"autograd.grad: The differentiated Tensor at index {i} appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the desired behavior.")
            result.append(None)
            continue
        result.append(wrap(np.array(g, dtype=t.dtype), None))
    return tuple(result)


def Variable(data: VariableLike, requires_grad: bool = False, volatile: bool = False) -> VariableLike:
    """PyTorch's deprecated ``torch.autograd.Variable(tensor, requires_grad=False)``, kept for old
    code: returns the tensor itself, with ``requires_grad`` set when asked (as torch does)."""
    if not isinstance(data, variable_type()):
        raise TypeError(f"Variable: data must be a Tensor, got {type(data).__name__}")
    if requires_grad:
        data.requires_grad_(True)
    return data
