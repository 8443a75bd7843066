"""``tinygrad-cnn run --check``: the torch/torchvision names a script uses that tinygrad_cnn lacks,
found by reading the script (static analysis of imports and attribute chains), never running it."""

from __future__ import annotations

import ast
import importlib
import os
from dataclasses import dataclass
from pathlib import Path

from tinygrad_cnn.compat.aliases import RENAMED, ROOTS, module_exists, target_of


@dataclass(frozen=True)
class Finding:
    """One use of a PyTorch name the framework does not provide: where, and which name."""

    line: int
    name: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.name}"


def _bound_names(tree: ast.Module) -> dict[str, str]:
    """Local name -> the PyTorch dotted name it is bound to by an import (``nn`` -> ``torch.nn``)."""
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.partition(".")[0] in ROOTS:
                    if alias.asname:
                        bound[alias.asname] = alias.name
                    else:
                        root = alias.name.partition(".")[0]
                        bound[root] = root
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.partition(".")[0] in ROOTS:
            for alias in node.names:
                if alias.name != "*":
                    bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bound


def _dotted(node: ast.AST) -> list[str] | None:
    """``a.b.c`` as ["a", "b", "c"], or None for anything but a chain of names."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id, *reversed(parts)]


def _uses(tree: ast.Module, bound: dict[str, str]) -> list[tuple[int, str]]:
    """(line, PyTorch dotted name) for every import and every longest attribute chain on a bound name."""
    uses: list[tuple[int, str]] = []
    inner: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            inner.add(id(node.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            uses += [(node.lineno, a.name) for a in node.names if a.name.partition(".")[0] in ROOTS]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.partition(".")[0] in ROOTS:
            uses += [(node.lineno, f"{node.module}.{a.name}" if a.name != "*" else node.module) for a in node.names]
        elif isinstance(node, (ast.Attribute, ast.Name)) and id(node) not in inner:
            chain = _dotted(node)
            if chain and chain[0] in bound and (len(chain) > 1 or isinstance(node, ast.Name)):
                uses.append((node.lineno, ".".join([bound[chain[0]], *chain[1:]])))
    return uses


def _resolves(name: str) -> bool:
    """True when the PyTorch dotted ``name`` exists here: its longest module prefix has a
    counterpart module and the rest are attributes of it."""
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        home = target_of(".".join(parts[:split]))
        if home is None or not module_exists(home):
            continue
        obj = importlib.import_module(home)
        rest = parts[split:]
        if rest and ".".join(parts[:split + 1]) in RENAMED:
            rest = [RENAMED[".".join(parts[:split + 1])], *rest[1:]]
        try:
            for attr in rest:
                obj = getattr(obj, attr)
        except AttributeError:
            return False
        return True
    return False


def check_script(path: str | os.PathLike) -> list[Finding]:
    """The PyTorch names the script at ``path`` uses (imports, ``torch.x.y`` chains, names
    bound by ``from torch... import``) that tinygrad_cnn does not provide, with line numbers,
    in line order, without running or importing it. Methods called on tensors or modules are
    not seen (they need the running program). Raises SyntaxError for a script that does not parse."""
    source = Path(path).read_text()
    tree = ast.parse(source, filename=str(path))
    bound = _bound_names(tree)
    missing: dict[str, Finding] = {}
    for line, name in sorted(_uses(tree, bound)):
        if name not in missing and not _resolves(name):
            missing[name] = Finding(line, name)
    return sorted(missing.values(), key=lambda f: (f.line, f.name))
