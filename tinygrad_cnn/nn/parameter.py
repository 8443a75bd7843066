"""Parameter, as torch.nn.Parameter: a Tensor that a Module registers as a learnable weight; and
Buffer, as torch.nn.Buffer: a Tensor marked to be registered as a buffer when assigned."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a model's learnable weight: it requires grad and is registered by Module.

    ``data`` may be an array (its floating dtype kept; integer data becomes float32), a list
    (float32) or a Tensor, whose array is shared, not copied, as torch.nn.Parameter does;
    None gives an empty float32 parameter.
    """

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty(0, dtype=np.float32)
        if isinstance(data, Tensor):
            data = data.numpy()
        if isinstance(data, (np.ndarray, np.generic)) and not np.issubdtype(data.dtype, np.floating):
            data = data.astype(np.float32)
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class _BufferMeta(type):
    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)


class Buffer(metaclass=_BufferMeta):
    """``Buffer(data, persistent=True)``: ``data`` detached (its requires_grad kept) and marked, so
    that assigning it to a Module attribute registers it as a buffer (in ``state_dict`` when
    ``persistent``), as torch.nn.Buffer; None gives an empty float32 tensor. Like torch's, the
    result is a plain Tensor, and ``isinstance(t, Buffer)`` tests the mark."""

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Tensor:  # type: ignore[misc]
        if data is None:
            data = Tensor(np.empty(0, dtype=np.float32))
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer: data must be a Tensor, got {type(data).__name__}")
        marked = data.detach().requires_grad_(data.requires_grad)
        marked.persistent = persistent
        marked._is_buffer = True
        return marked
