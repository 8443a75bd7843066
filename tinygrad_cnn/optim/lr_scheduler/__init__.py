"""Learning-rate schedules, as torch.optim.lr_scheduler.

Call ``scheduler.step()`` once per epoch (or per batch), after ``optimizer.step()``
(``ReduceLROnPlateau.step(metric)`` takes the watched value). The schedules use PyTorch's
recursive ("chainable") formulas, so they produce PyTorch's exact sequence of learning rates
and compose with changes made to ``group["lr"]`` elsewhere; ``step(epoch)`` uses the closed
form where torch has one.
"""

from tinygrad_cnn.optim.lr_scheduler.base import LRScheduler
from tinygrad_cnn.optim.lr_scheduler.composite import ChainedScheduler, SequentialLR
from tinygrad_cnn.optim.lr_scheduler.cyclic import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from tinygrad_cnn.optim.lr_scheduler.plateau import ReduceLROnPlateau
from tinygrad_cnn.optim.lr_scheduler.simple import (
    ConstantLR, CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR, MultiplicativeLR, MultiStepLR, PolynomialLR,
    StepLR,
)

__all__ = [
    "ChainedScheduler", "ConstantLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "CyclicLR", "ExponentialLR",
    "LRScheduler", "LambdaLR", "LinearLR", "MultiStepLR", "MultiplicativeLR", "OneCycleLR", "PolynomialLR",
    "ReduceLROnPlateau", "SequentialLR", "StepLR",
]
