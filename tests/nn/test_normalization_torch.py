"""BatchNorm1d/2d, LayerNorm and GroupNorm against PyTorch in float64: outputs, input and
parameter gradients, running buffers after several training steps, then eval mode, over
drawn shapes, memory layouts and options (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")

pytestmark = pytest.mark.oracle


def _layouts(x: np.ndarray, layout: str) -> np.ndarray:
    """The values of ``x`` in C order, in conv2d's batch-innermost memory, or strided."""
    if layout == "chwn" and x.ndim >= 3:
        return np.moveaxis(np.ascontiguousarray(np.moveaxis(x, 0, -1)), -1, 0)
    if layout == "strided":
        buffer = np.zeros(x.shape[:-1] + (2 * x.shape[-1],))
        buffer[..., ::2] = x
        return buffer[..., ::2]
    return x


def _randomise(theirs) -> None:
    with torch.no_grad():
        for p in theirs.parameters():
            p.normal_()


def _copy_weights(ours, theirs) -> None:
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})


def _step(ours, theirs, x: np.ndarray, layout: str, rng: np.random.Generator) -> None:
    """One forward/backward on both; outputs, input and parameter gradients must agree."""
    xo = tg.Tensor(_layouts(x, layout), requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-9)
    upstream = rng.normal(size=x.shape)
    yo.backward(upstream)
    yt.backward(torch.tensor(upstream))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-9)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6, atol=1e-9, err_msg=name)
    ours.zero_grad()
    theirs.zero_grad()


def _same_state(ours, theirs) -> None:
    mine, expected = ours.state_dict(), theirs.state_dict()
    assert list(mine) == list(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(mine[key].numpy(), value.numpy(), rtol=1e-6, atol=1e-12, err_msg=key)
        assert mine[key].dtype == value.numpy().dtype, key


@settings(max_examples=8)
@given(rank=st.sampled_from([2, 3, 4]), n=st.integers(2, 4), c=st.integers(1, 3), side=st.integers(1, 4),
       momentum=st.sampled_from([0.1, 0.5, None]), affine=st.booleans(), track=st.booleans(),
       bias=st.booleans(), layout=st.sampled_from(["c", "chwn", "strided"]), seed=st.integers(0, 2**16))
def test_batch_norm_matches_torch_over_training_steps_and_in_eval(rank, n, c, side, momentum, affine, track, bias,
                                                                    layout, seed):
    rng = np.random.default_rng(seed)
    ours_cls, torch_cls = (nn.BatchNorm2d, torch.nn.BatchNorm2d) if rank == 4 else (nn.BatchNorm1d,
                                                                                    torch.nn.BatchNorm1d)
    kwargs = dict(eps=1e-3, momentum=momentum, affine=affine, track_running_stats=track, bias=bias)
    ours, theirs = ours_cls(c, **kwargs).double(), torch_cls(c, **kwargs).double()
    _randomise(theirs)
    _copy_weights(ours, theirs)
    assert repr(ours) == repr(theirs)
    shape = (n, c) + (side,) * (rank - 2)
    for _ in range(3):
        _step(ours, theirs, rng.normal(2, 3, size=shape), layout, rng)
    _same_state(ours, theirs)
    ours.eval()
    theirs.eval()
    _step(ours, theirs, rng.normal(2, 3, size=shape), layout, rng)
    _same_state(ours, theirs)


@pytest.mark.parametrize("layout", ["c", "chwn"])
def test_batch_norm_in_channel_parts_matches_torch_and_ignores_the_thread_count(monkeypatch, layout):
    from tinygrad_cnn.ops import normalization as N
    from tinygrad_cnn.ops import parallel

    monkeypatch.setattr(N, "_PART_SIZE", 40)  # 7 channels of 4 x 3 x 3 = 36 values: 6 parts
    results = []
    for threads in (1, 2):
        monkeypatch.setattr(parallel, "_num_threads", threads)
        rng = np.random.default_rng(3)
        torch.manual_seed(3)
        ours, theirs = nn.BatchNorm2d(7).double(), torch.nn.BatchNorm2d(7).double()
        _randomise(theirs)
        _copy_weights(ours, theirs)
        x = rng.normal(1, 2, size=(4, 7, 3, 3))
        xo = tg.Tensor(_layouts(x, layout), requires_grad=True)
        xt = torch.tensor(x, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        upstream = rng.normal(size=x.shape)
        yo.backward(upstream)
        yt.backward(torch.tensor(upstream))
        np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(ours.bias.grad.numpy(), theirs.bias.grad.numpy(), rtol=1e-6, atol=1e-9)
        _same_state(ours, theirs)
        results.append((yo.numpy(), xo.grad.numpy(), ours.running_var.numpy()))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_batch_norm_keeps_conv_memory_order_and_float32_buffers():
    x = tg.Tensor(np.random.default_rng(0).normal(size=(4, 5, 6, 8)).astype(np.float32)
                  .transpose(3, 0, 1, 2))  # (N, C, H, W) shape, (C, H, W, N) memory, as conv2d returns
    layer = nn.BatchNorm2d(4)
    out = layer(x)
    assert np.moveaxis(out.numpy(), 0, -1).flags.c_contiguous
    assert out.dtype == np.float32 and layer.running_mean.dtype == np.float32
    assert layer.num_batches_tracked.dtype == np.int64 and layer.num_batches_tracked.item() == 1


@settings(max_examples=10)
@given(lead=st.lists(st.integers(1, 3), min_size=1, max_size=2), norm=st.lists(st.integers(1, 4), min_size=1,
                                                                                max_size=2),
       affine=st.booleans(), bias=st.booleans(), seed=st.integers(0, 2**16))
def test_layer_norm_matches_torch(lead, norm, affine, bias, seed):
    rng = np.random.default_rng(seed)
    ours = nn.LayerNorm(norm, eps=1e-4, elementwise_affine=affine, bias=bias).double()
    theirs = torch.nn.LayerNorm(norm, eps=1e-4, elementwise_affine=affine, bias=bias).double()
    _randomise(theirs)
    _copy_weights(ours, theirs)
    assert repr(ours) == repr(theirs)
    _step(ours, theirs, rng.normal(size=tuple(lead) + tuple(norm)), "c", rng)


@settings(max_examples=10)
@given(groups=st.integers(1, 3), per_group=st.integers(1, 3), spatial=st.lists(st.integers(1, 3), max_size=2),
       affine=st.booleans(), layout=st.sampled_from(["c", "chwn"]), seed=st.integers(0, 2**16))
def test_group_norm_matches_torch(groups, per_group, spatial, affine, layout, seed):
    rng = np.random.default_rng(seed)
    channels = groups * per_group
    ours = nn.GroupNorm(groups, channels, eps=1e-4, affine=affine).double()
    theirs = torch.nn.GroupNorm(groups, channels, eps=1e-4, affine=affine).double()
    _randomise(theirs)
    _copy_weights(ours, theirs)
    assert repr(ours) == repr(theirs)
    shape = (2, channels) + tuple(spatial)
    if per_group * int(np.prod(spatial)) > 1:  # a group of one value has zero variance: torch and we give 0
        _step(ours, theirs, rng.normal(size=shape), layout, rng)


def test_batch_norm_of_one_value_per_channel_raises_torch_error_and_changes_nothing():
    layer = nn.BatchNorm1d(3)
    with pytest.raises(ValueError) as ours:
        layer(tg.zeros(1, 3))
    with pytest.raises(ValueError) as theirs:
        torch.nn.BatchNorm1d(3)(torch.zeros(1, 3))
    assert str(ours.value) == str(theirs.value)
    assert layer.num_batches_tracked.item() == 0
    layer.eval()
    assert layer(tg.ones(1, 3)).shape == (1, 3)  # eval mode normalises with the running statistics
