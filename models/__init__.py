"""The old import path of the ready-made models, kept for a source checkout: ``models`` is
``tinygrad_cnn.models`` (the wheel installs only that name, so it never shadows a user's own
``models`` module). ``import models.lenet`` gives tinygrad_cnn.models.lenet."""

import sys

import tinygrad_cnn.models as _models
from tinygrad_cnn.models import lenet, simple_cnn

sys.modules[__name__] = _models
sys.modules[__name__ + ".lenet"] = lenet
sys.modules[__name__ + ".simple_cnn"] = simple_cnn
