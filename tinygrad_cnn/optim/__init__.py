"""Optimizers and learning-rate schedules, as torch.optim: SGD, Adam, AdamW, lr_scheduler."""

from tinygrad_cnn.optim import lr_scheduler
from tinygrad_cnn.optim.adam import Adam, AdamW
from tinygrad_cnn.optim.optimizer import Optimizer
from tinygrad_cnn.optim.sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "lr_scheduler"]
