"""MultiheadAttention, TransformerEncoderLayer and TransformerEncoder, as torch.nn's, from
differentiable ops (linear maps, softmax, layer norm); parameter names, initialisation and reprs
as torch's, so state_dicts move between the two. Masks follow torch's MultiheadAttention
convention: True (or -inf) where a position may NOT be attended to."""

from __future__ import annotations

import copy
import math
from typing import Callable

import numpy as np

from tinygrad_cnn.argcheck import positive_int
from tinygrad_cnn.nn import init
from tinygrad_cnn.nn.container import ModuleList
from tinygrad_cnn.nn.dropout import Dropout
from tinygrad_cnn.nn.functional_activations import gelu, relu
from tinygrad_cnn.nn.functional_conv import linear
from tinygrad_cnn.nn.functional_dropout import dropout
from tinygrad_cnn.nn.layers import Linear
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.nn.normalization import LayerNorm
from tinygrad_cnn.nn.parameter import Parameter
from tinygrad_cnn.tensor import Tensor


class NonDynamicallyQuantizableLinear(Linear):
    """Linear under the name torch gives MultiheadAttention's output projection (reprs match)."""


def _additive(mask: Tensor | None, dtype: np.dtype) -> np.ndarray | None:
    """A mask as the array added to the scores: -inf where a bool mask is True, a float one as it is."""
    if mask is None:
        return None
    values = mask.numpy()
    return np.where(values, -np.inf, 0.0).astype(dtype) if values.dtype == np.bool_ else values.astype(dtype)


class MultiheadAttention(Module):
    """Attention with ``num_heads`` heads of embed_dim / num_heads: query (L, N, E), key and
    value (S, N, E) (``batch_first``: (N, L, E); unbatched (L, E)) -> (output (L, N, E), the
    attention weights (N, L, S), averaged over the heads unless ``average_attn_weights=False``,
    or None without ``need_weights``)."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False) -> None:
        super().__init__()
        self.embed_dim = positive_int(embed_dim, "embed_dim", "MultiheadAttention")
        self.num_heads = positive_int(num_heads, "num_heads", "MultiheadAttention")
        if embed_dim % num_heads:
            raise AssertionError("MultiheadAttention: embed_dim must be divisible by num_heads")
        if add_bias_kv or add_zero_attn or (kdim or embed_dim) != embed_dim or (vdim or embed_dim) != embed_dim:
            raise NotImplementedError("MultiheadAttention: add_bias_kv, add_zero_attn and kdim/vdim other than "
                                      "embed_dim are not supported")
        self.kdim = self.vdim = embed_dim
        self.dropout, self.batch_first, self.head_dim = float(dropout), batch_first, embed_dim // num_heads
        self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype=np.float32))
        if bias:
            self.in_proj_bias = Parameter(np.zeros(3 * embed_dim, dtype=np.float32))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
                need_weights: bool = True, attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        if is_causal and attn_mask is None:
            raise RuntimeError("MultiheadAttention: Need attn_mask if specifying the is_causal hint")
        batched = query.ndim == 3
        if not batched:  # (L, E): one sequence
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            key_padding_mask = None if key_padding_mask is None else key_padding_mask.reshape(1, -1)
        elif self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        length, batch, embed = query.shape
        source = key.shape[0]
        heads, size = self.num_heads, self.head_dim
        w_q, w_k, w_v = self.in_proj_weight.chunk(3)
        b_q, b_k, b_v = (None, None, None) if self.in_proj_bias is None else self.in_proj_bias.chunk(3)

        def split(x: Tensor, w: Tensor, b: Tensor | None, count: int) -> Tensor:  # -> (N*H, count, head_dim)
            return linear(x, w, b).reshape(count, batch * heads, size).transpose(0, 1)

        q, k, v = split(query, w_q, b_q, length), split(key, w_k, b_k, source), split(value, w_v, b_v, source)
        scores = (q * (1 / math.sqrt(size))) @ k.transpose(1, 2)  # (N*H, L, S), the query scaled first as torch
        mask = _additive(attn_mask, scores.dtype)
        if mask is not None:
            scores = scores + Tensor(mask.reshape((batch * heads,) + mask.shape[-2:]) if mask.ndim == 3 else mask)
        padding = _additive(key_padding_mask, scores.dtype)
        if padding is not None:  # (N, S) -> every head of each sample
            scores = scores + Tensor(np.repeat(padding, heads, axis=0)[:, None, :])
        weights = scores.softmax(-1)
        if self.dropout and self.training:
            weights = dropout(weights, self.dropout)
        out = (weights @ v).transpose(0, 1).reshape(length * batch, embed)
        out = self.out_proj(out).reshape(length, batch, embed)
        if not batched:
            out = out.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        per_head = weights.reshape(batch, heads, length, source)
        shown = per_head.mean(1) if average_attn_weights else per_head
        return out, (shown if batched else shown.squeeze(0))


_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"relu": relu, "gelu": gelu}


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block (d_model -> dim_feedforward -> d_model), each
    with dropout, a residual connection and layer norm (after, or with ``norm_first`` before)."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = "relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True) -> None:
        super().__init__()
        if isinstance(activation, str) and activation not in _ACTIVATIONS:
            raise RuntimeError(f"TransformerEncoderLayer: activation should be relu/gelu, not {activation}")
        self.self_attn = MultiheadAttention(d_model, nhead, dropout, bias=bias, batch_first=batch_first)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1, self.dropout2 = Dropout(dropout), Dropout(dropout)
        self.activation = _ACTIVATIONS[activation] if isinstance(activation, str) else activation

    def _attend(self, x: Tensor, mask: Tensor | None, padding: Tensor | None, is_causal: bool) -> Tensor:
        return self.dropout1(self.self_attn(x, x, x, padding, need_weights=False, attn_mask=mask,
                                            is_causal=is_causal)[0])

    def _feed_forward(self, x: Tensor) -> Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, src: Tensor, src_mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool = False) -> Tensor:
        x = src
        if self.norm_first:
            x = x + self._attend(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._feed_forward(self.norm2(x))
        x = self.norm1(x + self._attend(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._feed_forward(x))


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` applied in turn (then ``norm`` when given)."""

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src: Tensor, mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        out = src
        for layer in self.layers:
            out = layer(out, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        return out if self.norm is None else self.norm(out)
