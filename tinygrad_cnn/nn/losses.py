"""Loss modules as torch.nn: CrossEntropyLoss, NLLLoss, MSELoss (each calls its F.* function)."""

from __future__ import annotations

from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.tensor import Tensor


class CrossEntropyLoss(Module):
    """Softmax cross-entropy of logits (N, C) against integer class labels (N,); see F.cross_entropy.

    ``reduction`` "mean" (default), "sum" or "none"; ``label_smoothing`` in [0, 1].
    """

    def __init__(self, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.reduction = F.check_reduction("CrossEntropyLoss", reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}")
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, self.reduction, self.label_smoothing)


class NLLLoss(Module):
    """Negative log-likelihood of log-probabilities (N, C) at integer labels (N,); see F.nll_loss."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = F.check_reduction("NLLLoss", reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, self.reduction)


class MSELoss(Module):
    """Mean (or summed, or per-element) squared error of two tensors of one shape; see F.mse_loss."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = F.check_reduction("MSELoss", reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, self.reduction)

