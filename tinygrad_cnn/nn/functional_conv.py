"""Convolution and linear layers in functional form, as torch.nn.functional: conv2d,
conv_transpose2d, linear and bilinear, their arguments and shapes checked once here before the
ops run. Re-exported by ``tinygrad_cnn.nn.functional``."""

from __future__ import annotations

from typing import Any

from tinygrad_cnn.argcheck import IntPair, Padding, nonnegative_pair, padding_arg, positive_int, positive_pair
from tinygrad_cnn.dtypes import scalar_type_name
from tinygrad_cnn.nn.checks import check_conv2d_shapes, check_linear_shapes, check_tensor, runtime_errors
from tinygrad_cnn.ops import conv as C
from tinygrad_cnn.ops import conv_transpose as CT
from tinygrad_cnn.ops import matmul as M
from tinygrad_cnn.tensor import Tensor


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
        raise RuntimeError(f"conv2d: input must be 3-D (C, H, W) or 4-D (N, C, H, W), got shape {tuple(input.shape)}")
    # shapes read through the arrays: an uninitialized (lazy) parameter raises torch's ValueError here
    check_conv2d_shapes(input.numpy().shape, weight.numpy().shape, None if bias is None else bias.numpy().shape,
                        args["padding"], args["dilation"], args["groups"])
    _check_same_dtype("conv2d", input, weight, bias)
    inputs = (input, weight) if bias is None else (input, weight, bias)
    return C.Conv2d.apply(*inputs, **args)


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
    check_conv_transpose(input.numpy().shape, weight.numpy().shape,
                         None if bias is None else check_tensor(op, "bias", bias).numpy().shape,
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


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o], for input1
    (*, in1), input2 (*, in2), weight (out, in1, in2) and bias (out,), as torch.nn.functional.bilinear."""
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        check_tensor("bilinear", name, t)
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be three-dimensional, got shape {list(weight.shape)}")
    out, in1, in2 = weight.shape
    if input1.shape[-1] != in1:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but "
                           f"expected {in1}")
    if input2.shape[-1] != in2:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but "
                           f"expected {in2}")
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got {list(input1.shape[:-1])} and "
                           f"{list(input2.shape[:-1])}")
    mixed = (input1 @ weight.permute(1, 0, 2).reshape(in1, out * in2)).reshape(*input1.shape[:-1], out, in2)
    result = (mixed * input2.unsqueeze(-2)).sum(-1)
    return result if bias is None else result + bias
