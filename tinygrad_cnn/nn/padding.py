"""The padding layers of torch.nn: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad and
CircularPad, each in 1d, 2d and 3d, calling F.pad. ``padding`` is an int (every side) or the
(before, after) pairs from the last dim backwards, as F.pad takes them."""

from __future__ import annotations

from typing import Sequence

from tinygrad_cnn.functions import pad
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.tensor import Tensor


class _Pad(Module):
    """Pads the last ``dims`` dims of its input in ``mode``."""

    dims: int
    mode: str

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__()
        self.padding = (int(padding),) * (2 * self.dims) if isinstance(padding, int) else tuple(padding)

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPad(_Pad):
    mode = "constant"

    def __init__(self, padding: int | Sequence[int], value: float) -> None:
        super().__init__(padding)
        self.value = float(value)

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPad):
    """Pads the last dim with ``value``."""

    dims = 1


class ConstantPad2d(_ConstantPad):
    """Pads the last 2 dims with ``value``."""

    dims = 2


class ConstantPad3d(_ConstantPad):
    """Pads the last 3 dims with ``value``."""

    dims = 3


class _ZeroPad(_ConstantPad):
    """Pads with zeros (a ConstantPad whose repr shows only the padding, as torch's)."""

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    """Pads the last dim with zeros."""


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    """Pads the last 2 dims with zeros."""


class ZeroPad3d(_ZeroPad, ConstantPad3d):
    """Pads the last 3 dims with zeros."""


class ReflectionPad1d(_Pad):
    """Pads the last dim with its values mirrored about the edge (the edge not repeated)."""

    dims, mode = 1, "reflect"


class ReflectionPad2d(_Pad):
    """Pads the last 2 dims with their values mirrored about the edges."""

    dims, mode = 2, "reflect"


class ReflectionPad3d(_Pad):
    """Pads the last 3 dims with their values mirrored about the edges."""

    dims, mode = 3, "reflect"


class ReplicationPad1d(_Pad):
    """Pads the last dim with copies of its edge values."""

    dims, mode = 1, "replicate"


class ReplicationPad2d(_Pad):
    """Pads the last 2 dims with copies of their edge values."""

    dims, mode = 2, "replicate"


class ReplicationPad3d(_Pad):
    """Pads the last 3 dims with copies of their edge values."""

    dims, mode = 3, "replicate"


class CircularPad1d(_Pad):
    """Pads the last dim with its values wrapped around."""

    dims, mode = 1, "circular"


class CircularPad2d(_Pad):
    """Pads the last 2 dims with their values wrapped around."""

    dims, mode = 2, "circular"


class CircularPad3d(_Pad):
    """Pads the last 3 dims with their values wrapped around."""

    dims, mode = 3, "circular"
