"""nn.init: gains, fans, distributions' bounds and spreads, in-place fills, reproducibility."""

import math

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.nn import Parameter, init


@pytest.fixture(autouse=True)
def _seeded():
    tg.manual_seed(0)


def _big(shape=(256, 64, 3, 3)):
    return Parameter(np.empty(shape, dtype=np.float32))


def test_calculate_gain_table():
    assert init.calculate_gain("linear") == init.calculate_gain("conv2d") == init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", "steep")


def test_fans():
    assert init.calculate_fan_in_and_fan_out(_big((8, 3, 5, 5))) == (75, 200)
    assert init.calculate_fan_in_and_fan_out(_big((10, 4))) == (4, 10)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.calculate_fan_in_and_fan_out(_big((5,)))


@pytest.mark.parametrize("fill, low, high, std", [
    (lambda t: init.uniform_(t, -0.5, 2.0), -0.5, 2.0, 2.5 / math.sqrt(12)),
    (lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), -1 / 24, 1 / 24, 1 / 24 / math.sqrt(3)),
    (lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), -math.sqrt(6 / 576), math.sqrt(6 / 576),
     math.sqrt(2 / 576)),
    (lambda t: init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"), -math.sqrt(6 / 2304),
     math.sqrt(6 / 2304), math.sqrt(2 / 2304)),
    (lambda t: init.xavier_uniform_(t, gain=2.0), -2 * math.sqrt(6 / 2880), 2 * math.sqrt(6 / 2880),
     2 * math.sqrt(2 / 2880)),
])
def test_uniform_initialisers_respect_bounds_and_spread(fill, low, high, std):
    t = _big()
    assert fill(t) is t
    assert t.dtype == np.float32
    assert low <= t.numpy().min() < low + 0.01 * (high - low) and high - 0.01 * (high - low) < t.numpy().max() <= high
    assert t.numpy().std() == pytest.approx(std, rel=0.02)


@pytest.mark.parametrize("fill, mean, std", [
    (lambda t: init.normal_(t, 1.0, 0.5), 1.0, 0.5),
    (lambda t: init.kaiming_normal_(t, nonlinearity="relu"), 0.0, math.sqrt(2 / 576)),
    (lambda t: init.xavier_normal_(t), 0.0, math.sqrt(2 / 2880)),
])
def test_normal_initialisers_have_the_stated_spread(fill, mean, std):
    t = fill(_big())
    assert t.numpy().mean() == pytest.approx(mean, abs=0.01 * std + 1e-3 * abs(mean))
    assert t.numpy().std() == pytest.approx(std, rel=0.02)


def test_constant_fills():
    t = _big((3, 4))
    np.testing.assert_array_equal(init.zeros_(t).numpy(), 0.0)
    np.testing.assert_array_equal(init.ones_(t).numpy(), 1.0)
    np.testing.assert_array_equal(init.constant_(t, -2.5).numpy(), -2.5)


def test_draws_come_from_the_seeded_generator_or_the_given_one():
    tg.manual_seed(11)
    a = init.kaiming_uniform_(_big((4, 3)))
    tg.manual_seed(11)
    b = init.kaiming_uniform_(_big((4, 3)))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    c = init.normal_(_big((4, 3)), generator=np.random.default_rng(5))
    d = init.normal_(_big((4, 3)), generator=np.random.default_rng(5))
    np.testing.assert_array_equal(c.numpy(), d.numpy())


def test_bad_mode_raises():
    with pytest.raises(ValueError, match="'fan_in' or 'fan_out'"):
        init.kaiming_normal_(_big((3, 3)), mode="fan_avg")
