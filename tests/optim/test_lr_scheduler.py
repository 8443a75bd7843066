"""Learning-rate schedules: closed-form values, several groups, state_dict round trip, errors."""

import math

import numpy as np
import pytest

from tinygrad_cnn import optim
from tinygrad_cnn.nn import Parameter
from tinygrad_cnn.optim.lr_scheduler import CosineAnnealingLR, LRScheduler, StepLR


def _sgd(lr=0.1, groups=1):
    return optim.SGD([{"params": [Parameter(np.zeros(1))], "lr": lr * (i + 1)} for i in range(groups)], lr=lr)


def _sequence(scheduler, steps):
    out = [scheduler.get_last_lr()]
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
        out.append(scheduler.get_last_lr())
    return np.array(out)


def test_step_lr_follows_the_closed_form_for_every_group():
    opt = _sgd(0.1, groups=2)
    lrs = _sequence(StepLR(opt, step_size=3, gamma=0.5), 10)
    epochs = np.arange(11)[:, None]
    np.testing.assert_allclose(lrs, np.array([[0.1, 0.2]]) * 0.5 ** (epochs // 3), rtol=1e-12)
    assert opt.param_groups[1]["lr"] == lrs[-1][1] and opt.param_groups[0]["initial_lr"] == 0.1


def test_cosine_annealing_follows_the_closed_form_and_rises_after_t_max():
    opt = _sgd(0.1)
    lrs = _sequence(CosineAnnealingLR(opt, T_max=5, eta_min=0.01), 12)[:, 0]
    t = np.arange(13)
    np.testing.assert_allclose(lrs, 0.01 + 0.09 * (1 + np.cos(np.pi * t / 5)) / 2, rtol=1e-9)
    assert lrs[5] == pytest.approx(0.01) and lrs[10] == pytest.approx(0.1)


def test_scheduler_state_dict_round_trip():
    opt = _sgd(0.1)
    sched = CosineAnnealingLR(opt, T_max=10)
    _sequence(sched, 4)
    saved = sched.state_dict()
    assert "optimizer" not in saved and saved["last_epoch"] == 4
    opt2 = _sgd(0.1)
    resumed = CosineAnnealingLR(opt2, T_max=10)
    opt2.load_state_dict(opt.state_dict())
    resumed.load_state_dict(saved)
    np.testing.assert_allclose(_sequence(resumed, 3), _sequence(sched, 3), rtol=1e-15)
    assert sched.get_last_lr()[0] == pytest.approx(0.05 * (1 + math.cos(math.pi * 7 / 10)))


def test_scheduler_errors():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        StepLR(object(), step_size=2)
    with pytest.raises(ValueError, match="step_size"):
        StepLR(_sgd(), step_size=0)
    with pytest.raises(ValueError, match="T_max"):
        CosineAnnealingLR(_sgd(), T_max=0)
    with pytest.raises(KeyError, match="initial_lr"):
        StepLR(_sgd(), step_size=2, last_epoch=3)
    with pytest.raises(NotImplementedError):
        LRScheduler(_sgd())
