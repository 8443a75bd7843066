"""Functional interface (``import tinygrad_cnn.nn.functional as F``), as torch.nn.functional.

Thin calls into the ops, plus the fused losses: ``cross_entropy`` is ONE Function whose
backward is (softmax - target distribution) / N computed directly, stable for any logits.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinygrad_cnn import random as _random
from tinygrad_cnn.argcheck import IntPair, Padding, padding_arg, positive_int, positive_pair
from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.functions import pad as _pad
from tinygrad_cnn.ops import conv as C
from tinygrad_cnn.ops import elementwise as E
from tinygrad_cnn.ops import matmul as M
from tinygrad_cnn.ops import pool as P
from tinygrad_cnn.ops.conv import calculate_output_size, count_parameters
from tinygrad_cnn.tensor import Tensor

__all__ = [
    "avg_pool2d", "calculate_output_size", "conv2d", "count_parameters", "cross_entropy", "dropout", "flatten",
    "linear", "log_softmax", "max_pool2d", "mse_loss", "nll_loss", "pad", "relu", "sigmoid", "softmax", "tanh",
]

REDUCTIONS = ("mean", "sum", "none")


def _check_tensor(op: str, name: str, value: Any) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}")
    return value


_TORCH_SCALAR = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
                 "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _scalar_name(dtype: np.dtype) -> str:
    """torch's name for the scalar type of ``dtype`` ('Float', 'Long', ...)."""
    return _TORCH_SCALAR.get(np.dtype(dtype).name, np.dtype(dtype).name)


def _check_same_dtype(op: str, input: Tensor, *params: Tensor | None) -> None:
    """torch's conv/linear refuse an input whose dtype differs from the weights' (RuntimeError),
    rather than promoting: int64 images must be converted with ``.float()`` first."""
    for param in params:
        if param is not None and param.dtype != input.dtype:
            raise RuntimeError(f"{op}: expected scalar type {_scalar_name(input.dtype)} but found "
                               f"{_scalar_name(param.dtype)} (input dtype {input.dtype}, weight dtype {param.dtype})")


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1, padding: Padding = 0,
           dilation: IntPair = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) as torch.nn.functional.conv2d.

    input (N, C, H, W), weight (OC, C/groups, KH, KW), bias (OC,) or None -> (N, OC, OH, OW)
    with OH = floor((H + 2*ph - dh*(KH - 1) - 1) / sh) + 1 (likewise OW). ``stride``,
    ``padding`` and ``dilation`` are ints or (H, W) pairs; ``padding`` may also be "valid"
    (no padding) or "same" (output size = input size, stride 1 only). ``groups`` splits the
    channels into independent convolutions (groups = C is depthwise). The result has NCHW
    shape and (C, H, W, N) memory order. Raises ValueError naming the shapes on bad input.
    """
    _check_tensor("conv2d", "input", input)
    _check_tensor("conv2d", "weight", weight)
    if bias is not None:
        _check_tensor("conv2d", "bias", bias)
    strides = positive_pair(stride, "stride", "conv2d")
    args = dict(stride=strides, padding=padding_arg(padding, strides, "conv2d"),
                dilation=positive_pair(dilation, "dilation", "conv2d"), groups=positive_int(groups, "groups", "conv2d"))
    return conv2d_checked(input, weight, bias, **args)


def conv2d_checked(input: Tensor, weight: Tensor, bias: Tensor | None, **args: Any) -> Tensor:
    """conv2d for arguments already checked (nn.Conv2d checks its own once, at construction)."""
    _check_same_dtype("conv2d", input, weight, bias)
    inputs = (input, weight) if bias is None else (input, weight, bias)
    return C.Conv2d.apply(*inputs, **args)


def max_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0,
               dilation: IntPair = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """2-D max pooling as torch.nn.functional.max_pool2d: (N, C, H, W) -> (N, C, OH, OW).

    OH = floor((H + 2*ph - dh*(KH - 1) - 1) / sh) + 1 (ceil with ``ceil_mode``, as long as
    the last window starts inside the input or its top/left padding); ``stride`` defaults
    to ``kernel_size``; ``padding`` (at most half the kernel) pads with -inf. With
    ``return_indices``, also returns int64 indices (N, C, OH, OW): the flat position h*W + w
    of each window's maximum in its input plane, as torch's. A window lying entirely in the
    padding (possible only with dilation) gives -inf and passes no gradient, as torch's.
    """
    _check_tensor("max_pool2d", "input", input)
    args = P.pool_arguments("max_pool2d", input.shape, kernel_size, stride, padding, dilation, ceil_mode)
    out = P.MaxPool2d.apply(input, **args)
    if not return_indices:
        return out
    # rarely asked for: recomputed here rather than kept by every call
    return out, Tensor(P.max_pool2d_indices(input.numpy(), **args))


def avg_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """2-D average pooling as torch.nn.functional.avg_pool2d: (N, C, H, W) -> (N, C, OH, OW).

    Output size as max_pool2d's (no dilation); ``stride`` defaults to ``kernel_size``;
    ``padding`` (at most half the kernel) pads with zeros, which count in the divisor when
    ``count_include_pad`` (the default), except where a ``ceil_mode`` window overhangs the
    padding, exactly as torch.
    """
    _check_tensor("avg_pool2d", "input", input)
    args = P.pool_arguments("avg_pool2d", input.shape, kernel_size, stride, padding, 1, ceil_mode)
    del args["dilation"]
    if input.dtype == np.int64:  # torch averages Long exactly and truncates toward zero
        mean = P.AvgPool2d.apply(Tensor(input.numpy().astype(np.float64)), **args,
                                 count_include_pad=bool(count_include_pad))
        return Tensor(np.trunc(mean.numpy()).astype(np.int64))
    if input.dtype.kind not in "f":
        raise NotImplementedError(f'"avg_pool2d" not implemented for \'{_scalar_name(input.dtype)}\' '
                                  f"(input dtype {input.dtype}, shape {input.shape})")
    return P.AvgPool2d.apply(input, **args, count_include_pad=bool(count_include_pad))


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input (*, in_features) @ weight.T (out_features, in_features) + bias (out_features,) -> (*, out_features)."""
    _check_same_dtype("linear", input, weight, bias)
    if bias is None:
        return M.Linear.apply(input, weight)
    return M.Linear.apply(input, weight, bias)


def flatten(input: Tensor, start_dim: int = 1, end_dim: int = -1) -> Tensor:
    """Dims ``start_dim``..``end_dim`` merged into one: (N, C, H, W) -> (N, C*H*W) by default."""
    return input.flatten(start_dim, end_dim)


def relu(input: Tensor) -> Tensor:
    """max(input, 0), elementwise."""
    return E.ReLU.apply(input)


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-input)), elementwise."""
    return E.Sigmoid.apply(input)


def tanh(input: Tensor) -> Tensor:
    """tanh(input), elementwise."""
    return E.Tanh.apply(input)


def softmax(input: Tensor, dim: int) -> Tensor:
    """exp(input) normalised to sum 1 along ``dim`` (stable for large inputs)."""
    return input.softmax(dim)


def log_softmax(input: Tensor, dim: int) -> Tensor:
    """input - logsumexp(input) along ``dim`` (stable for large inputs)."""
    return input.log_softmax(dim)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Constant padding; ``pad`` lists (before, after) pairs starting from the LAST dim, as torch."""
    return _pad(input, pad, mode, value)


class Dropout(Function):
    """input * mask / (1 - p), mask ~ Bernoulli(1 - p) drawn from the package generator;
    the gradient is grad * mask / (1 - p)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, p: float) -> np.ndarray:
        keep = _random.generator().random(a.shape, dtype=np.float32) >= np.float32(p)
        scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
        ctx.mask = keep * a.dtype.type(scale)
        return a * ctx.mask

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return grad * ctx.mask


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """During training, zero each element with probability ``p`` and scale the rest by 1/(1-p);
    the identity when not ``training`` or p = 0."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be between 0 and 1, got {p}")
    if not training or p == 0:
        return input
    return Dropout.apply(input, p=float(p))


def check_reduction(op: str, reduction: str) -> str:
    """``reduction`` itself when it is "mean", "sum" or "none"; a ValueError naming ``op`` otherwise."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def _check_class_targets(op: str, input: np.ndarray, target: np.ndarray) -> None:
    """Validate (N, C) float scores against (N,) integer labels in [0, C)."""
    if input.ndim != 2:
        raise ValueError(f"{op}: input must be 2-D (batch, classes), got shape {input.shape}")
    if not np.issubdtype(input.dtype, np.floating):
        raise TypeError(f"{op}: input must be floating point, got dtype {input.dtype}")
    if not np.issubdtype(target.dtype, np.integer):
        raise TypeError(
            f"{op}: target must hold integer class indices, got dtype {target.dtype} "
            "(class-probability targets are not supported)"
        )
    n, classes = input.shape
    if target.shape != (n,):
        raise ValueError(f"{op}: target shape {target.shape} does not match input shape {input.shape}; expected ({n},)")
    if n and (target.min() < 0 or target.max() >= classes):
        bad = int(np.flatnonzero((target < 0) | (target >= classes))[0])
        raise ValueError(
            f"{op}: target labels must be in [0, {classes - 1}] for {classes} classes, "
            f"got {int(target[bad])} at index {bad}"
        )


def _reduce(losses: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return losses
    return np.asarray(losses.sum() if reduction == "sum" else losses.mean(), dtype=losses.dtype)


def _row_scale(grad: np.ndarray, n: int, reduction: str) -> np.ndarray:
    """d loss / d per-sample loss, shaped (N, 1)."""
    if reduction == "none":
        return grad.reshape(n, 1)
    scale = grad / n if reduction == "mean" else grad
    return np.broadcast_to(scale, (n, 1))


class CrossEntropy(Function):
    """Softmax cross-entropy of logits (N, C) against integer labels (N,), in one op.

    With q = (1 - s) onehot(y) + s / C (label smoothing s), loss_i = -sum_c q_c log softmax(z_i)_c
    = logsumexp(z_i) - sum_c q_c z_ic, shifted by the row max so that logits of any magnitude stay
    finite. d loss_i / d z_i = softmax(z_i) - q, divided by N for reduction="mean".
    """

    op_name = "cross_entropy"

    @staticmethod
    def forward(ctx: Context, logits: np.ndarray, target: np.ndarray, reduction: str = "mean",
                label_smoothing: float = 0.0) -> np.ndarray:
        _check_class_targets("cross_entropy", logits, target)
        n, classes = logits.shape
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        log_total = np.log(total)[:, 0]
        rows = np.arange(n)
        losses = log_total - shifted[rows, target]
        if label_smoothing:
            smooth = -(shifted.mean(axis=1) - log_total)
            losses = (1 - label_smoothing) * losses + label_smoothing * smooth
        exp /= total
        ctx.probs, ctx.rows, ctx.target = exp, rows, target
        return _reduce(losses.astype(logits.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        probs, rows, target = ctx.probs, ctx.rows, ctx.target
        n, classes = probs.shape
        smoothing = ctx.params["label_smoothing"]
        scale = _row_scale(grad, n, ctx.params["reduction"])
        out = probs * scale
        out[rows, target] -= (1 - smoothing) * scale[:, 0]
        if smoothing:
            out -= (smoothing / classes) * scale
        return out, None


class NLLLoss(Function):
    """Negative log-likelihood of log-probabilities (N, C) at integer labels (N,):
    loss_i = -input[i, y_i]; d loss_i / d input[i, y_i] = -1 (divided by N for "mean")."""

    op_name = "nll_loss"

    @staticmethod
    def forward(ctx: Context, logp: np.ndarray, target: np.ndarray, reduction: str = "mean") -> np.ndarray:
        _check_class_targets("nll_loss", logp, target)
        ctx.rows, ctx.target, ctx.shape = np.arange(logp.shape[0]), target, logp.shape
        return _reduce(-logp[ctx.rows, target], reduction)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        out = np.zeros(ctx.shape, dtype=grad.dtype)
        out[ctx.rows, ctx.target] = -_row_scale(grad, ctx.shape[0], ctx.params["reduction"])[:, 0]
        return out, None


def _as_target(target: Any) -> Tensor:
    return target if isinstance(target, Tensor) else Tensor(np.asarray(target))


def cross_entropy(input: Tensor, target: Tensor, reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits ``input`` (N, C) against integer labels ``target`` (N,).

    ``reduction``: "mean" (default), "sum" or "none" (per-sample losses, shape (N,)).
    ``label_smoothing`` in [0, 1] mixes the one-hot target with the uniform distribution, as
    torch. Labels outside [0, C) raise a ValueError naming the range and the bad label;
    float labels raise a TypeError.
    """
    _check_tensor("cross_entropy", "input", input)
    check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    return CrossEntropy.apply(input, _as_target(target), reduction=reduction,
                              label_smoothing=float(label_smoothing))


def nll_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: -input[i, target[i]] for log-probabilities ``input`` (N, C) and
    integer labels ``target`` (N,), reduced by ``reduction`` ("mean", "sum" or "none")."""
    _check_tensor("nll_loss", "input", input)
    check_reduction("nll_loss", reduction)
    return NLLLoss.apply(input, _as_target(target), reduction=reduction)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Squared error (input - target)**2 of two tensors of one shape, reduced by ``reduction``."""
    _check_tensor("mse_loss", "input", input)
    check_reduction("mse_loss", reduction)
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target, dtype=input.dtype))
    if target.shape != input.shape:
        raise ValueError(f"mse_loss: input shape {input.shape} and target shape {target.shape} must be equal")
    diff = input - target
    squared = diff * diff
    if reduction == "none":
        return squared
    return squared.sum() if reduction == "sum" else squared.mean()
