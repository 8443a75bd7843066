"""TransformerDecoderLayer, TransformerDecoder, Transformer and MultiheadAttention's kdim/vdim,
add_bias_kv and add_zero_attn against PyTorch from the same weights (float64, eval mode):
outputs and the gradients of the inputs and of every parameter, with causal and padding masks,
batch_first and norm_first both ways; state_dict keys, reprs, the causal-mask helper, errors;
and pytorch/examples' language_translation model run unchanged under ``compat.install()``
(skipped without torch)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.testing.oracle import module_twins

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")

pytestmark = pytest.mark.oracle

RNG = np.random.default_rng(0)
TOL = dict(rtol=1e-10, atol=1e-12)


def _compare(ours, theirs, inputs: list[np.ndarray], masks: dict, call=lambda m, *xs, **kw: m(*xs, **kw)) -> None:
    """Outputs, then the gradients of a weighted sum of them w.r.t. the inputs and every parameter."""
    ins_o = [tg.tensor(x, requires_grad=True) for x in inputs]
    ins_t = [torch.tensor(x, requires_grad=True) for x in inputs]
    out = call(ours, *ins_o, **{k: None if v is None else tg.tensor(v) for k, v in masks.items()})
    ref = call(theirs, *ins_t, **{k: None if v is None else torch.tensor(v) for k, v in masks.items()})
    out, ref = (out[0], ref[0]) if isinstance(out, tuple) else (out, ref)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **TOL)
    weights = RNG.normal(size=tuple(ref.shape))
    (out * tg.tensor(weights)).sum().backward()
    (ref * torch.tensor(weights)).sum().backward()
    for a, b in zip(ins_o, ins_t):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **TOL)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert (p.grad is None) == (q.grad is None), name
        if q.grad is not None:
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), err_msg=name, **TOL)


def _padding(batch: int, length: int, cut: int) -> np.ndarray:
    """A key padding mask: True over the last ``cut`` positions of sample 1 (the others unpadded)."""
    mask = np.zeros((batch, length), dtype=bool)
    mask[1, length - cut:] = True
    return mask


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_matches_torch(batch_first, norm_first):
    ours, theirs = module_twins(lambda lib: lib.nn.Transformer(8, 2, 2, 2, 16, batch_first=batch_first,
                                                               norm_first=norm_first))
    src, tgt = RNG.normal(size=(6, 3, 8)), RNG.normal(size=(5, 3, 8))
    if batch_first:
        src, tgt = src.transpose(1, 0, 2).copy(), tgt.transpose(1, 0, 2).copy()
    masks = dict(tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64).numpy(),
                 src_key_padding_mask=_padding(3, 6, 2), tgt_key_padding_mask=_padding(3, 5, 1),
                 memory_key_padding_mask=_padding(3, 6, 2))
    _compare(ours, theirs, [src, tgt], masks)


@pytest.mark.parametrize("options", [dict(activation="gelu", bias=False), dict(norm_first=True, layer_norm_eps=1e-3)])
def test_decoder_matches_torch_with_memory_mask_and_unbatched(options):
    def make(lib):
        layer = lib.nn.TransformerDecoderLayer(8, 4, 12, **options)
        return lib.nn.TransformerDecoder(layer, 2, norm=lib.nn.LayerNorm(8))

    ours, theirs = module_twins(make)
    causal = np.triu(np.ones((4, 4), dtype=bool), 1)
    batched = dict(tgt_mask=causal, memory_mask=RNG.normal(size=(4, 6)), memory_key_padding_mask=_padding(2, 6, 3))
    _compare(ours, theirs, [RNG.normal(size=(4, 2, 8)), RNG.normal(size=(6, 2, 8))], batched)
    ours.zero_grad(), theirs.zero_grad()
    _compare(ours, theirs, [RNG.normal(size=(4, 8)), RNG.normal(size=(6, 8))], dict(tgt_mask=causal))


def test_decoder_layer_takes_a_callable_activation_and_custom_stacks():
    ours, theirs = module_twins(lambda lib: lib.nn.TransformerDecoderLayer(8, 2, 16, activation=lib.nn.GELU()))
    assert "(activation): GELU(approximate='none')" in repr(ours)
    _compare(ours, theirs, [RNG.normal(size=(3, 2, 8)), RNG.normal(size=(5, 2, 8))], {})

    def make(lib):
        encoder = lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(8, 2, 16), 1)
        decoder = lib.nn.TransformerDecoder(lib.nn.TransformerDecoderLayer(8, 2, 16, activation=lib.nn.functional.silu),
                                            3)
        return lib.nn.Transformer(8, 2, custom_encoder=encoder, custom_decoder=decoder)

    ours, theirs = module_twins(make)  # no final norms: the custom stacks are used as given
    assert "encoder.norm.weight" not in ours.state_dict() and len(ours.decoder.layers) == 3
    _compare(ours, theirs, [RNG.normal(size=(4, 2, 8)), RNG.normal(size=(3, 2, 8))], {})


def test_transformer_defaults_names_and_initialisation_are_torchs():
    ours, theirs = tg.nn.Transformer(), torch.nn.Transformer()
    assert list(ours.state_dict()) == list(theirs.state_dict()) and repr(ours) == repr(theirs)
    assert (ours.d_model, ours.nhead, ours.batch_first) == (512, 8, False)
    assert len(ours.encoder.layers) == len(ours.decoder.layers) == 6 and ours.decoder.layers[0].dropout.p == 0.1
    weight = ours.decoder.layers[0].linear1.weight.numpy()  # Xavier-uniform: bound sqrt(6 / (512 + 2048))
    assert weight.shape == (2048, 512) and np.abs(weight).max() <= np.sqrt(6 / 2560) and weight.std() > 0.02
    assert np.all(ours.encoder.norm.weight.numpy() == 1)
    assert np.all(ours.decoder.layers[0].multihead_attn.in_proj_bias.numpy() == 0)


def test_generate_square_subsequent_mask_matches_torch():
    for kwargs in (dict(), dict(dtype=torch.float64)):
        ref = torch.nn.Transformer.generate_square_subsequent_mask(4, **kwargs)
        out = tg.nn.Transformer.generate_square_subsequent_mask(4, **{k: tg.float64 for k in kwargs})
        np.testing.assert_array_equal(out.numpy(), ref.numpy())
        assert str(out.dtype) == str(ref.dtype).replace("torch.", "")


@pytest.mark.parametrize("options", [dict(kdim=3, vdim=5), dict(add_bias_kv=True), dict(add_zero_attn=True),
                                     dict(kdim=6, vdim=6, add_bias_kv=True, add_zero_attn=True, bias=False)])
def test_multihead_attention_extras_match_torch(options):
    ours, theirs = module_twins(lambda lib: lib.nn.MultiheadAttention(8, 2, **options))
    query = RNG.normal(size=(4, 3, 8))
    key, value = RNG.normal(size=(6, 3, options.get("kdim", 8))), RNG.normal(size=(6, 3, options.get("vdim", 8)))
    masks = dict(attn_mask=RNG.random((4, 6)) > 0.8, key_padding_mask=_padding(3, 6, 2))
    for kwargs in (masks, dict(average_attn_weights=False)):
        weights = ours(*(tg.tensor(x) for x in (query, key, value)), **{k: tg.tensor(v) for k, v in kwargs.items()})
        expected = theirs(*(torch.tensor(x) for x in (query, key, value)),
                          **{k: torch.tensor(v) for k, v in kwargs.items()})
        np.testing.assert_allclose(weights[1].numpy(), expected[1].detach().numpy(), **TOL)
        ours.zero_grad(), theirs.zero_grad()
        _compare(ours, theirs, [query, key, value], kwargs)


def test_decoder_refuses_what_torch_refuses():
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
            lib.nn.TransformerDecoderLayer(8, 2, activation="tanh")
        model = lib.nn.Transformer(8, 2, 1, 1, 16)
        with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
            model(lib.ones(5, 3, 8), lib.ones(4, 2, 8))
        with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
            model(lib.ones(5, 3, 8), lib.ones(4, 3, 6))
        x = lib.ones(5, 3, 8)
        with pytest.raises(RuntimeError, match="The shape of the 2D attn_mask is"):
            model.decoder(x, x, tgt_mask=lib.zeros(4, 5))
        with pytest.raises(AssertionError):
            model.decoder(x, x, memory_key_padding_mask=lib.zeros(3, 4, dtype=lib.bool))
        with pytest.raises(AssertionError, match="do not match value's"):
            lib.nn.MultiheadAttention(8, 2, kdim=3, vdim=5)(x, lib.ones(5, 3, 3), lib.ones(4, 3, 5))


# pytorch/examples (BSD-3-Clause, tests/compat/programs/LICENSE-pytorch-examples), unchanged:
# language_translation/src/model.py, then generate_square_subsequent_mask and create_mask of
# language_translation/src/data.py and greedy decoding as in language_translation/main.py
EXAMPLE = '''
import math

import torch
from torch.nn import functional as F
from torch import nn

class PositionalEncoding(nn.Module):
    def __init__(
        self,
        emb_size,
        dropout,
        maxlen=5000
    ):
        super(PositionalEncoding, self).__init__()
        den = torch.exp(- torch.arange(0, emb_size, 2)* math.log(10000) / emb_size)
        pos = torch.arange(0, maxlen).reshape(maxlen, 1)
        pos_embedding = torch.zeros((maxlen, emb_size))
        pos_embedding[:, 0::2] = torch.sin(pos * den)
        pos_embedding[:, 1::2] = torch.cos(pos * den)
        pos_embedding = pos_embedding.unsqueeze(-2)

        self.dropout = nn.Dropout(dropout)
        self.register_buffer('pos_embedding', pos_embedding)

    def forward(self, token_embedding):
        return self.dropout(token_embedding + self.pos_embedding[:token_embedding.size(0), :])

class Translator(nn.Module):
    def __init__(
            self,
            num_encoder_layers,
            num_decoder_layers,
            embed_size,
            num_heads,
            src_vocab_size,
            tgt_vocab_size,
            dim_feedforward,
            dropout
        ):
        super(Translator, self).__init__()

        # Output of embedding must be equal (embed_size)
        self.src_embedding = nn.Embedding(src_vocab_size, embed_size)
        self.tgt_embedding = nn.Embedding(tgt_vocab_size, embed_size)

        self.pos_enc = PositionalEncoding(embed_size, dropout)

        self.transformer = nn.Transformer(
            d_model=embed_size,
            nhead=num_heads,
            num_encoder_layers=num_encoder_layers,
            num_decoder_layers=num_decoder_layers,
            dim_feedforward=dim_feedforward,
            dropout=dropout
        )

        self.ff = nn.Linear(embed_size, tgt_vocab_size)

        self._init_weights()

    def _init_weights(self):
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def forward(self, src, trg, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask, memory_key_padding_mask):

        src_emb = self.pos_enc(self.src_embedding(src))
        tgt_emb = self.pos_enc(self.tgt_embedding(trg))

        outs = self.transformer(
            src_emb,
            tgt_emb,
            src_mask,
            tgt_mask,
            None,
            src_padding_mask,
            tgt_padding_mask,
            memory_key_padding_mask
        )

        return self.ff(outs)

    def encode(self, src, src_mask):

        embed = self.src_embedding(src)

        pos_enc = self.pos_enc(embed)

        return self.transformer.encoder(pos_enc, src_mask)

    def decode(self, tgt, memory, tgt_mask):
        
        embed = self.tgt_embedding(tgt)

        pos_enc = self.pos_enc(embed)

        return self.transformer.decoder(pos_enc, memory, tgt_mask)

def generate_square_subsequent_mask(size, device):
    mask = (torch.triu(torch.ones((size, size), device=device)) == 1).transpose(0, 1)
    mask = mask.float().masked_fill(mask == 0, float('-inf')).masked_fill(mask == 1, float(0.0))
    return mask

# Create masks for input into model
def create_mask(src, tgt, pad_idx, device):

    # Get sequence length
    src_seq_len = src.shape[0]
    tgt_seq_len = tgt.shape[0]

    # Generate the mask
    tgt_mask = generate_square_subsequent_mask(tgt_seq_len, device)
    src_mask = torch.zeros((src_seq_len, src_seq_len),device=device).type(torch.bool)

    # Overlay the mask over the original input
    src_padding_mask = (src == pad_idx).transpose(0, 1)
    tgt_padding_mask = (tgt == pad_idx).transpose(0, 1)
    return src_mask, tgt_mask, src_padding_mask, tgt_padding_mask
'''

# one training step's loss and gradients and a greedy decoding, from the weights in WEIGHTS
DRIVER = '''
import numpy as np
from torch.nn.utils.rnn import pad_sequence
model = Translator(2, 2, 8, 2, 13, 11, 16, 0.1)
model.load_state_dict({k: torch.tensor(v) for k, v in np.load(WEIGHTS).items()})
model = model.double().eval()
src = pad_sequence([torch.tensor([2, 5, 7, 9, 3]), torch.tensor([2, 4, 3]), torch.tensor([2, 8, 6, 3])],
                   padding_value=1)
tgt = pad_sequence([torch.tensor([2, 5, 3]), torch.tensor([2, 4, 6, 7, 3]), torch.tensor([2, 8, 3])], padding_value=1)
src_mask, tgt_mask, src_padding_mask, tgt_padding_mask = create_mask(src, tgt[:-1, :], 1, "cpu")
logits = model(src, tgt[:-1, :], src_mask, tgt_mask, src_padding_mask, tgt_padding_mask, src_padding_mask)
loss = torch.nn.CrossEntropyLoss(ignore_index=1)(logits.reshape(-1, logits.shape[-1]), tgt[1:, :].reshape(-1))
loss.backward()
result = {"logits": logits.detach().numpy(), **{k: p.grad.numpy() for k, p in model.named_parameters()}}
memory = model.encode(src[:, :1], torch.zeros((5, 5)).type(torch.bool))
ys = torch.ones(1, 1).fill_(2).type(torch.long)
for _ in range(4):
    out = model.decode(ys, memory, generate_square_subsequent_mask(ys.size(0), "cpu").type(torch.bool))
    _, next_word = torch.max(model.ff(out.transpose(0, 1)[:, -1]), dim=1)
    ys = torch.cat([ys, torch.ones(1, 1).type_as(src.data).fill_(next_word.item())], dim=0)
result["ys"] = ys.numpy()
np.savez(RESULT, **result)
'''


def test_language_translation_example_runs_unchanged_under_compat(tmp_path):
    weights, ours_file, theirs_file = tmp_path / "w.npz", tmp_path / "ours.npz", tmp_path / "theirs.npz"
    namespace: dict = {}
    exec(EXAMPLE, namespace)  # real torch
    initial = namespace["Translator"](2, 2, 8, 2, 13, 11, 16, 0.1).state_dict()
    np.savez(weights, **{k: v.double().numpy() for k, v in initial.items()})
    exec(DRIVER, {**namespace, "WEIGHTS": weights, "RESULT": theirs_file})
    program = textwrap.dedent(f"""
        import tinygrad_cnn.compat
        tinygrad_cnn.compat.install()
        exec({EXAMPLE!r})
        WEIGHTS, RESULT = {str(weights)!r}, {str(ours_file)!r}
        exec({DRIVER!r})
    """)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    ours, theirs = np.load(ours_file), np.load(theirs_file)
    assert sorted(ours) == sorted(theirs) and len(theirs) > 40
    for name in theirs:
        np.testing.assert_allclose(ours[name], theirs[name], err_msg=name, **TOL)
