"""tinygrad_cnn.nn.modes.eval_mode: eval mode for a block, then each submodule's own training flag back."""

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn
from tinygrad_cnn.nn.modes import eval_mode


def _net():
    return nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.Sequential(nn.Dropout(0.5), nn.Linear(4, 2)))


def test_eval_mode_switches_everything_off_and_restores_each_flag_exactly():
    model = _net()
    model[2].eval()  # the user froze one branch (e.g. to keep its dropout off)
    before = [m.training for m in model.modules()]
    assert before == [True, True, True, False, False, False]
    with eval_mode(model) as inside:
        assert inside is model
        assert not any(m.training for m in model.modules())
        x = tg.ones(8, 4)
        np.testing.assert_array_equal(model(x).numpy(), model(x).numpy())  # dropout off: deterministic
    assert [m.training for m in model.modules()] == before


def test_eval_mode_restores_the_flags_when_the_block_raises():
    model = _net()
    model[1].eval()
    before = [m.training for m in model.modules()]
    with pytest.raises(ZeroDivisionError):
        with eval_mode(model):
            1 / 0
    assert [m.training for m in model.modules()] == before
