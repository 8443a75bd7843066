"""The one table from PyTorch's module names to this package's, and the import hook serving it.

``torch.X.Y`` is ``tinygrad_cnn.X.Y`` and ``torchvision.X`` is ``tinygrad_cnn.vision.X``,
except where ``SPECIAL`` says otherwise. ``install()`` puts a ``sys.meta_path`` finder in
place so an unmodified ``import torch.nn as nn`` gets ``tinygrad_cnn.nn`` behind a thin
proxy module; a name the package lacks raises one clear error naming the PyTorch API
(``torch.nn.SyncBatchNorm is not supported by tinygrad_cnn``).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from typing import Any

from tinygrad_cnn.torch_globals import TORCH_NN_SUBMODULES

ROOTS = {"torch": "tinygrad_cnn", "torchvision": "tinygrad_cnn.vision"}

# PyTorch module names whose home here does not follow the prefix rule: torch.nn.modules and
# its submodules (torch.nn.modules.linear.Linear, as safe_globals lists name classes) are torch.nn
SPECIAL = {
    "torchvision.models": "tinygrad_cnn.models",
    "torch.nn.modules": "tinygrad_cnn.nn",
    **{f"torch.nn.modules.{sub}": "tinygrad_cnn.nn" for sub in TORCH_NN_SUBMODULES},
}

# PyTorch names served by a differently named object here: torch's Function sees Tensors,
# tinygrad_cnn.autograd.Function (the array-level op of docs/custom_ops.md) sees arrays
RENAMED = {
    "torch.autograd.Function": "TensorFunction",
}

SUPPORT_NOTE = "is not supported by tinygrad_cnn"


class UnsupportedAPI(AttributeError):
    """A PyTorch name (module or attribute) that this framework does not provide."""


class UnsupportedModule(ModuleNotFoundError):
    """A PyTorch module that this framework does not provide."""


def target_of(torch_name: str) -> str | None:
    """The module of this package that serves the PyTorch module ``torch_name``, or None when
    the name is not PyTorch's (``torch.nn.functional`` -> ``tinygrad_cnn.nn.functional``)."""
    if torch_name in SPECIAL:
        return SPECIAL[torch_name]
    root, _, rest = torch_name.partition(".")
    if root not in ROOTS:
        return None
    for special, home in SPECIAL.items():
        if torch_name.startswith(special + "."):
            return home + torch_name[len(special):]
    return ROOTS[root] + ("." + rest if rest else "")


def module_exists(name: str) -> bool:
    """True when the module ``name`` can be imported (found on the path)."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


_MISSING = object()


class AliasModule(types.ModuleType):
    """A PyTorch-named view of one of this package's modules: attribute reads go to the
    module; submodules come back as AliasModules; a missing name raises UnsupportedAPI."""

    def __init__(self, torch_name: str, target: types.ModuleType) -> None:
        super().__init__(torch_name, target.__doc__)
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> Any:
        target = object.__getattribute__(self, "_target")
        if name.startswith("__") and name.endswith("__"):
            return getattr(target, name)
        qualified = f"{self.__name__}.{name}"
        if qualified in RENAMED:
            return getattr(target, RENAMED[qualified])
        home = target_of(qualified)
        value = getattr(target, name, _MISSING)
        if value is _MISSING or isinstance(value, types.ModuleType):
            if home is not None and module_exists(home):
                return importlib.import_module(qualified)
        if value is _MISSING:
            raise UnsupportedAPI(f"{qualified} {SUPPORT_NOTE}")
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "_target"), name, value)

    def __dir__(self) -> list[str]:
        return dir(object.__getattribute__(self, "_target"))


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, home: str) -> None:
        self.home = home

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return AliasModule(spec.name, importlib.import_module(self.home))

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: the module was imported under its own name in create_module."""


class AliasFinder(importlib.abc.MetaPathFinder):
    """Finds ``torch``/``torchvision`` modules: this package's module under the PyTorch name,
    or UnsupportedModule naming the PyTorch module it lacks."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        home = target_of(fullname)
        if home is None:
            return None
        if not module_exists(home):
            raise UnsupportedModule(f"{fullname} {SUPPORT_NOTE}", name=fullname)
        is_package = importlib.util.find_spec(home).submodule_search_locations is not None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(home), is_package=is_package)


_finder = AliasFinder()


def install() -> None:
    """Serve ``import torch`` / ``import torchvision`` (and their submodules) from tinygrad_cnn
    in this process, for running PyTorch code unchanged. Refuses when real torch is already
    imported. Undo with ``uninstall()``."""
    loaded = sys.modules.get("torch")
    if loaded is not None and not isinstance(loaded, AliasModule):
        raise RuntimeError("compat.install: the real torch is already imported in this process")
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    """Remove the aliases installed by ``install()`` and forget the modules served under PyTorch's names."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name in [n for n, m in sys.modules.items() if isinstance(m, AliasModule)]:
        del sys.modules[name]


def is_installed() -> bool:
    """True while ``import torch`` is served by tinygrad_cnn."""
    return _finder in sys.meta_path
