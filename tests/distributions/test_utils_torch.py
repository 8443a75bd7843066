"""torch.distributions.utils' helpers against torch's: broadcast_all (numbers take the first
tensor's dtype), probs <-> logits (binary and categorical, clamped at the dtype's eps),
clamp_probs, and lazy_property (computed once, with grad enabled)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.distributions import utils as U

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")

pytestmark = pytest.mark.oracle

TU = torch.distributions.utils


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_probability_conversions(dtype):
    probs = np.array([[0.0, 0.2, 0.8], [1.0, 0.5, 1e-9]], dtype=dtype)
    logits = np.array([[-3.0, 0.0, 2.5], [40.0, -40.0, 1.0]], dtype=dtype)
    for binary in (False, True):
        for ours, theirs, x in [(U.probs_to_logits, TU.probs_to_logits, probs),
                                (U.logits_to_probs, TU.logits_to_probs, logits)]:
            got, expected = ours(tg.tensor(x), is_binary=binary), theirs(torch.tensor(x), is_binary=binary)
            assert got.dtype == dtype
            np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6 if dtype == np.float32 else 1e-14)
    np.testing.assert_array_equal(U.clamp_probs(tg.tensor(probs)).numpy(), TU.clamp_probs(torch.tensor(probs)).numpy())


def test_broadcast_all():
    a, b, c = U.broadcast_all(tg.zeros(2, 1, dtype=tg.float64), 1.5, tg.ones(3))
    at, bt, ct = TU.broadcast_all(torch.zeros(2, 1, dtype=torch.float64), 1.5, torch.ones(3))
    assert a.shape == b.shape == c.shape == tuple(at.shape) == (2, 3)
    assert b.dtype == np.float64 and str(bt.dtype) == "torch.float64" and c.dtype == np.float32
    (x,) = U.broadcast_all(2)
    assert x.shape == () and x.dtype == np.float32 and x.item() == 2.0
    with pytest.raises(ValueError):
        U.broadcast_all(tg.zeros(1), "a")
    with pytest.raises(ValueError):
        TU.broadcast_all(torch.zeros(1), "a")


def test_lazy_property_is_computed_once_with_grad():
    calls = []

    class Holder:
        @U.lazy_property
        def value(self):
            calls.append(1)
            return leaf * 2

    leaf = tg.tensor([1.0], requires_grad=True)
    holder = Holder()
    with tg.no_grad():
        first = holder.value
    assert holder.value is first and len(calls) == 1 and first.requires_grad
    assert isinstance(Holder.value, U.lazy_property)
