"""Adadelta (Zeiler), as torch.optim.Adadelta."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from tinygrad_cnn.optim.optimizer import Optimizer, check_hyperparameters, count_step, weight_decayed
from tinygrad_cnn.tensor import Tensor


class Adadelta(Optimizer):
    """Adadelta with PyTorch's update, per parameter p with gradient g (-g when ``maximize``):

        g = g + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False, differentiable: bool = False) -> None:
        check_hyperparameters(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_hyperparameters(lr, eps, weight_decay)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      capturable=capturable, foreach=foreach, differentiable=differentiable))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, rho, eps, weight_decay = (float(group[k]) for k in ("lr", "rho", "eps", "weight_decay"))
        for p, grad, param, state in self.parameters_with_grads(group):
            count_step(state, param, "square_avg", "acc_delta")
            grad = weight_decayed(p, grad, weight_decay)
            square_avg, acc_delta = state["square_avg"], state["acc_delta"]
            square_avg *= rho
            square_avg += (1 - rho) * grad * grad
            delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * grad
            acc_delta *= rho
            acc_delta += (1 - rho) * delta * delta
            p.sub_(lr * delta)
