"""Lazy layers as torch.nn: LazyLinear, LazyConv2d, LazyBatchNorm1d, LazyBatchNorm2d.

Their in_features / in_channels / num_features are inferred from the first input. Until then
the weights are UninitializedParameter (running statistics UninitializedBuffer) objects: using
one raises torch's ValueError, reading its shape torch's RuntimeError. The first call
materializes them IN PLACE (the same objects, so an optimizer built before it keeps working,
as torch's), initialises them as the eager layer does, and turns the module into that layer
(LazyLinear becomes Linear). ``load_state_dict`` materializes them to the checkpoint's shapes.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from tinygrad_cnn.argcheck import IntPair, Padding
from tinygrad_cnn.devices import device_arg
from tinygrad_cnn.dtypes import dtype_arg
from tinygrad_cnn.nn.factory import factory_dtype
from tinygrad_cnn.nn.layers import Conv2d, Linear
from tinygrad_cnn.nn.module import IncompatibleKeys, Module, Parameter
from tinygrad_cnn.nn.normalization import BatchNorm1d, BatchNorm2d
from tinygrad_cnn.tensor import Tensor

_USE_ERROR = (
    "Attempted to use an uninitialized parameter in {}. This error happens when you are using a `LazyModule` or "
    "explicitly manipulating `torch.nn.parameter.UninitializedParameter` objects. When using LazyModules Call "
    "`forward` with a dummy batch to initialize the parameters before calling torch functions"
)
_SHAPE_ERROR = (
    "Can't access the shape of an uninitialized parameter or buffer. This error usually happens in "
    "`load_state_dict` when trying to load an uninitialized parameter into an initialized one. Call `forward` "
    "to initialize the parameters before accessing their attributes."
)


class _Uninitialized:
    """What UninitializedParameter and UninitializedBuffer share: no shape, no values, ``materialize``."""

    cls_to_become: type = Tensor

    @property
    def shape(self) -> tuple[int, ...]:
        raise RuntimeError(_SHAPE_ERROR)

    def numpy(self) -> np.ndarray:
        raise ValueError(_USE_ERROR.format("an op (its values were read)"))

    def share_memory_(self) -> None:
        """Raise torch's RuntimeError: there is no memory to share yet."""
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. Call `forward` to initialize "
                           "the parameters before calling `module.share_memory()`.")

    def materialize(self, shape: tuple[int, ...], device: Any = None, dtype: Any = None) -> None:
        """Give this object an (uninitialised) array of ``shape``, in ``dtype`` (None: the one it
        was made with), and make it a plain Parameter/Tensor; the device must be the CPU."""
        device_arg(device, "materialize")
        resolved = dtype_arg(dtype, "materialize")
        self._array = np.empty(tuple(int(n) for n in shape), dtype=self._array.dtype if resolved is None else resolved)
        self.__class__ = self.cls_to_become

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def _empty(device: Any, dtype: Any, op: str, requires_grad: bool) -> np.ndarray:
    """The empty array an uninitialized tensor starts from, in its checked factory dtype."""
    return np.empty(0, dtype=factory_dtype(device, dtype, op, trainable=requires_grad) or np.float32)


class UninitializedParameter(_Uninitialized, Parameter):
    """A Parameter whose shape is not known yet (a lazy layer's weight), in ``dtype`` once
    materialized (float32, or the default dtype, by default)."""

    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> None:
        # Tensor's own __init__: Parameter's would turn an integer dtype (requires_grad=False) into float32
        Tensor.__init__(self, _empty(device, dtype, "UninitializedParameter", requires_grad), requires_grad=requires_grad)


class UninitializedBuffer(_Uninitialized, Tensor):
    """A buffer whose shape is not known yet (a lazy BatchNorm's running statistics), in
    ``dtype`` once materialized; ``persistent`` is kept as the attribute of that name, as torch's."""

    cls_to_become = Tensor

    def __init__(self, requires_grad: bool = False, device: Any = None, dtype: Any = None,
                 persistent: bool = True) -> None:
        Tensor.__init__(self, _empty(device, dtype, "UninitializedBuffer", requires_grad), requires_grad=requires_grad)
        self.persistent = persistent


class LazyModuleMixin:
    """Materializes the module's uninitialized parameters and buffers at the first call
    (``initialize_parameters(input)``), then turns it into ``cls_to_become``."""

    cls_to_become: type[Module]

    def has_uninitialized_params(self) -> bool:
        """True while some parameter or buffer of this module is still uninitialized."""
        tensors = list(self._parameters.values()) + list(self._buffers.values())  # type: ignore[attr-defined]
        return any(isinstance(t, _Uninitialized) for t in tensors)

    def initialize_parameters(self, input: Tensor) -> None:
        raise NotImplementedError

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.has_uninitialized_params():
            if not args or not isinstance(args[0], Tensor):
                raise TypeError(f"{type(self).__name__}: the first call needs an input Tensor to infer its sizes")
            self.initialize_parameters(args[0])
            self.__class__ = self.cls_to_become
        return Module.__call__(self, *args, **kwargs)

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Materialize the uninitialized entries to the checkpoint's shapes, then load as Module does."""
        shapes = {k: np.shape(v.numpy() if isinstance(v, Tensor) else v) for k, v in state_dict.items()}
        for store in (self._parameters, self._buffers):  # type: ignore[attr-defined]
            for name, t in store.items():
                if isinstance(t, _Uninitialized) and name in shapes:
                    t.materialize(shapes[name])
        if not self.has_uninitialized_params():
            self._sizes_from_weights()
            self.__class__ = self.cls_to_become
        return Module.load_state_dict(self, state_dict, strict)  # type: ignore[arg-type]

    def _sizes_from_weights(self) -> None:
        """Set the inferred size attribute from the materialized weights."""


class LazyLinear(LazyModuleMixin, Linear):
    """Linear whose in_features is the last dim of the first input."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        dtype = factory_dtype(device, dtype, "LazyLinear")
        Linear.__init__(self, 1, out_features, bias, dtype=dtype)
        self.in_features = 0
        self.weight = UninitializedParameter(dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)

    def reset_parameters(self) -> None:
        """Linear's initialisation, once the parameters are materialized."""
        if not self.has_uninitialized_params() and self.in_features != 0:
            Linear.reset_parameters(self)

    def initialize_parameters(self, input: Tensor) -> None:
        if input.ndim < 1:
            raise ValueError(f"LazyLinear: input must have at least 1 dim (*, in_features), got shape {tuple(input.shape)}")
        self.in_features = input.shape[-1]
        self.weight.materialize((self.out_features, self.in_features))
        if self.bias is not None:
            self.bias.materialize((self.out_features,))
        self.reset_parameters()

    def _sizes_from_weights(self) -> None:
        self.in_features = self.weight.shape[1]


class LazyConv2d(LazyModuleMixin, Conv2d):
    """Conv2d whose in_channels is dim 1 of the first (N, C, H, W) input."""

    cls_to_become = Conv2d

    def __init__(self, out_channels: int, kernel_size: IntPair, stride: IntPair = 1, padding: Padding = 0,
                 dilation: IntPair = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        dtype = factory_dtype(device, dtype, "LazyConv2d")
        Conv2d.__init__(self, groups, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                        dtype=dtype)
        self.in_channels = 0
        self.weight = UninitializedParameter(dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)

    def reset_parameters(self) -> None:
        """Conv2d's initialisation, once the parameters are materialized."""
        if not self.has_uninitialized_params() and self.in_channels != 0:
            Conv2d.reset_parameters(self)

    def initialize_parameters(self, input: Tensor, *args: Any, **kwargs: Any) -> None:
        if input.ndim != 4:
            raise ValueError(f"LazyConv2d: input must be 4-D (N, C, H, W), got shape {tuple(input.shape)}")
        channels = input.shape[1]
        if channels % self.groups:
            raise ValueError(f"LazyConv2d: groups={self.groups} must divide the input's {channels} channels "
                             f"(input {tuple(input.shape)})")
        self.in_channels = channels
        self.weight.materialize((self.out_channels, channels // self.groups) + self.kernel_size)
        if self.bias is not None:
            self.bias.materialize((self.out_channels,))
        self.reset_parameters()

    def _sizes_from_weights(self) -> None:
        self.in_channels = self.weight.shape[1] * self.groups


class _LazyBatchNorm(LazyModuleMixin):
    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None, *, bias: bool = True) -> None:
        dtype = factory_dtype(device, dtype, type(self).__name__, trainable=affine)
        self.cls_to_become.__init__(self, 0, eps, momentum, affine, track_running_stats, dtype=dtype,  # type: ignore
                                    bias=bias)
        for name in ("weight", "bias"):
            if getattr(self, name) is not None:
                setattr(self, name, UninitializedParameter(dtype=dtype))
        if track_running_stats:
            self.running_mean = UninitializedBuffer(dtype=dtype)
            self.running_var = UninitializedBuffer(dtype=dtype)

    def reset_parameters(self) -> None:
        """BatchNorm's reset (statistics, weight = 1, bias = 0), once materialized."""
        if not self.has_uninitialized_params() and self.num_features != 0:  # type: ignore[attr-defined]
            self.cls_to_become.reset_parameters(self)  # type: ignore[attr-defined]

    def initialize_parameters(self, input: Tensor) -> None:
        self._check_rank(input)  # type: ignore[attr-defined]
        self.num_features = input.shape[1]
        for t in (self.weight, self.bias, self.running_mean, self.running_var):  # type: ignore[attr-defined]
            if t is not None:
                t.materialize((self.num_features,))
        self.reset_parameters()  # type: ignore[attr-defined]

    def _sizes_from_weights(self) -> None:
        like = next((t for t in (self.weight, self.running_mean) if t is not None), None)  # type: ignore
        if like is not None:
            self.num_features = like.shape[0]


class LazyBatchNorm1d(_LazyBatchNorm, BatchNorm1d):
    """BatchNorm1d whose num_features is dim 1 of the first (N, C) or (N, C, L) input."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyBatchNorm, BatchNorm2d):
    """BatchNorm2d whose num_features is dim 1 of the first (N, C, H, W) input."""

    cls_to_become = BatchNorm2d
