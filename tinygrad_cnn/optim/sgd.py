"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay, as torch.optim.SGD."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from tinygrad_cnn.optim.optimizer import Optimizer, check_hyperparameters, gradient, weight_decayed
from tinygrad_cnn.tensor import Tensor


class SGD(Optimizer):
    """SGD with PyTorch's update, per parameter p with gradient g (-g when ``maximize``):

        g = g + weight_decay * p
        buf = g (first step), else buf = momentum * buf + (1 - dampening) * g
        g = g + momentum * buf (nesterov), else g = buf        [when momentum != 0]
        p = p - lr * g
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None) -> None:
        check_hyperparameters(lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, momentum, dampening = float(group["lr"]), float(group["momentum"]), float(group["dampening"])
        weight_decay, nesterov = float(group["weight_decay"]), bool(group["nesterov"])
        for p in group["params"]:
            if p.grad is None:
                continue
            grad = gradient(p, group)
            grad = weight_decayed(p, grad, weight_decay)
            if momentum != 0:
                state = self.state.setdefault(p, {})
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = np.array(grad, dtype=p.dtype)
                else:
                    buf *= momentum
                    buf += (1 - dampening) * grad
                grad = grad + momentum * buf if nesterov else buf
            p.sub_(lr * grad)  # in place through the tensor: bumps its version
