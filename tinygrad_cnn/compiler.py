"""torch.compile and torch.compiler, with no compiler: NumPy runs every op as it is called, so
"compiling" changes nothing that a program can observe but the wrapper itself. A compiled Module
is an OptimizedModule holding the original as ``_orig_mod`` (state_dict keys "_orig_mod.<name>",
as torch's); a compiled function is a wrapper calling it."""

from __future__ import annotations

import functools
from typing import Any, Callable


def compile(model: Callable | None = None, *, fullgraph: bool = False, dynamic: bool | None = None,
            backend: str | Callable | None = None, mode: str | None = None, options: dict | None = None,
            name: str | None = None, disable: bool = False, **settings: Any) -> Any:
    """``model`` (a Module or a function) made "compiled" as torch.compile makes it: a Module
    comes back as an OptimizedModule around it, a function as a wrapper of it, both computing
    exactly what the original computes (no code is generated here). Without ``model``, a
    decorator; with ``disable=True``, ``model`` itself. The tuning arguments are accepted and
    have nothing to tune."""
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                 options=options, name=name, disable=disable, **settings)
    if not callable(model):
        raise RuntimeError(f"torch.compile: model must be a Module or a callable, got {type(model).__name__}")
    if disable:
        return model
    from tinygrad_cnn.nn.compiled import OptimizedModule
    from tinygrad_cnn.nn.module import Module

    if isinstance(model, Module):
        return OptimizedModule(model)

    @functools.wraps(model)
    def compiled(*args: Any, **kwargs: Any) -> Any:
        return model(*args, **kwargs)

    return compiled


def disable(fn: Callable | None = None, recursive: bool = True, *, reason: str | None = None) -> Any:
    """``fn`` unchanged (a decorator when ``fn`` is None): there is no compilation to keep it out of."""
    if fn is None:
        return lambda f: f
    return fn


def is_compiling() -> bool:
    """False: nothing here is ever traced by a compiler."""
    return False


def reset() -> None:
    """Nothing to forget: no compiled code is cached."""
