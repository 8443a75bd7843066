"""L-BFGS, as torch.optim.LBFGS (without a line search: ``line_search_fn=None``, torch's default).

Each ``step(closure)`` runs up to ``max_iter`` iterations on all parameters seen as one flat
vector: the direction is -H g, with H the inverse Hessian approximated from the last
``history_size`` (step, gradient change) pairs by the two-loop recursion; the first step is
scaled to min(1, 1 / |g|_1) * lr, later ones to lr. It stops early when the gradient's largest
entry is at most ``tolerance_grad``, or the step or the loss change is below
``tolerance_change``, or ``max_eval`` evaluations of the closure are spent. The history lives
in the state of the first parameter, under torch's names.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from tinygrad_cnn.autograd import enable_grad, no_grad
from tinygrad_cnn.optim.optimizer import Optimizer
from tinygrad_cnn.tensor import Tensor


class LBFGS(Optimizer):
    """Limited-memory BFGS over one parameter group; ``step`` needs a closure that clears the
    gradients, computes the loss, calls backward and returns the loss."""

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
                 history_size: int = 100, line_search_fn: str | None = None) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if line_search_fn is not None:
            raise NotImplementedError(f"LBFGS: line_search_fn={line_search_fn!r} is not supported (only None)")
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_iter * 5 // 4 if max_eval is None
                                      else max_eval, tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                                      history_size=history_size, line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _flat_grad(self) -> np.ndarray:
        """Every parameter's gradient (zeros where None) in one vector."""
        return np.concatenate([np.zeros(p.numel(), dtype=p.dtype) if p.grad is None else p.grad.numpy().reshape(-1)
                               for p in self._params])

    def _add_to_params(self, step: float, direction: np.ndarray) -> None:
        """params += step * direction, each parameter its slice of the flat vector (in place)."""
        offset = 0
        for p in self._params:
            n = p.numel()
            p.add_(Tensor(direction[offset:offset + n].reshape(p.shape)), alpha=step)
            offset += n

    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # noqa: C901 (torch's algorithm, one piece)
        """Run up to max_iter L-BFGS iterations; returns the closure's first loss."""
        if closure is None:
            raise RuntimeError("LBFGS.step: a closure that reevaluates the model and returns the loss is required")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change, history_size = (group["tolerance_grad"], group["tolerance_change"],
                                                          group["history_size"])
        state = self.state.setdefault(self._params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        def evaluate() -> Any:
            with enable_grad():
                return closure()

        orig_loss = evaluate()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss
        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag, prev_flat_grad, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")
        with no_grad():
            n_iter = 0
            while n_iter < max_iter:
                n_iter += 1
                state["n_iter"] += 1
                if state["n_iter"] == 1:
                    d, old_dirs, old_stps, ro, h_diag = -flat_grad, [], [], [], 1.0
                else:
                    y = flat_grad - prev_flat_grad
                    s = d * t
                    ys = float(y @ s)
                    if ys > 1e-10:  # a curvature pair worth keeping
                        if len(old_dirs) == history_size:
                            old_dirs.pop(0), old_stps.pop(0), ro.pop(0)
                        old_dirs.append(y), old_stps.append(s), ro.append(1.0 / ys)
                        h_diag = ys / float(y @ y)
                    al = state.setdefault("al", [None] * history_size)
                    q = -flat_grad
                    for i in range(len(old_dirs) - 1, -1, -1):
                        al[i] = float(old_stps[i] @ q) * ro[i]
                        q = q - al[i] * old_dirs[i]
                    d = r = q * h_diag
                    for i in range(len(old_dirs)):
                        be_i = float(old_dirs[i] @ r) * ro[i]
                        r += (al[i] - be_i) * old_stps[i]
                prev_flat_grad = flat_grad.copy()
                prev_loss = loss
                t = min(1.0, 1.0 / float(np.abs(flat_grad).sum())) * lr if state["n_iter"] == 1 else lr
                if float(flat_grad @ d) > -tolerance_change:  # not a descent direction
                    break
                self._add_to_params(t, d)
                evals = 0
                if n_iter != max_iter:
                    loss = float(evaluate())
                    flat_grad = self._flat_grad()
                    evals = 1
                current_evals += evals
                state["func_evals"] += evals
                if n_iter == max_iter or current_evals >= max_eval:
                    break
                if np.abs(flat_grad).max() <= tolerance_grad:
                    break
                if np.abs(d * t).max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                    break
        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=h_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss
