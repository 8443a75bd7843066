"""torch.nn's factory keywords, ``device=None, dtype=None``, for every layer that makes tensors.

A layer's __init__ checks them first with ``factory_dtype`` (before anything changes), builds
its float32 parameters and buffers as it always did, then ``cast_to`` converts them. With
dtype=None and the default float32 dtype nothing is converted, so the default path is the one
it always was, bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.devices import device_arg
from tinygrad_cnn.dtypes import dtype_arg, get_default_dtype

__all__ = ["cast_to", "factory_dtype"]

GRADIENT_ERROR = "Only Tensors of floating point and complex dtype can require gradients"


def factory_dtype(device: Any, dtype: Any, op: str, trainable: bool = True) -> np.dtype | None:
    """The dtype a layer ``op`` converts its float32 parameters and buffers to, or None when they
    stay float32: ``dtype``, else the default dtype (torch.set_default_dtype) when it is not
    float32. The device must be the CPU (any other raises RuntimeError, as the tensor factories
    here do). When the layer makes parameters (``trainable``), an integer or bool dtype raises
    torch's RuntimeError, and so does a complex one (torch's complex parameters are not
    supported: tensors here carry gradients in floating dtypes only); a layer of buffers alone
    (BatchNorm1d(affine=False)) takes any dtype, as torch's."""
    device_arg(device, op)
    resolved = dtype_arg(dtype, op)
    if resolved is None:
        default = get_default_dtype()
        return None if default == np.float32 else default
    if trainable and resolved.kind == "c":
        raise RuntimeError(f"{op}: dtype={resolved}: complex parameters are not supported (tensors here carry "
                           "gradients in floating point dtypes only)")
    if trainable and resolved.kind != "f":
        raise RuntimeError(f"{op}: {GRADIENT_ERROR} (got dtype={resolved})")
    return resolved


def cast_to(module: Any, dtype: np.dtype | None) -> None:
    """Convert ``module``'s floating parameters and buffers (its submodules' too) to ``dtype``
    in place; integer buffers (BatchNorm's num_batches_tracked) keep theirs, as torch's. None
    leaves everything as it is."""
    if dtype is not None:
        module._cast(dtype)
