"""nn.utils: clip_grad_norm_ / clip_grad_value_ against torch (float64), parameter vectors."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn
from tinygrad_cnn.nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters


def _params_with_grads(grads):
    params = []
    for g in grads:
        p = nn.Parameter(np.zeros(g.shape))
        p.grad = tg.tensor(g.copy(), dtype=np.float64)
        params.append(p)
    return params


@given(seed=st.integers(0, 2**16), max_norm=st.floats(0.01, 10.0),
       norm_type=st.sampled_from([1.0, 2.0, 3.5, math.inf, 0.5]))
def test_clip_grad_norm_equals_torch(seed, max_norm, norm_type):
    torch = pytest.importorskip("torch", reason="the oracle tests need PyTorch")
    rng = np.random.default_rng(seed)
    grads = [rng.normal(size=s) * rng.uniform(0.1, 3) for s in [(3, 4), (5,), (2, 2, 2)]]
    ours = _params_with_grads(grads) + [nn.Parameter(np.zeros(2))]  # one without a gradient
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(theirs, grads):
        t.grad = torch.from_numpy(g.copy())
    total = clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, tg.Tensor) and total.ndim == 0 and total.dtype == np.float64
    assert total.item() == pytest.approx(expected.item(), rel=1e-12)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=0)


def test_clip_grad_norm_edge_cases():
    assert clip_grad_norm_([nn.Parameter(np.zeros(2))], 1.0).item() == 0.0  # no gradients
    single = _params_with_grads([np.array([3.0, 4.0])])[0]
    assert clip_grad_norm_(single, 1.0).item() == pytest.approx(5.0)  # a lone tensor is accepted
    np.testing.assert_allclose(np.linalg.norm(single.grad.numpy()), 1.0, rtol=1e-5)
    bad = _params_with_grads([np.array([np.inf, 1.0])])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(bad, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(bad[0].grad.numpy(), [np.inf, 1.0])  # unchanged by the failing call
    with pytest.raises(TypeError, match="item 0 is ndarray"):
        clip_grad_norm_([np.zeros(2)], 1.0)


def test_clip_grad_value_clamps_in_place():
    params = _params_with_grads([np.array([-3.0, 0.2, 5.0]), np.array([[0.5, -0.7]])])
    assert clip_grad_value_(params, 0.6) is None
    np.testing.assert_array_equal(params[0].grad.numpy(), [-0.6, 0.2, 0.6])
    np.testing.assert_array_equal(params[1].grad.numpy(), [[0.5, -0.6]])


def test_parameter_vectors_round_trip_and_share_memory():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vec = parameters_to_vector(model.parameters())
    assert vec.shape == (model.get_params_count(),)
    np.testing.assert_array_equal(vec.numpy()[:6], model[0].weight.numpy().ravel())
    vec.sum().backward()  # differentiable: every parameter receives ones
    assert all(np.all(p.grad.numpy() == 1) for p in model.parameters())
    new = tg.arange(model.get_params_count()).to(np.float32)
    vector_to_parameters(new, model.parameters())
    np.testing.assert_array_equal(model[0].bias.numpy(), [6.0, 7.0])
    assert np.shares_memory(model[1].weight.numpy(), new.numpy())
    before = model[0].weight.numpy().copy()
    with pytest.raises(RuntimeError, match="cannot fill parameters of 11 values"):
        vector_to_parameters(tg.zeros(5), model.parameters())
    np.testing.assert_array_equal(model[0].weight.numpy(), before)
    with pytest.raises(TypeError, match="expected a Tensor"):
        vector_to_parameters(np.zeros(11), model.parameters())
