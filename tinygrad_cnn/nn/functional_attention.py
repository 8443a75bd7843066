"""scaled_dot_product_attention, as torch.nn.functional's (its math form, from differentiable
ops): softmax(query @ key^T * scale + mask) @ value. Re-exported by ``tinygrad_cnn.nn.functional``."""

from __future__ import annotations

import math

import numpy as np

from tinygrad_cnn.nn.checks import check_tensor
from tinygrad_cnn.nn.functional_dropout import dropout
from tinygrad_cnn.tensor import Tensor


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """Attention of query (..., L, E) over key (..., S, E) and value (..., S, Ev) -> (..., L, Ev).

    The scores are query @ key^T times ``scale`` (default 1/sqrt(E)); a bool ``attn_mask``
    (broadcast to (..., L, S)) keeps the positions where it is True, a float one is added;
    ``is_causal`` (also on top of a mask) keeps position j for query i only when j <= i. The softmax over S is dropped
    out with ``dropout_p`` (always, as torch's function does). ``enable_gqa`` repeats the
    key/value heads (dim -3) to the query's count.
    """
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        check_tensor(op, name, t)
    if enable_gqa and key.shape[-3] != query.shape[-3]:
        if query.shape[-3] % key.shape[-3]:
            raise RuntimeError(f"{op}: the query's {query.shape[-3]} heads are not a multiple of the key's "
                               f"{key.shape[-3]}")
        repeats = query.shape[-3] // key.shape[-3]
        key = key.repeat_interleave(repeats, dim=-3)
        value = value.repeat_interleave(repeats, dim=-3)
    factor = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = query @ key.transpose(-2, -1) * factor
    length, source = query.shape[-2], key.shape[-2]
    if attn_mask is not None:
        check_tensor(op, "attn_mask", attn_mask)
        if attn_mask.dtype == np.bool_:
            scores = scores.masked_fill(~attn_mask.numpy(), float("-inf"))
        else:
            scores = scores + attn_mask
    if is_causal:  # on top of attn_mask, as torch 2.13 does
        scores = scores.masked_fill(~np.tril(np.ones((length, source), dtype=bool)), float("-inf"))
    weights = scores.softmax(-1)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    return weights @ value
