"""Activations in functional form, as torch.nn.functional: relu, leaky_relu, elu, gelu, silu,
hardtanh, relu6, softplus, sigmoid, tanh, softmax, log_softmax.

Re-exported by ``tinygrad_cnn.nn.functional``. ``inplace=True`` works as torch's: the input
is overwritten with the result and returned (its version bumped; on a leaf that requires grad
it raises RuntimeError), as do the ``relu_``, ``leaky_relu_``, ``elu_`` and ``hardtanh_`` forms.
"""

from __future__ import annotations

import warnings
from typing import Any

from tinygrad_cnn.dtypes import scalar_type_name
from tinygrad_cnn.nn.checks import check_tensor
from tinygrad_cnn.ops import activation as A
from tinygrad_cnn.ops import elementwise as E
from tinygrad_cnn.tensor import Tensor


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(input, 0), elementwise (written into ``input`` with ``inplace``)."""
    if inplace:
        return check_tensor("relu", "input", input).apply_inplace_("relu_", A.ReLUInplace)
    return E.ReLU.apply(input)


def relu_(input: Tensor) -> Tensor:
    """relu(input, inplace=True)."""
    return relu(input, True)


def floating_only(op: str, kernel: str, input: Any) -> Tensor:
    """``input`` when it is a floating tensor; for an integer or bool one, the NotImplementedError
    torch raises (naming its ``kernel`` and the scalar type): these activations compute on floats only."""
    check_tensor(op, "input", input)
    if input.dtype.kind != "f":
        raise NotImplementedError(f'{op}: "{kernel}" not implemented for \'{scalar_type_name(input.dtype)}\'')
    return input


def _apply(op: str, function: type, input: Tensor, inplace: bool, **params: Any) -> Tensor:
    """function(input, **params), or with ``inplace`` written into ``input`` (as torch's ``op_``)."""
    if inplace:
        return check_tensor(op, "input", input).apply_inplace_(op + "_", function, inplace=True, **params)
    return function.apply(input, **params)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """input where input > 0, else negative_slope * input, elementwise."""
    floating_only("leaky_relu", "leaky_relu_cpu", input)
    return _apply("leaky_relu", A.LeakyReLU, input, inplace, negative_slope=float(negative_slope))


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """leaky_relu(input, negative_slope, inplace=True)."""
    return leaky_relu(input, negative_slope, True)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """input where input > 0, else alpha * (exp(input) - 1), elementwise."""
    floating_only("elu", "elu_cpu", input)
    return _apply("elu", A.ELU, input, inplace, alpha=float(alpha))


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """elu(input, alpha, inplace=True)."""
    return elu(input, alpha, True)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """input * Phi(input), Phi the standard normal CDF; approximate="tanh" uses torch's tanh formula."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return A.GELU.apply(floating_only("gelu", "GeluKernelImpl", input), approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """input * sigmoid(input), elementwise (the swish)."""
    floating_only("silu", "silu_cpu", input)
    return _apply("silu", A.SiLU, input, inplace)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """input clipped to [min_val, max_val]; the gradient is 0 at and beyond the edges."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} cannot be greater than max_val {max_val}")
    return _apply("hardtanh", A.Hardtanh, input, inplace, min_val=float(min_val), max_val=float(max_val))


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """hardtanh(input, min_val, max_val, inplace=True)."""
    return hardtanh(input, min_val, max_val, True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(input, 0), 6), elementwise (hardtanh(input, 0, 6))."""
    return hardtanh(input, 0.0, 6.0, inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * input)) / beta, and input itself where beta * input > threshold."""
    return A.Softplus.apply(floating_only("softplus", "softplus_cpu", input), beta=float(beta), threshold=float(threshold))


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-input)), elementwise (integer and bool inputs in the default float dtype)."""
    return check_tensor("sigmoid", "input", input).sigmoid()


def tanh(input: Tensor) -> Tensor:
    """tanh(input), elementwise (integer and bool inputs in the default float dtype)."""
    return check_tensor("tanh", "input", input).tanh()


def _softmax_input(op: str, input: Tensor, dim: int | None, dtype: Any) -> tuple[Tensor, int]:
    """The input cast to ``dtype`` (when given) and the dim, torch's implicit choice (with its
    warning) when None: 0 for 0-, 1- and 3-dim inputs, else 1."""
    check_tensor(op, "input", input)
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1
        warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call to include "
                      "dim=X as an argument.", UserWarning, stacklevel=3)
    if dtype is not None:
        input = input.to(dtype)
    return input, dim


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """exp(input) normalised to sum 1 along ``dim`` (stable for large inputs); ``dtype`` casts first."""
    input, dim = _softmax_input("softmax", input, dim, dtype)
    return input.softmax(dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """input - logsumexp(input) along ``dim`` (stable for large inputs); ``dtype`` casts first."""
    input, dim = _softmax_input("log_softmax", input, dim, dtype)
    return input.log_softmax(dim)
