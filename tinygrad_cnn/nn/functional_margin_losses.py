"""torch.nn.functional's margin, embedding and likelihood losses, from differentiable ops:
margin_ranking_loss, hinge_embedding_loss, soft_margin_loss, cosine_embedding_loss,
triplet_margin_loss, multilabel_soft_margin_loss, multi_margin_loss, poisson_nll_loss and
gaussian_nll_loss, each as torch computes it. Re-exported by ``tinygrad_cnn.nn.functional``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_cnn.nn.checks import check_reduction, check_tensor
from tinygrad_cnn.nn.functional_composed import logsigmoid
from tinygrad_cnn.nn.functional_distance import pairwise_distance
from tinygrad_cnn.nn.functional_losses import _reduce, legacy_reduction
from tinygrad_cnn.tensor import Tensor


def _reduction(op: str, size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    return check_reduction(op, legacy_reduction(size_average, reduce, reduction))


def _tensor(value: Any, like: Tensor) -> Tensor:
    """``value`` as a tensor (numbers and arrays in ``like``'s dtype)."""
    return value if isinstance(value, Tensor) else Tensor(np.asarray(value, dtype=like.dtype))


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, -target * (input1 - input2) + margin), target 1 or -1 (which input should rank higher)."""
    reduction = _reduction("margin_ranking_loss", size_average, reduce, reduction)
    check_tensor("margin_ranking_loss", "input1", input1)
    target = _tensor(target, input1)
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0.0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average: bool | None = None,
                         reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """input where target is 1, max(0, margin - input) where it is -1 (both terms where it is neither)."""
    reduction = _reduction("hinge_embedding_loss", size_average, reduce, reduction)
    check_tensor("hinge_embedding_loss", "input", input)
    labels = _tensor(target, input).numpy()
    margins = (margin - input).clamp(min=0.0).where(labels != 1, 0.0)
    return _reduce(margins + input.where(labels != -1, 0.0), reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
                     reduction: str = "mean") -> Tensor:
    """log(1 + exp(-target * input)), target 1 or -1: a smooth two-class margin loss."""
    reduction = _reduction("soft_margin_loss", size_average, reduce, reduction)
    check_tensor("soft_margin_loss", "input", input)
    return _reduce(-logsigmoid(_tensor(target, input) * input), reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average: bool | None = None, reduce: bool | None = None,
                          reduction: str = "mean") -> Tensor:
    """1 - cos(input1, input2) where target is 1, max(0, cos - margin) where it is -1; the cosine
    over dim -1 with torch's 1e-12 added to each squared norm."""
    op = "cosine_embedding_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    check_tensor(op, "input1", input1)
    check_tensor(op, "input2", input2)
    products = (input1 * input2).sum(-1)
    cosine = products / ((input1 * input1).sum(-1) + 1e-12).mul((input2 * input2).sum(-1) + 1e-12).sqrt()
    labels = _tensor(target, input1).numpy()
    losses = (1 - cosine).where(labels == 1, 0.0) + (cosine - margin).clamp(min=0.0).where(labels == -1, 0.0)
    return _reduce(losses, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2.0,
                        eps: float = 1e-6, swap: bool = False, size_average: bool | None = None,
                        reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """max(0, margin + d(anchor, positive) - d(anchor, negative)), d the p-norm pairwise distance
    (with ``swap``, the smaller of d(anchor, negative) and d(positive, negative))."""
    reduction = _reduction("triplet_margin_loss", size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"triplet_margin_loss: margin must be greater than 0, got {margin}")
    near = pairwise_distance(anchor, positive, p, eps)
    far = pairwise_distance(anchor, negative, p, eps)
    if swap:
        far = far.minimum(pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + near - far).clamp(min=0.0), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: bool | None = None, reduce: bool | None = None,
                                reduction: str = "mean") -> Tensor:
    """-(target log sigmoid(input) + (1 - target) log sigmoid(-input)), weighted per class, the
    mean over the classes (dim -1) per sample, then reduced over the samples."""
    reduction = _reduction("multilabel_soft_margin_loss", size_average, reduce, reduction)
    check_tensor("multilabel_soft_margin_loss", "input", input)
    target = _tensor(target, input)
    losses = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        losses = losses * weight
    return _reduce(losses.sum(-1) / input.shape[-1], reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                      size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """For scores (N, C) (or (C,)) and labels y: sum over classes j != y of
    max(0, margin - input[y] + input[j])**p / C, times weight[y]."""
    op = "multi_margin_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    check_tensor(op, "input", input)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 supported, got {p}")
    scores = input if input.ndim == 2 else input.reshape(1, -1)
    labels = np.asarray(target.numpy() if isinstance(target, Tensor) else target).reshape(-1)
    n, classes = scores.shape
    if labels.shape != (n,) or labels.min(initial=0) < 0 or labels.max(initial=0) >= classes:
        raise RuntimeError(f"{op}: target {labels.tolist()} must hold one class in [0, {classes}) per row of the "
                           f"input {tuple(input.shape)}")
    picked = scores[np.arange(n), labels].reshape(n, 1)
    terms = (margin - picked + scores).clamp(min=0.0)
    if p == 2:
        terms = terms * terms
    if weight is not None:
        terms = terms * Tensor(weight.numpy()[labels].reshape(n, 1))
    others = labels[:, None] != np.arange(classes)  # the true class contributes nothing
    losses = terms.where(others, 0.0).sum(1) / classes
    return _reduce(losses if input.ndim == 2 else losses.reshape(()), reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: bool | None = None, eps: float = 1e-8, reduce: bool | None = None,
                     reduction: str = "mean") -> Tensor:
    """Poisson negative log-likelihood: exp(input) - target * input for log-rates, else
    input - target * log(input + eps); ``full`` adds Stirling's target * log(target) - target +
    log(2 pi target) / 2 where target > 1."""
    reduction = _reduction("poisson_nll_loss", size_average, reduce, reduction)
    check_tensor("poisson_nll_loss", "input", input)
    target = _tensor(target, input)
    losses = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        y = target.numpy()
        safe = np.where(y > 1, y, 1.0)
        stirling = np.where(y > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * math.pi * safe), 0.0)
        losses = losses + Tensor(stirling.astype(input.dtype))
    return _reduce(losses, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Gaussian negative log-likelihood 0.5 * (log(var) + (input - target)**2 / var) (+ 0.5 log(2 pi)
    with ``full``), var clamped below at ``eps`` without stopping its gradient, as torch's.
    ``var`` has the input's shape, or one dim fewer or a last dim of 1 (one variance for all
    features), or is a number."""
    op = "gaussian_nll_loss"
    reduction = check_reduction(op, reduction)
    check_tensor(op, "input", input)
    var = _tensor(var, input)
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (input.shape[:-1] == var.shape[:-1] and var.shape[-1:] == (1,)) and var.ndim:
            raise ValueError(f"{op}: var of shape {tuple(var.shape)} does not fit input {tuple(input.shape)}")
    if np.any(var.numpy() < 0):
        raise ValueError(f"{op}: var has negative entry/entries")
    clamped = var + Tensor(np.maximum(var.numpy(), eps) - var.numpy())  # the clamp, not differentiated
    losses = 0.5 * (clamped.log() + (input - target) ** 2 / clamped)
    if full:
        losses = losses + 0.5 * math.log(2 * math.pi)
    return _reduce(losses, reduction)
