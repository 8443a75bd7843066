"""Module hooks: add_hook registers one; the handle it returns is tinygrad_cnn.hooks.RemovableHandle."""

from __future__ import annotations

from typing import Callable

from tinygrad_cnn.hooks import RemovableHandle


def add_hook(hooks: dict[int, Callable], hook: Callable, prepend: bool = False) -> RemovableHandle:
    """Put ``hook`` into the ordered ``hooks`` (last, or first with ``prepend``); its handle."""
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        for key in [k for k in hooks if k != handle.id]:
            hooks[key] = hooks.pop(key)
    return handle
