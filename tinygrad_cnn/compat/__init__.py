"""Running PyTorch programs unchanged: ``torch`` and ``torchvision`` served by tinygrad_cnn.

- ``install()`` / ``uninstall()``: after ``install()``, ``import torch``, ``import torch.nn as
  nn``, ``from torchvision import datasets, transforms`` ... give this package's modules;
  a PyTorch API it lacks fails with one line naming it.
- ``run_script(path, argv, graph=None)``: what ``tinygrad-cnn run SCRIPT.py ARGS`` does.
- ``check_script(path)``: what ``tinygrad-cnn run --check SCRIPT.py`` lists.
- ``supported_names()``: the compatibility table behind docs/torch_compat.md.

People who edit the import line can also write ``import tinygrad_cnn as torch``.
"""

from tinygrad_cnn.compat.aliases import UnsupportedAPI, UnsupportedModule, install, is_installed, target_of, uninstall
from tinygrad_cnn.compat.check import Finding, check_script
from tinygrad_cnn.compat.run import run_script
from tinygrad_cnn.compat.table import render_markdown, supported_names

__all__ = ["Finding", "UnsupportedAPI", "UnsupportedModule", "check_script", "install", "is_installed",
           "render_markdown", "run_script", "supported_names", "target_of", "uninstall"]
