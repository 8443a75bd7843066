"""summary(model, input_shape): a table of every layer a forward pass calls, with its output
shape and parameter count (what ``Module.summary`` prints; torchinfo's idea, kept small).

It works on any Module through its public API (named_modules, forward hooks) and imports
nothing of nn.module, so Module.summary can call it without an import cycle.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from tinygrad_cnn.autograd import no_grad
from tinygrad_cnn.nn.modes import eval_mode
from tinygrad_cnn.nn.summary_table import Summary
from tinygrad_cnn.tensor import Tensor


def describe_shape(out: Any) -> str:
    """A forward result's shape as the table shows it: "(1, 10)", "[(1, 4), (1, 4)]", or "-"."""
    if isinstance(out, Tensor):
        return str(tuple(out.shape))
    if isinstance(out, (tuple, list)):
        return "[" + ", ".join(describe_shape(o) for o in out) + "]"
    return "-"


def summary(model: Any, input_shape: Iterable[int] | None = None, batch_size: int = 1) -> Summary:
    """A table of every layer of ``model`` called on zeros of shape (batch_size, *input_shape).

    ``input_shape`` is one sample's shape, e.g. (1, 28, 28); it defaults to the model's
    ``input_shape`` attribute when it has one (the ready-made models do). Runs one forward
    pass in eval mode under no_grad (the training flags are restored afterwards and no
    random number is drawn) and lists, in call order, each layer's qualified name, type,
    output shape and number of parameters of its own, then the totals and a memory estimate:
    a ``summary_table.Summary``, a str shown as the table by print, repr and Jupyter.
    """
    if input_shape is None:
        input_shape = getattr(model, "input_shape", None)
        if input_shape is None:
            raise TypeError(f"{type(model).__name__}.summary: pass input_shape, one sample's shape, e.g. (1, 28, 28)")
    input_shape = tuple(int(n) for n in input_shape)
    names = {id(module): name for name, module in model.named_modules()}
    rows: list[list[str]] = []
    pending: list[list[str]] = []

    def before(module: Any, args: tuple) -> None:
        row = [names.get(id(module), "?"), type(module).__name__, "-",
               f"{sum(p.numel() for p in module.parameters(recurse=False)):,}"]
        rows.append(row)
        pending.append(row)

    def after(module: Any, args: tuple, out: Any) -> None:
        pending.pop()[2] = describe_shape(out)

    dtype = next((p.dtype for p in model.parameters()), np.dtype(np.float32))
    handles = []
    for name, module in model.named_modules():
        if name:
            handles += [module.register_forward_pre_hook(before), module.register_forward_hook(after)]
    try:
        with eval_mode(model), no_grad():
            out = model(Tensor(np.zeros((batch_size,) + input_shape, dtype=dtype)))
    finally:
        for handle in handles:
            handle.remove()
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return Summary(model, (batch_size,) + input_shape, rows, describe_shape(out), total, trainable, dtype.itemsize)
