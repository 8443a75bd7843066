"""Free functions on tensors, as torch's: where, cat, stack, pad, broadcast_tensors, std_mean,
var_mean, atleast_1d/2d/3d, column_stack, dstack, row_stack, and every Tensor method that torch also offers as ``torch.<name>(input, ...)``,
generated in one place from the table ``METHOD_FUNCTIONS``.

The generated functions take torch's ``out=`` keyword: the result is written into ``out``
(resized when its shape differs), refused as torch refuses it when a gradient would be needed.
"""

from __future__ import annotations

import builtins
import warnings
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from tinygrad_cnn.autograd import is_grad_enabled
from tinygrad_cnn.dtypes import promote_types
from tinygrad_cnn import padding_modes
from tinygrad_cnn.ops import reduce as R
from tinygrad_cnn.ops import shape as S
from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.tensor_math import ArrayLike
from tinygrad_cnn.tensor_sets import bucketize, searchsorted  # noqa: F401 (torch functions that are not methods)
from tinygrad_cnn.tensor_reduce import _correction

#: Tensor methods that torch also exposes as functions taking the tensor first
METHOD_FUNCTIONS = (
    "argwhere as_strided bincount dsplit histc histogram hsplit index_add index_copy index_fill index_put index_put_ "
    "masked_scatter put ravel rot90 scatter_reduce take take_along_dim unique unique_consecutive vsplit "
    "addbmm addmm addmv addr baddbmm cholesky corrcoef cov cross det diag diag_embed diagflat diagonal dist ger "
    "inner inverse kron logdet matrix_power mv pinverse qr slogdet svd trace "
    "aminmax bernoulli cummax cummin kthvalue logcumsumexp mode msort multinomial nanmean nanmedian nanquantile "
    "nansum quantile "
    "acosh addcdiv addcmul arccosh arcsinh arctan2 arctanh asinh atan2 atanh copysign deg2rad digamma erf erfc erfinv "
    "exp2 float_power fmax fmin fmod heaviside hypot i0 isneginf isposinf isreal lerp lgamma logaddexp logaddexp2 "
    "logit nextafter rad2deg sgn signbit sinc xlogy "
    "abs absolute acos add allclose amax amin all any arccos arcsin arctan argmax argmin argsort asin atan bmm ceil "
    "chunk clamp clamp_max clamp_min clip clone cos cosh count_nonzero cumprod cumsum div divide dot eq equal exp "
    "expm1 fix flatten flip fliplr flipud floor floor_divide frac gather ge greater greater_equal gt index_select "
    "isclose isfinite isinf isnan is_complex is_floating_point le less less_equal log log10 log1p log2 "
    "log_softmax logical_and logical_not logical_or logical_xor logsumexp lt masked_fill masked_select matmul max "
    "maximum mean median min minimum mm moveaxis movedim mul multiply nan_to_num narrow ne neg negative nonzero "
    "norm not_equal numel outer permute pow prod reciprocal relu remainder repeat_interleave reshape roll round "
    "rsqrt scatter scatter_add select sigmoid sign sin sinh softmax sort split sqrt square squeeze std sub "
    "subtract sum swapaxes swapdims t tan tanh tensor_split tile topk transpose tril triu true_divide trunc unbind "
    "unflatten unsqueeze var"
).split()


def _write_into(out: Tensor, result: Any, op: str) -> Tensor:
    """Copy ``result`` into ``out`` (resized to the result's shape if needed), as torch's out=:
    an in-place write, so a graph that saved ``out`` refuses to run backward through it."""
    if not isinstance(out, Tensor) or not isinstance(result, Tensor):
        raise TypeError(f"{op}: out= must be a Tensor and the result a single tensor, got {type(out).__name__}")
    if is_grad_enabled() and (result.requires_grad or out.requires_grad):
        raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad.")
    if not np.can_cast(result.dtype, out.dtype, "same_kind"):
        raise RuntimeError(f"{op}: result type {result.dtype} can't be cast to the desired output type {out.dtype}")
    if out.shape == result.shape:
        out._check_inplace(op, record=False)
        np.copyto(out.numpy(), result.numpy(), casting="unsafe")
    else:
        if out.numel():
            warnings.warn(f"{op}: an output with one or more elements was resized since it had shape "
                          f"{list(out.shape)}, which does not match the required output shape {list(result.shape)} "
                          "(as torch, which will stop resizing outputs that are not empty)", UserWarning, stacklevel=3)
        out.data = Tensor.from_op(result.numpy().astype(out.dtype), None)
    out._bump()
    return out


def _function(name: str) -> Callable[..., Any]:
    method = getattr(Tensor, name)

    def function(input: Any, *args: Any, out: Tensor | None = None, **kwargs: Any) -> Any:
        if not isinstance(input, Tensor):
            like = next((a for a in args if isinstance(a, Tensor)), None)
            if like is None:
                raise TypeError(f"{name}(): argument 'input' must be a Tensor, not {type(input).__name__}")
            input = like._lift(input)
        result = method(input, *args, **kwargs)
        return result if out is None else _write_into(out, result, name)

    function.__name__ = function.__qualname__ = name
    function.__module__ = __name__
    function.__doc__ = (f"``torch.{name}(input, ...)``: the same as ``input.{name}(...)`` (a Tensor method), with "
                        f"torch's ``out=``.\n\n{method.__doc__ or ''}")
    return function


for _name in METHOD_FUNCTIONS:  # all, any, max, min, sum, abs, round, pow: below, Python's are builtins.<name>
    globals()[_name] = _function(_name)


def where(condition: ArrayLike, input: ArrayLike = None, other: ArrayLike = None) -> "Tensor | tuple[Tensor, ...]":
    """``input`` where ``condition`` is true, else ``other`` (broadcast; numbers allowed),
    differentiable in both; ``where(condition)`` alone is ``condition.nonzero(as_tuple=True)``."""
    cond = condition if isinstance(condition, Tensor) else Tensor.from_op(np.asarray(condition), None)
    if input is None and other is None:
        return cond.nonzero(as_tuple=True)
    if isinstance(input, Tensor):
        return input.where(cond, other)
    if isinstance(other, Tensor):
        return other._lift(input).where(cond, other)
    return Tensor.from_op(np.asarray(np.where(cond.numpy().astype(bool), input, other)), None)


def is_tensor(obj: Any) -> bool:
    """True when ``obj`` is a tinygrad_cnn Tensor."""
    return isinstance(obj, Tensor)


def _tensor_list(tensors: Iterable[Tensor], op: str) -> list[Tensor]:
    items = list(tensors)
    if not items:
        raise ValueError(f"{op}: expected a non-empty list of tensors")
    if not builtins.all(isinstance(t, Tensor) for t in items):
        raise TypeError(f"{op}: expected a sequence of Tensors, got {[type(t).__name__ for t in items]}")
    return items


def cat(tensors: Iterable[Tensor], dim: int = 0, *, out: Tensor | None = None) -> Tensor:
    """Tensors joined along existing dim ``dim``; all other dims must agree."""
    items = _tensor_list(tensors, "cat")
    for i, t in enumerate(items):
        if t.ndim == 0:
            raise RuntimeError(f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated "
                               f"(shapes {[tuple(x.shape) for x in items]}); use stack")
    d = R.normalize_axis(dim, items[0].ndim, "cat")[0]
    for t in items[1:]:
        if t.ndim != items[0].ndim or t.shape[:d] + t.shape[d + 1:] != items[0].shape[:d] + items[0].shape[d + 1:]:
            raise ValueError(f"cat: shapes {[tuple(x.shape) for x in items]} differ outside dim {dim}")
    result = S.Cat.apply(*_common_dtype(items), dim=d)
    return result if out is None else _write_into(out, result, "cat")


concat = concatenate = cat


def _common_dtype(items: list[Tensor]) -> list[Tensor]:
    """The tensors converted to their common dtype (torch's promotion for cat/stack)."""
    common = promote_types(*(t.dtype for t in items))
    return [t if t.dtype == common else t.to(common) for t in items]


def stack(tensors: Iterable[Tensor], dim: int = 0, *, out: Tensor | None = None) -> Tensor:
    """Tensors of one shape joined along a new dim ``dim``."""
    items = _tensor_list(tensors, "stack")
    if builtins.any(t.shape != items[0].shape for t in items):
        raise ValueError(f"stack: all tensors must have one shape, got {[tuple(t.shape) for t in items]}")
    d = R.normalize_axis(dim, items[0].ndim + 1, "stack")[0]
    result = S.Stack.apply(*_common_dtype(items), dim=d)
    return result if out is None else _write_into(out, result, "stack")


def hstack(tensors: Iterable[Tensor]) -> Tensor:
    """Tensors joined along dim 1 (dim 0 for 1-D tensors), as torch.hstack."""
    items = _tensor_list(tensors, "hstack")
    return cat(items, 0 if items[0].ndim == 1 else 1)


def vstack(tensors: Iterable[Tensor]) -> Tensor:
    """Tensors joined along dim 0, 1-D tensors first made rows, as torch.vstack."""
    return cat([t.reshape(1, -1) if t.ndim < 2 else t for t in _tensor_list(tensors, "vstack")], 0)


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors expanded to their common broadcast shape (differentiable)."""
    shape = np.broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t.expand(shape) for t in tensors)


def broadcast_shapes(*shapes: Sequence[int]) -> tuple[int, ...]:
    """The shape that tensors of ``shapes`` broadcast to."""
    from tinygrad_cnn.tensor import Size

    return Size(np.broadcast_shapes(*(tuple(s) for s in shapes)))


def std_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: float | None = None) -> tuple[Tensor, Tensor]:
    """(std, mean) over ``dim`` in one call, as torch.std_mean (``unbiased``/``correction`` as std's)."""
    dim, correction = _correction("std_mean", dim, unbiased, correction)
    return input.std(dim, correction=correction, keepdim=keepdim), input.mean(dim, keepdim)


def var_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: float | None = None) -> tuple[Tensor, Tensor]:
    """(var, mean) over ``dim`` in one call, as torch.var_mean (``unbiased``/``correction`` as var's)."""
    dim, correction = _correction("var_mean", dim, unbiased, correction)
    return input.var(dim, correction=correction, keepdim=keepdim), input.mean(dim, keepdim)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Padding as torch.nn.functional.pad: ``pad`` lists (left, right) pairs starting from the
    LAST dim, e.g. (1, 1, 2, 2) pads W by 1 and H by 2; ``mode`` "constant" fills with ``value``
    (0 by default), "reflect", "replicate" and "circular" take the values near the edges
    (padding_modes)."""
    if mode in padding_modes.MODES:
        if value is not None:
            raise RuntimeError(f'pad: Padding mode "{mode}" doesn\'t take in value argument')
        return padding_modes.pad_by_mode(input, pad, mode)
    if mode != "constant":
        raise NotImplementedError(f"pad: Unrecognised padding mode {mode}")
    value = 0.0 if value is None else value
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: pad {tuple(pad)} must hold (before, after) pairs for at most {input.ndim} dims")
    if builtins.any(int(p) < 0 for p in pad):
        raise ValueError(f"pad: negative padding {tuple(pad)} is not supported")
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return S.Pad.apply(input, pad_width=tuple(widths), value=value)


# ---------------------------------------------------------------- at least n dims, and stacks by direction
def _tensors(tensors: tuple, op: str) -> tuple[list, bool]:
    """(the tensors of ``f(t)``, ``f(t1, t2)`` or ``f([t1, t2])``, whether one tensor was given alone)."""
    items = list(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else list(tensors)
    for t in items:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected Tensors, got {type(t).__name__}")
    return items, len(tensors) == 1 and not isinstance(tensors[0], (list, tuple))


def _at_least(tensors: tuple, op: str, shape: Callable[[tuple[int, ...]], tuple[int, ...]]) -> Any:
    items, alone = _tensors(tensors, op)
    out = tuple(t if shape(t.shape) == t.shape else t.reshape(shape(t.shape)) for t in items)
    return out[0] if alone else out


def atleast_1d(*tensors: Any) -> Any:
    """Each tensor with at least 1 dim (a 0-D one becomes shape (1,)); one tensor in, one out,
    else a tuple."""
    return _at_least(tensors, "atleast_1d", lambda s: s or (1,))


def atleast_2d(*tensors: Any) -> Any:
    """Each tensor with at least 2 dims: () becomes (1, 1), (n,) becomes (1, n)."""
    return _at_least(tensors, "atleast_2d", lambda s: s if len(s) >= 2 else (1,) * (2 - len(s)) + s)


def atleast_3d(*tensors: Any) -> Any:
    """Each tensor with at least 3 dims: () becomes (1, 1, 1), (n,) becomes (1, n, 1) and
    (m, n) becomes (m, n, 1), as torch.atleast_3d."""
    return _at_least(tensors, "atleast_3d", lambda s: {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}.get(len(s), s))


def column_stack(tensors: Sequence[Any]) -> Tensor:
    """The tensors side by side as columns: 0-D and 1-D ones become (n, 1) columns, then all
    are joined along dim 1."""
    items, _ = _tensors((tensors,), "column_stack")
    return hstack([t.reshape(t.numel(), 1) if t.ndim < 2 else t for t in items])


def dstack(tensors: Sequence[Any]) -> Tensor:
    """The tensors made at least 3-D (``atleast_3d``) and joined along dim 2 (depth)."""
    return cat(atleast_3d(tuple(_tensors((tensors,), "dstack")[0])), 2)


def row_stack(tensors: Sequence[Any]) -> Tensor:
    """torch.row_stack: ``vstack`` (1-D tensors become rows, all joined along dim 0)."""
    return vstack(tensors)


__all__ = sorted(METHOD_FUNCTIONS + [
    "atleast_1d", "atleast_2d", "atleast_3d", "bucketize", "column_stack", "dstack", "row_stack", "searchsorted",
    "broadcast_shapes", "broadcast_tensors", "cat", "concat", "concatenate", "hstack", "is_tensor", "pad", "stack",
    "std_mean", "var_mean", "vstack", "where",
])
