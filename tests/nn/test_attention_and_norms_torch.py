"""scaled_dot_product_attention, RMSNorm, LocalResponseNorm, Dropout3d and the alpha dropouts
against PyTorch: values and gradients where deterministic, the statistics and the kept
elements' gradient where random, reprs and errors (skipped without torch)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.testing.oracle import check_against_torch

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")
TF = torch.nn.functional

pytestmark = pytest.mark.oracle

RNG = np.random.default_rng(0)
Q, K, V = RNG.normal(size=(2, 3, 5, 4)), RNG.normal(size=(2, 3, 6, 4)), RNG.normal(size=(2, 3, 6, 2))
BOOL_MASK = RNG.random((5, 6)) > 0.3
BOOL_MASK[:, 0] = True  # every query keeps one key
FLOAT_MASK = RNG.normal(size=(5, 6))


@pytest.mark.parametrize("options", [dict(), dict(scale=0.3), dict(attn_mask=BOOL_MASK), dict(attn_mask=FLOAT_MASK)])
def test_scaled_dot_product_attention_matches_torch(options):
    ours = {k: tg.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    theirs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    check_against_torch(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **ours),
                        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, **theirs), [Q, K, V])


def test_causal_and_grouped_attention_match_torch():
    q, k, v = (RNG.normal(size=(2, 3, 5, 4)) for _ in range(3))
    check_against_torch(lambda *t: F.scaled_dot_product_attention(*t, is_causal=True),
                        lambda *t: TF.scaled_dot_product_attention(*t, is_causal=True), [q, k, v])
    k1, v1 = RNG.normal(size=(2, 1, 6, 4)), RNG.normal(size=(2, 1, 6, 2))
    check_against_torch(lambda *t: F.scaled_dot_product_attention(*t, enable_gqa=True),
                        lambda *t: TF.scaled_dot_product_attention(*t, enable_gqa=True), [Q, k1, v1])
    for mask in (RNG.random((5, 5)) > 0.3, RNG.normal(size=(5, 5))):  # the causal mask on top of a given one
        mask[:, 0] = True
        check_against_torch(lambda *t: F.scaled_dot_product_attention(*t, attn_mask=tg.tensor(mask), is_causal=True),
                            lambda *t: TF.scaled_dot_product_attention(*t, attn_mask=torch.tensor(mask),
                                                                       is_causal=True), [q, k, v])


@pytest.mark.parametrize("shape, eps, affine", [((4, 3), None, True), (3, 1e-3, False), ((5, 4, 3), 1e-6, True)])
def test_rms_norm_matches_torch(shape, eps, affine):
    ours, theirs = nn.RMSNorm(shape, eps, affine), torch.nn.RMSNorm(shape, eps, affine).double()
    ours.double()
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    check_against_torch(lambda t: ours(t), lambda t: theirs(t), [RNG.normal(size=(2, 5, 4, 3))])


@pytest.mark.parametrize("size", [1, 2, 3, 5])
@pytest.mark.parametrize("shape", [(2, 5, 4, 3), (2, 6, 7)])
def test_local_response_norm_matches_torch(size, shape):
    ours, theirs = nn.LocalResponseNorm(size, 1e-2, 0.75, 2.0), torch.nn.LocalResponseNorm(size, 1e-2, 0.75, 2.0)
    assert repr(ours) == repr(theirs)
    check_against_torch(lambda t: ours(t), lambda t: theirs(t), [RNG.normal(size=shape)])


@pytest.mark.parametrize("shape", [(4, 3, 2, 2, 2), (3, 2, 2, 2)])
def test_dropout3d_zeroes_whole_channels(shape):
    tg.manual_seed(0)
    layer = nn.Dropout3d(0.5)
    assert repr(layer) == repr(torch.nn.Dropout3d(0.5))
    out = layer(tg.ones(*shape)).numpy()
    volume = out.reshape(out.shape[:-3] + (-1,))
    assert set(np.unique(out)) <= {0.0, 2.0} and np.all(volume == volume[..., :1])
    assert np.array_equal(layer.eval()(tg.ones(*shape)).numpy(), np.ones(shape, np.float32))


def _shared_mask_dims(out: np.ndarray) -> tuple[int, ...]:
    """The dims along which a channel dropout's output (of ones) never varies."""
    return tuple(d for d in range(out.ndim) if out.shape[d] > 1 and np.all(out == out.take([0], axis=d)))


@pytest.mark.parametrize("name, shape", [("dropout2d", (16, 12)), ("dropout2d", (8, 3, 5)), ("dropout2d", (6, 5, 2, 2, 2)),
                                         ("dropout3d", (16, 12)), ("dropout3d", (10, 2, 3)), ("dropout1d", (10, 6)),
                                         ("dropout1d", (4, 10, 6))])
def test_channel_dropouts_of_other_ranks_warn_and_mask_as_torchs(name, shape):
    """torch reads a 2-D input to dropout2d elementwise and the unbatched ranks of dropout3d by
    their first dim, warning (dropout1d does not): the same dims share a mask here, the same warnings."""
    x = np.ones(shape, np.float32)
    with pytest.warns() if name != "dropout1d" else warnings.catch_warnings(record=True) as theirs:
        torch.manual_seed(0)
        expected = getattr(torch.nn.functional, name)(torch.tensor(x), 0.5, True).numpy()
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        tg.manual_seed(1)  # seed 0 happens to draw the first 18 keep flags in equal threes
        out = getattr(F, name)(tg.tensor(x), 0.5, True).numpy()
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    assert set(np.unique(out)) <= {0.0, 2.0} and 0 < out.mean() < 2
    assert _shared_mask_dims(out) == _shared_mask_dims(expected)


def test_dropout2d_needs_two_dims_when_it_drops():
    np.testing.assert_array_equal(F.dropout2d(tg.ones(3), 0.5, training=False).numpy(), np.ones(3))
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions in the input"):
        F.dropout2d(tg.ones(3), 0.5)


@pytest.mark.parametrize("name, layer", [("alpha_dropout", "AlphaDropout"),
                                         ("feature_alpha_dropout", "FeatureAlphaDropout")])
def test_alpha_dropouts_keep_the_mean_and_variance_as_torchs(name, layer):
    z = RNG.normal(size=(4000, 50))
    tg.manual_seed(0)
    ours = getattr(F, name)(tg.tensor(z), 0.2, training=True).numpy()
    theirs = getattr(TF, name)(torch.tensor(z), 0.2, training=True).numpy()
    for values in (ours, theirs):
        assert abs(values.mean()) < 0.02 and abs(values.std() - 1) < 0.02
    a = 1 / np.sqrt((1.7580993408473766 ** 2 * 0.2 + 1) * 0.8)
    dropped = 1.7580993408473766 * a * (0.2 - 1)  # where every dropped element goes, as torch's
    for values in (ours, theirs):
        assert abs(np.isclose(values, dropped).mean() - 0.2) < 0.02
    x = tg.tensor(z[:20], requires_grad=True)
    getattr(F, name)(x, 0.3, training=True).sum().backward()
    assert set(np.unique(x.grad.numpy().round(6))) <= {0.0, round(1 / np.sqrt((1.7580993408473766 ** 2 * 0.3 + 1)
                                                                             * 0.7), 6)}
    assert np.array_equal(getattr(F, name)(tg.tensor(z), 0.2).numpy(), z)
    assert repr(getattr(nn, layer)(0.2)) == repr(getattr(torch.nn, layer)(0.2))
