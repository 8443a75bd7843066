"""Converters for the ops behind nn's newer layers and functions (F.gelu, F.batch_norm, ...),
registered in ``ops.OP_CONVERTERS`` like the core ops'. A layer with a converter in
``layers.py`` is exported whole before its op is seen; these cover the functional calls
(and layers without one). They share the node builders of ``layers.py``.
"""

from __future__ import annotations

import numpy as np

from tinygrad_cnn.autograd import Context
from tinygrad_cnn.onnx.graph import GraphBuilder
from tinygrad_cnn.onnx.layers import (adaptive_pool_nodes, batch_norm_nodes, clip_nodes, conv_transpose_nodes,
                                      gelu_nodes, group_norm_nodes, layer_norm_nodes, softplus_nodes)
from tinygrad_cnn.onnx.ops import converts
from tinygrad_cnn.tensor import Tensor


@converts("leaky_relu")
def _leaky_relu(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    return b.node("LeakyRelu", inputs, out, alpha=float(ctx.params["negative_slope"]))


@converts("elu")
def _elu(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    return b.node("Elu", inputs, out, alpha=float(ctx.params["alpha"]))


@converts("gelu")
def _gelu(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    return gelu_nodes(b, inputs[0], tensor.dtype, ctx.params["approximate"], out)


@converts("silu")
def _silu(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    return b.node("Mul", [inputs[0], b.node("Sigmoid", inputs)], out)


@converts("hardtanh")
def _hardtanh(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    return clip_nodes(b, inputs[0], tensor.dtype, ctx.params["min_val"], ctx.params["max_val"], out)


@converts("softplus")
def _softplus(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    return softplus_nodes(b, inputs[0], tensor.dtype, ctx.params["beta"], ctx.params["threshold"], out)


@converts("adaptive_avg_pool2d", "adaptive_max_pool2d")
def _adaptive_pool(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    size = tuple(ctx.inputs[0].shape[2:])
    return adaptive_pool_nodes(b, inputs[0], size, tuple(tensor.shape[2:]), ctx.op == "adaptive_avg_pool2d", out)


@converts("conv_transpose2d")
def _conv_transpose2d(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    p = ctx.params
    return conv_transpose_nodes(b, inputs, tuple(ctx.inputs[1].shape[2:]), p["stride"], p["padding"],
                                p["output_padding"], p["dilation"], p["groups"], out)


def _affine(b: GraphBuilder, ctx: Context, inputs: list, shape: tuple[int, ...], dtype: np.dtype) -> tuple[str, str]:
    """The op's weight and bias inputs, or ones and zeros of ``shape`` when it has none."""
    if len(inputs) == 3:
        return inputs[1], inputs[2]
    return (b.constant(np.ones(shape, dtype), f"{b.prefix}.weight"),
            b.constant(np.zeros(shape, dtype), f"{b.prefix}.bias"))


@converts("batch_norm")
def _batch_norm(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    """Running statistics unless the op normalised with the batch's (training=True: in eval mode,
    a layer that tracks none)."""
    p, x = ctx.params, ctx.inputs[0]
    channels, dtype = x.shape[1], tensor.dtype
    scale, bias = _affine(b, ctx, inputs, (channels,), dtype)
    mean = var = None
    if not p["training"] and p["running_mean"] is not None:
        mean = b.constant(np.asarray(p["running_mean"], dtype), f"{b.prefix}.running_mean")
        var = b.constant(np.asarray(p["running_var"], dtype), f"{b.prefix}.running_var")
    return batch_norm_nodes(b, inputs[0], x.ndim, dtype, scale, bias, mean, var, p["eps"], out)


@converts("layer_norm")
def _layer_norm(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    """Over the trailing dims of x whose sizes multiply to the op's row length, view[-1]."""
    shape, length = ctx.inputs[0].shape, ctx.params["view"][-1]
    dims = next(k for k in range(1, len(shape) + 1) if int(np.prod(shape[-k:])) == length)
    scale = inputs[1] if len(inputs) == 3 else b.constant(np.ones(shape[-dims:], tensor.dtype), f"{b.prefix}.weight")
    bias = inputs[2] if len(inputs) == 3 else None
    if len(inputs) == 3 and ctx.inputs[1].shape != shape[-dims:]:
        scale = b.node("Reshape", [scale, b.ints(shape[-dims:])])
        bias = b.node("Reshape", [bias, b.ints(shape[-dims:])])
    return layer_norm_nodes(b, inputs[0], dims, scale, bias, ctx.params["eps"], out)


@converts("group_norm")
def _group_norm(b: GraphBuilder, ctx: Context, inputs: list, out: str | None, tensor: Tensor) -> str:
    x = ctx.inputs[0]
    scale, bias = (inputs[1], inputs[2]) if len(inputs) == 3 else (None, None)
    return group_norm_nodes(b, inputs[0], x.ndim, tensor.dtype, ctx.params["view"][1], scale, bias,
                            ctx.params["eps"], out)
