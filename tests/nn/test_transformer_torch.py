"""MultiheadAttention, TransformerEncoderLayer and TransformerEncoder against PyTorch from the
same weights (float64, eval mode): outputs, attention weights, the input's and the parameters'
gradients, under every mask kind, batch_first, norm_first and gelu; reprs, state_dict keys
and errors (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.testing.oracle import module_twins

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")

pytestmark = pytest.mark.oracle

RNG = np.random.default_rng(0)


def _check_grads(ours, theirs, a, b) -> None:
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


MASKS = [dict(), dict(need_weights=False), dict(average_attn_weights=False),
         dict(attn_mask=RNG.random((5, 6)) > 0.7), dict(attn_mask=RNG.normal(size=(5, 6))),
         dict(key_padding_mask=np.array([[False] * 5 + [True]] * 3))]


@pytest.mark.parametrize("options", MASKS)
def test_multihead_attention_matches_torch(options):
    ours, theirs = module_twins(lambda lib: lib.nn.MultiheadAttention(8, 2))
    query, memory = RNG.normal(size=(5, 3, 8)), RNG.normal(size=(6, 3, 8))
    convert = lambda lib: {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}  # noqa
    a, b = tg.tensor(query, requires_grad=True), torch.tensor(query, requires_grad=True)
    out, ref = ours(a, tg.tensor(memory), tg.tensor(memory), **convert(tg)), \
        theirs(b, torch.tensor(memory), torch.tensor(memory), **convert(torch))
    np.testing.assert_allclose(out[0].numpy(), ref[0].detach().numpy(), rtol=1e-9, atol=1e-12)
    assert (out[1] is None) == (ref[1] is None)
    if out[1] is not None:
        np.testing.assert_allclose(out[1].numpy(), ref[1].detach().numpy(), rtol=1e-9, atol=1e-12)
    out[0].sum().backward()
    ref[0].sum().backward()
    _check_grads(ours, theirs, a, b)


def test_multihead_attention_batch_first_and_unbatched_match_torch():
    for make, shape in ((lambda lib: lib.nn.MultiheadAttention(8, 4, batch_first=True), (3, 5, 8)),
                        (lambda lib: lib.nn.MultiheadAttention(8, 2, bias=False), (5, 8))):
        ours, theirs = module_twins(make)
        x = RNG.normal(size=shape)
        out, ref = ours(*(tg.tensor(x),) * 3), theirs(*(torch.tensor(x),) * 3)
        np.testing.assert_allclose(out[0].numpy(), ref[0].detach().numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(out[1].numpy(), ref[1].detach().numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("options", [dict(), dict(norm_first=True, activation="gelu"), dict(batch_first=True)])
def test_transformer_encoder_matches_torch(options):
    def make(lib):
        layer = lib.nn.TransformerEncoderLayer(8, 2, 16, **options)
        return lib.nn.TransformerEncoder(layer, 2, norm=lib.nn.LayerNorm(8), enable_nested_tensor=False)

    ours, theirs = module_twins(make)
    x = RNG.normal(size=(3, 5, 8) if options.get("batch_first") else (5, 3, 8))
    causal = np.triu(np.ones((5, 5), dtype=bool), 1)
    for mask in (None, causal):
        a, b = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out = ours(a, None if mask is None else tg.tensor(mask))
        ref = theirs(b, None if mask is None else torch.tensor(mask))
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-9, atol=1e-12)
        ours.zero_grad(), theirs.zero_grad()
        out.sum().backward()
        ref.sum().backward()
        _check_grads(ours, theirs, a, b)


def test_attention_refuses_what_torch_refuses():
    for lib in (tg, torch):
        with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
            lib.nn.MultiheadAttention(8, 3)
        x = lib.ones(5, 3, 8)
        with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
            lib.nn.MultiheadAttention(8, 2)(x, x, x, is_causal=True)
