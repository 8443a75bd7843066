"""NAdam (Adam with Nesterov momentum, Dozat), as torch.optim.NAdam."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from tinygrad_cnn.optim.optimizer import Optimizer, check_hyperparameters, count_step, update_moments, weight_decayed
from tinygrad_cnn.tensor import Tensor


class NAdam(Optimizer):
    """NAdam with PyTorch's update, per parameter p with gradient g (-g when ``maximize``) at step t:

        g = g + weight_decay * p  (or p = p * (1 - lr * weight_decay) when decoupled_weight_decay)
        mu_t = beta1 * (1 - 0.5 * 0.96**(t * momentum_decay)); mu_product = prod of mu_1..mu_t
        m = m + (1 - beta1) * (g - m);  v = beta2 * v + (1 - beta2) * g * g
        denom = sqrt(v / (1 - beta2**t)) + eps
        p = p - lr * (1 - mu_t) / (1 - mu_product) * g / denom
              - lr * mu_{t+1} / (1 - mu_product * mu_{t+1}) * m / denom

    ``mu_product`` is kept in float32, as torch keeps it (a float32 scalar tensor).
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_hyperparameters(lr, eps, weight_decay, betas, momentum_decay=momentum_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        momentum_decay = float(group["momentum_decay"])
        for p, grad, param, state in self.parameters_with_grads(group):
            step = count_step(state, param, "exp_avg", "exp_avg_sq", mu_product=np.float32(1.0))
            grad = weight_decayed(p, grad, weight_decay, lr, group["decoupled_weight_decay"])
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
            state["mu_product"] = mu_product = np.float32(state["mu_product"] * np.float32(mu))
            exp_avg, exp_avg_sq = update_moments(state, grad, beta1, beta2)
            denom = np.sqrt(exp_avg_sq / (1 - beta2 ** step)) + eps
            p.add_((-lr * (1.0 - mu) / (1.0 - float(mu_product))) * (grad / denom))
            p.add_((-lr * mu_next / (1.0 - float(mu_product) * mu_next)) * (exp_avg / denom))
