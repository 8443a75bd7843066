"""Running an unmodified PyTorch script on tinygrad_cnn, as ``python SCRIPT.py`` would run it."""

from __future__ import annotations

import contextlib
import os
import runpy
import sys
from pathlib import Path
from typing import Any, Iterator, Sequence

from tinygrad_cnn.compat.aliases import SUPPORT_NOTE, install, is_installed, uninstall
from tinygrad_cnn.tensor import Tensor


INITIAL_STATE_VARIABLE = "TINYGRAD_CNN_INITIAL_STATE"


class InitialState:
    """While active, the first module called as a root whose parameter names are those of the
    state dict saved at ``path`` (``torch.save(model.state_dict(), path)``, by real PyTorch or
    here) gets that state before it runs: how a program is started from PyTorch's initial
    weights without editing it (``TINYGRAD_CNN_INITIAL_STATE=path``)."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.loaded = False
        self._original: Any = None

    def __enter__(self) -> "InitialState":
        from tinygrad_cnn.nn import Module
        from tinygrad_cnn.serialization import load

        if self.path is None:
            return self
        state = load(self.path)
        self._original = original = Module.__call__
        keeper = self

        def call(module: Module, *args: Any, **kwargs: Any) -> Any:
            if not keeper.loaded and set(module.state_dict()) == set(state):
                module.load_state_dict(state)
                keeper.loaded = True
            return original(module, *args, **kwargs)

        Module.__call__ = call
        return self

    def __exit__(self, *exc: object) -> None:
        if self._original is not None:
            from tinygrad_cnn.nn import Module

            Module.__call__ = self._original


class BackwardRecorder:
    """Remembers the root of the last ``Tensor.backward()`` call made while it is active."""

    def __init__(self) -> None:
        self.root: Tensor | None = None
        self._original: Any = None

    def __enter__(self) -> "BackwardRecorder":
        self._original = Tensor.backward
        recorder, original = self, self._original

        def backward(tensor: Tensor, *args: Any, **kwargs: Any) -> None:
            recorder.root = tensor
            return original(tensor, *args, **kwargs)

        backward.__doc__ = original.__doc__
        Tensor.backward = backward
        return self

    def __exit__(self, *exc: object) -> None:
        Tensor.backward = self._original


@contextlib.contextmanager
def _script_context(path: Path, argv: Sequence[str]) -> Iterator[None]:
    """sys.argv, sys.path[0] and the torch aliases as ``python path argv...`` would see them; restored after."""
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    installed_before = is_installed()
    sys.argv = [str(path), *argv]
    sys.path.insert(0, str(path.resolve().parent))
    install()
    try:
        yield
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        if not installed_before:
            uninstall()


def run_script(path: str | os.PathLike, argv: Sequence[str] = (), graph: str | os.PathLike | None = None) -> int:
    """Run the PyTorch script at ``path`` with ``argv`` (its ``sys.argv[1:]``), ``torch`` and
    ``torchvision`` served by tinygrad_cnn, ``__name__ == "__main__"`` and its folder on
    ``sys.path``. Returns its exit status (0, or what it passed to ``sys.exit``). With
    ``graph``, the computation graph of the last ``backward()`` it ran is drawn to that file
    (its suffix picks the format: .svg, .png, .pdf, .dot). With ``TINYGRAD_CNN_INITIAL_STATE=path``
    set, the script's model starts from the state dict saved there (see InitialState).
    A missing PyTorch API raises the UnsupportedAPI /
    UnsupportedModule error naming it; other exceptions of the script propagate."""
    script = Path(path)
    if not script.is_file():
        raise FileNotFoundError(f"run: no script at {script}")
    status = 0
    initial = InitialState(os.environ.get(INITIAL_STATE_VARIABLE))
    with BackwardRecorder() as recorder, _script_context(script, argv), initial:
        try:
            runpy.run_path(str(script), run_name="__main__")
        except SystemExit as exc:
            status = _exit_status(exc.code)
    if graph is not None:
        draw_last_backward(recorder.root, Path(graph))
    return status


def _exit_status(code: Any) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def draw_last_backward(root: Tensor | None, out: Path) -> Path:
    """Draw the graph behind ``root`` (the last backward's tensor) with its module clusters to
    ``out`` (its suffix picks the format: svg, png, pdf, dot, ...)."""
    from tinygrad_cnn import viz

    if root is None:
        raise RuntimeError(f"run --graph: the script ran no backward(), so there is no graph to draw to {out}")
    return viz.render(viz.draw_graph(root), out)


def is_unsupported(exc: BaseException) -> bool:
    """True for the error a missing PyTorch API raises (so the command shows it as one line)."""
    return SUPPORT_NOTE in str(exc)
