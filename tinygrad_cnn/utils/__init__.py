"""PyTorch's ``torch.utils`` counterpart; ``utils.data`` holds datasets, samplers and the DataLoader.

``tinygrad_cnn.utils.data`` is imported when first reached as an attribute, as after ``import torch``.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def __getattr__(name: str) -> ModuleType:
    if name == "data":
        try:
            return importlib.import_module(f"{__name__}.data")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.data":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}: torch.utils.{name} is not supported by "
                         "tinygrad_cnn")
