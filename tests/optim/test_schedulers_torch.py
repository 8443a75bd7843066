"""Every learning-rate schedule against torch.optim.lr_scheduler: the learning rates (and cycled
momenta) of two parameter groups over 30 steps, resumption from state_dict, ReduceLROnPlateau on a
metric sequence, and construction errors."""

import numpy as np
import pytest

from tinygrad_cnn import optim
from tinygrad_cnn.nn import Parameter
from tinygrad_cnn.optim import lr_scheduler as ours

torch = pytest.importorskip("torch", reason="the oracle tests need PyTorch (the 'oracle' extra)")
theirs = torch.optim.lr_scheduler

pytestmark = pytest.mark.oracle


class Halving:
    """A callable object (its __dict__ travels in state_dict, as torch's)."""

    def __init__(self):
        self.rate = 0.5

    def __call__(self, epoch):
        return self.rate ** (epoch // 4)


def _optimizers(kind="SGD"):
    def groups(make):
        return [{"params": [make()]}, {"params": [make()], "lr": 0.3}]

    extra = dict(momentum=0.9) if kind == "SGD" else {}
    return (getattr(optim, kind)(groups(lambda: Parameter(np.zeros(1))), lr=0.1, **extra),
            getattr(torch.optim, kind)(groups(lambda: torch.zeros(1, requires_grad=True)), lr=0.1, **extra))


SIMPLE = [
    ("LambdaLR", dict(lr_lambda=lambda e: 0.95 ** e)),
    ("LambdaLR", dict(lr_lambda=[lambda e: 1 / (e + 1), Halving()])),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.9)),
    ("StepLR", dict(step_size=4, gamma=0.7)),
    ("MultiStepLR", dict(milestones=[3, 7, 7, 20], gamma=0.5)),
    ("ConstantLR", dict(factor=0.25, total_iters=6)),
    ("LinearLR", dict(start_factor=0.2, end_factor=0.9, total_iters=9)),
    ("ExponentialLR", dict(gamma=0.93)),
    ("PolynomialLR", dict(total_iters=12, power=2.0)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=1e-3)),
    ("CosineAnnealingWarmRestarts", dict(T_0=4, T_mult=2, eta_min=0.01)),
    ("CosineAnnealingWarmRestarts", dict(T_0=5)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=4, step_size_down=3)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=3, mode="triangular2")),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range", gamma=0.95)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=31)),
    ("OneCycleLR", dict(max_lr=[0.5, 1.0], epochs=4, steps_per_epoch=8, anneal_strategy="linear", three_phase=True,
                        pct_start=0.25)),
]


def _trace(scheduler, opt, steps, metrics=None):
    """The learning rates (and momenta/beta1) after construction and after each step."""
    out = []
    for k in range(steps + 1):
        momenta = [g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups]
        out.append(list(scheduler.get_last_lr()) + [g["lr"] for g in opt.param_groups] + momenta)
        opt.step()
        scheduler.step() if metrics is None else scheduler.step(metrics[k])
    return np.array(out, dtype=np.float64)


# the momentum-cycling schedules also run on Adam (they cycle beta1 there)
@pytest.mark.parametrize("name, kwargs, kind", [(n, k, "SGD") for n, k in SIMPLE]
                         + [(n, k, "Adam") for n, k in SIMPLE if n in ("CyclicLR", "OneCycleLR")])
def test_schedule_matches_torch(name, kwargs, kind):
    opt, topt = _optimizers(kind)
    mine, reference = getattr(ours, name)(opt, **kwargs), getattr(theirs, name)(topt, **kwargs)
    np.testing.assert_allclose(_trace(mine, opt, 30), _trace(reference, topt, 30), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name, kwargs", SIMPLE[:1] + SIMPLE[1:2] + SIMPLE[3:6] + SIMPLE[9:11] + SIMPLE[12:13])
def test_resuming_from_state_dict_continues_torchs_sequence(name, kwargs):
    opt, topt = _optimizers()
    mine, reference = getattr(ours, name)(opt, **kwargs), getattr(theirs, name)(topt, **kwargs)
    _trace(mine, opt, 9)
    _trace(reference, topt, 9)
    opt2, _ = _optimizers()
    resumed = getattr(ours, name)(opt2, **kwargs)  # built first, then both states loaded (as checkpoint.load)
    opt2.load_state_dict(opt.state_dict())
    resumed.load_state_dict(mine.state_dict())
    np.testing.assert_allclose(_trace(resumed, opt2, 12), _trace(reference, topt, 12), rtol=1e-12, atol=1e-15)


def test_closed_form_step_with_epoch_matches_torch():
    opt, topt = _optimizers()
    mine, reference = ours.StepLR(opt, step_size=3, gamma=0.5), theirs.StepLR(topt, step_size=3, gamma=0.5)
    for epoch in (5, 2, 9):
        mine.step(epoch)
        with pytest.warns(UserWarning):
            reference.step(epoch)
        assert mine.get_last_lr() == pytest.approx(reference.get_last_lr(), rel=1e-12)
    opt, topt = _optimizers()
    mine, reference = ours.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2), theirs.CosineAnnealingWarmRestarts(
        topt, T_0=3, T_mult=2)
    for epoch in (0.5, 4.25, 11.0, 2.0):
        mine.step(epoch)
        reference.step(epoch)
        assert mine.get_last_lr() == pytest.approx(reference.get_last_lr(), rel=1e-12)


@pytest.mark.parametrize("kwargs", [
    dict(), dict(mode="max", factor=0.5, patience=2, threshold=0.05, threshold_mode="abs", cooldown=2),
    dict(patience=1, min_lr=[0.01, 0.05], factor=0.3), dict(patience=0, threshold=0.2, cooldown=1, eps=0.05),
])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    metrics = [1.0, 0.9, 0.95, 0.91, 0.92, 0.93, 0.5, 0.5, 0.6, 0.49, 0.7, 0.8, 0.9, 1.0, 0.2] * 3
    opt, topt = _optimizers()
    mine, reference = ours.ReduceLROnPlateau(opt, **kwargs), theirs.ReduceLROnPlateau(topt, **kwargs)
    np.testing.assert_allclose(_trace(mine, opt, 40, metrics), _trace(reference, topt, 40, metrics), rtol=1e-12)
    assert mine.best == reference.best and mine.num_bad_epochs == reference.num_bad_epochs


def test_sequential_and_chained_match_torch():
    def build(lib, opt):
        warm = lib.LinearLR(opt, start_factor=0.1, total_iters=4)
        decay = lib.ExponentialLR(opt, gamma=0.9)
        cosine = lib.CosineAnnealingLR(opt, T_max=6)
        return lib.SequentialLR(opt, [warm, decay, cosine], milestones=[4, 10])

    opt, topt = _optimizers()
    np.testing.assert_allclose(_trace(build(ours, opt), opt, 25), _trace(build(theirs, topt), topt, 25), rtol=1e-12)

    def chain(lib, opt):
        return lib.ChainedScheduler([lib.ConstantLR(opt, factor=0.5, total_iters=3), lib.ExponentialLR(opt, 0.9)])

    opt, topt = _optimizers()
    np.testing.assert_allclose(_trace(chain(ours, opt), opt, 15), _trace(chain(theirs, topt), topt, 15), rtol=1e-12)
    saved = chain(ours, _optimizers()[0]).state_dict()
    assert [s["last_epoch"] for s in saved["_schedulers"]] == [0, 0]


@pytest.mark.parametrize("name, kwargs", [
    ("ConstantLR", dict(factor=2.0)), ("LinearLR", dict(start_factor=0.0)), ("LinearLR", dict(end_factor=1.5)),
    ("CosineAnnealingWarmRestarts", dict(T_0=0)), ("CosineAnnealingWarmRestarts", dict(T_0=2, T_mult=0)),
    ("CyclicLR", dict(base_lr=0.1, max_lr=0.2, mode="bad")), ("CyclicLR", dict(base_lr=[0.1], max_lr=0.2)),
    ("OneCycleLR", dict(max_lr=0.1)), ("OneCycleLR", dict(max_lr=0.1, total_steps=10, pct_start=2.0)),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=10, anneal_strategy="step")),
    ("ReduceLROnPlateau", dict(factor=1.0)), ("ReduceLROnPlateau", dict(min_lr=[0.1])),
    ("ReduceLROnPlateau", dict(mode="mid")),
])
def test_bad_arguments_raise_torchs_errors(name, kwargs):
    opt, topt = _optimizers()
    with pytest.raises(ValueError) as reference:
        getattr(theirs, name)(topt, **kwargs)
    with pytest.raises(ValueError) as mine:
        getattr(ours, name)(opt, **kwargs)
    assert str(mine.value) == str(reference.value)


def test_cycle_momentum_needs_a_momentum():
    opt = optim.Adagrad([Parameter(np.zeros(1))])
    with pytest.raises(ValueError, match="optimizer must support momentum"):
        ours.CyclicLR(opt, base_lr=0.1, max_lr=0.2)
    assert opt.param_groups[0]["lr"] == 0.01  # nothing changed
    one = ours.OneCycleLR(optim.SGD([Parameter(np.zeros(1))]), max_lr=0.1, total_steps=2)
    one.optimizer.step()
    one.step()
    one.optimizer.step()
    one.step()
    before = one.get_last_lr()
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        one.step()
    assert one.get_last_lr() == before == [one.optimizer.param_groups[0]["lr"]]
