"""Parameter, as torch.nn.Parameter: a Tensor that a Module registers as a learnable weight."""

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
