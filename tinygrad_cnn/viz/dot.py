"""Graphviz plumbing: the graphviz import, a Digraph that explains a missing `dot`, and render()."""

from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path
from typing import Any, Iterator

from tinygrad_cnn.fileio import atomic_write

DOT_MISSING = (
    "rendering the graph needs Graphviz's `dot` program, which was not found on PATH. "
    "Install it with `sudo apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) "
    "or `conda install -c conda-forge graphviz`. Building the graph and its DOT .source work without it."
)


def _import_graphviz() -> Any:
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "tinygrad_cnn.viz needs the graphviz Python package: pip install graphviz "
            "(or pip install 'tinygrad_cnn[viz]'); rendering also needs Graphviz's `dot` program"
        ) from None
    return graphviz


@contextlib.contextmanager
def _dot_required() -> Iterator[None]:
    """Turn graphviz.ExecutableNotFound (no `dot` on PATH) into one RuntimeError saying how to install it."""
    graphviz = _import_graphviz()
    try:
        yield
    except graphviz.ExecutableNotFound:
        raise RuntimeError(DOT_MISSING) from None


@functools.cache
def digraph_type() -> type:
    """The Digraph class draw_graph builds (created on first use, when graphviz is imported)."""
    graphviz = _import_graphviz()

    class Digraph(graphviz.Digraph):
        """A graphviz.Digraph whose render/pipe (and so Jupyter display) explain a missing `dot`."""

        def pipe(self, *args: Any, **kwargs: Any) -> Any:
            with _dot_required():
                return super().pipe(*args, **kwargs)

        def render(self, *args: Any, **kwargs: Any) -> Any:
            with _dot_required():
                return super().render(*args, **kwargs)

    return Digraph


def render(graph: Any, path: str | os.PathLike, format: str | None = None) -> Path:
    """Render ``graph`` (a graphviz.Digraph) to ``path`` and return the path written.

    ``format`` ("svg", "png", "pdf", ...) defaults to the suffix of ``path``, else "svg"; a path
    without suffix gets ".<format>". The file is written to a temporary name and renamed into
    place. Raises RuntimeError with install instructions when Graphviz's `dot` is missing.
    """
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".") or "svg").lower()
    if not path.suffix:
        path = path.with_suffix(f".{fmt}")
    with _dot_required():
        data = graph.pipe(format=fmt)
    return atomic_write(path, data)
