"""Tracing a model into an ONNX graph: run forward once, walk the recorded autograd graph.

Every Tensor an op produced carries its ``grad_fn`` (a Context: op name, params, inputs,
module scope), so one forward pass with the input requiring grad records the whole
computation, residual additions and concatenations included. The walk visits the tensors
in topological order and hands each op to its converter (``ops.OP_CONVERTERS``); a module
with a converter of its own (``layers.LAYER_CONVERTERS``, e.g. BatchNorm) is caught by a
forward hook during the trace and exported as one unit. Parameters and buffers are
recognised by identity and become initializers under their state_dict names; any other
tensor with no grad_fn is a constant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

import numpy as np

from tinygrad_cnn.autograd import Context, enable_grad, post_order
from tinygrad_cnn.tensor import Tensor

if TYPE_CHECKING:
    from tinygrad_cnn.nn import Module


class ExportError(ValueError):
    """A model, layer or op that cannot be exported to ONNX (the message names it)."""


class GraphBuilder:
    """Collects ONNX nodes and initializers with unique value names for one export.

    ``prefix`` (set by ``naming``) starts the names of what is added next: the module path
    and op being converted, e.g. ``conv1.conv2d``."""

    def __init__(self, opset: int) -> None:
        self.opset = opset
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._used: set[str] = set()
        self.prefix = "node"

    def fresh(self, hint: str) -> str:
        """A value or node name starting with ``hint`` that no other value or node has."""
        name, k = hint, 1
        while name in self._used:
            name, k = f"{hint}_{k}", k + 1
        self._used.add(name)
        return name

    def constant(self, value: Any, hint: str, dtype: Any = None) -> str:
        """An initializer holding ``value`` (an array or number, as ``dtype`` when given); its name."""
        from onnx import numpy_helper

        array = np.ascontiguousarray(np.asarray(value, dtype=dtype))
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def ints(self, values: Iterable[int], hint: str = "shape") -> str:
        """An int64 1-D initializer (shapes, axes, pads, as ONNX wants them); its name."""
        return self.constant(np.array(list(values), dtype=np.int64), f"{self.prefix}.{hint}")

    def node(self, op_type: str, inputs: Sequence[str], output: str | None = None, **attrs: Any) -> str:
        """Append one ONNX node ``op_type`` on ``inputs`` (``""`` for an omitted optional input)
        writing ``output`` (a fresh name when None); returns the output name."""
        from onnx import helper

        out = output or self.fresh(f"{self.prefix}.{op_type}")
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=self.fresh(f"{self.prefix}/{op_type}"),
                                           **attrs))
        return out

    def naming(self, hint: str) -> None:
        """Name the nodes and values that follow after ``hint`` (the module path and op)."""
        self.prefix = hint


Converter = Callable[..., str]


def _records(model: "Module", layer_converters: dict[str, Converter]) -> tuple[dict[int, tuple], list]:
    """Forward hooks on every module with a layer converter: they map id(node), the node that
    made the module's output, to (qualified name, module, input tensors, node, the inputs' nodes
    then). The node, not
    the output tensor, identifies the result: an in-place op after the module (``out += x``,
    ``ReLU(inplace=True)``) gives the same tensor a new node and leaves the old one to the
    snapshot standing for the old value. Returns the map and the hook handles."""
    seen: dict[int, tuple] = {}
    handles = []
    for name, module in model.named_modules():
        converter = layer_converter(module, layer_converters)
        if converter is None:
            continue

        def hook(module: "Module", args: tuple, out: Any, name: str = name) -> None:
            inputs = tuple(a for a in args if isinstance(a, Tensor))
            node = out.grad_fn if isinstance(out, Tensor) else None
            if node is not None and id(node) not in seen and all(a.grad_fn is not node for a in inputs):
                seen[id(node)] = (name, module, inputs, node, tuple(a.grad_fn for a in inputs))

        handles.append(module.register_forward_hook(hook))
    return seen, handles


def layer_record(tensor: Tensor, records: dict[int, tuple]) -> tuple | None:
    """The layer record whose output ``tensor`` holds (see ``_records``), or None."""
    return None if tensor.grad_fn is None else records.get(id(tensor.grad_fn))


def layer_converter(module: "Module", layer_converters: dict[str, Converter]) -> Converter | None:
    """The converter registered for ``module``'s class (or a package base class of it), or None."""
    for cls in type(module).__mro__:
        if cls.__module__.startswith("tinygrad_cnn.") and cls.__name__ in layer_converters:
            return layer_converters[cls.__name__]
    return None


def trace(model: "Module", inputs: Sequence[Tensor], layer_converters: dict[str, Converter]) -> tuple[Any, dict]:
    """Run ``model(*inputs)`` recording the graph (inputs must require grad); returns the
    output (a Tensor or tuple of Tensors) and the layer records of ``_records``."""
    records, handles = _records(model, layer_converters)
    try:
        with enable_grad():
            out = model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
    return out, records


def _parents(tensor: Tensor, records: dict[int, tuple]) -> tuple[Tensor, ...]:
    record = layer_record(tensor, records)
    if record is not None:
        name, module, inputs, _, nodes = record
        if any(t.grad_fn is not n for t, n in zip(inputs, nodes)):
            raise ExportError(f"export: the input of '{name}' ({type(module).__name__}) was changed in place after "
                              "the layer read it; the ONNX graph cannot hold both values")
        return inputs
    node = tensor.grad_fn
    if node is None:
        return ()
    for i, (t, edge) in enumerate(zip(node.inputs, getattr(node, "edges", ()))):
        if isinstance(edge, Context) and t.grad_fn is not edge:
            raise ExportError(f"export: op '{node.op}' read input {i} before an in-place op changed it; "
                              "the ONNX graph cannot hold both values (write that op out of place)")
    return node.inputs


def topological(outputs: Sequence[Tensor], records: dict[int, tuple]) -> list[Tensor]:
    """Every tensor the outputs depend on, each after the tensors it was computed from."""
    return post_order(list(reversed(outputs)), lambda tensor: list(reversed(_parents(tensor, records))))


def module_types(model: "Module") -> dict[str, str]:
    """Qualified module name -> class name, for error messages ("" is the model itself)."""
    return {name: type(m).__name__ for name, m in model.named_modules()}


def describe_scope(scope: tuple[str, ...], types: dict[str, str]) -> str:
    """'in layer1.0.conv1 (Conv2d)' for a recorded op's scope; 'in the model's forward' at top level."""
    if not scope:
        return "in the model's own forward"
    name = ".".join(scope)
    return f"in module '{name}' ({types.get(name, '?')})"


def build_nodes(builder: GraphBuilder, order: list[Tensor], names: dict[int, str], records: dict[int, tuple],
                op_converters: dict[str, Converter], layer_converters: dict[str, Converter],
                types: dict[str, str], constant_name: Callable[[Tensor], str]) -> None:
    """Convert every tensor of ``order`` (topological) into nodes: leaves become initializers
    through ``constant_name`` (unless already named: graph inputs, parameters), layer records go
    to their layer converter, other tensors to their op's converter. ``names`` maps id(tensor)
    to its value name and is filled in; pre-set entries (graph inputs/outputs) are kept."""
    for tensor in order:
        key = id(tensor)
        record = layer_record(tensor, records)
        if record is None and tensor.grad_fn is None:
            if key not in names:
                names[key] = constant_name(tensor)
            continue
        out = names.get(key) or None
        if record is not None:
            name, module, args = record[:3]
            builder.naming(name or type(module).__name__)
            converter = layer_converter(module, layer_converters)
            result = converter(builder, module, [names[id(a)] for a in args], out, args, tensor)
        else:
            ctx: Context = tensor.grad_fn
            builder.naming(".".join(ctx.scope + (ctx.op,)))
            converter = op_converters.get(ctx.op)
            if converter is None:
                raise ExportError(
                    f"export: op '{ctx.op}' {describe_scope(ctx.scope, types)} has no ONNX converter; "
                    f"exportable ops: {', '.join(sorted(op_converters))}"
                )
            result = converter(builder, ctx, [names[id(t)] for t in ctx.inputs], out, tensor)
        names[key] = result
