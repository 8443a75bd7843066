"""Optimizer: the base class holding parameter groups and per-parameter state, as torch.optim's."""

from __future__ import annotations

import copy
import math
import numbers
from functools import partial
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from tinygrad_cnn.autograd import enable_grad, no_grad
from tinygrad_cnn.tensor import Tensor


# Hyper-parameters every optimizer shares, by name: a number that must be finite and >= 0,
# or, for "betas", a pair of numbers each in [0, 1), as torch validates them.
NONNEGATIVE_HYPERPARAMETERS = ("lr", "momentum", "dampening", "eps", "weight_decay")


def _number(owner: str, name: str, value: Any) -> float:
    if hasattr(value, "numel") and value.numel() == 1:  # a one-element Tensor, as torch allows for lr
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: invalid {name} {value!r} (must be a number, got {type(value).__name__})")
    return float(value)


def check_group_hyperparameters(owner: str, group: dict[str, Any]) -> None:
    """Raise ValueError naming the hyper-parameter when one of ``group``'s lr, momentum,
    dampening, eps, weight_decay is NaN, infinite or negative, or ``betas`` is not a pair in
    [0, 1) (TypeError when it is not a number). Names the group does not hold are skipped;
    ``owner`` ("SGD", "Adam param_groups[1]", ...) starts the message. Optimizers call it from
    the constructor and ``add_param_group``, and ``step()`` calls it again for every group, so
    edits of ``param_groups`` are checked before anything changes."""
    for name in NONNEGATIVE_HYPERPARAMETERS:
        if name in group and not isinstance(group[name], (tuple, list)):
            value = _number(owner, name, group[name])
            if not math.isfinite(value) or value < 0:
                label = "learning rate" if name == "lr" else name
                raise ValueError(f"{owner}: invalid {label} {group[name]!r} ({name} must be finite and >= 0)")
    if "betas" in group:
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{owner}: invalid betas {betas!r} (must be a pair (beta1, beta2))")
        for i, beta in enumerate(betas):
            value = _number(owner, f"betas[{i}]", beta)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{owner}: invalid beta parameter at index {i}: {beta!r} (betas must be in [0, 1))")


class Optimizer:
    """Base class of the optimizers.

    ``params`` is an iterable of Tensors, or of dicts (parameter groups) each holding
    ``"params"`` plus hyper-parameters that override ``defaults``. ``param_groups`` is the
    list of group dicts (a scheduler changes ``group["lr"]``); ``state`` maps each parameter
    to its dict of buffers (NumPy arrays, ``step`` an int). Subclasses implement
    ``_update_group(group)`` (or override ``step``), updating each parameter's array
    (``p.numpy()``) in place. ``foreach``, ``capturable``, ``differentiable`` and ``fused``
    are accepted where torch has them and recorded in the groups; they change nothing.

    ``step()`` is all-or-nothing: it first checks every group's hyper-parameters
    (``check_group_hyperparameters``), every gradient's shape and dtype and every state buffer's
    shape (and, when ``check_finite`` is True, that every gradient is finite), and raises
    before any parameter or buffer changes.
    """

    check_finite: bool = False

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Tensors or dicts, got a Tensor; "
                "wrap it in a list"
            )
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Tensor, dict[str, Any]] = {}
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters, with hyper-parameters defaulting to the optimizer's."""
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{type(self).__name__}: a parameter group must be a dict, got {type(param_group).__name__}"
            )
        params = param_group.get("params")
        if params is None:
            raise ValueError(f"{type(self).__name__}: a parameter group needs a 'params' entry")
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{type(self).__name__}: can't optimize a non-leaf Tensor (made by an op)")
            if not np.issubdtype(p.dtype, np.floating):
                raise TypeError(f"{type(self).__name__}: can only optimize floating point Tensors, got {p.dtype}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{type(self).__name__}: a parameter group contains the same parameter twice")
        existing = {id(p) for group in self.param_groups for p in group["params"]}
        if existing & {id(p) for p in params}:
            raise ValueError(f"{type(self).__name__}: some parameters appear in more than one parameter group")
        group = dict(self.defaults)
        group.update({k: v for k, v in param_group.items() if k != "params"})
        check_group_hyperparameters(type(self).__name__ if not self.param_groups else
                              f"{type(self).__name__} param_groups[{len(self.param_groups)}]", group)
        group["params"] = params
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (None, or zeros when ``set_to_none=False``)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.zero_grad(set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; ``closure`` (re-evaluating the loss) is
        called first with grad enabled and its result returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self.check_step(finite=self.check_finite)
        with no_grad():  # updates are in-place tensor ops (p.sub_(...)): unrecorded, version bumped
            for group in self.param_groups:
                self._update_group(group)
        return loss

    def parameters_with_grads(self, group: dict[str, Any]) -> Iterator[tuple[Tensor, np.ndarray, np.ndarray, dict]]:
        """(parameter, its gradient array (negated under ``maximize``), its own array, its state
        dict, created empty on first use) for each parameter of ``group`` that has a gradient:
        the loop every optimizer's update runs over."""
        for p in group["params"]:
            if p.grad is not None:
                yield p, gradient(p, group), p.numpy(), self.state.setdefault(p, {})

    def _update_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError

    def check_step(self, finite: bool = False) -> None:
        """Raise before a step that would fail halfway: a hyper-parameter NaN, infinite or
        negative (ValueError), a gradient whose shape or dtype is not its parameter's, or a state
        buffer whose shape is not (RuntimeError), or with ``finite`` a gradient holding NaN or
        inf (FloatingPointError). Each message names the group and parameter index and shapes."""
        name = type(self).__name__
        for g, group in enumerate(self.param_groups):
            check_group_hyperparameters(f"{name} param_groups[{g}]", group)
            for i, p in enumerate(group["params"]):
                where = partial(_parameter_text, name, g, i, p)  # formatted only for an error
                shape = p.numpy().shape
                for key, buffer in self.state.get(p, {}).items():
                    if isinstance(buffer, np.ndarray) and buffer.ndim and buffer.shape != shape:
                        raise RuntimeError(f"{where()}: state buffer '{key}' has shape {tuple(buffer.shape)}")
                if p.grad is None:
                    continue
                grad = p.grad.numpy()
                if grad.shape != shape or grad.dtype != p.dtype:
                    raise RuntimeError(f"{where()}: gradient has shape {tuple(grad.shape)}, dtype {grad.dtype}")
                if finite and not np.isfinite(grad).all():
                    raise FloatingPointError(f"{where()}: gradient is not finite "
                                             f"({int(np.count_nonzero(~np.isfinite(grad)))} NaN/inf values)")

    def state_dict(self) -> dict[str, Any]:
        """torch 2.x's structure: ``{"state": {index: {name: Tensor copy}}, "param_groups": [{...,
        "params": [index, ...]}]}``, parameters numbered in group order; buffers are Tensors and
        ``step`` a 0-d float32 Tensor, as torch's (so the dict loads into a torch optimizer)."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: copy.deepcopy(v) for k, v in group.items() if k != "params"}, "params": ids})
        state = {index[id(p)]: {name: _as_saved(name, value) for name, value in s.items()}
                 for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyper-parameters and buffers saved by ``state_dict`` (ours or a torch
        optimizer's: Tensors or arrays). The groups must have the same sizes; buffers are
        copied and cast to their parameter's dtype. Everything is checked before anything changes."""
        groups = state_dict.get("param_groups") if isinstance(state_dict, dict) else None
        if groups is None or "state" not in state_dict:
            raise ValueError(f"{type(self).__name__}.load_state_dict: expected a dict with 'state' and 'param_groups'")
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: loaded state has {len(groups)} parameter group(s), "
                f"the optimizer has {len(self.param_groups)}"
            )
        sizes = [(len(saved["params"]), len(own["params"])) for saved, own in zip(groups, self.param_groups)]
        if any(a != b for a, b in sizes):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: parameter group sizes {[a for a, _ in sizes]} "
                f"do not match the optimizer's {[b for _, b in sizes]}"
            )
        by_index = {i: p for saved, own in zip(groups, self.param_groups)
                    for i, p in zip(saved["params"], own["params"])}
        state: dict[Tensor, dict[str, Any]] = {}
        for key, buffers in state_dict["state"].items():
            p = by_index.get(int(key))
            if p is None:
                raise ValueError(f"{type(self).__name__}.load_state_dict: state for unknown parameter index {key}")
            restored = {}
            for name, value in buffers.items():
                if hasattr(value, "numpy") or isinstance(value, np.ndarray):
                    value = np.array(value.numpy() if hasattr(value, "numpy") else value)
                if isinstance(value, (np.ndarray, np.generic)) and value.ndim:
                    if value.shape != p.shape:
                        raise ValueError(
                            f"{type(self).__name__}.load_state_dict: buffer '{name}' of parameter {key} has shape "
                            f"{tuple(value.shape)}, the parameter has {tuple(p.shape)}"
                        )
                    value = value.astype(p.dtype, copy=True)
                elif isinstance(value, (np.ndarray, np.generic)):
                    value = int(value) if name == "step" else value.astype(p.dtype)[()]  # as torch casts
                else:
                    value = copy.deepcopy(value)
                restored[name] = value
            state[p] = restored
        self.state = state
        for saved, own in zip(groups, self.param_groups):
            own.update({k: copy.deepcopy(v) for k, v in saved.items() if k != "params"})

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


def _parameter_text(name: str, g: int, i: int, p: Tensor) -> str:
    """How a step's error names a parameter: optimizer, group, index, shape and dtype."""
    return f"{name}.step: parameter {i} of group {g} (shape {tuple(p.shape)}, dtype {p.dtype})"


def _as_saved(name: str, value: Any) -> Any:
    """A state entry as torch keeps it: arrays and NumPy scalars as Tensor copies, ``step`` as a
    0-d float32 Tensor."""
    if isinstance(value, (np.ndarray, np.generic)):
        return Tensor(np.array(value))
    if name == "step":
        return Tensor(np.asarray(value, dtype=np.float32))
    return copy.deepcopy(value)


def check_hyperparameters(lr: float, eps: float | None = None, weight_decay: float | None = None,
                          betas: tuple[float, float] | None = None, **others: float) -> None:
    """Raise torch's ValueError for a negative ``lr``/``eps``/``weight_decay`` (and any other
    keyword given, e.g. ``momentum=``), or betas outside [0, 1)."""
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if eps is not None and not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if betas is not None:
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair, got {betas!r}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
    if weight_decay is not None and not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")
    for name, value in others.items():
        if not 0.0 <= value:
            raise ValueError(f"Invalid {name} value: {value}")


def gradient(p: Tensor, group: dict[str, Any]) -> np.ndarray:
    """``p``'s gradient array, negated when the group maximizes."""
    grad = p.grad.numpy()
    return -grad if group.get("maximize", False) else grad


def count_step(state: dict[str, Any], param: np.ndarray, *buffers: str, **scalars: Any) -> int:
    """Count one more step in a parameter's ``state`` and return it; on the first, the state
    starts as ``step`` 0, then ``scalars``, then a zero array like ``param`` per name in ``buffers``."""
    if not state:
        state.update(step=0, **scalars, **{name: np.zeros_like(param) for name in buffers})
    state["step"] += 1
    return state["step"]


def weight_decayed(p: Tensor, grad: np.ndarray, weight_decay: float, lr: float = 0.0,
                   decoupled: bool = False) -> np.ndarray:
    """The gradient with weight decay: ``grad + weight_decay * p`` (an L2 penalty), or, when
    ``decoupled`` (AdamW's), ``grad`` itself after ``p`` shrinks in place by ``1 - lr * weight_decay``."""
    if weight_decay == 0:
        return grad
    if decoupled:
        p.mul_(1 - lr * weight_decay)
        return grad
    return grad + weight_decay * p.numpy()


def update_moments(state: dict[str, Any], grad: np.ndarray, beta1: float,
                   beta2: float) -> tuple[np.ndarray, np.ndarray]:
    """Adam's running averages of the gradient and of its square, ``state["exp_avg"]`` and
    ``state["exp_avg_sq"]``, updated in place and returned: m += (1 - beta1) (g - m),
    v = beta2 v + (1 - beta2) g**2."""
    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
    scratch = np.subtract(grad, exp_avg)  # one temporary for both updates, the same float operations
    scratch *= 1 - beta1
    exp_avg += scratch
    exp_avg_sq *= beta2
    np.multiply(grad, grad, out=scratch)
    scratch *= 1 - beta2
    exp_avg_sq += scratch
    return exp_avg, exp_avg_sq
