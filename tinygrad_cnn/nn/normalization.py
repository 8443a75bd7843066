"""Normalization layers as torch.nn: BatchNorm1d, BatchNorm2d, InstanceNorm1d/2d/3d, LayerNorm,
GroupNorm, RMSNorm, LocalResponseNorm.

BatchNorm keeps running_mean, running_var and num_batches_tracked as buffers (torch's
state_dict keys); weights start at ones and biases at zeros, as torch's.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from tinygrad_cnn.argcheck import positive_int
from tinygrad_cnn.nn import functional_norm as FN
from tinygrad_cnn.nn.factory import cast_to, factory_dtype
from tinygrad_cnn.nn.module import Module, Parameter
from tinygrad_cnn.tensor import Tensor


def _ones_and_zeros(module: Module, shape: tuple[int, ...], affine: bool, bias: bool) -> None:
    """Give ``module`` weight = ones(shape) and bias = zeros(shape) (float32), or None where not wanted."""
    if affine:
        module.weight = Parameter(np.ones(shape, dtype=np.float32))
    else:
        module.register_parameter("weight", None)
    if affine and bias:
        module.bias = Parameter(np.zeros(shape, dtype=np.float32))
    else:
        module.register_parameter("bias", None)


def _reset_ones_and_zeros(module: Module) -> None:
    """``module.weight`` = 1 and ``module.bias`` = 0 (those that are not None), in place."""
    for name, value in (("weight", 1), ("bias", 0)):
        tensor = getattr(module, name, None)
        if tensor is not None:
            tensor.numpy()[...] = value


def _checked_shape(normalized_shape: int | Sequence[int], layer: str) -> tuple[int, ...]:
    """A layer's ``normalized_shape`` (an int or a sequence) as a tuple of positive ints."""
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    return tuple(positive_int(n, "normalized_shape", layer) for n in shape)


class _BatchNorm(Module):
    """Shared body of BatchNorm1d/2d; subclasses give the accepted input ranks."""

    ranks: tuple[int, ...] = ()
    _version = 2  # as torch's: checkpoints of version < 2 lack num_batches_tracked
    _added_in_version = {"num_batches_tracked": 2}

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None, *, bias: bool = True) -> None:
        name = type(self).__name__
        dtype = factory_dtype(device, dtype, name, trainable=affine)
        super().__init__()
        self.num_features = num_features if num_features == 0 else positive_int(num_features, "num_features", name)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self._make_state(bias)
        cast_to(self, dtype)

    def _make_state(self, bias: bool) -> None:
        """Parameters and buffers for ``num_features`` channels (also run by the lazy variants)."""
        _ones_and_zeros(self, (self.num_features,), self.affine, bias)
        if self.track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(self.num_features, dtype=np.float32)))
            self.register_buffer("running_var", Tensor(np.ones(self.num_features, dtype=np.float32)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self) -> None:
        """running_mean = 0, running_var = 1, num_batches_tracked = 0, in place."""
        if self.track_running_stats:
            self.running_mean.numpy()[...] = 0
            self.running_var.numpy()[...] = 1
            self.num_batches_tracked.numpy()[...] = 0

    def reset_parameters(self) -> None:
        """Running statistics reset; weight = 1, bias = 0."""
        self.reset_running_stats()
        _reset_ones_and_zeros(self)

    def _check_rank(self, input: Tensor) -> None:
        """torch's _check_input_dim, naming the layer and the shape."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in self.ranks:
            ranks = " or ".join(f"{r}D" for r in self.ranks)
            raise ValueError(f"{name}: expected {ranks} input (got {input.ndim}D input of shape {tuple(input.shape)})")

    def _check_input(self, input: Tensor) -> None:
        self._check_rank(input)
        name = type(self).__name__
        if input.shape[1] != self.num_features:
            raise RuntimeError(f"{name}({self.num_features}): expected input with {self.num_features} channels "
                               f"(dim 1), got input of shape {tuple(input.shape)}")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        tracking = self.training and self.track_running_stats and self.num_batches_tracked is not None
        if tracking:
            FN.verify_batch_size(input.shape)  # before any state changes
            self.num_batches_tracked.numpy()[...] += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.item())
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats
        return FN.batch_norm(input, self.running_mean if keep else None, self.running_var if keep else None,
                             self.weight, self.bias, use_batch, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalization over (N, C) or (N, C, L) input, per channel C; see F.batch_norm."""

    ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization over (N, C, H, W) input, per channel C; see F.batch_norm."""

    ranks = (4,)


class _InstanceNorm(_BatchNorm):
    """Shared body of InstanceNorm1d/2d/3d: per-sample, per-channel statistics (F.instance_norm);
    running statistics only with ``track_running_stats`` (then used in eval mode)."""

    spatial = 0

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input: Tensor) -> Tensor:
        self._check_rank(input)
        feature_dim = input.ndim - self.spatial - 1  # 0 for an unbatched input
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"{type(self).__name__}: expected input's size at dim={feature_dim} to match "
                                 f"num_features ({self.num_features}), but got: {input.shape[feature_dim]}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You can silence this "
                          "warning by not passing in num_features, which is not used because affine=False",
                          UserWarning, stacklevel=2)
        batched = input if feature_dim == 1 else input.unsqueeze(0)
        out = FN.instance_norm(batched, self.running_mean, self.running_var, self.weight, self.bias,
                               self.training or not self.track_running_stats,
                               0.0 if self.momentum is None else self.momentum, self.eps)
        return out if feature_dim == 1 else out.squeeze(0)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of (N, C, L) or unbatched (C, L) input; see F.instance_norm."""

    ranks, spatial = (2, 3), 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of (N, C, H, W) or unbatched (C, H, W) input; see F.instance_norm."""

    ranks, spatial = (3, 4), 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of (N, C, D, H, W) or unbatched (C, D, H, W) input; see F.instance_norm."""

    ranks, spatial = (4, 5), 3


class LayerNorm(Module):
    """Layer normalization over the last dims ``normalized_shape`` of (*, *normalized_shape)
    input, with elementwise weight/bias of that shape; see F.layer_norm."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        dtype = factory_dtype(device, dtype, "LayerNorm", trainable=elementwise_affine)
        super().__init__()
        self.normalized_shape = _checked_shape(normalized_shape, "LayerNorm")
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _ones_and_zeros(self, self.normalized_shape, elementwise_affine, bias)
        cast_to(self, dtype)

    def reset_parameters(self) -> None:
        """weight = 1, bias = 0."""
        _reset_ones_and_zeros(self)

    def forward(self, input: Tensor) -> Tensor:
        return FN.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Group normalization of (N, C, *) input over ``num_groups`` groups of channels, with
    per-channel weight/bias (C,); see F.group_norm."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device: Any = None, dtype: Any = None, *, bias: bool = True) -> None:
        dtype = factory_dtype(device, dtype, "GroupNorm", trainable=affine)
        super().__init__()
        self.num_groups = positive_int(num_groups, "num_groups", "GroupNorm")
        self.num_channels = positive_int(num_channels, "num_channels", "GroupNorm")
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels must be divisible by num_groups, got "
                             f"num_channels={num_channels}, num_groups={num_groups}")
        self.eps = eps
        self.affine = affine
        _ones_and_zeros(self, (num_channels,), affine, bias)
        cast_to(self, dtype)

    def reset_parameters(self) -> None:
        """weight = 1, bias = 0."""
        _reset_ones_and_zeros(self)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise RuntimeError(f"GroupNorm({self.num_groups}, {self.num_channels}): expected input of shape "
                               f"(N, {self.num_channels}, *), got {tuple(input.shape)}")
        return FN.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, bias={self.bias is not None}"


class RMSNorm(Module):
    """x / sqrt(mean(x**2) + eps) over the last dims ``normalized_shape``, times a learnt weight of
    that shape (ones at first) with ``elementwise_affine``; see F.rms_norm."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float | None = None,
                 elementwise_affine: bool = True, device: Any = None, dtype: Any = None) -> None:
        dtype = factory_dtype(device, dtype, "RMSNorm", trainable=elementwise_affine)
        super().__init__()
        self.normalized_shape = _checked_shape(normalized_shape, "RMSNorm")
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=np.float32))
        else:
            self.register_parameter("weight", None)
        cast_to(self, dtype)

    def reset_parameters(self) -> None:
        """weight = 1."""
        _reset_ones_and_zeros(self)

    def forward(self, x: Tensor) -> Tensor:
        return FN.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class LocalResponseNorm(Module):
    """Each channel divided by (k + alpha * mean of the squares of ``size`` neighbouring channels)**beta;
    see F.local_response_norm."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return FN.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
