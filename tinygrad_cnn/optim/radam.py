"""RAdam (rectified Adam, Liu et al.), as torch.optim.RAdam."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from tinygrad_cnn.optim.optimizer import Optimizer, check_hyperparameters, count_step, update_moments, weight_decayed
from tinygrad_cnn.tensor import Tensor


class RAdam(Optimizer):
    """RAdam with PyTorch's update, per parameter p with gradient g (-g when ``maximize``) at step t:

        g = g + weight_decay * p  (or p = p * (1 - lr * weight_decay) when decoupled_weight_decay)
        m = m + (1 - beta1) * (g - m);  v = beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)
        r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        p = p - lr * m / (1 - beta1**t) * r * sqrt(1 - beta2**t) / (sqrt(v) + eps)   (rho_t > 5)
        p = p - lr * m / (1 - beta1**t)                                              (otherwise)
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        check_hyperparameters(lr, eps, weight_decay, betas)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay, differentiable=differentiable))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        for p, grad, param, state in self.parameters_with_grads(group):
            step = count_step(state, param, "exp_avg", "exp_avg_sq")
            grad = weight_decayed(p, grad, weight_decay, lr, group["decoupled_weight_decay"])
            exp_avg, exp_avg_sq = update_moments(state, grad, beta1, beta2)
            bias_correction1, bias_correction2 = 1 - beta1 ** step, 1 - beta2 ** step
            rho_inf = 2 / (1 - beta2) - 1
            rho_t = rho_inf - 2 * step * beta2 ** step / bias_correction2
            corrected = exp_avg / bias_correction1
            if rho_t > 5.0:
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                adaptive = bias_correction2 ** 0.5 / (np.sqrt(exp_avg_sq) + eps)
                p.sub_(corrected * lr * adaptive * rect)
            else:
                p.sub_(corrected * lr)
