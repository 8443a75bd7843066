"""Normalization in functional form, as torch.nn.functional: batch_norm, layer_norm, group_norm.

Re-exported by ``tinygrad_cnn.nn.functional``; the ops are in ``tinygrad_cnn.ops.normalization``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from tinygrad_cnn.functions import pad as _pad_constant
from tinygrad_cnn.nn.checks import check_tensor
from tinygrad_cnn.ops import normalization as N
from tinygrad_cnn.tensor import Size, Tensor


def _affine(op: str, input: Tensor, weight: Tensor | None, bias: Tensor | None,
            shape: tuple[int, ...]) -> tuple[Tensor, ...]:
    """The op's tensor inputs: (input,) without an affine, else (input, weight, bias), a missing
    one of the two filled with constant ones/zeros of ``shape``; shapes checked."""
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None:
            check_tensor(op, name, t)
            if t.shape != shape:
                raise ValueError(f"{op}: {name} shape {tuple(t.shape)} must be {shape} for input shape {tuple(input.shape)}")
    if weight is None and bias is None:
        return (input,)
    if weight is None:
        weight = Tensor(np.ones(shape, dtype=input.dtype))
    if bias is None:
        bias = Tensor(np.zeros(shape, dtype=input.dtype))
    return input, weight, bias


def verify_batch_size(shape: tuple[int, ...]) -> None:
    """Raise torch's ValueError when an (N, C, *) input has one value per channel (nothing to normalise)."""
    if int(np.prod(shape)) // shape[1] == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {Size(shape)}")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Batch normalization of ``input`` (N, C, *) per channel, as torch.nn.functional.batch_norm.

    y = (x - mean) / sqrt(var + eps) * weight + bias, weight and bias (C,) or None. With
    ``training`` the statistics are the batch's (over N and *) and ``running_mean``/``running_var``
    (C,), when given, are updated in place with ``momentum`` (the variance unbiased); otherwise
    the running statistics are used. The result keeps the input's memory order.
    """
    op = "batch_norm"
    check_tensor(op, "input", input)
    if input.ndim < 2:
        raise ValueError(f"{op}: input must have at least 2 dims (N, C, *), got shape {tuple(input.shape)}")
    channels = (input.shape[1],)
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and (check_tensor(op, name, t).shape != channels):
            raise ValueError(f"{op}: {name} shape {tuple(t.shape)} must be {channels} for input shape {tuple(input.shape)}")
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{op}: running_mean and running_var must both be given or both be None")
    if not training and running_mean is None:
        raise ValueError(f"{op}: running_mean and running_var are needed when training=False")
    if training:
        verify_batch_size(input.shape)
    inputs = _affine(op, input, weight, bias, channels)
    return N.BatchNorm.apply(*inputs, running_mean=None if running_mean is None else running_mean.numpy(),
                             running_var=None if running_var is None else running_var.numpy(),
                             training=bool(training), momentum=float(momentum), eps=float(eps))


def _shape_tuple(normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    """``normalized_shape`` (an int or a sequence of them) as a tuple of ints."""
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(n) for n in normalized_shape)


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Layer normalization as torch.nn.functional.layer_norm: ``input`` (*, D1..Dk) standardised
    over its last k dims, ``normalized_shape`` = (D1..Dk); weight and bias of that shape or None."""
    op = "layer_norm"
    check_tensor(op, "input", input)
    shape = _shape_tuple(normalized_shape)
    k = len(shape)
    if not k or input.shape[input.ndim - k:] != shape or input.ndim < k:
        raise ValueError(
            f"{op}: given normalized_shape={list(shape)}, expected input with shape [*, "
            f"{', '.join(map(str, shape))}], but got input of size {Size(input.shape)}"
        )
    size = int(np.prod(shape))
    inputs = _affine(op, input, weight, bias, shape)
    return N.LayerNorm.apply(*inputs, view=(-1, size), axes=(1,), affine=(1, size), eps=float(eps))


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Group normalization as torch.nn.functional.group_norm: ``input`` (N, C, *) standardised per
    sample over each of ``num_groups`` groups of C/num_groups channels; weight and bias (C,) or None."""
    op = "group_norm"
    check_tensor(op, "input", input)
    if input.ndim < 2:
        raise ValueError(f"{op}: input must have at least 2 dims (N, C, *), got shape {tuple(input.shape)}")
    n, c = input.shape[:2]
    if not isinstance(num_groups, (int, np.integer)) or num_groups < 1 or c % num_groups:
        raise ValueError(f"{op}: expected the number of channels {c} (input {tuple(input.shape)}) to be divisible by "
                         f"num_groups, but got num_groups={num_groups}")
    g = int(num_groups)
    inputs = _affine(op, input, weight, bias, (c,))
    return N.GroupNorm.apply(*inputs, view=(n, g, c // g, -1), axes=(2, 3), affine=(1, g, c // g, 1),
                             eps=float(eps))


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None) -> Tensor:
    """input / max(||input||_p, eps), the p-norm taken along ``dim``: unit vectors along it."""
    check_tensor("normalize", "input", input)
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported; assign the result instead")
    return input / input.norm(p, dim, keepdim=True).clamp(min=eps)


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Each (sample, channel) plane of ``input`` (N, C, *) standardised over its own elements, then
    scaled by weight and shifted by bias (C,) or None, as torch's: batch_norm of the input seen as
    one sample of N*C channels. ``use_input_stats=False`` uses ``running_mean``/``running_var``
    (C,) instead; with them and the input's statistics, they are updated in place with the mean
    over the samples of the planes' updates."""
    op = "instance_norm"
    check_tensor(op, "input", input)
    if input.ndim < 3:
        raise ValueError(f"{op}: input must have at least 3 dims (N, C, *), got shape {tuple(input.shape)}")
    n, c = input.shape[:2]
    if use_input_stats and int(np.prod(input.shape[2:])) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {Size(input.shape)}")
    stats = [None if t is None else Tensor(np.tile(check_tensor(op, name, t).numpy(), n))
             for name, t in (("running_mean", running_mean), ("running_var", running_var))]
    out = batch_norm(input.reshape(1, n * c, *input.shape[2:]), stats[0], stats[1],
                     None if weight is None else weight.repeat(n), None if bias is None else bias.repeat(n),
                     use_input_stats, momentum, eps)
    if use_input_stats:
        for running, folded in zip((running_mean, running_var), stats):
            if running is not None:
                running.numpy()[...] = folded.numpy().reshape(n, c).mean(axis=0)
    return out.reshape(input.shape)


def rms_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """input / sqrt(mean(input**2) + eps) over the last dims ``normalized_shape``, times weight
    (of that shape) when given; ``eps`` None is the dtype's machine epsilon, as torch's."""
    op = "rms_norm"
    check_tensor(op, "input", input)
    shape = _shape_tuple(normalized_shape)
    if not shape or input.ndim < len(shape) or tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise RuntimeError(f"{op}: Given normalized_shape={list(shape)}, expected input with shape [*, "
                           f"{', '.join(map(str, shape))}], but got input of size {Size(input.shape)}")
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    epsilon = float(np.finfo(input.dtype).eps) if eps is None else eps
    out = input * ((input * input).mean(dims, keepdim=True) + epsilon).rsqrt()
    return out if weight is None else out * weight


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """input / (k + alpha * mean of input**2 over ``size`` neighbouring channels)**beta, the
    channels (dim 1) zero-padded by size // 2 before and (size - 1) // 2 after, as torch's."""
    op = "local_response_norm"
    check_tensor(op, "input", input)
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} dimensions)")
    if input.numel() == 0:
        return input
    channels = input.shape[1]
    widths = [0, 0] * (input.ndim - 2) + [size // 2, (size - 1) // 2]
    padded = _pad_constant(input * input, widths)
    window = padded[:, 0:channels]
    for i in range(1, size):
        window = window + padded[:, i:i + channels]
    return input / (window / size * alpha + k) ** beta
