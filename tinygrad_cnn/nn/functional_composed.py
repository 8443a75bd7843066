"""The activations of torch.nn.functional that are compositions of ops this package already
differentiates: threshold, selu, celu, mish, hardswish, hardsigmoid, logsigmoid, softsign,
tanhshrink, hardshrink, softshrink, softmin, glu, prelu, rrelu and gumbel_softmax. Their
gradients come from the ops they are made of. Re-exported by ``tinygrad_cnn.nn.functional``.

As torch's, they refuse bool inputs, and all but threshold, softsign and tanhshrink integer
inputs too (NotImplementedError); ``inplace=True`` writes the result into the input (a
recorded in-place write, as ``copy_``) and returns it.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from tinygrad_cnn import random as _random
from tinygrad_cnn.dtypes import scalar_type_name
from tinygrad_cnn.nn.checks import check_tensor
from tinygrad_cnn.nn.functional_activations import elu, floating_only, hardtanh, leaky_relu, softmax, softplus
from tinygrad_cnn.tensor import Tensor

# torch's constants (Klambauer et al. 2017)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _computed(input: Tensor, inplace: bool, compute: Callable[[Tensor], Tensor]) -> Tensor:
    """``compute(input)``, or with ``inplace`` the input overwritten with it (computed from a copy,
    so that the arrays its graph saved are not the ones written over)."""
    return input.copy_(compute(input.clone())) if inplace else compute(input)


def _not_bool(op: str, kernel: str, input: Any) -> Tensor:
    """``input`` unless it is a bool tensor, which torch's ``op`` refuses (NotImplementedError
    naming its ``kernel``)."""
    check_tensor(op, "input", input)
    if input.dtype == np.bool_:
        raise NotImplementedError(f"{op}: \"{kernel}\" not implemented for 'Bool'")
    return input


def _thresholded(input: Tensor, threshold: float, value: float, inplace: bool) -> Tensor:
    _not_bool("threshold", "threshold_cpu", input)
    return _computed(input, inplace, lambda x: x.where(x > threshold, value))


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """input where input > threshold, else ``value``; the gradient is 1 above the threshold, else 0."""
    return _thresholded(input, threshold, value, inplace)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """threshold(input, threshold, value, inplace=True)."""
    return _thresholded(input, threshold, value, True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """SELU_SCALE * elu(input, SELU_ALPHA): the self-normalising ELU."""
    floating_only("selu", "elu_cpu", input)
    return _computed(input, inplace, lambda x: SELU_SCALE * elu(x, SELU_ALPHA))


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, input) + min(0, alpha * (exp(input / alpha) - 1)), elementwise."""
    floating_only("celu", "elu_cpu", input)
    if alpha == 0:
        raise RuntimeError("celu: ZeroDivisionError: alpha cannot be 0 for CELU")
    return _computed(input, inplace, lambda x: x.relu() + alpha * elu(x / alpha).clamp(max=0.0))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """input * tanh(softplus(input)), elementwise."""
    floating_only("mish", "mish_cpu", input)
    return _computed(input, inplace, lambda x: x * softplus(x).tanh())


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(input + 3) / 6: 0 up to -3, 1 from 3, linear between."""
    floating_only("hardsigmoid", "hardsigmoid_cpu", input)
    return _computed(input, inplace, lambda x: hardtanh(x + 3, 0.0, 6.0) / 6)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """input * relu6(input + 3) / 6, elementwise."""
    floating_only("hardswish", "hardswish_cpu", input)
    return _computed(input, inplace, lambda x: x * hardtanh(x + 3, 0.0, 6.0) / 6)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(input)) = -softplus(-input), finite for inputs of any magnitude."""
    floating_only("logsigmoid", "log_sigmoid_cpu", input)
    return -softplus(-input)


def softsign(input: Tensor) -> Tensor:
    """input / (1 + |input|), elementwise (integer inputs in the default float dtype)."""
    _not_bool("softsign", "abs_cpu", input)
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """input - tanh(input), elementwise (integer inputs in the default float dtype)."""
    check_tensor("tanhshrink", "input", input)
    if input.dtype == np.bool_:
        raise RuntimeError("tanhshrink: Subtraction, the `-` operator, with a bool tensor is not supported.")
    return input - input.tanh()


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """input where |input| > lambd, else 0."""
    floating_only("hardshrink", "hardshrink_cpu", input)
    return input.where(input.abs() > lambd, 0.0)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """input - lambd above lambd, input + lambd below -lambd, else 0."""
    floating_only("softshrink", "softshrink_cpu", input)
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be in range [0, inf) for input dtype "
                           f"{scalar_type_name(input.dtype)}, but found {lambd}")
    return (input - lambd).where(input > lambd, (input + lambd).where(input < -lambd, 0.0))


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """softmax(-input) along ``dim``: weights that favour the smallest values."""
    return softmax(-check_tensor("softmin", "input", input), dim, _stacklevel, dtype)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b), a and b the two halves of ``input`` along ``dim`` (its size must be even)."""
    floating_only("glu", "glu_cpu", input)
    if input.ndim == 0:
        raise RuntimeError("glu: glu does not support scalars because halving size must be even")
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {dim} is size {size}")
    a, b = input.chunk(2, dim)
    return a * b.sigmoid()


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """input where input > 0, else weight * input, with one learnt slope per channel (dim 1)
    or one for all: ``weight`` of 1 or C elements."""
    floating_only("prelu", "prelu_cpu", input)
    check_tensor("prelu", "weight", weight)
    if weight.dtype != input.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {scalar_type_name(input.dtype)} and "
                           f"{scalar_type_name(weight.dtype)}")
    count = weight.numel()
    if count != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if weight.ndim != 1 or count != channels:
            raise RuntimeError(f"prelu: Mismatch of parameter numbers and input channel size. Found parameter "
                               f"numbers = {count} and channel size = {channels} (input {tuple(input.shape)}).")
        if input.ndim >= 2:
            weight = weight.reshape((1, count) + (1,) * (input.ndim - 2))
    elif weight.ndim:
        weight = weight.reshape(())
    return input.where(input > 0, weight * input)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """leaky_relu with slope (lower + upper) / 2, or in training a slope drawn uniformly from
    [lower, upper] for each element (from the package generator)."""
    floating_only("rrelu", "rrelu_with_noise_cpu", input)
    if not lower <= upper:
        raise RuntimeError(f"rrelu: Lower bound should be less than or equal to the upper bound ({lower} > {upper})")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    slopes = _random.generator().uniform(lower, upper, input.shape).astype(input.dtype)
    return _computed(input, inplace, lambda x: x.where(x >= 0, x * Tensor(slopes)))


def selu_(input: Tensor) -> Tensor:
    """selu(input, inplace=True)."""
    return selu(input, True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """celu(input, alpha, inplace=True)."""
    return celu(input, alpha, True)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """rrelu(input, lower, upper, training, inplace=True)."""
    return rrelu(input, lower, upper, training, True)


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """softmax((logits + g) / tau) along ``dim``, g Gumbel(0, 1) noise from the package generator:
    a differentiable sample of the categorical distribution; with ``hard``, the one-hot of its
    argmax, whose gradient is the soft sample's (straight-through), as torch's."""
    check_tensor("gumbel_softmax", "logits", logits)
    noise = -np.log(_random.generator().exponential(size=logits.shape)).astype(logits.dtype)
    soft = ((logits + Tensor(noise)) / tau).softmax(dim)
    if not hard:
        return soft
    values = soft.numpy()
    one_hot = (np.arange(values.shape[dim]).reshape((-1,) + (1,) * (values.ndim - 1 - dim % values.ndim))
               == np.expand_dims(values.argmax(axis=dim), dim)).astype(values.dtype)
    return Tensor(one_hot) - soft.detach() + soft
