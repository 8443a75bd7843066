"""The globals a user marks safe for ``torch.load(weights_only=True)``, as torch.serialization's
``add_safe_globals``, ``safe_globals``, ``get_safe_globals`` and ``clear_safe_globals``.

A file names each class or function it needs by ``module.qualname``. An entry is an object,
known by its own ``{__module__}.{__qualname__}``, or a pair (object, "full.name") for a file
that names it otherwise. (A name of torch's own, ``torch.nn.modules.linear.Linear``, stands
for this package's class of that name: ``torch_globals.torch_nn_global``.)
"""

from __future__ import annotations

from typing import Any, Callable

SafeGlobal = Callable[..., Any] | tuple[Callable[..., Any], str]

_marked: list[SafeGlobal] = []


def _validated(entries: Any) -> list[SafeGlobal]:
    if not isinstance(entries, (list, tuple)):
        raise TypeError(f"add_safe_globals: expected a list of globals, got {type(entries).__name__}")
    for entry in entries:
        if isinstance(entry, tuple):
            if len(entry) != 2:
                raise ValueError("add_safe_globals: expected tuple of length 2 (global, str of callable full path), "
                                 f"but got tuple of length: {len(entry)}")
            if type(entry[1]) is not str:
                raise TypeError("add_safe_globals: expected second item in tuple to be str of callable full path, "
                                f"but got: {type(entry[1])}")
    return list(entries)


def add_safe_globals(safe_globals: list[SafeGlobal]) -> None:
    """Mark ``safe_globals`` (objects, or (object, "module.name") pairs) as safe for
    weights-only loading, for the rest of the process."""
    for entry in _validated(safe_globals):
        if entry not in _marked:
            _marked.append(entry)


def get_safe_globals() -> list[SafeGlobal]:
    """The entries marked safe so far (by ``add_safe_globals`` or an open ``safe_globals`` block)."""
    return list(_marked)


def clear_safe_globals() -> None:
    """Forget every entry marked safe."""
    _marked.clear()


class safe_globals:
    """Context manager: ``safe_globals`` are marked safe inside the ``with`` block only (entries
    marked before the block stay marked after it)."""

    def __init__(self, safe_globals: list[SafeGlobal]) -> None:
        self.safe_globals = _validated(safe_globals)
        self._added: list[SafeGlobal] = []

    def __enter__(self) -> None:
        self._added = [entry for entry in self.safe_globals if entry not in _marked]
        _marked.extend(self._added)

    def __exit__(self, *exc: Any) -> None:
        for entry in self._added:
            _marked.remove(entry)
        self._added = []


def user_globals() -> dict[str, Any]:
    """'module.name' -> object for every marked entry."""
    table: dict[str, Any] = {}
    for entry in _marked:
        if isinstance(entry, tuple):
            table[entry[1]] = entry[0]
        else:
            table[f"{entry.__module__}.{entry.__qualname__}"] = entry
    return table
