"""Losses in functional form, with torch.nn.functional's signatures: cross_entropy, nll_loss,
mse_loss, l1_loss, smooth_l1_loss, huber_loss, binary_cross_entropy,
binary_cross_entropy_with_logits, kl_div. Re-exported by ``tinygrad_cnn.nn.functional``.

``cross_entropy`` is ONE op whose backward is (softmax - target distribution) / N computed
directly (ops/loss.py), stable for any logits; plain class targets without weights take its
fast path. ``size_average``/``reduce`` are torch's deprecated spellings of ``reduction``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.nn.checks import check_reduction, check_tensor
from tinygrad_cnn.ops import loss as L
from tinygrad_cnn.tensor import Tensor


def legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """torch's mapping of the deprecated ``size_average``/``reduce`` flags to a reduction string."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "none" if not reduce else ("mean" if size_average else "sum")


def _as_target(target: Any) -> Tensor:
    return target if isinstance(target, Tensor) else Tensor(np.asarray(target))


def _check_class_targets(op: str, input: Tensor, target: Tensor, ignore_index: int) -> None:
    """Validate (N, C) float scores against (N,) integer labels in [0, C) (or ``ignore_index``)."""
    if input.ndim != 2:
        raise ValueError(f"{op}: input must be 2-D (batch, classes) or (N, C, d1, ...), got shape {tuple(input.shape)}")
    if not np.issubdtype(input.dtype, np.floating):
        raise TypeError(f"{op}: input must be floating point, got dtype {input.dtype}")
    labels = target.numpy()
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{op}: target must hold integer class indices (or, for cross_entropy, class "
                        f"probabilities of the input's shape {tuple(input.shape)}), got dtype {labels.dtype} "
                        f"and shape {tuple(labels.shape)}")
    n, classes = input.shape
    if labels.shape != (n,):
        raise ValueError(f"{op}: target shape {tuple(labels.shape)} does not match input shape {tuple(input.shape)}; expected ({n},)")
    bad = ((labels < 0) | (labels >= classes)) & (labels != ignore_index)
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{op}: target labels must be in [0, {classes - 1}] for {classes} classes, "
                         f"got {int(labels[index])} at index {index}")


def _class_weight(op: str, weight: Tensor | None, classes: int) -> np.ndarray | None:
    if weight is None:
        return None
    check_tensor(op, "weight", weight)
    if weight.shape != (classes,):
        raise ValueError(f"{op}: weight shape {tuple(weight.shape)} must be ({classes},), one weight per class")
    return weight.numpy()


def _flatten_classes(input: Tensor, target: Tensor) -> tuple[Tensor, Tensor, tuple[int, ...] | None]:
    """(N, C, d1, ...) scores and (N, d1, ...) labels as (N*d1*..., C) and (N*d1*...,), plus the
    per-element shape (N, d1, ...) to restore for reduction="none" (None for 2-D input)."""
    if input.ndim <= 2:
        return input, target, None
    order = (0,) + tuple(range(2, input.ndim)) + (1,)
    rows = input.permute(*order).reshape(-1, input.shape[1])
    if target.shape == input.shape:
        return rows, target.permute(*order).reshape(-1, input.shape[1]), (input.shape[0],) + input.shape[2:]
    return rows, target.reshape(-1), (input.shape[0],) + input.shape[2:]


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
                  ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits ``input`` (N, C) or (N, C, d1, ...) against integer labels
    ``target`` (N,) / (N, d1, ...) or class probabilities of the input's shape, as torch's.

    ``weight`` (C,) weighs each class; labels equal to ``ignore_index`` add nothing; "mean"
    divides by the summed weights of the kept labels (by N for probability targets).
    ``label_smoothing`` in [0, 1] mixes the target with the uniform distribution. Labels
    outside [0, C) raise a ValueError naming the range and the bad label.
    """
    op = "cross_entropy"
    check_tensor(op, "input", input)
    reduction = check_reduction(op, legacy_reduction(size_average, reduce, reduction))
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    target = _as_target(target)
    rows, flat_target, shape = _flatten_classes(input, target)
    classes = rows.shape[-1] if rows.ndim else 0
    class_weight = _class_weight(op, weight, classes)
    if target.shape == input.shape and np.issubdtype(target.dtype, np.floating):
        out = L.SoftCrossEntropy.apply(rows, flat_target.to(input.dtype), reduction=reduction,
                                       label_smoothing=float(label_smoothing), weight=class_weight)
    else:
        _check_class_targets(op, rows, flat_target, ignore_index)
        params: dict[str, Any] = dict(reduction=reduction, label_smoothing=float(label_smoothing))
        if class_weight is not None or ignore_index != -100:
            params.update(weight=class_weight, ignore_index=int(ignore_index))
        out = L.CrossEntropy.apply(rows, flat_target, **params)
    return out.reshape(shape) if shape is not None and reduction == "none" else out


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
             ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood -weight[y_i] * input[i, y_i] for log-probabilities ``input`` (N, C) or
    (N, C, d1, ...) and integer labels ``target``; ``ignore_index`` labels add nothing and "mean"
    divides by the summed weights of the kept labels, as torch's."""
    op = "nll_loss"
    check_tensor(op, "input", input)
    reduction = check_reduction(op, legacy_reduction(size_average, reduce, reduction))
    rows, flat_target, shape = _flatten_classes(input, _as_target(target))
    _check_class_targets(op, rows, flat_target, ignore_index)
    class_weight = _class_weight(op, weight, rows.shape[1])
    out = L.NLLLoss.apply(rows, flat_target, reduction=reduction, weight=class_weight, ignore_index=int(ignore_index))
    return out.reshape(shape) if shape is not None and reduction == "none" else out


def _pair(op: str, input: Tensor, target: Any) -> Tensor:
    """The target as a Tensor of the input's dtype and shape (a ValueError naming both shapes otherwise)."""
    check_tensor(op, "input", input)
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target, dtype=input.dtype))
    if target.shape != input.shape:
        raise ValueError(f"{op}: input shape {tuple(input.shape)} and target shape {tuple(target.shape)} must be equal")
    return target if target.dtype == input.dtype else target.to(input.dtype)


def _reduce(losses: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()


def _weighted(op: str, losses: Tensor, weight: Tensor | None, reduction: str) -> Tensor:
    """``losses`` reduced, each first multiplied by ``weight`` (of their shape) when given, the
    mean then being sum(weight * losses) / sum(weight), as torch's."""
    if weight is None:
        return _reduce(losses, reduction)
    check_tensor(op, "weight", weight)
    if weight.shape != losses.shape:
        raise ValueError(f"{op}: Weights and input must have the same size (weight {tuple(weight.shape)}, input "
                         f"{tuple(losses.shape)})")
    weighted = losses * weight
    return weighted.sum() / weight.sum() if reduction == "mean" else _reduce(weighted, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Squared error (input - target)**2 of two tensors of one shape, each times ``weight`` (of
    that shape) when given, reduced by ``reduction`` (a weighted mean with weight)."""
    reduction = check_reduction("mse_loss", legacy_reduction(size_average, reduce, reduction))
    diff = input - _pair("mse_loss", input, target)
    return _weighted("mse_loss", diff * diff, weight, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Absolute error |input - target| of two tensors of one shape, each times ``weight`` (of that
    shape) when given, reduced by ``reduction`` (a weighted mean with weight)."""
    reduction = check_reduction("l1_loss", legacy_reduction(size_average, reduce, reduction))
    return _weighted("l1_loss", L.SmoothL1.apply(input, _pair("l1_loss", input, target), beta=0.0), weight,
                     reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d**2 / beta where |d| < beta, else |d| - 0.5 beta, d = input - target (beta = 0: |d|)."""
    reduction = check_reduction("smooth_l1_loss", legacy_reduction(size_average, reduce, reduction))
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    return _reduce(L.SmoothL1.apply(input, _pair("smooth_l1_loss", input, target), beta=float(beta)), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 d**2 where |d| < delta, else delta (|d| - 0.5 delta), d = input - target (delta * smooth L1
    with beta = delta); ``weight`` (broadcast) multiplies each element before the reduction."""
    check_reduction("huber_loss", reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    losses = L.SmoothL1.apply(input, _pair("huber_loss", input, target), beta=float(delta)) * float(delta)
    return _reduce(losses if weight is None else losses * weight, reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """-(t log p + (1 - t) log(1 - p)) for probabilities ``input`` in [0, 1] and targets ``target``
    of one shape (each log clamped at -100, as torch); ``weight`` (broadcast) multiplies each element."""
    op = "binary_cross_entropy"
    reduction = check_reduction(op, legacy_reduction(size_average, reduce, reduction))
    target = _pair(op, input, target)
    p = input.numpy()
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError(f"{op}: all elements of input should be between 0 and 1, got values in "
                         f"[{p.min():g}, {p.max():g}]")
    losses = L.BinaryCrossEntropy.apply(input, target)
    return _reduce(losses if weight is None else losses * weight, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: bool | None = None, reduce: bool | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """Binary cross-entropy of sigmoid(input) against ``target`` in one stable op, as torch's:
    ``pos_weight`` (broadcast over the last dim, e.g. (C,)) weighs the positive term, ``weight``
    (broadcast) each element."""
    op = "binary_cross_entropy_with_logits"
    reduction = check_reduction(op, legacy_reduction(size_average, reduce, reduction))
    target = _pair(op, input, target)
    pw = None
    if pos_weight is not None:
        pw = check_tensor(op, "pos_weight", pos_weight).numpy().astype(input.dtype, copy=False)
        try:
            np.broadcast_shapes(pw.shape, input.shape)
        except ValueError:
            raise ValueError(f"{op}: pos_weight shape {tuple(pw.shape)} does not broadcast with input shape "
                             f"{tuple(input.shape)}") from None
    losses = L.BinaryCrossEntropyWithLogits.apply(input, target, pos_weight=pw)
    return _reduce(losses if weight is None else losses * weight, reduction)


def kl_div(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence sum target * (log target - input) for log-probabilities ``input``
    (``target`` probabilities, or log-probabilities with ``log_target``); reduction "mean" (over
    elements, as torch's), "batchmean" (sum / N, the true KL), "sum" or "none"."""
    op = "kl_div"
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError(f"{op}: reduction must be one of ('mean', 'batchmean', 'sum', 'none'), got {reduction!r}")
    losses = L.KLDiv.apply(input, _pair(op, input, target), log_target=bool(log_target))
    if reduction == "batchmean":
        return losses.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(losses, reduction)
