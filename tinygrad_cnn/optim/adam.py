"""Adam and AdamW, with PyTorch's exact update (including amsgrad)."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from tinygrad_cnn.optim.optimizer import Optimizer, check_hyperparameters, count_step, update_moments, weight_decayed
from tinygrad_cnn.tensor import Tensor


class Adam(Optimizer):
    """Adam (Kingma & Ba) with PyTorch's update, per parameter p with gradient g (-g when
    ``maximize``) at step t:

        g = g + weight_decay * p                  (Adam: L2 penalty in the gradient)
        p = p * (1 - lr * weight_decay)           (decoupled_weight_decay / AdamW, instead)
        m = m + (1 - beta1) * (g - m)
        v = beta2 * v + (1 - beta2) * g * g
        v_hat = max(v_hat, v) if amsgrad else v
        p = p - lr / (1 - beta1**t) * m / (sqrt(v_hat) / sqrt(1 - beta2**t) + eps)
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 amsgrad: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        check_hyperparameters(lr, eps, weight_decay, betas)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        amsgrad, decoupled = bool(group["amsgrad"]), bool(group.get("decoupled_weight_decay", False))
        for p, grad, param, state in self.parameters_with_grads(group):
            step = count_step(state, param, "exp_avg", "exp_avg_sq")
            if amsgrad and "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = np.zeros_like(param)
            grad = weight_decayed(p, grad, weight_decay, lr, decoupled)
            exp_avg, exp_avg_sq = update_moments(state, grad, beta1, beta2)
            step_size = lr / (1 - beta1 ** step)
            bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
            if amsgrad:
                np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
                denom = np.sqrt(state["max_exp_avg_sq"])
            else:
                denom = np.sqrt(exp_avg_sq)
            denom /= bias_correction2_sqrt
            denom += eps
            np.divide(exp_avg, denom, out=denom)
            denom *= step_size
            p.sub_(denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p = p * (1 - lr * weight_decay)
    before the Adam step; ``weight_decay`` defaults to 1e-2, as torch.optim.AdamW."""

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False, *, maximize: bool = False, foreach: bool | None = None,
                 capturable: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
