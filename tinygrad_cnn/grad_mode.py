"""Grad mode (``no_grad``, ``enable_grad``, ``set_grad_enabled``) and the module scope stack.

Both are thread-local switches read by ``Function.apply`` when it records an op.
"""

from __future__ import annotations

import contextlib
import threading

class _State(threading.local):
    """The per-thread switches; class attributes are each new thread's defaults, so reading
    them is a plain attribute access (``getattr`` with a default cost ~3x more on every op)."""

    grad_enabled = True
    scope: tuple[str, ...] = ()


_state = _State()


def _grad_flag() -> bool:
    return _state.grad_enabled


def is_grad_enabled() -> bool:
    """Return True when ops record the graph (the default), False inside ``no_grad``."""
    return _grad_flag()


class _GradMode(contextlib.ContextDecorator):
    """Context manager and decorator that records the graph (mode True) or not inside it."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._previous: list[bool] = []

    def __enter__(self) -> "_GradMode":
        self._previous.append(_grad_flag())
        _state.grad_enabled = self.mode
        return self

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled = self._previous.pop()


class no_grad(_GradMode):
    """Context manager and decorator: ops inside record no graph (inference, optimizer steps)."""

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(_GradMode):
    """Context manager and decorator: ops inside record the graph, even within ``no_grad``."""

    def __init__(self) -> None:
        super().__init__(True)


class set_grad_enabled(_GradMode):
    """As torch's: called plainly, ``set_grad_enabled(False)`` switches graph recording off
    from now on; as a context manager or decorator it applies only inside."""

    def __init__(self, mode: bool) -> None:
        super().__init__(mode)
        self._switched_from: bool | None = _grad_flag()
        _state.grad_enabled = self.mode

    def __enter__(self) -> "set_grad_enabled":
        previous, self._switched_from = self._switched_from, None
        self._previous.append(_grad_flag() if previous is None else previous)
        _state.grad_enabled = self.mode
        return self

    def __call__(self, function):  # used as a decorator: undo the switch made by __init__
        if self._switched_from is not None:
            _state.grad_enabled, self._switched_from = self._switched_from, None
        return super().__call__(function)


def current_scope() -> tuple[str, ...]:
    """The module names enclosing the op being recorded, outermost first (``("conv1",)``)."""
    return _state.scope


class scope:
    """Context manager: push ``name`` onto the scope stack for the ops run inside
    (nn.Module.__call__ uses it on every call: a class, not a generator, for speed). The
    stack is kept as a tuple, so that every op records it without copying."""

    __slots__ = ("name", "outer")

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        self.outer = _state.scope
        _state.scope = self.outer + (self.name,)

    def __exit__(self, *exc: object) -> None:
        _state.scope = self.outer
