"""Optimizers and schedules against PyTorch: 20-step trajectories in float64, state, learning rates."""

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import optim
from tinygrad_cnn.nn import Parameter
from tinygrad_cnn.optim import lr_scheduler

torch = pytest.importorskip("torch", reason="the oracle tests need PyTorch (the 'oracle' extra)")

pytestmark = pytest.mark.oracle


def _loss(w, b, x, t):
    """A small non-convex objective, written once for both libraries."""
    h = (x @ w + b).tanh()
    return ((h - t) ** 2).sum() + 0.1 * (w ** 4).sum()


def _trajectories(make_ours, make_theirs, steps=20, groups=False):
    rng = np.random.default_rng(0)
    w0, b0, x, t = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    ours = [Parameter(w0.copy()), Parameter(b0.copy())]
    theirs = [torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)]
    if groups:
        opt, topt = make_ours([{"params": ours[:1]}, {"params": ours[1:], "lr": 0.02}]), \
            make_theirs([{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.02}])
    else:
        opt, topt = make_ours(ours), make_theirs(theirs)
    xt, tt = torch.tensor(x), torch.tensor(t)
    for step in range(steps):
        opt.zero_grad()
        _loss(*ours, tg.Tensor(x), tg.Tensor(t)).backward()
        opt.step()
        topt.zero_grad()
        _loss(*theirs, xt, tt).backward()
        topt.step()
        for p, q in zip(ours, theirs):
            assert p.dtype == np.float64
            np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-6, atol=1e-12,
                                       err_msg=f"diverged at step {step + 1}")
    return opt, topt


@pytest.mark.parametrize("kwargs", [
    dict(lr=0.05),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.05, weight_decay=0.1),
    dict(lr=0.03, momentum=0.8, nesterov=True, weight_decay=0.05),
])
def test_sgd_follows_torch(kwargs):
    opt, topt = _trajectories(lambda p: optim.SGD(p, **kwargs), lambda p: torch.optim.SGD(p, **kwargs))
    if kwargs.get("momentum"):
        ours = opt.state_dict()["state"][0]["momentum_buffer"]
        np.testing.assert_allclose(ours, topt.state_dict()["state"][0]["momentum_buffer"].numpy(), rtol=1e-6)


@pytest.mark.parametrize("name, kwargs", [
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.01, betas=(0.6, 0.95))),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
])
def test_adam_and_adamw_follow_torch(name, kwargs):
    opt, topt = _trajectories(lambda p: getattr(optim, name)(p, **kwargs),
                              lambda p: getattr(torch.optim, name)(p, **kwargs))
    ours, theirs = opt.state_dict()["state"][1], topt.state_dict()["state"][1]
    assert ours["step"] == theirs["step"].item() == 20
    for key in ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if kwargs.get("amsgrad") else ()):
        np.testing.assert_allclose(ours[key], theirs[key].numpy(), rtol=1e-6)


def test_param_groups_follow_torch():
    _trajectories(lambda p: optim.Adam(p, lr=0.05), lambda p: torch.optim.Adam(p, lr=0.05), groups=True)
    _trajectories(lambda p: optim.SGD(p, lr=0.05, momentum=0.5), lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.5),
                  groups=True)


@pytest.mark.parametrize("name, kwargs", [
    ("StepLR", dict(step_size=3)),
    ("StepLR", dict(step_size=4, gamma=0.7)),
    ("CosineAnnealingLR", dict(T_max=10)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=1e-3)),
])
def test_schedulers_match_torch(name, kwargs):
    opt = optim.SGD([{"params": [Parameter(np.zeros(1))]}, {"params": [Parameter(np.zeros(1))], "lr": 0.3}], lr=0.1)
    topt = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)]},
                            {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.3}], lr=0.1)
    ours, theirs = getattr(lr_scheduler, name)(opt, **kwargs), getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    for _ in range(25):
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12)
        opt.step()
        topt.step()
        ours.step()
        theirs.step()
    assert ours.state_dict()["last_epoch"] == theirs.state_dict()["last_epoch"] == 25
