"""One ONNX converter per recorded op (``Context.op``), in the registry ``OP_CONVERTERS``.

A converter gets the builder, the op's Context, the value names of its inputs, the name
its result must take (None: any fresh name) and the traced output tensor; it appends the
nodes and returns the result's name. Shapes recorded with the example's batch size are
written so that the batch stays free: Reshape copies leading dimensions with 0, Expand
keeps the input's dimensions with 1.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from tinygrad_cnn.autograd import Context
from tinygrad_cnn.onnx.graph import ExportError, GraphBuilder
from tinygrad_cnn.ops.conv_geometry import side_padding
from tinygrad_cnn.ops.pool import _Geometry
from tinygrad_cnn.tensor import Tensor

OpConverter = Callable[[GraphBuilder, Context, list, "str | None", Tensor], str]
OP_CONVERTERS: dict[str, OpConverter] = {}


def converts(*ops: str) -> Callable[[OpConverter], OpConverter]:
    """Register the decorated function as the converter of the recorded ops named ``ops``."""
    def register(fn: OpConverter) -> OpConverter:
        for op in ops:
            OP_CONVERTERS[op] = fn
        return fn
    return register


_SAME_NAME = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "neg": "Neg", "exp": "Exp", "log": "Log",
              "sqrt": "Sqrt", "abs": "Abs", "relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh",
              "maximum": "Max", "minimum": "Min", "matmul": "MatMul"}


@converts(*_SAME_NAME)
def _elementwise(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    """Ops with an ONNX twin of the same arity and NumPy (multidirectional) broadcasting."""
    return b.node(_SAME_NAME[ctx.op], inputs, out)


@converts("pow")
def _pow(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    if len(inputs) == 2:
        return b.node("Pow", inputs, out)
    exponent = b.constant(ctx.params["exponent"], f"{b.prefix}.exponent", dtype=tensor.dtype)
    return b.node("Pow", [inputs[0], exponent], out)


@converts("clamp")
def _clamp(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    bounds = [b.constant(v, f"{b.prefix}.{k}", dtype=tensor.dtype) if v is not None else ""
              for k, v in (("min", ctx.params.get("min")), ("max", ctx.params.get("max")))]
    return b.node("Clip", [inputs[0]] + bounds, out)


@converts("where")
def _where(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    condition = b.constant(np.asarray(ctx.params["condition"], dtype=bool), f"{b.prefix}.condition")
    return b.node("Where", [condition] + inputs, out)


@converts("cast")
def _cast(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    from onnx import helper

    return b.node("Cast", inputs, out, to=helper.np_dtype_to_tensor_dtype(np.dtype(ctx.params["dtype"])))


@converts("linear")
def _linear(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    if ctx.inputs[0].ndim == 2:
        return b.node("Gemm", inputs, out, transB=1)
    weight_t = b.node("Transpose", [inputs[1]], perm=[1, 0])
    if len(inputs) == 2:
        return b.node("MatMul", [inputs[0], weight_t], out)
    return b.node("Add", [b.node("MatMul", [inputs[0], weight_t]), inputs[2]], out)


@converts("conv2d")
def _conv2d(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    p = ctx.params
    kernel = tuple(ctx.inputs[1].shape[2:])
    top, bottom, left, right = side_padding(p["padding"], kernel, p["stride"], p["dilation"], "conv2d")
    return b.node("Conv", inputs, out, kernel_shape=list(kernel), strides=list(p["stride"]),
                  pads=[top, left, bottom, right], dilations=list(p["dilation"]), group=p["groups"])


def _geometry(ctx: Context, op: str) -> _Geometry:
    p = ctx.params
    return _Geometry(op, ctx.inputs[0].shape, p["kernel_size"], p["stride"], p["padding"], p.get("dilation", (1, 1)),
                     p["ceil_mode"])


def _window_pads(geo: _Geometry, before: tuple[int, int]) -> list[int]:
    """ONNX pads [top, left, bottom, right]: ``before`` at the start and, at the end, what the
    last window needs (this covers ceil_mode exactly, so ONNX's own ceil_mode stays off)."""
    return [before[0], before[1], geo.after[0] - geo.padding[0] + before[0], geo.after[1] - geo.padding[1] + before[1]]


@converts("max_pool2d")
def _max_pool2d(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    """onnxruntime wants pads below the kernel size; larger ones (dilated ceil_mode windows) are
    an explicit -inf Pad first."""
    geo = _geometry(ctx, "max_pool2d")
    x, pads = inputs[0], _window_pads(geo, geo.padding)
    if any(p >= k for p, k in zip(pads, geo.kernel + geo.kernel)):
        fill = b.constant(-np.inf, f"{b.prefix}.value", dtype=tensor.dtype)
        x = b.node("Pad", [x, b.ints([0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]], "pads"), fill])
        pads = [0, 0, 0, 0]
    return b.node("MaxPool", [x], out, kernel_shape=list(geo.kernel), strides=list(geo.stride), pads=pads,
                  dilations=list(geo.dilation))


@converts("avg_pool2d")
def _avg_pool2d(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    """torch divides by the window clipped to the zero-padded input (count_include_pad) or to the
    input: the first is AveragePool(count_include_pad=0) after an explicit zero Pad, so a
    ceil_mode window overhanging the padding is not counted in full; or by ``divisor_override``."""
    geo = _geometry(ctx, "avg_pool2d")
    x = inputs[0]
    divisor = ctx.params.get("divisor_override")
    if divisor is not None:  # each window's sum (a depthwise Conv of ones over the zero-padded input) / divisor
        channels = tensor.shape[1]
        ones = b.constant(np.ones((channels, 1) + tuple(geo.kernel)), f"{b.prefix}.window", dtype=tensor.dtype)
        sums = b.node("Conv", [x, ones], kernel_shape=list(geo.kernel), strides=list(geo.stride),
                      pads=_window_pads(geo, geo.padding), group=channels)
        return b.node("Div", [sums, b.constant(divisor, f"{b.prefix}.divisor", dtype=tensor.dtype)], out)
    before = geo.padding
    if ctx.params["count_include_pad"] and any(geo.padding):
        (ph, pw) = geo.padding
        x = b.node("Pad", [x, b.ints([0, 0, ph, pw, 0, 0, ph, pw], "pads")])
        before = (0, 0)
    return b.node("AveragePool", [x], out, kernel_shape=list(geo.kernel), strides=list(geo.stride),
                  pads=_window_pads(geo, before), count_include_pad=0)


def reduce_node(b: GraphBuilder, op_type: str, x: str, axes: tuple[int, ...], keepdims: bool, out: str | None) -> str:
    """An ONNX Reduce* node over ``axes`` (given as an input, opset 18's form)."""
    return b.node(op_type, [x, b.ints(axes, "axes")], out, keepdims=int(bool(keepdims)))


_REDUCTIONS = {"sum": "ReduceSum", "mean": "ReduceMean", "logsumexp": "ReduceLogSumExp"}


@converts(*_REDUCTIONS)
def _reduce(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    return reduce_node(b, _REDUCTIONS[ctx.op], inputs[0], ctx.params["axis"], ctx.params.get("keepdims", False), out)


@converts("max", "min")
def _extreme(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    """Tensor.max/min: over ``axis`` (the values), or along ``dim`` (the values of the pair)."""
    op_type = "ReduceMax" if ctx.op == "max" else "ReduceMin"
    if "dim" in ctx.params:
        return reduce_node(b, op_type, inputs[0], (ctx.params["dim"],), ctx.params.get("keepdim", False), out)
    return reduce_node(b, op_type, inputs[0], ctx.params["axis"], ctx.params.get("keepdims", False), out)


@converts("var")
def _var(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    axes, keepdims = ctx.params["axis"], ctx.params.get("keepdims", False)
    count = int(np.prod([ctx.inputs[0].shape[a] for a in axes]))
    centred = b.node("Sub", [inputs[0], reduce_node(b, "ReduceMean", inputs[0], axes, True, None)])
    total = reduce_node(b, "ReduceSum", b.node("Mul", [centred, centred]), axes, keepdims, None)
    denominator = max(count - ctx.params.get("correction", 1), 0)
    return b.node("Div", [total, b.constant(denominator, f"{b.prefix}.count", dtype=tensor.dtype)], out)


@converts("softmax", "log_softmax")
def _softmax(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    return b.node("Softmax" if ctx.op == "softmax" else "LogSoftmax", inputs, out, axis=ctx.params["dim"])


@converts("reshape", "flatten")
def _reshape(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    """Leading dimensions the reshape keeps are written 0 (copy the input's: the batch stays
    free); if the batch dimension is merged into another, that one is written -1."""
    before, after = ctx.inputs[0].shape, tuple(ctx.params["shape"])
    shape = list(after)
    kept = 0
    while kept < min(len(before), len(after)) and before[kept] == after[kept]:
        shape[kept] = 0
        kept += 1
    if kept == 0 and shape and before:
        shape[0] = -1
    return b.node("Reshape", [inputs[0], b.ints(shape)], out)


@converts("permute")
def _permute(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    return b.node("Transpose", inputs, out, perm=list(ctx.params["dims"]))


@converts("expand")
def _expand(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    before, after = ctx.inputs[0].shape, tuple(ctx.params["shape"])
    lead = len(after) - len(before)
    shape = [1 if i >= lead and before[i - lead] == n else n for i, n in enumerate(after)]
    return b.node("Expand", [inputs[0], b.ints(shape)], out)


@converts("pad")
def _pad(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    widths = ctx.params["pad_width"]
    pads = [w[0] for w in widths] + [w[1] for w in widths]
    value = b.constant(ctx.params.get("value", 0.0), f"{b.prefix}.value", dtype=tensor.dtype)
    return b.node("Pad", [inputs[0], b.ints(pads, "pads"), value], out, mode="constant")


@converts("cat")
def _cat(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    return b.node("Concat", inputs, out, axis=ctx.params["dim"])


@converts("stack")
def _stack(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    axis = b.ints([ctx.params["dim"]], "axes")
    return b.node("Concat", [b.node("Unsqueeze", [x, axis]) for x in inputs], out, axis=ctx.params["dim"])


@converts("getitem")
def _getitem(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    """Basic indexing only: a tuple of ints and slices (with steps) over the leading axes."""
    index = ctx.params["index"]
    index = index if isinstance(index, tuple) else (index,)
    if not all(isinstance(i, (int, np.integer, slice)) and not isinstance(i, bool) for i in index):
        raise ExportError(f"export: op 'getitem' at {b.prefix}: only ints and slices export, got index {index!r}")
    shape = ctx.inputs[0].shape
    starts, ends, axes, steps, dropped = [], [], [], [], []
    for axis, i in enumerate(index):
        if isinstance(i, slice):
            if i == slice(None):
                continue
            start, stop, step = i.indices(shape[axis])
            stop = stop if i.stop is not None else (np.iinfo(np.int64).min if step < 0 else np.iinfo(np.int64).max)
        else:
            start, step = int(i) % shape[axis], 1
            stop = start + 1
            dropped.append(axis)
        starts.append(start), ends.append(stop), axes.append(axis), steps.append(step)
    x = inputs[0]
    if not axes:
        return b.node("Identity", [x], out)
    if not dropped:
        return b.node("Slice", [x, b.ints(starts, "starts"), b.ints(ends, "ends"), b.ints(axes, "axes"),
                                b.ints(steps, "steps")], out)
    sliced = b.node("Slice", [x, b.ints(starts, "starts"), b.ints(ends, "ends"), b.ints(axes, "axes"),
                              b.ints(steps, "steps")])
    return b.node("Squeeze", [sliced, b.ints(dropped, "axes")], out)


def op_names() -> list[str]:
    """The recorded op names that export, sorted."""
    return sorted(OP_CONVERTERS)
