"""eval_mode: run a block with a module in evaluation mode, then give every submodule its own mode back.

Not in ``tinygrad_cnn.nn``'s namespace, which mirrors torch.nn: import it from here.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from tinygrad_cnn.nn.module import Module


@contextmanager
def eval_mode(module: "Module") -> Iterator["Module"]:
    """Put ``module`` and every descendant in evaluation mode for the block (yields ``module``).

    Each submodule's ``training`` flag is recorded first and restored exactly afterwards, even
    when the block raises: a submodule the caller had put in eval mode inside a training model
    stays in eval mode (``model.train(was_training)`` would switch it back to training).
    """
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield module
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)  # per module: Module.train() would recurse
