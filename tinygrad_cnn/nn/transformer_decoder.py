"""TransformerDecoderLayer, TransformerDecoder and the encoder-decoder Transformer, as torch.nn's,
built on nn.transformer's MultiheadAttention, TransformerEncoder and its attention and
feed-forward blocks. Parameter names, nesting and initialisation are torch's, so a torch
state_dict loads unchanged (``encoder.layers.0.self_attn.in_proj_weight``, ...,
``decoder.norm.weight``)."""

from __future__ import annotations

import copy
from typing import Any, Callable

from tinygrad_cnn.creation import full
from tinygrad_cnn.nn import init
from tinygrad_cnn.nn.container import ModuleList
from tinygrad_cnn.nn.factory import factory_dtype
from tinygrad_cnn.nn.functional_activations import relu
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.nn.normalization import LayerNorm
from tinygrad_cnn.nn.transformer import (
    MultiheadAttention, TransformerEncoder, TransformerEncoderLayer, activation_fn, add_feed_forward_and_norms,
    attention_block, feed_forward,
)
from tinygrad_cnn.tensor import Tensor


class TransformerDecoderLayer(Module):
    """Self-attention over the target, attention over the encoder's ``memory``, then a
    feed-forward block (d_model -> dim_feedforward -> d_model), each with dropout, a residual
    connection and layer norm (after, or with ``norm_first`` before): tgt (T, N, d_model) and
    memory (S, N, d_model) (``batch_first``: (N, T, d_model), (N, S, d_model); unbatched
    (T, d_model), (S, d_model)) -> tgt's shape."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = relu, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        dtype = factory_dtype(device, dtype, "TransformerDecoderLayer")
        super().__init__()
        nonlinearity = activation_fn(activation, "TransformerDecoderLayer")
        self.self_attn = MultiheadAttention(d_model, nhead, dropout, bias=bias, batch_first=batch_first, dtype=dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout, bias=bias, batch_first=batch_first,
                                                 dtype=dtype)
        add_feed_forward_and_norms(self, d_model, dim_feedforward, dropout, layer_norm_eps, bias, dtype, blocks=3)
        self.norm_first = norm_first
        self.activation = nonlinearity

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None, memory_key_padding_mask: Tensor | None = None,
                tgt_is_causal: bool = False, memory_is_causal: bool = False) -> Tensor:
        x = tgt
        if self.norm_first:
            y = self.norm1(x)
            x = x + attention_block(self.self_attn, self.dropout1, y, y, tgt_mask, tgt_key_padding_mask,
                                    tgt_is_causal)
            x = x + attention_block(self.multihead_attn, self.dropout2, self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            return x + feed_forward(self, self.norm3(x), self.dropout3)
        x = self.norm1(x + attention_block(self.self_attn, self.dropout1, x, x, tgt_mask, tgt_key_padding_mask,
                                           tgt_is_causal))
        x = self.norm2(x + attention_block(self.multihead_attn, self.dropout2, x, memory, memory_mask,
                                           memory_key_padding_mask, memory_is_causal))
        return self.norm3(x + feed_forward(self, x, self.dropout3))


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` applied in turn to the target, each attending
    to the same ``memory`` (then ``norm`` when given)."""

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Module | None = None) -> None:
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None, memory_key_padding_mask: Tensor | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        out = tgt
        for layer in self.layers:
            out = layer(out, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                        tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                        tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        return out if self.norm is None else self.norm(out)


class Transformer(Module):
    """The encoder-decoder transformer of "Attention Is All You Need": ``num_encoder_layers``
    encoder layers and ``num_decoder_layers`` decoder layers, each stack followed by a LayerNorm
    (or ``custom_encoder``/``custom_decoder``). src (S, N, d_model) and tgt (T, N, d_model)
    (``batch_first``: (N, S, ...), (N, T, ...); unbatched (S, d_model), (T, d_model)) -> the
    decoder's output, tgt's shape. Every parameter of more than one dimension starts
    Xavier-uniform, as torch's."""

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6, num_decoder_layers: int = 6,
                 dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = relu, custom_encoder: Any | None = None,
                 custom_decoder: Any | None = None, layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        dtype = factory_dtype(device, dtype, "Transformer")
        super().__init__()
        # the factory dtype goes to the layers made here, not to custom_encoder/custom_decoder, as torch's
        shared = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first, bias,
                  None, dtype)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(TransformerEncoderLayer(*shared), num_encoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(TransformerDecoderLayer(*shared), num_decoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        self._reset_parameters()
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def _reset_parameters(self) -> None:
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Tensor | None = None, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None, memory_key_padding_mask: Tensor | None = None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        batch_dim = 0 if self.batch_first else 1
        if src.dim() == 3 and src.size(batch_dim) != tgt.size(batch_dim):
            raise RuntimeError(f"Transformer: the batch number of src and tgt must be equal, got src "
                               f"{tuple(src.shape)} and tgt {tuple(tgt.shape)}")
        if src.size(-1) != self.d_model or tgt.size(-1) != self.d_model:
            raise RuntimeError(f"Transformer: the feature number of src and tgt must be equal to d_model "
                               f"({self.d_model}), got src {tuple(src.shape)} and tgt {tuple(tgt.shape)}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None) -> Tensor:
        """The (sz, sz) causal mask: -inf above the diagonal (a position may not attend to later
        ones), 0.0 elsewhere, in ``dtype`` (default: the default float dtype)."""
        return full((sz, sz), float("-inf"), dtype=dtype, device=device).triu(1)
