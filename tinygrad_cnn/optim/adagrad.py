"""Adagrad (Duchi et al.), as torch.optim.Adagrad."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from tinygrad_cnn.optim.optimizer import Optimizer, check_hyperparameters, gradient, weight_decayed
from tinygrad_cnn.tensor import Tensor


class Adagrad(Optimizer):
    """Adagrad with PyTorch's update, per parameter p with gradient g (-g when ``maximize``) at step t:

        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g                             (s starts at initial_accumulator_value)
        p = p - clr * g / (sqrt(s) + eps)

    As torch, the state (``step``, ``sum``) is created when the optimizer is.
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0, eps: float = 1e-10,
                 foreach: bool | None = None, *, maximize: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        check_hyperparameters(lr, lr_decay=lr_decay)
        check_hyperparameters(lr, weight_decay=weight_decay, initial_accumulator_value=initial_accumulator_value)
        check_hyperparameters(lr, eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group (see Optimizer.add_param_group) and create its parameters' state."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self.state[p] = {"step": 0, "sum": np.full(p.shape, group["initial_accumulator_value"], dtype=p.dtype)}

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, lr_decay, eps, weight_decay = (float(group[k]) for k in ("lr", "lr_decay", "eps", "weight_decay"))
        for p in group["params"]:
            if p.grad is None:
                continue
            grad = gradient(p, group)
            state = self.state[p]
            state["step"] += 1
            grad = weight_decayed(p, grad, weight_decay)
            clr = lr / (1 + (state["step"] - 1) * lr_decay)
            state["sum"] += grad * grad
            p.sub_(clr * (grad / (np.sqrt(state["sum"]) + eps)))
