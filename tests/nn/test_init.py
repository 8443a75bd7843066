"""nn.init: gains, fans, distributions' bounds and spreads, in-place fills, reproducibility."""

import math

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn
import tinygrad_cnn.nn.functional as F
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


def test_trunc_normal_stays_in_bounds_with_the_truncated_spread():
    t = init.trunc_normal_(_big(), mean=0.5, std=1.0, a=-0.5, b=1.0)
    values = t.numpy()
    assert values.min() >= -0.5 and values.max() <= 1.0 and values.min() < -0.49 and values.max() > 0.99
    # N(0.5, 1) truncated to [-1, +0.5] sigma: mean 0.5 + (phi(-1) - phi(0.5)) / (Phi(0.5) - Phi(-1))
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    Phi = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    mass = Phi(0.5) - Phi(-1)
    mean = 0.5 + (phi(-1) - phi(0.5)) / mass
    var = 1 + (-1 * phi(-1) - 0.5 * phi(0.5)) / mass - ((phi(-1) - phi(0.5)) / mass) ** 2
    assert values.mean() == pytest.approx(mean, abs=2e-3) and values.std() == pytest.approx(math.sqrt(var), rel=5e-3)
    default = init.trunc_normal_(_big((64, 64)), std=0.02)  # ViT's use: bounds far outside, plain normal
    assert default.numpy().std() == pytest.approx(0.02, rel=0.05)
    with pytest.raises(ValueError, match="a < b"):
        init.trunc_normal_(_big((2, 2)), a=1.0, b=0.0)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (8, 2, 3, 3)])
def test_orthogonal_gives_orthonormal_rows_or_columns(shape):
    w = init.orthogonal_(Parameter(np.empty(shape)), gain=2.0).numpy().reshape(shape[0], -1)
    small = min(w.shape)
    gram = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-10)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(_big((3,)))


def test_eye_and_dirac_make_identity_maps():
    np.testing.assert_array_equal(init.eye_(_big((2, 3))).numpy(), np.eye(2, 3))
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(_big((2, 2, 2)))
    weight = init.dirac_(_big((4, 2, 3, 3)), groups=2)
    x = tg.randn(1, 2, 5, 5)
    out = F.conv2d(x, weight, padding=1).numpy()
    np.testing.assert_allclose(out[0, [0, 1, 2, 3]], x.numpy()[0, [0, 1, 0, 1]], rtol=1e-6)
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        init.dirac_(_big((2, 2)))
    with pytest.raises(ValueError, match="divisible by groups"):
        init.dirac_(_big((3, 2, 3, 3)), groups=2)


def test_gains_and_fans_equal_torch():
    torch = pytest.importorskip("torch", reason="the oracle tests need PyTorch")
    for name in ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                 "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]:
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name)), name
    for slope in [0, 0.2, 3, math.sqrt(5)]:
        assert init.calculate_gain("leaky_relu", slope) == pytest.approx(torch.nn.init.calculate_gain("leaky_relu", slope))
    for shape in [(3, 4), (8, 3, 5, 5), (2, 6, 3), (4, 2, 1, 2, 3)]:
        assert init.calculate_fan_in_and_fan_out(_big(shape)) == torch.nn.init._calculate_fan_in_and_fan_out(
            torch.empty(shape))


def test_torch_style_model_init_through_apply():
    def init_weights(m):
        if isinstance(m, nn.Linear):
            init.xavier_uniform_(m.weight)
            init.zeros_(m.bias)

    model = nn.Sequential(nn.Linear(300, 200), nn.ReLU(), nn.Linear(200, 100)).apply(init_weights)
    assert all(not m.bias.numpy().any() for m in model if isinstance(m, nn.Linear))
    assert model[2].weight.numpy().std() == pytest.approx(math.sqrt(2 / 300), rel=0.05)
