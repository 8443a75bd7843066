"""Optimizer: the base class holding parameter groups and per-parameter state, as torch.optim's."""

from __future__ import annotations

import copy
from typing import Any, Callable, Iterable

import numpy as np

from tinygrad_cnn.autograd import enable_grad, no_grad
from tinygrad_cnn.tensor import Tensor


class Optimizer:
    """Base class of the optimizers.

    ``params`` is an iterable of Tensors, or of dicts (parameter groups) each holding
    ``"params"`` plus hyper-parameters that override ``defaults``. ``param_groups`` is the
    list of group dicts (a scheduler changes ``group["lr"]``); ``state`` maps each parameter
    to its dict of buffers (NumPy arrays, ``step`` an int). Subclasses implement
    ``_update_group(group)`` (or override ``step``), updating each parameter's array
    (``p.numpy()``) in place. ``foreach``, ``capturable``, ``differentiable`` and ``fused``
    are accepted where torch has them and recorded in the groups; they change nothing.
    """

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
        with no_grad():  # updates are in-place tensor ops (p.sub_(...)): unrecorded, version bumped
            for group in self.param_groups:
                self._update_group(group)
        return loss

    def _update_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError

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
                            f"{value.shape}, the parameter has {p.shape}"
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
