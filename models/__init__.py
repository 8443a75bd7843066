"""The old import path of the ready-made models, kept for a source checkout: ``models`` is
``tinygrad_cnn.models`` (the wheel installs only that name, so it never shadows a user's own
``models`` module). ``import models.lenet`` gives tinygrad_cnn.models.lenet, and so on."""

import importlib
import pkgutil
import sys

import tinygrad_cnn.models as _models

sys.modules[__name__] = _models
for _info in pkgutil.iter_modules(_models.__path__):
    sys.modules[f"{__name__}.{_info.name}"] = importlib.import_module(f"tinygrad_cnn.models.{_info.name}")
