"""RMSprop (Hinton), with momentum and the centered variant, as torch.optim.RMSprop."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from tinygrad_cnn.optim.optimizer import Optimizer, check_hyperparameters, count_step, weight_decayed
from tinygrad_cnn.tensor import Tensor


class RMSprop(Optimizer):
    """RMSprop with PyTorch's update, per parameter p with gradient g (-g when ``maximize``):

        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v - m * m) + eps, with m = m + (1 - alpha) * (g - m)   (centered)
        avg = sqrt(v) + eps                                              (otherwise)
        buf = momentum * buf + g / avg; p = p - lr * buf                 (momentum > 0)
        p = p - lr * g / avg                                             (otherwise)
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_hyperparameters(lr, eps)
        check_hyperparameters(lr, momentum=momentum)
        check_hyperparameters(lr, weight_decay=weight_decay, alpha=alpha)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        weight_decay, momentum, centered = float(group["weight_decay"]), float(group["momentum"]), group["centered"]
        buffers = ["square_avg"] + ["momentum_buffer"] * (momentum > 0) + ["grad_avg"] * bool(centered)
        for p, grad, param, state in self.parameters_with_grads(group):
            count_step(state, param, *buffers)
            grad = weight_decayed(p, grad, weight_decay)
            square_avg = state["square_avg"]
            square_avg *= alpha
            square_avg += (1 - alpha) * grad * grad
            if centered:
                grad_avg = state["grad_avg"]
                grad_avg += (1 - alpha) * (grad - grad_avg)
                avg = np.sqrt(square_avg - grad_avg * grad_avg)
            else:
                avg = np.sqrt(square_avg)
            avg += eps
            if momentum > 0:
                buf = state["momentum_buffer"]
                buf *= momentum
                buf += grad / avg
                p.sub_(lr * buf)
            else:
                p.sub_(lr * (grad / avg))
