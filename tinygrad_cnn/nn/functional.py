"""Functional interface (``import tinygrad_cnn.nn.functional as F``), as torch.nn.functional.

Convolution, pooling, linear, flatten, pad and dropout live here, checked once and calling
into the ops; activations, losses, normalization and adaptive pooling live in the sibling
files functional_activations.py, functional_losses.py, functional_norm.py and
functional_pooling.py and are re-exported, so ``F.<name>`` reaches all of them.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinygrad_cnn.argcheck import IntPair, Padding, nonnegative_pair, padding_arg, positive_int, positive_pair
from tinygrad_cnn.dtypes import scalar_type_name
from tinygrad_cnn.functions import pad as _pad
from tinygrad_cnn.nn.checks import (
    check_conv2d_shapes, check_linear_shapes, check_pool_input, check_probability, check_tensor, runtime_errors,
)
from tinygrad_cnn.nn.functional_activations import (
    elu, elu_, gelu, hardtanh, hardtanh_, leaky_relu, leaky_relu_, log_softmax, relu, relu6, relu_, sigmoid, silu,
    softmax, softplus, tanh,
)
from tinygrad_cnn.nn.functional_composed import (
    celu, celu_, glu, hardshrink, hardsigmoid, hardswish, logsigmoid, mish, prelu, rrelu, rrelu_, selu, selu_, softmin,
    softshrink, softsign, tanhshrink, threshold, threshold_,
)
from tinygrad_cnn.nn.functional_losses import (
    binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, huber_loss, kl_div, l1_loss, mse_loss,
    nll_loss, smooth_l1_loss,
)
from tinygrad_cnn.nn.functional_distance import cosine_similarity, pairwise_distance
from tinygrad_cnn.nn.functional_norm import batch_norm, group_norm, instance_norm, layer_norm, normalize
from tinygrad_cnn.nn.functional_sparse import embedding, one_hot
from tinygrad_cnn.nn.functional_vision import channel_shuffle, interpolate, pixel_shuffle, pixel_unshuffle
from tinygrad_cnn.nn.functional_pooling import adaptive_avg_pool2d, adaptive_max_pool2d, max_unpool2d
from tinygrad_cnn.ops import conv as C
from tinygrad_cnn.ops import conv_transpose as CT
from tinygrad_cnn.ops import dropout as D
from tinygrad_cnn.ops import matmul as M
from tinygrad_cnn.ops import pool as P
from tinygrad_cnn.ops.conv import calculate_output_size, count_parameters
from tinygrad_cnn.tensor import Tensor

__all__ = [
    "adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool2d", "batch_norm", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "calculate_output_size", "celu", "celu_", "channel_shuffle", "conv2d",
    "conv_transpose2d", "cosine_similarity", "count_parameters", "cross_entropy", "dropout", "dropout2d", "elu",
    "elu_", "embedding", "flatten", "gelu", "glu", "group_norm", "hardshrink", "hardsigmoid", "hardswish",
    "hardtanh", "hardtanh_", "huber_loss", "instance_norm", "interpolate", "kl_div", "l1_loss", "layer_norm", "leaky_relu",
    "leaky_relu_", "linear", "log_softmax", "logsigmoid", "max_pool2d", "max_unpool2d", "mish", "mse_loss",
    "nll_loss", "normalize", "one_hot", "pad", "pairwise_distance", "pixel_shuffle", "pixel_unshuffle", "prelu",
    "relu", "relu6", "relu_", "rrelu", "rrelu_", "selu", "selu_", "sigmoid", "silu", "smooth_l1_loss", "softmax",
    "softmin", "softplus", "softshrink", "softsign", "tanh", "tanhshrink", "threshold", "threshold_",
]


def _check_same_dtype(op: str, input: Tensor, *params: Tensor | None) -> None:
    """torch's conv/linear refuse an input whose dtype differs from the weights' (RuntimeError),
    rather than promoting: int64 images must be converted with ``.float()`` first."""
    for param in params:
        if param is not None and param.dtype != input.dtype:
            raise RuntimeError(f"{op}: expected scalar type {scalar_type_name(input.dtype)} but found "
                               f"{scalar_type_name(param.dtype)} (input dtype {input.dtype}, weight dtype {param.dtype})")


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1, padding: Padding = 0,
           dilation: IntPair = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) as torch.nn.functional.conv2d.

    input (N, C, H, W) (or unbatched (C, H, W)), weight (OC, C/groups, KH, KW), bias (OC,) or
    None -> (N, OC, OH, OW) (or (OC, OH, OW)) with OH = floor((H + 2*ph - dh*(KH - 1) - 1) / sh)
    + 1 (likewise OW). ``stride``, ``padding`` and ``dilation`` are ints or (H, W) pairs;
    ``padding`` may also be "valid" (no padding) or "same" (output size = input size, stride 1
    only). ``groups`` splits the channels into independent convolutions (groups = C is
    depthwise). The result has NCHW shape and (C, H, W, N) memory order. Raises, as torch,
    TypeError for arguments of the wrong type and RuntimeError naming the argument and the
    shapes for bad values or tensors that do not fit.
    """
    check_tensor("conv2d", "input", input)
    check_tensor("conv2d", "weight", weight)
    if bias is not None:
        check_tensor("conv2d", "bias", bias)
    with runtime_errors():
        strides = positive_pair(stride, "stride", "conv2d")
        args = dict(stride=strides, padding=padding_arg(padding, strides, "conv2d"),
                    dilation=positive_pair(dilation, "dilation", "conv2d"),
                    groups=positive_int(groups, "groups", "conv2d"))
    return conv2d_checked(input, weight, bias, **args)


def conv2d_checked(input: Tensor, weight: Tensor, bias: Tensor | None, **args: Any) -> Tensor:
    """conv2d for arguments already checked (nn.Conv2d checks its own once, at construction):
    the tensors' shapes and dtypes are checked here."""
    if input.ndim == 3:  # unbatched (C, H, W), as torch accepts it
        return conv2d_checked(input.unsqueeze(0), weight, bias, **args).squeeze(0)
    if input.ndim != 4:
        raise RuntimeError(f"conv2d: input must be 3-D (C, H, W) or 4-D (N, C, H, W), got shape {input.shape}")
    # shapes read through the arrays: an uninitialized (lazy) parameter raises torch's ValueError here
    check_conv2d_shapes(input.shape, weight.numpy().shape, None if bias is None else bias.numpy().shape,
                        args["padding"], args["dilation"], args["groups"])
    _check_same_dtype("conv2d", input, weight, bias)
    inputs = (input, weight) if bias is None else (input, weight, bias)
    return C.Conv2d.apply(*inputs, **args)


def _pool_arguments(op: str, input: Tensor, kernel_size: IntPair, stride: IntPair | None, padding: IntPair,
                    dilation: IntPair, ceil_mode: bool) -> dict:
    """Pooling's checked arguments for a batched or unbatched ``input``, with torch's exception types."""
    check_tensor(op, "input", input)
    check_pool_input(op, input.shape)
    with runtime_errors():
        return P.pool_arguments(op, (1,) * (4 - input.ndim) + input.shape, kernel_size, stride, padding, dilation,
                                ceil_mode)


def max_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0,
               dilation: IntPair = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """2-D max pooling as torch.nn.functional.max_pool2d: (N, C, H, W) -> (N, C, OH, OW), or
    unbatched (C, H, W) -> (C, OH, OW).

    OH = floor((H + 2*ph - dh*(KH - 1) - 1) / sh) + 1 (ceil with ``ceil_mode``, as long as
    the last window starts inside the input or its top/left padding); ``stride`` defaults
    to ``kernel_size``; ``padding`` (at most half the kernel) pads with -inf. With
    ``return_indices``, also returns int64 indices (N, C, OH, OW): the flat position h*W + w
    of each window's maximum in its input plane, as torch's. A window lying entirely in the
    padding (possible only with dilation) gives -inf and passes no gradient, as torch's.
    Bad values and shapes raise RuntimeError naming the argument, as torch's.
    """
    args = _pool_arguments("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    if input.ndim == 3:
        out = max_pool2d(input.unsqueeze(0), **args, return_indices=return_indices)
        return tuple(t.squeeze(0) for t in out) if return_indices else out.squeeze(0)
    out = P.MaxPool2d.apply(input, **args)
    if not return_indices:
        return out
    # rarely asked for: recomputed here rather than kept by every call
    return out, Tensor(P.max_pool2d_indices(input.numpy(), **args))


def avg_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """2-D average pooling as torch.nn.functional.avg_pool2d: (N, C, H, W) -> (N, C, OH, OW), or
    unbatched (C, H, W) -> (C, OH, OW).

    Output size as max_pool2d's (no dilation); ``stride`` defaults to ``kernel_size``;
    ``padding`` (at most half the kernel) pads with zeros, which count in the divisor when
    ``count_include_pad`` (the default), except where a ``ceil_mode`` window overhangs the
    padding, exactly as torch. Bad values and shapes raise torch's exception types.
    """
    args = _pool_arguments("avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode)
    del args["dilation"]
    if input.ndim == 3:
        return avg_pool2d(input.unsqueeze(0), **args, count_include_pad=count_include_pad).squeeze(0)
    if input.dtype == np.int64:  # torch averages Long exactly and truncates toward zero
        mean = P.AvgPool2d.apply(Tensor(input.numpy().astype(np.float64)), **args,
                                 count_include_pad=bool(count_include_pad))
        return Tensor(np.trunc(mean.numpy()).astype(np.int64))
    if input.dtype.kind not in "f":
        raise NotImplementedError(f'"avg_pool2d" not implemented for \'{scalar_type_name(input.dtype)}\' '
                                  f"(input dtype {input.dtype}, shape {input.shape})")
    return P.AvgPool2d.apply(input, **args, count_include_pad=bool(count_include_pad))


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input (*, in_features) @ weight.T (out_features, in_features) + bias (out_features,) -> (*, out_features),
    as torch.nn.functional.linear: a 1-D weight (in_features,) (without bias) gives (*,), and a bias
    of any shape that broadcasts to the output is added. Shapes that do not fit raise RuntimeError naming them."""
    check_tensor("linear", "input", input)
    check_tensor("linear", "weight", weight)
    if bias is not None:
        check_tensor("linear", "bias", bias)
    # shapes read through the arrays: an uninitialized (lazy) parameter raises torch's ValueError here
    check_linear_shapes(input.numpy().shape, weight.numpy().shape, None if bias is None else bias.numpy().shape)
    _check_same_dtype("linear", input, weight, bias)
    if weight.ndim == 1:
        return input.matmul(weight)
    if bias is None or bias.shape == (weight.shape[0],):
        return M.Linear.apply(input, weight) if bias is None else M.Linear.apply(input, weight, bias)
    return M.Linear.apply(input, weight) + bias


def flatten(input: Tensor, start_dim: int = 1, end_dim: int = -1) -> Tensor:
    """Dims ``start_dim``..``end_dim`` merged into one: (N, C, H, W) -> (N, C*H*W) by default."""
    return input.flatten(start_dim, end_dim)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Padding in ``mode`` "constant" (with ``value``, 0 by default), "reflect", "replicate" or
    "circular"; ``pad`` lists (before, after) pairs starting from the LAST dim, as torch."""
    return _pad(input, pad, mode, value)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """During training, zero each element with probability ``p`` and scale the rest by 1/(1-p);
    the identity when not ``training`` or p = 0; ``inplace`` writes the result into ``input``."""
    p = check_probability("dropout", p)
    if not training or p == 0:
        return input
    if inplace:
        return check_tensor("dropout", "input", input).apply_inplace_("dropout_", D.Dropout, p=p, inplace=True)
    return D.Dropout.apply(check_tensor("dropout", "input", input), p=p)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """During training, zero each whole channel input[n, c] of an (N, C, H, W) (or (N, C, L))
    input with probability ``p`` and scale the rest by 1/(1-p); the identity otherwise."""
    p = check_probability("dropout2d", p)
    check_tensor("dropout2d", "input", input)
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 3-D (N, C, L) or 4-D (N, C, H, W) input, got shape {input.shape}")
    if not training or p == 0:
        return input
    mask_shape = input.shape[:2] + (1,) * (input.ndim - 2)
    if inplace:
        return input.apply_inplace_("dropout2d_", D.Dropout, p=p, mask_shape=mask_shape, inplace=True)
    return D.Dropout.apply(input, p=p, mask_shape=mask_shape)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1,
                     padding: IntPair = 0, output_padding: IntPair = 0, groups: int = 1,
                     dilation: IntPair = 1) -> Tensor:
    """2-D transposed convolution as torch.nn.functional.conv_transpose2d (conv2d's input gradient).

    input (N, C_in, H, W), weight (C_in, C_out/groups, KH, KW), bias (C_out,) or None ->
    (N, C_out, OH, OW) with OH = (H - 1)*sh - 2*ph + dh*(KH - 1) + output_padding_h + 1
    (likewise OW); ``output_padding`` must be smaller than the stride or the dilation. An
    unbatched (C_in, H, W) input gives (C_out, OH, OW). The result has NCHW shape and (C, H, W, N)
    memory order. Bad values and shapes raise RuntimeError naming them, as torch's.
    """
    op = "conv_transpose2d"
    check_tensor(op, "input", input)
    check_tensor(op, "weight", weight)
    if input.ndim == 3:  # unbatched (C_in, H, W), as torch accepts it
        return conv_transpose2d(input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups,
                                dilation).squeeze(0)
    with runtime_errors():
        args = dict(stride=positive_pair(stride, "stride", op), padding=nonnegative_pair(padding, "padding", op),
                    output_padding=nonnegative_pair(output_padding, "output_padding", op),
                    dilation=positive_pair(dilation, "dilation", op), groups=positive_int(groups, "groups", op))
    check_conv_transpose(input.shape, weight.shape, None if bias is None else check_tensor(op, "bias", bias).shape,
                         **args)
    inputs = (input, weight) if bias is None else (input, weight, bias)
    return CT.ConvTranspose2d.apply(*inputs, **args)


def check_conv_transpose(shape: tuple[int, ...], weight_shape: tuple[int, ...], bias_shape: tuple[int, ...] | None,
                         stride: tuple[int, int], padding: tuple[int, int], output_padding: tuple[int, int],
                         dilation: tuple[int, int], groups: int) -> None:
    """Raise a RuntimeError (torch's type) naming the shapes when conv_transpose2d's checked arguments do not fit."""
    op = "conv_transpose2d"
    if len(shape) != 4:
        raise RuntimeError(f"{op}: input must be 3-D (C_in, H, W) or 4-D (N, C_in, H, W), got shape {shape}")
    if len(weight_shape) != 4:
        raise RuntimeError(f"{op}: weight must be 4-D (C_in, C_out/groups, KH, KW), got shape {weight_shape}")
    if shape[1] != weight_shape[0] or weight_shape[0] % groups:
        raise RuntimeError(f"{op}: input {shape} has {shape[1]} channels but weight {weight_shape} expects "
                         f"{weight_shape[0]} (divisible by groups={groups})")
    if bias_shape is not None and bias_shape != (weight_shape[1] * groups,):
        raise RuntimeError(f"{op}: bias shape {bias_shape} must be ({weight_shape[1] * groups},) for weight "
                         f"{weight_shape} and groups={groups}")
    if any(o >= max(s, d) for o, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"{op}: output_padding {output_padding} must be smaller than either stride {stride} "
                         f"or dilation {dilation}")
    out = CT.transposed_output_size(shape[2:], weight_shape[2:], stride, padding, output_padding, dilation)
    if min(out) < 1:
        raise RuntimeError(f"{op}: output size {out} is too small for input {shape}, weight {weight_shape} "
                         f"and padding {padding}")
