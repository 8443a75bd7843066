"""torch.device, and ``device_arg``: the one check of a ``device=`` argument.

tinygrad_cnn computes on the CPU only. ``device("cuda")`` constructs (programs build one
before asking ``torch.cuda.is_available()``), but putting a tensor or a module on any device
other than the CPU raises a RuntimeError saying so.
"""

from __future__ import annotations

from typing import Any

DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "xla", "meta", "hip", "ipu", "hpu", "mtia", "privateuseone")

__all__ = ["DEVICE_TYPES", "device", "device_arg", "get_default_device", "set_default_device"]


class device:
    """A device name as torch.device: ``device("cpu")``, ``device("cuda:0")``, ``device("cuda", 0)``.

    ``type`` is the kind ("cpu", "cuda", ...), ``index`` the ordinal or None. Comparable and
    hashable; ``str`` gives "cpu" / "cuda:0" and ``repr`` "device(type='cpu')", as torch's.
    """

    def __init__(self, type: "str | device", index: int | None = None) -> None:
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device: an index cannot be given together with a device object")
            type, index = type.type, type.index
        if not isinstance(type, str):
            raise TypeError(f"device: expected a device string such as 'cpu', got {type!r}")
        kind, _, ordinal = type.partition(":")
        if kind not in DEVICE_TYPES:
            raise RuntimeError(f"device: expected one of {', '.join(DEVICE_TYPES)} device type at start of "
                               f"device string: {type}")
        if ordinal:
            if index is not None or not ordinal.isdigit():
                raise RuntimeError(f"device: invalid device string: {type!r}")
            index = int(ordinal)
        if index is not None and (not isinstance(index, int) or isinstance(index, bool) or index < 0):
            raise RuntimeError(f"device: device index must be a non-negative integer, got {index!r}")
        self._type, self._index = kind, index

    @property
    def type(self) -> str:
        """The device kind: "cpu", "cuda", "mps", ..."""
        return self._type

    @property
    def index(self) -> int | None:
        """The device ordinal, or None when not given."""
        return self._index

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, device):
            return NotImplemented
        return (self._type, self._index) == (other._type, other._index)

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self) -> str:
        extra = "" if self._index is None else f", index={self._index}"
        return f"device(type='{self._type}'{extra})"


CPU = device("cpu")


def device_arg(value: Any, op: str) -> device:
    """A ``device=`` argument checked: None, "cpu", "cpu:0" or a cpu ``device`` give the CPU;
    any other device (cuda, mps, an integer ordinal, ...) raises RuntimeError."""
    if value is None:
        return CPU
    if isinstance(value, int) and not isinstance(value, bool):
        value = device("cuda", value)
    resolved = value if isinstance(value, device) else device(value)
    if resolved.type != "cpu" or resolved.index not in (None, 0):
        raise RuntimeError(
            f"{op}: device {str(resolved)!r} is not available: tinygrad_cnn computes on the CPU only "
            "(use device='cpu'; torch.cuda.is_available() is False)"
        )
    return CPU


def get_default_device() -> device:
    """The device tensors are made on: always the CPU."""
    return CPU


def set_default_device(value: Any) -> None:
    """Accept "cpu" (or None) as torch.set_default_device; any other device raises RuntimeError."""
    device_arg(value, "set_default_device")
