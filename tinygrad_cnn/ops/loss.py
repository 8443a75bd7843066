"""Loss ops on arrays: the fused softmax cross-entropy (class and probability targets), the
negative log-likelihood, binary cross-entropy (on probabilities and on logits), smooth L1 and
the Kullback-Leibler divergence. Each forward sits beside its closed-form derivative.

The class-target ops take an optional per-class ``weight`` (C,) and an ``ignore_index``; a
sample's coefficient is w_i = weight[y_i] (1 without weights), 0 where y_i = ignore_index,
and "mean" divides by sum(w_i), as torch does.
"""

from __future__ import annotations

import numpy as np

from tinygrad_cnn.autograd import Context, Function


def reduce_losses(losses: np.ndarray, reduction: str, denominator: float | None = None) -> np.ndarray:
    """Per-sample ``losses`` reduced by "sum", "mean" (sum / ``denominator``, default the count) or "none"."""
    if reduction == "none":
        return losses
    if reduction == "sum":
        return np.asarray(losses.sum(), dtype=losses.dtype)
    count = losses.size if denominator is None else denominator
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(losses.sum() / losses.dtype.type(count), dtype=losses.dtype)


def _row_scale(grad: np.ndarray, n: int, reduction: str, denominator: float | None = None) -> np.ndarray:
    """d loss / d per-sample loss, shaped (N, 1)."""
    if reduction == "none":
        return grad.reshape(n, 1)
    scale = grad / (n if denominator is None else denominator) if reduction == "mean" else grad
    return np.broadcast_to(scale, (n, 1))


def sample_weights(target: np.ndarray, weight: np.ndarray | None, ignore_index: int,
                   dtype: np.dtype) -> np.ndarray | None:
    """w_i = weight[y_i] (or 1), 0 where y_i == ignore_index; None when every w_i is 1 (the fast path)."""
    ignored = target == ignore_index
    if weight is None and not ignored.any():
        return None
    safe = np.where(ignored, 0, target)
    w = np.ones(target.shape, dtype=dtype) if weight is None else weight.astype(dtype, copy=False)[safe]
    return np.where(ignored, dtype.type(0), w)


class CrossEntropy(Function):
    """Softmax cross-entropy of logits (N, C) against integer labels (N,), in one op.

    With q_i = (1 - s) onehot(y_i) + s / C (label smoothing s), loss_i = -sum_c q_c log softmax(z_i)_c
    = logsumexp(z_i) - sum_c q_c z_ic, shifted by the row max so that logits of any magnitude stay
    finite; d loss_i / d z_i = softmax(z_i) - q_i. With class weights wc and sample coefficients
    w_i, loss_i = (1 - s) w_i nll_i + (s / C) [y_i kept] sum_c wc_c (lse_i - z_ic), whose gradient
    is (1 - s) w_i (p_i - onehot) + (s / C) [y_i kept] (sum(wc) p_i - wc).
    """

    op_name = "cross_entropy"

    @staticmethod
    def forward(ctx: Context, logits: np.ndarray, target: np.ndarray, reduction: str = "mean",
                label_smoothing: float = 0.0, weight: np.ndarray | None = None,
                ignore_index: int = -100) -> np.ndarray:
        n, classes = logits.shape
        s = label_smoothing
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        log_total = np.log(total)[:, 0]
        rows = np.arange(n)
        w = sample_weights(target, weight, ignore_index, logits.dtype)
        labels = target if w is None else np.where(w == 0, 0, target)
        losses = log_total - shifted[rows, labels]
        denominator = None
        if w is not None:
            losses *= w
            kept = (target != ignore_index).astype(logits.dtype)
            denominator = float(w.sum())
        if s:
            if weight is None:
                smooth = log_total - shifted.mean(axis=1)
                smooth = smooth if w is None else smooth * kept
            else:
                wc = weight.astype(logits.dtype, copy=False)
                smooth = (log_total * wc.sum() - shifted @ wc) * kept / classes
            losses = (1 - s) * losses + s * smooth
        exp /= total
        ctx.probs, ctx.rows, ctx.labels, ctx.w, ctx.denominator = exp, rows, labels, w, denominator
        return reduce_losses(losses.astype(logits.dtype, copy=False), reduction, denominator)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        probs, rows, labels, w = ctx.probs, ctx.rows, ctx.labels, ctx.w
        n, classes = probs.shape
        s, weight = ctx.params["label_smoothing"], ctx.params["weight"]
        scale = _row_scale(grad, n, ctx.params["reduction"], ctx.denominator)
        if w is None:
            out = probs * scale
            out[rows, labels] -= (1 - s) * scale[:, 0]
            if s:
                out -= (s / classes) * scale
            return out, None
        kept = (ctx.inputs[1].numpy() != ctx.params["ignore_index"]).astype(probs.dtype)[:, None]
        nll_scale = (1 - s) * w[:, None] * scale
        out = probs * nll_scale
        out[rows, labels] -= nll_scale[:, 0]
        if s:
            wc = np.ones(classes, dtype=probs.dtype) if weight is None else weight.astype(probs.dtype, copy=False)
            out += (s / classes) * kept * scale * (wc.sum() * probs - wc)
        return out, None


class SoftCrossEntropy(Function):
    """Cross-entropy of logits (N, C) against class probabilities t (N, C), torch's probability
    targets: loss_i = -sum_c wc_c t_ic log softmax(z_i)_c ("mean" divides by N). Label smoothing
    s replaces t by (1 - s) t + s / C. d/dz_i = p_i sum_c wc_c t_ic - wc t_i; d/dt_i = -wc log p_i."""

    op_name = "cross_entropy"

    @staticmethod
    def forward(ctx: Context, logits: np.ndarray, target: np.ndarray, reduction: str = "mean",
                label_smoothing: float = 0.0, weight: np.ndarray | None = None) -> np.ndarray:
        classes = logits.shape[1]
        s = label_smoothing
        shifted = logits - logits.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        t = (1 - s) * target + s / classes if s else target
        wc = np.ones(classes, dtype=logits.dtype) if weight is None else weight.astype(logits.dtype, copy=False)
        ctx.logp, ctx.t, ctx.wc = logp, t, wc
        return reduce_losses(-(logp * t) @ wc, reduction)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        logp, t, wc = ctx.logp, ctx.t, ctx.wc
        scale = _row_scale(grad, logp.shape[0], ctx.params["reduction"])
        grad_z = (np.exp(logp) * (t @ wc)[:, None] - wc * t) * scale if ctx.needs_input_grad[0] else None
        grad_t = None
        if ctx.needs_input_grad[1]:
            grad_t = -wc * logp * scale * (1 - ctx.params["label_smoothing"])
        return grad_z, grad_t


class NLLLoss(Function):
    """Negative log-likelihood of log-probabilities (N, C) at integer labels (N,):
    loss_i = -w_i input[i, y_i]; d loss_i / d input[i, y_i] = -w_i ("mean" divides by sum(w_i))."""

    op_name = "nll_loss"

    @staticmethod
    def forward(ctx: Context, logp: np.ndarray, target: np.ndarray, reduction: str = "mean",
                weight: np.ndarray | None = None, ignore_index: int = -100) -> np.ndarray:
        rows = np.arange(logp.shape[0])
        w = sample_weights(target, weight, ignore_index, logp.dtype)
        labels = target if w is None else np.where(w == 0, 0, target)
        losses = -logp[rows, labels]
        ctx.denominator = None if w is None else float(w.sum())
        if w is not None:
            losses = losses * w
        ctx.rows, ctx.labels, ctx.w, ctx.shape = rows, labels, w, logp.shape
        return reduce_losses(losses, reduction, ctx.denominator)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        out = np.zeros(ctx.shape, dtype=grad.dtype)
        scale = _row_scale(grad, ctx.shape[0], ctx.params["reduction"], ctx.denominator)[:, 0]
        out[ctx.rows, ctx.labels] = -scale if ctx.w is None else -scale * ctx.w
        return out, None


class BinaryCrossEntropy(Function):
    """-(t log p + (1 - t) log(1 - p)) elementwise, each log clamped at -100 as torch's;
    d/dp = (p - t) / max(p (1 - p), 1e-12), d/dt = log(1 - p) - log(p)."""

    op_name = "binary_cross_entropy"

    @staticmethod
    def forward(ctx: Context, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            log_p, log_q = np.maximum(np.log(p), -100), np.maximum(np.log1p(-p), -100)
        ctx.save_for_backward(p, t, log_p, log_q)
        return -(t * log_p + (1 - t) * log_q)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        p, t, log_p, log_q = ctx.saved_tensors
        grad_p = grad * (p - t) / np.maximum(p * (1 - p), 1e-12) if ctx.needs_input_grad[0] else None
        return grad_p, (grad * (log_q - log_p) if ctx.needs_input_grad[1] else None)


class BinaryCrossEntropyWithLogits(Function):
    """(1 - t) x + (1 + (pw - 1) t) softplus(-x) elementwise (pw the ``pos_weight``, broadcast over
    the last dim; 1 without), stable for any x; d/dx = (1 - t) - (1 + (pw - 1) t) sigmoid(-x),
    d/dt = -x + (pw - 1) softplus(-x)."""

    op_name = "binary_cross_entropy_with_logits"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, t: np.ndarray, pos_weight: np.ndarray | None = None) -> np.ndarray:
        softplus_neg = np.logaddexp(0, -x)
        log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
        ctx.save_for_backward(x, t, softplus_neg)
        ctx.log_weight = log_weight
        return (1 - t) * x + log_weight * softplus_neg

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        x, t, softplus_neg = ctx.saved_tensors
        pos_weight = ctx.params["pos_weight"]
        grad_x = grad_t = None
        if ctx.needs_input_grad[0]:
            sigmoid_neg = np.exp(-np.logaddexp(0, x))
            grad_x = grad * ((1 - t) - ctx.log_weight * sigmoid_neg)
        if ctx.needs_input_grad[1]:
            grad_t = grad * (-x if pos_weight is None else -x + (pos_weight - 1) * softplus_neg)
        return grad_x, grad_t


class SmoothL1(Function):
    """Elementwise 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta, with d = x - t (beta = 0:
    |d|); d/dx = d / beta inside, sign(d) outside; d/dt = -d/dx."""

    op_name = "smooth_l1_loss"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, t: np.ndarray, beta: float = 1.0) -> np.ndarray:
        d = x - t
        magnitude = np.abs(d)
        inside = magnitude < beta
        ctx.save_for_backward(d, inside)
        if not beta:
            return magnitude
        return np.where(inside, 0.5 * d * d / beta, magnitude - 0.5 * beta)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        d, inside = ctx.saved_tensors
        beta = ctx.params["beta"]
        slope = np.where(inside, d / beta, np.sign(d)) if beta else np.sign(d)
        g = grad * slope
        return (g if ctx.needs_input_grad[0] else None), (-g if ctx.needs_input_grad[1] else None)


class KLDiv(Function):
    """Elementwise Kullback-Leibler term of log-probabilities x against targets t:
    t (log t - x) (0 where t = 0), or exp(t) (t - x) when ``log_target``;
    d/dx = -t (or -exp(t)), d/dt = log t + 1 - x (or exp(t) (t - x + 1))."""

    op_name = "kl_div"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, t: np.ndarray, log_target: bool = False) -> np.ndarray:
        ctx.save_for_backward(x, t)
        if log_target:
            return np.exp(t) * (t - x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(t > 0, t * (np.log(np.where(t > 0, t, 1)) - x), -t * x)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        x, t = ctx.saved_tensors
        log_target = ctx.params["log_target"]
        grad_x = grad_t = None
        if ctx.needs_input_grad[0]:
            grad_x = -grad * (np.exp(t) if log_target else t)
        if ctx.needs_input_grad[1]:
            if log_target:
                grad_t = grad * np.exp(t) * (t - x + 1)
            else:
                grad_t = grad * np.where(t > 0, np.log(np.where(t > 0, t, 1)) + 1 - x, 0)
        return grad_x, grad_t
