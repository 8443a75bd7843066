"""ONNX export, as torch.onnx.export: ``export(model, args, "model.onnx")``.

The model runs once on the example input with the graph recorded (graph.py), each op and
layer becomes ONNX nodes (ops.py, layers.py), parameters become initializers under their
state_dict names, and the model is checked with ``onnx.checker`` before it is written
atomically. Needs the ``onnx`` package (the ``onnx`` extra, with onnxruntime to run it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from tinygrad_cnn.fileio import atomic_write
from tinygrad_cnn.onnx import layers, nn_ops, ops  # noqa: F401  (importing them registers the converters)
from tinygrad_cnn.onnx.graph import ExportError, GraphBuilder, build_nodes, module_types, topological, trace
from tinygrad_cnn.tensor import Tensor

if TYPE_CHECKING:
    from tinygrad_cnn.nn import Module

DEFAULT_OPSET = 20  # torch.onnx's default (torch.onnx._constants.ONNX_DEFAULT_OPSET)
MIN_OPSET = 18  # Reduce* take their axes as an input from 18 on
IR_VERSION = 10  # the ONNX file format onnxruntime >= 1.20 reads; carries opsets up to 23
BATCH_AXIS_NAME = "batch_size"

__all__ = ["DEFAULT_OPSET", "ExportError", "export", "export_checkpoint"]


def _as_tensors(args: Any) -> list[Tensor]:
    items = args if isinstance(args, (tuple, list)) else (args,)
    out = []
    for i, a in enumerate(items):
        if isinstance(a, Tensor):
            out.append(a)
        elif isinstance(a, np.ndarray):
            out.append(Tensor(a))
        else:
            raise TypeError(f"export: args[{i}] must be a Tensor or an ndarray, got {type(a).__name__}")
    if not out:
        raise ValueError("export: args must hold at least one example input tensor")
    return out


def _names(given: Sequence[str] | None, count: int, default: str, what: str) -> list[str]:
    if given is None:
        return [default if count == 1 else f"{default}_{i}" for i in range(count)]
    names = list(given)
    if len(names) != count or len(set(names)) != count:
        raise ValueError(f"export: {what} must be {count} distinct name(s), got {names!r}")
    return names


def _axes(dynamic_axes: Mapping[str, Any] | None, names: list[str]) -> dict[str, dict[int, str]]:
    """dynamic_axes as {value name: {axis: symbolic name}}; None makes axis 0 (the batch) of
    every input and output dynamic."""
    if dynamic_axes is None:
        return {name: {0: BATCH_AXIS_NAME} for name in names}
    out = {}
    for name, axes in dynamic_axes.items():
        if name not in names:
            raise ValueError(f"export: dynamic_axes names {name!r}, which is not an input or output ({names})")
        out[name] = dict(axes) if isinstance(axes, Mapping) else {int(a): f"{name}_dynamic_axes_{a}" for a in axes}
    return out


def _value_info(name: str, tensor: Tensor, axes: dict[int, str]) -> Any:
    from onnx import helper

    shape = [axes.get(i, n) for i, n in enumerate(tensor.shape)]
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(tensor.dtype), shape)


def _named_arrays(model: "Module") -> dict[int, str]:
    """id(tensor) -> state_dict name of every parameter and buffer of ``model``."""
    named = dict(model.named_parameters())
    buffers = getattr(model, "named_buffers", None)
    if buffers is not None:
        named.update(dict(buffers()))
    return {id(t): name for name, t in named.items() if t is not None}


def to_onnx(model: "Module", args: Any, input_names: Sequence[str] | None = None,
            output_names: Sequence[str] | None = None, dynamic_axes: Mapping[str, Any] | None = None,
            opset_version: int | None = None) -> Any:
    """The checked ``onnx.ModelProto`` of ``model`` traced on ``args`` (see ``export``)."""
    import onnx
    from onnx import helper

    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    highest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= highest:
        raise ValueError(f"export: opset_version must be in [{MIN_OPSET}, {highest}], got {opset}")
    examples = _as_tensors(args)
    inputs = [Tensor(np.array(t.numpy()), requires_grad=np.issubdtype(t.dtype, np.floating)) for t in examples]
    in_names = _names(input_names, len(inputs), "input", "input_names")
    was_training = model.training
    model.eval()
    try:
        out, records = trace(model, inputs, layers.LAYER_CONVERTERS)
    finally:
        model.train(was_training)
    outputs = list(out) if isinstance(out, (tuple, list)) else [out]
    if not all(isinstance(o, Tensor) for o in outputs):
        raise ExportError(f"export: the model must return a Tensor or a tuple of Tensors, got {type(out).__name__}")
    out_names = _names(output_names, len(outputs), "output", "output_names")
    axes = _axes(dynamic_axes, in_names + out_names)

    builder = GraphBuilder(opset)
    names: dict[int, str] = {}
    for name, t in zip(in_names, inputs):
        names[id(t)] = builder.fresh(name)
    computed = [o for o in outputs if o.grad_fn is not None and id(o) not in names]
    for name, o in zip(out_names, outputs):
        if any(o is c for c in computed) and id(o) not in names:
            names[id(o)] = builder.fresh(name)
    arrays = _named_arrays(model)
    types = module_types(model)

    def constant_name(t: Tensor) -> str:
        return builder.constant(t.numpy(), arrays.get(id(t), "constant"))

    build_nodes(builder, topological(outputs, records), names, records, ops.OP_CONVERTERS,
                layers.LAYER_CONVERTERS, types, constant_name)
    for name, o in zip(out_names, outputs):
        if names[id(o)] != name:  # an output that is an input or a constant, or repeated
            builder.node("Identity", [names[id(o)]], builder.fresh(name))
    graph = helper.make_graph(
        builder.nodes, type(model).__name__,
        [_value_info(n, t, axes.get(n, {})) for n, t in zip(in_names, inputs)],
        [_value_info(n, o, axes.get(n, {})) for n, o in zip(out_names, outputs)],
        builder.initializers,
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="tinygrad_cnn", ir_version=IR_VERSION)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def export(model: "Module", args: Any = (), f: str | os.PathLike | None = None, *,
           input_names: Sequence[str] | None = None, output_names: Sequence[str] | None = None,
           opset_version: int | None = None, dynamic_axes: Mapping[str, Any] | None = None,
           verbose: bool | None = None) -> Any:
    """Export ``model`` to ONNX as torch.onnx.export: trace ``model(*args)`` (``args`` a Tensor or a
    tuple of them, e.g. one (N, 1, 28, 28) batch) in eval mode and write the model to ``f``
    (atomically; skipped when ``f`` is None). ``input_names``/``output_names`` default to
    "input"/"output" ("input_0", ... for several); ``dynamic_axes`` maps a name to its free
    axes ({axis: name} or a list), and None (the default) frees axis 0 of every input and
    output, so any batch size runs; ``opset_version`` defaults to 20. Returns the
    ``onnx.ModelProto``, checked with ``onnx.checker``. An op or layer with no converter
    raises ExportError naming it and the module it ran in."""
    proto = to_onnx(model, args, input_names, output_names, dynamic_axes, opset_version)
    if verbose:
        from onnx import helper

        print(helper.printable_graph(proto.graph))
    if f is not None:
        atomic_write(f, proto.SerializeToString())
    return proto


def export_checkpoint(ckpt_path: str | os.PathLike, out_path: str | os.PathLike, *,
                      batch_size: int = 1, opset_version: int | None = None) -> Path:
    """``tinygrad-cnn export``: the model saved in a ``tinygrad-cnn train`` checkpoint, exported to
    ``out_path`` with a free batch axis (traced on ``batch_size`` zero images of its input shape).
    The graph takes the normalised images the model was trained on (input (N, 1, 28, 28) for
    the MNIST models), as ``model(x)`` does. Returns the path written."""
    from tinygrad_cnn.models import MODELS

    from tinygrad_cnn import checkpoint

    meta = checkpoint.load_metadata(ckpt_path)
    name = meta["extra"].get("config", {}).get("model")
    cls = MODELS.get(name) or next((c for c in MODELS.values() if c.__name__ == meta["model_class"]), None)
    if cls is None:
        raise ExportError(f"export: checkpoint {ckpt_path} holds a {meta['model_class']}, not one of {sorted(MODELS)}")
    model = cls()
    checkpoint.load(ckpt_path, model, restore_rng=False)
    example = Tensor(np.zeros((batch_size,) + tuple(cls.input_shape), dtype=np.float32))
    export(model, (example,), out_path, opset_version=opset_version)
    return Path(out_path)
