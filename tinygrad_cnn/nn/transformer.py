"""MultiheadAttention, TransformerEncoderLayer and TransformerEncoder, as torch.nn's, from
differentiable ops (linear maps, softmax, layer norm), and the attention and feed-forward
blocks the decoder (transformer_decoder.py) shares; parameter names, initialisation and reprs
as torch's, so state_dicts move between the two. Masks follow torch's MultiheadAttention
convention: True (or -inf) where a position may NOT be attended to."""

from __future__ import annotations

import copy
import math
from typing import Any, Callable

import numpy as np

from tinygrad_cnn.argcheck import positive_int
from tinygrad_cnn.functions import cat
from tinygrad_cnn.nn import init
from tinygrad_cnn.nn.container import ModuleList
from tinygrad_cnn.nn.dropout import Dropout
from tinygrad_cnn.nn.factory import cast_to, factory_dtype
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


def _check_masks(mask: np.ndarray | None, padding: np.ndarray | None, pair: tuple[int, int], groups: int,
                 batch: int) -> None:
    """torch's checks: attn_mask (L, S) or (N * num_heads, L, S); key_padding_mask (N, S)."""
    if mask is not None:
        if mask.ndim not in (2, 3):
            raise AssertionError(f"MultiheadAttention: expected `attn_mask` to be `None`, 2-D or 3-D but found "
                                 f"{mask.ndim}-D tensor instead")
        expected = pair if mask.ndim == 2 else (groups,) + pair
        if mask.shape != expected:
            raise RuntimeError(f"MultiheadAttention: The shape of the {mask.ndim}D attn_mask is {tuple(mask.shape)}, but "
                               f"should be {expected}.")
    if padding is not None and padding.shape != (batch, pair[1]):
        raise AssertionError(f"MultiheadAttention: expected key_padding_mask of shape {(batch, pair[1])}, got "
                             f"{tuple(padding.shape)}")


def _additive(mask: Tensor | None, dtype: np.dtype) -> np.ndarray | None:
    """A mask as the array added to the scores: -inf where a bool mask is True, a float one as it is."""
    if mask is None:
        return None
    values = mask.numpy()
    return np.where(values, -np.inf, 0.0).astype(dtype) if values.dtype == np.bool_ else values.astype(dtype)


class MultiheadAttention(Module):
    """Attention with ``num_heads`` heads of embed_dim / num_heads: query (L, N, E), key (S, N,
    kdim) and value (S, N, vdim) (``batch_first``: (N, L, E), ...; unbatched (L, E), ...) ->
    (output (L, N, E), the attention weights (N, L, S), averaged over the heads unless
    ``average_attn_weights=False``, or None without ``need_weights``). kdim/vdim other than
    embed_dim give separate q/k/v_proj_weight parameters instead of in_proj_weight;
    ``add_bias_kv`` appends a learned key and value, ``add_zero_attn`` a zero key and value
    (after the heads are split), each attended like the others (S grows by one)."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: Any = None, dtype: Any = None) -> None:
        dtype = factory_dtype(device, dtype, "MultiheadAttention")
        super().__init__()
        self.embed_dim = positive_int(embed_dim, "embed_dim", "MultiheadAttention")
        self.num_heads = positive_int(num_heads, "num_heads", "MultiheadAttention")
        if embed_dim % num_heads:
            raise AssertionError("MultiheadAttention: embed_dim must be divisible by num_heads")
        self.kdim = embed_dim if kdim is None else positive_int(kdim, "kdim", "MultiheadAttention")
        self.vdim = embed_dim if vdim is None else positive_int(vdim, "vdim", "MultiheadAttention")
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first, self.head_dim = float(dropout), batch_first, embed_dim // num_heads
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype=np.float32))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:  # separate projections of the key's kdim and the value's vdim features
            self.q_proj_weight = Parameter(np.empty((embed_dim, embed_dim), dtype=np.float32))
            self.k_proj_weight = Parameter(np.empty((embed_dim, self.kdim), dtype=np.float32))
            self.v_proj_weight = Parameter(np.empty((embed_dim, self.vdim), dtype=np.float32))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.zeros(3 * embed_dim, dtype=np.float32))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias)
        if add_bias_kv:  # one learned key and value appended to every sequence of keys and values
            self.bias_k = Parameter(np.empty((1, 1, embed_dim), dtype=np.float32))
            self.bias_v = Parameter(np.empty((1, 1, embed_dim), dtype=np.float32))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()
        cast_to(self, dtype)

    def _reset_parameters(self) -> None:
        for weight in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
            if weight is not None:
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        for extra in (self.bias_k, self.bias_v):
            if extra is not None:
                init.xavier_normal_(extra)

    def merge_masks(self, attn_mask: Tensor | None, key_padding_mask: Tensor | None,
                    query: Tensor) -> tuple[Tensor | None, int | None]:
        """torch's mask merge for a batch-first ``query`` (N, L, E): (key_padding_mask, 1) alone,
        else (attn_mask (L, L) or (N * num_heads, L, L) as (N, num_heads, L, L), 2), plus the
        padding mask (N, L) broadcast over heads and queries when both are given; (None, None)
        without masks."""
        merged, mask_type = (key_padding_mask, 1) if key_padding_mask is not None else (None, None)
        if attn_mask is not None:
            batch, length = query.shape[0], query.shape[1]
            if attn_mask.dim() == 3:
                merged = attn_mask.view(batch, -1, length, length)
            else:
                merged = attn_mask.view(1, 1, length, length).expand(batch, self.num_heads, -1, -1)
            if key_padding_mask is not None:
                merged = merged + key_padding_mask.view(batch, 1, 1, length).expand(-1, self.num_heads, -1, -1)
            mask_type = 2
        return merged, mask_type

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
        heads, size = self.num_heads, self.head_dim
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"MultiheadAttention: key's sequence and batch dims {tuple(key.shape[:2])} do not "
                                 f"match value's {tuple(value.shape[:2])}")
        mask, padding = _additive(attn_mask, query.dtype), _additive(key_padding_mask, query.dtype)
        _check_masks(mask, padding, (length, key.shape[0]), batch * heads, batch)
        if self._qkv_same_embed_dim:
            w_q, w_k, w_v = self.in_proj_weight.chunk(3)
        else:
            w_q, w_k, w_v = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        b_q, b_k, b_v = (None, None, None) if self.in_proj_bias is None else self.in_proj_bias.chunk(3)
        q, k, v = linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(1, batch, embed)])
            v = cat([v, self.bias_v.expand(1, batch, embed)])
        q, k, v = (t.reshape(t.shape[0], batch * heads, size).transpose(0, 1) for t in (q, k, v))  # (N*H, ., size)
        if self.add_zero_attn:
            zeros = Tensor(np.zeros((batch * heads, 1, size), dtype=k.dtype))
            k, v = cat([k, zeros], 1), cat([v, zeros], 1)
        source, extra = k.shape[1], k.shape[1] - key.shape[0]
        scores = (q * (1 / math.sqrt(size))) @ k.transpose(1, 2)  # (N*H, L, S), the query scaled first as torch
        if mask is not None:  # the appended keys (bias_k, zeros) are never masked
            mask = np.pad(mask, [(0, 0)] * (mask.ndim - 1) + [(0, extra)])
            scores = scores + Tensor(mask)
        if padding is not None:  # (N, S) -> every head of each sample
            padding = np.pad(padding, [(0, 0), (0, extra)])
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


def activation_fn(activation: str | Callable[[Tensor], Tensor], owner: str) -> Callable[[Tensor], Tensor]:
    """The feed-forward nonlinearity of a transformer layer: "relu"/"gelu" by name, or the callable itself."""
    if not isinstance(activation, str):
        return activation
    if activation not in _ACTIVATIONS:
        raise RuntimeError(f"{owner}: activation should be relu/gelu, not {activation}")
    return _ACTIVATIONS[activation]


def attention_block(attention: MultiheadAttention, after: Dropout, x: Tensor, memory: Tensor,
                    mask: Tensor | None, padding: Tensor | None, is_causal: bool) -> Tensor:
    """``after`` applied to the attention of x over memory (no attention weights computed)."""
    return after(attention(x, memory, memory, padding, need_weights=False, attn_mask=mask, is_causal=is_causal)[0])


def add_feed_forward_and_norms(layer: Module, d_model: int, dim_feedforward: int, dropout: float,
                               layer_norm_eps: float, bias: bool, dtype: Any, blocks: int) -> None:
    """Give a transformer layer torch's feed-forward parts (linear1, dropout, linear2) and, for each
    of its ``blocks`` residual blocks, a LayerNorm ``norm<k>`` and a Dropout ``dropout<k>``, in
    torch's registration order."""
    layer.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
    layer.dropout = Dropout(dropout)
    layer.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
    for k in range(1, blocks + 1):
        setattr(layer, f"norm{k}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
    for k in range(1, blocks + 1):
        setattr(layer, f"dropout{k}", Dropout(dropout))


def feed_forward(layer: Module, x: Tensor, last_dropout: Dropout) -> Tensor:
    """A transformer layer's feed-forward block: linear1, activation, dropout, linear2, then ``last_dropout``."""
    return last_dropout(layer.linear2(layer.dropout(layer.activation(layer.linear1(x)))))


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block (d_model -> dim_feedforward -> d_model), each
    with dropout, a residual connection and layer norm (after, or with ``norm_first`` before):
    src (S, N, d_model) (``batch_first``: (N, S, d_model); unbatched (S, d_model)) -> the same shape."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = relu, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        dtype = factory_dtype(device, dtype, "TransformerEncoderLayer")
        super().__init__()
        nonlinearity = activation_fn(activation, "TransformerEncoderLayer")
        self.self_attn = MultiheadAttention(d_model, nhead, dropout, bias=bias, batch_first=batch_first, dtype=dtype)
        add_feed_forward_and_norms(self, d_model, dim_feedforward, dropout, layer_norm_eps, bias, dtype, blocks=2)
        self.norm_first = norm_first
        self.activation = nonlinearity

    def forward(self, src: Tensor, src_mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool = False) -> Tensor:
        x = src
        if self.norm_first:
            y = self.norm1(x)
            x = x + attention_block(self.self_attn, self.dropout1, y, y, src_mask, src_key_padding_mask, is_causal)
            return x + feed_forward(self, self.norm2(x), self.dropout2)
        x = self.norm1(x + attention_block(self.self_attn, self.dropout1, x, x, src_mask, src_key_padding_mask,
                                           is_causal))
        return self.norm2(x + feed_forward(self, x, self.dropout2))


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
