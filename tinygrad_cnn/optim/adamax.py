"""Adamax (Adam with the infinity norm), as torch.optim.Adamax."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from tinygrad_cnn.optim.optimizer import Optimizer, check_hyperparameters, count_step, weight_decayed
from tinygrad_cnn.tensor import Tensor


class Adamax(Optimizer):
    """Adamax with PyTorch's update, per parameter p with gradient g (-g when ``maximize``) at step t:

        g = g + weight_decay * p
        m = m + (1 - beta1) * (g - m)
        u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1**t) * m / u
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 foreach: bool | None = None, *, maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        check_hyperparameters(lr, eps, weight_decay, betas)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        for p, grad, param, state in self.parameters_with_grads(group):
            step = count_step(state, param, "exp_avg", "exp_inf")
            grad = weight_decayed(p, grad, weight_decay)
            exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
            exp_avg += (1 - beta1) * (grad - exp_avg)
            exp_inf *= beta2
            np.maximum(exp_inf, np.abs(grad) + eps, out=exp_inf)
            p.sub_(lr / (1 - beta1 ** step) * (exp_avg / exp_inf))
