"""Converters for whole layers, keyed by class name in ``LAYER_CONVERTERS``.

Most layers need none: their forward records ops that ``ops.py`` converts. These are the
layers better exported as one ONNX node (BatchNorm as BatchNormalization, ...) or whose
computation is easier to state from the module's attributes, which follow PyTorch's names
(``running_mean``, ``eps``, ``negative_slope``, ``approximate``, ``output_size``, ...).
A converter gets the builder, the module, its inputs' value names, the name its result
must take (None: fresh), the input tensors and the traced output; it returns the result's name.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from tinygrad_cnn.onnx.graph import ExportError, GraphBuilder
from tinygrad_cnn.onnx.ops import reduce_node

LayerConverter = Callable[..., str]
LAYER_CONVERTERS: dict[str, LayerConverter] = {}


def converts_layer(*class_names: str) -> Callable[[LayerConverter], LayerConverter]:
    """Register the decorated function as the converter of the nn layers named ``class_names``."""
    def register(fn: LayerConverter) -> LayerConverter:
        for name in class_names:
            LAYER_CONVERTERS[name] = fn
        return fn
    return register


def _array(value: Any) -> np.ndarray:
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value)


def _param(b: GraphBuilder, value: Any, fill: float, size: int, dtype: Any, hint: str) -> str:
    """A layer's parameter or buffer as an initializer (``fill`` repeated when it is None)."""
    array = np.full(size, fill, dtype=dtype) if value is None else _array(value).astype(dtype, copy=False)
    return b.constant(array, f"{b.prefix}.{hint}")


def _channel_view(b: GraphBuilder, name: str, rank: int) -> str:
    """A per-channel vector (C,) reshaped to (C, 1, ...) to broadcast over (N, C, *spatial)."""
    return b.node("Reshape", [name, b.ints([-1] + [1] * (rank - 2))])


def batch_norm_nodes(b: GraphBuilder, x: str, rank: int, dtype: Any, scale: str, bias: str, mean: str | None,
                     var: str | None, eps: float, out: str | None) -> str:
    """Batch norm of x (N, C, *) of ``rank`` dims: BatchNormalization with the running ``mean`` and
    ``var`` (value names); without them, the batch's own statistics written out as reductions
    (torch's eval mode with track_running_stats=False). ``scale``/``bias`` are (C,) values."""
    if mean is not None:
        return b.node("BatchNormalization", [x, scale, bias, mean, var], out, epsilon=float(eps))
    axes = (0,) + tuple(range(2, rank))
    centred = b.node("Sub", [x, reduce_node(b, "ReduceMean", x, axes, True, None)])
    variance = reduce_node(b, "ReduceMean", b.node("Mul", [centred, centred]), axes, True, None)
    std = b.node("Sqrt", [b.node("Add", [variance, b.constant(eps, f"{b.prefix}.eps", dtype=dtype)])])
    scaled = b.node("Mul", [b.node("Div", [centred, std]), _channel_view(b, scale, rank)])
    return b.node("Add", [scaled, _channel_view(b, bias, rank)], out)


@converts_layer("BatchNorm1d", "BatchNorm2d")
def _batch_norm(b: GraphBuilder, module: Any, inputs: list, out: str | None, args: tuple, tensor: Any) -> str:
    """Eval mode: the running statistics when the module tracks them, else the batch's."""
    dtype, channels = args[0].dtype, args[0].shape[1]
    scale = _param(b, module.weight, 1.0, channels, dtype, "weight")
    bias = _param(b, module.bias, 0.0, channels, dtype, "bias")
    mean = var = None
    if module.running_mean is not None:
        mean = _param(b, module.running_mean, 0.0, channels, dtype, "running_mean")
        var = _param(b, module.running_var, 1.0, channels, dtype, "running_var")
    return batch_norm_nodes(b, inputs[0], args[0].ndim, dtype, scale, bias, mean, var, module.eps, out)


def layer_norm_nodes(b: GraphBuilder, x: str, dims: int, scale: str, bias: str | None, eps: float,
                     out: str | None) -> str:
    """LayerNormalization of x over its last ``dims`` dims, with ``scale`` (and ``bias``) of their shape."""
    return b.node("LayerNormalization", [x, scale] + ([] if bias is None else [bias]), out, axis=-dims,
                  epsilon=float(eps))


@converts_layer("LayerNorm")
def _layer_norm(b: GraphBuilder, module: Any, inputs: list, out: str | None, args: tuple, tensor: Any) -> str:
    shape = tuple(module.normalized_shape)
    dtype = args[0].dtype
    weight, bias = getattr(module, "weight", None), getattr(module, "bias", None)
    scale = b.constant(np.ones(shape, dtype) if weight is None else _array(weight).astype(dtype), f"{b.prefix}.weight")
    bias_name = None if bias is None else b.constant(_array(bias).astype(dtype), f"{b.prefix}.bias")
    return layer_norm_nodes(b, inputs[0], len(shape), scale, bias_name, module.eps, out)


def group_norm_nodes(b: GraphBuilder, x: str, rank: int, dtype: Any, groups: int, scale: str | None,
                     bias: str | None, eps: float, out: str | None) -> str:
    """(N, C, *) viewed as (N, G, -1), InstanceNormalization over the last axis, viewed back, then
    the per-channel affine transform (``scale``/``bias`` (C,) values, or None for none)."""
    grouped = b.node("Reshape", [x, b.ints([0, groups, -1])])
    ones = b.constant(np.ones(groups, dtype), f"{b.prefix}.ones")
    zeros = b.constant(np.zeros(groups, dtype), f"{b.prefix}.zeros")
    normed = b.node("InstanceNormalization", [grouped, ones, zeros], epsilon=float(eps))
    restored = b.node("Reshape", [normed, b.node("Shape", [x])])
    if scale is None:
        return b.node("Identity", [restored], out)
    scaled = b.node("Mul", [restored, _channel_view(b, scale, rank)])
    return b.node("Add", [scaled, _channel_view(b, bias, rank)], out)


@converts_layer("GroupNorm")
def _group_norm(b: GraphBuilder, module: Any, inputs: list, out: str | None, args: tuple, tensor: Any) -> str:
    dtype = args[0].dtype
    scale = bias = None
    if module.weight is not None:
        scale = _param(b, module.weight, 1.0, module.num_channels, dtype, "weight")
        bias = _param(b, module.bias, 0.0, module.num_channels, dtype, "bias")
    return group_norm_nodes(b, inputs[0], args[0].ndim, dtype, module.num_groups, scale, bias, module.eps, out)


def _pair_or_none(value: Any) -> tuple[Any, Any]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def adaptive_pool_nodes(b: GraphBuilder, x: str, size: tuple[int, int], output: tuple[int, int], average: bool,
                        out: str | None) -> str:
    """Adaptive pooling of x (N, C, *size) to ``output``: window i along an axis of n inputs and
    o outputs spans [floor(i n / o), ceil((i + 1) n / o)), as torch's. (1, 1) is a Global pool;
    equal windows (o divides n) are a plain pool; other sizes are sliced window by window."""
    (h, w), (oh, ow) = size, output
    if (oh, ow) == (1, 1):
        return b.node("GlobalAveragePool" if average else "GlobalMaxPool", [x], out)
    if h % oh == 0 and w % ow == 0:
        kernel = [h // oh, w // ow]
        return b.node("AveragePool" if average else "MaxPool", [x], out, kernel_shape=kernel, strides=kernel)
    reduce = "ReduceMean" if average else "ReduceMax"
    rows = []
    for i in range(oh):
        cells = []
        for j in range(ow):
            starts = [i * h // oh, j * w // ow]
            ends = [-(-(i + 1) * h // oh), -(-(j + 1) * w // ow)]
            window = b.node("Slice", [x, b.ints(starts, "starts"), b.ints(ends, "ends"), b.ints([2, 3], "axes")])
            cells.append(reduce_node(b, reduce, window, (2, 3), True, None))
        rows.append(b.node("Concat", cells, axis=3))
    return b.node("Concat", rows, out, axis=2)


@converts_layer("AdaptiveAvgPool2d", "AdaptiveMaxPool2d")
def _adaptive_pool(b: GraphBuilder, module: Any, inputs: list, out: str | None, args: tuple, tensor: Any) -> str:
    """``output_size`` an int or a pair, None keeping the input's size on that axis."""
    if getattr(module, "return_indices", False):
        raise ExportError(f"export: {type(module).__name__} at {b.prefix} with return_indices=True does not export")
    size = tuple(args[0].shape[2:])
    output = tuple(n if o is None else o for o, n in zip(_pair_or_none(module.output_size), size))
    average = type(module).__name__.startswith("AdaptiveAvg")
    return adaptive_pool_nodes(b, inputs[0], size, output, average, out)


@converts_layer("LeakyReLU")
def _leaky_relu(b: GraphBuilder, module: Any, inputs: list, out: str | None, args: tuple, tensor: Any) -> str:
    return b.node("LeakyRelu", inputs, out, alpha=float(module.negative_slope))


@converts_layer("ELU")
def _elu(b: GraphBuilder, module: Any, inputs: list, out: str | None, args: tuple, tensor: Any) -> str:
    return b.node("Elu", inputs, out, alpha=float(module.alpha))


def gelu_nodes(b: GraphBuilder, x: str, dtype: Any, approximate: str, out: str | None) -> str:
    """Gelu (opset 20) with torch's ``approximate`` ("none": the erf form, "tanh"); written out
    with Erf or Tanh below opset 20."""
    if b.opset >= 20:
        return b.node("Gelu", [x], out, approximate=approximate)
    c = lambda v, hint: b.constant(v, f"{b.prefix}.{hint}", dtype=dtype)  # noqa: E731
    if approximate == "tanh":
        cube = b.node("Mul", [b.node("Mul", [x, x]), x])
        inner = b.node("Mul", [b.node("Add", [x, b.node("Mul", [cube, c(0.044715, "k")])]),
                               c(math.sqrt(2 / math.pi), "s")])
        gate = b.node("Add", [b.node("Tanh", [inner]), c(1.0, "one")])
    else:
        gate = b.node("Add", [b.node("Erf", [b.node("Div", [x, c(math.sqrt(2.0), "s")])]), c(1.0, "one")])
    return b.node("Mul", [b.node("Mul", [x, gate]), c(0.5, "half")], out)


@converts_layer("GELU")
def _gelu(b: GraphBuilder, module: Any, inputs: list, out: str | None, args: tuple, tensor: Any) -> str:
    return gelu_nodes(b, inputs[0], args[0].dtype, getattr(module, "approximate", "none"), out)


@converts_layer("SiLU")
def _silu(b: GraphBuilder, module: Any, inputs: list, out: str | None, args: tuple, tensor: Any) -> str:
    return b.node("Mul", [inputs[0], b.node("Sigmoid", inputs[:1])], out)


def clip_nodes(b: GraphBuilder, x: str, dtype: Any, low: float, high: float, out: str | None) -> str:
    """x limited to [low, high] (Hardtanh, ReLU6)."""
    return b.node("Clip", [x, b.constant(low, f"{b.prefix}.min", dtype=dtype),
                           b.constant(high, f"{b.prefix}.max", dtype=dtype)], out)


@converts_layer("Hardtanh", "ReLU6")
def _hardtanh(b: GraphBuilder, module: Any, inputs: list, out: str | None, args: tuple, tensor: Any) -> str:
    low, high = getattr(module, "min_val", 0.0), getattr(module, "max_val", 6.0)  # ReLU6 may carry none
    return clip_nodes(b, inputs[0], args[0].dtype, low, high, out)


def softplus_nodes(b: GraphBuilder, x: str, dtype: Any, beta: float, threshold: float, out: str | None) -> str:
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold, as torch's."""
    beta_name = b.constant(beta, f"{b.prefix}.beta", dtype=dtype)
    scaled = b.node("Mul", [x, beta_name])
    soft = b.node("Div", [b.node("Softplus", [scaled]), beta_name])
    linear = b.node("Greater", [scaled, b.constant(threshold, f"{b.prefix}.threshold", dtype=dtype)])
    return b.node("Where", [linear, x, soft], out)


@converts_layer("Softplus")
def _softplus(b: GraphBuilder, module: Any, inputs: list, out: str | None, args: tuple, tensor: Any) -> str:
    return softplus_nodes(b, inputs[0], args[0].dtype, module.beta, module.threshold, out)


@converts_layer("Softmax", "LogSoftmax")
def _softmax(b: GraphBuilder, module: Any, inputs: list, out: str | None, args: tuple, tensor: Any) -> str:
    dim = module.dim
    if dim is None:
        raise ExportError(f"export: {type(module).__name__} at {b.prefix} needs an explicit dim")
    return b.node(type(module).__name__, inputs, out, axis=int(dim))


@converts_layer("Dropout", "Dropout2d", "Identity")
def _identity(b: GraphBuilder, module: Any, inputs: list, out: str | None, args: tuple, tensor: Any) -> str:
    """Eval mode: the input unchanged."""
    return b.node("Identity", inputs[:1], out)


@converts_layer("Unflatten")
def _unflatten(b: GraphBuilder, module: Any, inputs: list, out: str | None, args: tuple, tensor: Any) -> str:
    """Dims before ``dim`` copied (0, so the batch stays free), ``unflattened_size`` in its place,
    the dims after as traced."""
    shape = args[0].shape
    dim = module.dim % len(shape)
    target = [0] * dim + list(module.unflattened_size) + list(shape[dim + 1:])
    return b.node("Reshape", [inputs[0], b.ints(target)], out)


def conv_transpose_nodes(b: GraphBuilder, inputs: list, kernel: tuple[int, int], stride: Any, padding: Any,
                         output_padding: Any, dilation: Any, groups: int, out: str | None) -> str:
    """ConvTranspose on [x, weight(, bias)]: torch's weight (in, out/groups, KH, KW) is ONNX's layout."""
    ph, pw = _pair_or_none(padding)
    return b.node("ConvTranspose", inputs, out, kernel_shape=list(kernel), strides=list(_pair_or_none(stride)),
                  pads=[ph, pw, ph, pw], dilations=list(_pair_or_none(dilation)), group=int(groups),
                  output_padding=list(_pair_or_none(output_padding)))


@converts_layer("ConvTranspose2d")
def _conv_transpose2d(b: GraphBuilder, module: Any, inputs: list, out: str | None, args: tuple, tensor: Any) -> str:
    dtype = args[0].dtype
    names = [inputs[0], b.constant(_array(module.weight).astype(dtype), f"{b.prefix}.weight")]
    if module.bias is not None:
        names.append(b.constant(_array(module.bias).astype(dtype), f"{b.prefix}.bias"))
    return conv_transpose_nodes(b, names, _pair_or_none(module.kernel_size), module.stride, module.padding,
                                module.output_padding, module.dilation, module.groups, out)
