"""OptimizedModule: what torch.compile returns for a Module (tinygrad_cnn.compiler)."""

from __future__ import annotations

from typing import Any

from tinygrad_cnn.nn.module import Module


class OptimizedModule(Module):
    """Holds the compiled module as its child ``_orig_mod`` and calls it; reading an attribute it
    lacks reads the original's (``compiled.fc``), as torch's OptimizedModule."""

    def __init__(self, mod: Module) -> None:
        super().__init__()
        self._orig_mod = mod
        object.__setattr__(self, "training", mod.training)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._orig_mod(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        modules = self.__dict__.get("_modules")
        if modules is None or "_orig_mod" not in modules:
            raise AttributeError(name)
        return getattr(modules["_orig_mod"], name)
