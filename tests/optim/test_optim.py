"""Optimizers: hand-computed updates, param groups, zero_grad, dtype, state_dict round trips, errors."""

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor, optim
from tinygrad_cnn.nn import Linear, Parameter


def _param(values, grad):
    p = Parameter(np.array(values, dtype=np.float64))
    p.grad = Tensor(np.array(grad, dtype=np.float64))
    return p


def test_sgd_step_by_hand():
    p = _param([1.0, -2.0], [0.5, 1.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    opt.step()
    g1 = np.array([0.5, 1.0]) + 0.01 * np.array([1.0, -2.0])
    expected = np.array([1.0, -2.0]) - 0.1 * g1
    np.testing.assert_allclose(p.numpy(), expected, rtol=1e-15)
    opt.step()
    g2 = np.array([0.5, 1.0]) + 0.01 * expected
    np.testing.assert_allclose(p.numpy(), expected - 0.1 * (0.9 * g1 + g2), rtol=1e-15)


def test_adam_first_step_moves_each_weight_by_lr():
    p = _param([1.0, -2.0, 3.0], [0.5, -3.0, 1e-3])
    optim.Adam([p], lr=0.01).step()
    # after one step m_hat = g and v_hat = g**2, so the update is lr * g / (|g| + eps)
    g = np.array([0.5, -3.0, 1e-3])
    np.testing.assert_allclose(p.numpy(), np.array([1.0, -2.0, 3.0]) - 0.01 * g / (np.abs(g) + 1e-8), rtol=1e-12)


def test_adamw_decays_weights_independently_of_the_gradient():
    p = _param([2.0], [0.0])
    optim.AdamW([p], lr=0.1, weight_decay=0.5).step()
    np.testing.assert_allclose(p.numpy(), [2.0 * (1 - 0.1 * 0.5)])
    q = _param([2.0], [0.0])
    optim.Adam([q], lr=0.1, weight_decay=0.5).step()
    np.testing.assert_allclose(q.numpy(), [2.0 - 0.1], rtol=1e-7)  # L2 enters the gradient, normalised by Adam
    assert optim.AdamW([q]).param_groups[0]["weight_decay"] == 1e-2


def test_parameters_without_gradients_are_left_alone():
    a, b = _param([1.0], [1.0]), Parameter(np.array([5.0]))
    opt = optim.Adam([a, b], lr=0.1)
    opt.step()
    assert b.numpy()[0] == 5.0 and b not in opt.state and a in opt.state


def test_param_groups_have_their_own_hyper_parameters():
    a, b = _param([1.0], [1.0]), _param([1.0], [1.0])
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.0)
    opt.step()
    assert a.numpy()[0] == pytest.approx(0.9) and b.numpy()[0] == pytest.approx(0.5)
    assert opt.param_groups[1]["momentum"] == 0.0
    c = _param([1.0], [1.0])
    opt.add_param_group({"params": [c], "lr": 1.0})
    opt.step()
    assert c.numpy()[0] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_zero_grad():
    model = Linear(3, 2)
    model(tg.ones(4, 3)).sum().backward()
    opt = optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert all(np.all(p.grad == 0) for p in model.parameters())
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True, weight_decay=1e-3),
    lambda ps: optim.AdamW(ps, lr=0.1),
])
def test_float32_parameters_and_state_stay_float32(make):
    model = Linear(3, 2)
    opt = make(model.parameters())
    for _ in range(2):
        opt.zero_grad()
        model(tg.ones(4, 3)).sum().backward()
        opt.step()
    assert all(p.dtype == np.float32 for p in model.parameters())
    for state in opt.state.values():
        assert all(v.dtype == np.float32 for v in state.values() if isinstance(v, np.ndarray))


def _train(opt, params, steps):
    for _ in range(steps):
        for p in params:
            p.grad = Tensor(np.sin(3 * p.numpy()) + p.numpy() ** 2)
        opt.step()


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9),
    lambda ps: optim.Adam(ps, lr=0.05, amsgrad=True),
    lambda ps: optim.AdamW([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.01}], lr=0.05),
])
def test_state_dict_round_trip_resumes_identically(make):
    rng = np.random.default_rng(0)
    params = [Parameter(rng.normal(size=(3, 2))), Parameter(rng.normal(size=4))]
    opt = make(params)
    _train(opt, params, 3)
    saved = opt.state_dict()
    copies = [Parameter(p.numpy().copy()) for p in params]
    assert isinstance(saved["state"][0], dict) and saved["param_groups"][-1]["params"][-1] == 1
    _train(opt, params, 3)
    resumed = make(copies)
    resumed.load_state_dict(saved)
    _train(resumed, copies, 3)
    for p, q in zip(params, copies):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_state_dict_is_a_copy_and_load_checks_sizes():
    p = _param([1.0, 2.0], [1.0, 1.0])
    opt = optim.Adam([p])
    opt.step()
    saved = opt.state_dict()
    saved["state"][0]["exp_avg"][...] = 99.0
    assert not np.any(opt.state[p]["exp_avg"] == 99.0)
    other = optim.Adam([_param([1.0, 2.0], [0, 0]), _param([1.0], [0])])
    with pytest.raises(ValueError, match="group sizes"):
        other.load_state_dict(saved)
    with pytest.raises(ValueError, match="parameter group"):
        optim.Adam([{"params": [_param([1.0], [0])]}, {"params": [_param([1.0], [0])]}]).load_state_dict(saved)
    wrong_shape = optim.Adam([_param([1.0, 2.0, 3.0], [0, 0, 0])])
    with pytest.raises(ValueError, match="shape"):
        wrong_shape.load_state_dict(saved)


def test_load_state_dict_restores_hyper_parameters():
    p = _param([1.0], [1.0])
    opt = optim.SGD([p], lr=0.5, momentum=0.9)
    fresh = optim.SGD([_param([1.0], [1.0])], lr=0.1, momentum=0.9)
    fresh.load_state_dict(opt.state_dict())
    assert fresh.param_groups[0]["lr"] == 0.5


def test_step_returns_the_closure_loss():
    p = Parameter(np.array([3.0]))
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with tg.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 9.0 and p.numpy()[0] == pytest.approx(1.5)


@pytest.mark.parametrize("make, message", [
    (lambda p: optim.SGD(p, lr=-1), "learning rate"),
    (lambda p: optim.SGD(p, momentum=-0.1), "momentum"),
    (lambda p: optim.SGD(p, weight_decay=-1), "weight_decay"),
    (lambda p: optim.SGD(p, nesterov=True), "Nesterov"),
    (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.0)), "beta parameter at index 1"),
    (lambda p: optim.Adam(p, eps=-1), "epsilon"),
    (lambda p: optim.AdamW(p, lr=-1e-3), "learning rate"),
    (lambda p: optim.Adam(p, weight_decay=-1), "weight_decay"),
    (lambda p: optim.Adam([]), "empty parameter list"),
    (lambda p: optim.Adam([p[0], p[0]]), "same parameter twice"),
    (lambda p: optim.Adam([p[0] * 2]), "non-leaf"),
    (lambda p: optim.Adam([{"lr": 0.1}]), "'params'"),
])
def test_bad_arguments_raise_value_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make([_param([1.0], [1.0])])


def test_bad_parameter_types_raise_type_errors():
    with pytest.raises(TypeError, match="wrap it in a list"):
        optim.SGD(_param([1.0], [1.0]))
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([np.zeros(2)])
    with pytest.raises(TypeError, match="floating point"):
        optim.SGD([tg.Tensor(np.arange(3))])
