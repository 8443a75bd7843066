"""The random samplers (bernoulli_, exponential_, random_, geometric_, cauchy_, log_normal_,
bernoulli, multinomial, poisson, normal) and the generator states (get/set_rng_state,
Generator.get_state/set_state, fork_rng): moments of 10^5 draws within 5 standard errors,
supports and dtypes, seeding, and torch's error types and in-place rules (skipped without torch)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.random as tg_random

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")

pytestmark = pytest.mark.oracle

N = 100_000
FLOATS = [tg.float16, tg.float32, tg.float64]


def gen(seed: int = 0) -> tg.Generator:
    return tg.Generator().manual_seed(seed)


def near(sample: np.ndarray, mean: float, sd: float, what: str) -> None:
    """The sample mean is within 5 standard errors (sd / sqrt(n)) of ``mean``."""
    sample = np.asarray(sample, dtype=np.float64)
    bound = 5 * sd / math.sqrt(sample.shape[0])
    assert np.all(np.abs(sample.mean(axis=0) - mean) <= bound), (what, sample.mean(axis=0), mean, bound)


def moments(sample: np.ndarray, mean: float, var: float, fourth: float, what: str) -> None:
    """Mean and variance within 5 standard errors; ``fourth`` is the central 4th moment (the
    variance's standard error is sqrt((mu4 - var²) / n))."""
    near(sample, mean, np.sqrt(var), what)
    centered = (np.asarray(sample, dtype=np.float64) - mean) ** 2
    near(centered, var, np.sqrt(fourth - var ** 2), what + " variance")


# ---------------------------------------------------------------- in-place fills
@pytest.mark.parametrize("dtype", FLOATS + [tg.int64, tg.uint8, tg.bool])
def test_bernoulli_fill_has_frequency_p_in_any_dtype(dtype):
    x = tg.empty(N, dtype=dtype)
    assert x.bernoulli_(0.3, generator=gen()) is x and x.dtype == dtype
    assert set(np.unique(x.numpy().astype(np.float64))) <= {0.0, 1.0}
    near(x.numpy(), 0.3, math.sqrt(0.3 * 0.7), "bernoulli_")
    p = tg.tensor([0.1, 0.5, 0.95])
    near(tg.zeros(N, 3, dtype=dtype).bernoulli_(p, generator=gen(1)).numpy(), p.numpy(),
         np.sqrt(p.numpy() * (1 - p.numpy())), "bernoulli_ with a tensor p")


@pytest.mark.parametrize("dtype", FLOATS)
def test_exponential_cauchy_log_normal_fills_have_their_distributions(dtype):
    lambd = 2.5
    e = tg.empty(N, dtype=dtype).exponential_(lambd, generator=gen()).numpy()
    assert e.dtype == dtype and e.min() >= 0
    moments(e, 1 / lambd, 1 / lambd ** 2, 9 / lambd ** 4, "exponential_")
    c = tg.empty(N, dtype=dtype).cauchy_(1.0, 2.0, generator=gen()).numpy().astype(np.float64)
    density = {0.25: 1 / (2 * math.pi * 2.0), 0.5: 1 / (math.pi * 2.0), 0.75: 1 / (2 * math.pi * 2.0)}
    for q, expected in ((0.25, -1.0), (0.5, 1.0), (0.75, 3.0)):  # a quantile's standard error: sqrt(q(1-q)/n)/f
        assert abs(np.quantile(c, q) - expected) < 5 * math.sqrt(q * (1 - q) / N) / density[q], (q, np.quantile(c, q))
    ln = tg.empty(N, dtype=dtype).log_normal_(0.5, 0.25, generator=gen()).numpy()
    assert ln.dtype == dtype and ln.min() > 0
    moments(np.log(ln.astype(np.float64)), 0.5, 0.25 ** 2, 3 * 0.25 ** 4, "log_normal_")


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64, tg.int64, tg.int32])
def test_geometric_fill_counts_trials_to_the_first_success(dtype):
    p = 0.2
    g = tg.empty(N, dtype=dtype).geometric_(p, generator=gen()).numpy()
    assert g.dtype == dtype and g.min() >= 1 and np.all(g == np.round(g))
    var = (1 - p) / p ** 2
    moments(g, 1 / p, var, var ** 2 * (9 + p * p / (1 - p)), "geometric_")


def uniform_integers(sample: np.ndarray, low: int, high: int, what: str) -> None:
    """Integers of [low, high), every one drawn, with the discrete uniform's mean and variance."""
    values = np.unique(sample.astype(np.float64))
    assert values.tolist() == list(range(low, high)), (what, values[:10])
    n = high - low
    var = (n * n - 1) / 12
    moments(sample, (low + high - 1) / 2, var, (3 * n * n - 7) * var / 20, what)


@pytest.mark.parametrize("dtype", [tg.float16, tg.float32, tg.float64, tg.int64, tg.int8, tg.uint8])
def test_random_fill_draws_uniform_integers_in_each_form(dtype):
    x = tg.empty(N, dtype=dtype)
    uniform_integers(x.random_(3, 8, generator=gen()).numpy(), 3, 8, "random_(3, 8)")
    uniform_integers(x.random_(5, generator=gen()).numpy(), 0, 5, "random_(5)")
    uniform_integers(x.random_(**{"from": 2, "to": 4}, generator=gen()).numpy(), 2, 4, "random_(from=2, to=4)")
    uniform_integers(x.random_(1, to=4, generator=gen()).numpy(), 1, 4, "random_(1, to=4)")
    uniform_integers(x.random_(to=3, generator=gen()).numpy(), 0, 3, "random_(to=3)")
    assert x.dtype == dtype
    drawn = x.random_(generator=gen()).numpy().astype(np.float64)
    top = 2 ** (np.finfo(dtype).nmant + 1) if dtype.kind == "f" else np.iinfo(dtype).max
    assert drawn.min() >= 0 and drawn.max() <= top and np.all(drawn == np.round(drawn))
    near(drawn / top, 0.5, math.sqrt(1 / 12), "random_()")


def test_random_fill_of_bools_negative_ranges_and_the_full_int8_range():
    uniform_integers(tg.empty(N, dtype=tg.bool).random_(generator=gen()).numpy(), 0, 2, "bool random_()")
    uniform_integers(tg.empty(N).random_(-5, -2, generator=gen()).numpy(), -5, -2, "random_(-5, -2)")
    uniform_integers(tg.empty(N, dtype=tg.int8).random_(-128, 128, generator=gen()).numpy(), -128, 128, "int8")
    assert tg.empty(N, dtype=tg.int8).random_(-3, None, generator=gen()).numpy().max() == 127


# ---------------------------------------------------------------- out-of-place samplers
def test_bernoulli_draws_with_the_given_probabilities_and_no_gradient():
    probs = np.array([0.0, 0.2, 0.5, 1.0])
    for dtype in (tg.float32, tg.float64):
        draws = tg.bernoulli(tg.tensor(np.tile(probs, (N, 1)), dtype=dtype), generator=gen()).numpy()
        assert draws.dtype == dtype and set(np.unique(draws)) <= {0.0, 1.0}
        near(draws, probs, np.sqrt(probs * (1 - probs)) + 1e-12, "bernoulli")
    near(tg.tensor(np.zeros(N)).bernoulli(0.25, generator=gen()).numpy(), 0.25, math.sqrt(0.25 * 0.75), "bernoulli(p)")
    ours, theirs = tg.tensor([0.2, 0.5], requires_grad=True), torch.tensor([0.2, 0.5], requires_grad=True)
    out, expected = tg.bernoulli(ours), torch.bernoulli(theirs)
    assert repr(out.grad_fn) == f"<{type(expected.grad_fn).__name__}>"
    out.sum().backward()
    expected.sum().backward()
    assert ours.grad.tolist() == theirs.grad.tolist() == [0.0, 0.0]


def test_poisson_has_mean_and_variance_equal_to_the_rate():
    rates = np.array([0.0, 0.5, 3.0, 40.0])
    draws = tg.poisson(tg.tensor(np.tile(rates, (N, 1)), dtype=tg.float32), generator=gen()).numpy()
    assert draws.dtype == np.float32 and np.all(draws == np.round(draws)) and np.all(draws[:, 0] == 0)
    moments(draws[:, 1:], rates[1:], rates[1:], rates[1:] * (1 + 3 * rates[1:]), "poisson")
    assert tg.poisson(tg.tensor([1.0, 2.0], dtype=tg.float64)).dtype == tg.float64
    rate = tg.tensor([1.0, 2.0], requires_grad=True)
    tg.poisson(rate).sum().backward()
    assert rate.grad.tolist() == [0.0, 0.0]


def test_multinomial_with_replacement_has_the_weights_frequencies():
    weights = np.array([[1.0, 0.0, 3.0, 6.0], [5.0, 5.0, 0.0, 0.0]])
    picks = tg.multinomial(tg.tensor(weights), N, True, generator=gen()).numpy()
    assert picks.shape == (2, N) and picks.dtype == np.int64
    for row, w in zip(picks, weights):
        p = w / w.sum()
        near((row[:, None] == np.arange(4)).astype(float), p, np.sqrt(p * (1 - p)), "multinomial frequencies")


def test_multinomial_without_replacement_draws_distinct_categories_in_order_of_weight():
    w = np.array([1.0, 2.0, 0.0, 3.0, 4.0])
    p = w / w.sum()
    picks = tg.tensor(np.tile(w, (N, 1))).multinomial(2, generator=gen()).numpy()
    assert picks.shape == (N, 2) and np.all(picks[:, 0] != picks[:, 1]) and not np.any(picks == 2)
    near((picks[:, :1] == np.arange(5)).astype(float), p, np.sqrt(p * (1 - p)), "first pick")
    second = np.array([sum(p[i] * p[j] / (1 - p[i]) for i in range(5) if i != j) for j in range(5)])
    near((picks[:, 1:] == np.arange(5)).astype(float), second, np.sqrt(second * (1 - second)), "second pick")
    assert sorted(tg.multinomial(tg.tensor(w), 4).tolist()) == [0, 1, 3, 4]
    for lib in (tg, torch):  # too few non-zero weights: the zero ones follow, lowest index first
        assert lib.multinomial(lib.tensor([[0.0, 0.0, 1.0], [0.0, 2.0, 0.0]]), 2).tolist() == [[2, 0], [1, 0]]


def test_normal_forms_have_their_means_and_deviations():
    means, stds = np.array([0.0, 10.0, -3.0]), np.array([1.0, 0.5, 2.0])
    draws = tg.normal(tg.tensor(np.tile(means, (N, 1))), tg.tensor(np.tile(stds, (N, 1))), generator=gen()).numpy()
    near(draws, means, stds, "normal(tensor, tensor)")
    near(np.abs(draws - means), stds * math.sqrt(2 / math.pi), stds, "normal's spread")
    near(tg.normal(2.0, tg.tensor(np.full(N, 3.0)), generator=gen()).numpy(), 2.0, 3.0, "normal(float, tensor)")
    near(tg.normal(tg.tensor(np.full(N, -1.0)), generator=gen()).numpy(), -1.0, 1.0, "normal(tensor)")
    assert tg.normal(0.0, 1.0, (N,), generator=gen()).shape == (N,)


# ---------------------------------------------------------------- seeding and generator states
def test_seeding_and_generators_make_every_sampler_reproducible():
    def draws(generator=None):
        return [tg.empty(50).exponential_(generator=generator), tg.empty(50).bernoulli_(generator=generator),
                tg.empty(50, dtype=tg.int64).random_(generator=generator),
                tg.empty(50).geometric_(0.3, generator=generator),
                tg.empty(50).cauchy_(generator=generator), tg.empty(50).log_normal_(generator=generator),
                tg.full((50,), 0.3).bernoulli(generator=generator), tg.ones(3, 6).multinomial(4, generator=generator),
                tg.poisson(tg.full((50,), 4.0), generator=generator)]

    tg.manual_seed(7)
    first = draws()
    tg.manual_seed(7)
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(first, draws()))
    tg.manual_seed(7)
    draws(gen(3))  # a generator's draws leave the global stream alone
    after_generator_draws = tg.rand(5).numpy()
    tg.manual_seed(7)
    assert np.array_equal(tg.rand(5).numpy(), after_generator_draws)


def test_rng_state_round_trips_the_global_stream_exactly():
    tg.rand(1)  # a float32 draw leaves half a 64-bit word buffered: the state must keep it too
    state = tg.get_rng_state()
    assert state.dtype == tg.uint8 and state.ndim == 1
    before = [tg.rand(3), tg.randn(4, dtype=tg.float64), tg.empty(5).exponential_(), tg.rand(4).multinomial(2)]
    tg.set_rng_state(state)
    after = [tg.rand(3), tg.randn(4, dtype=tg.float64), tg.empty(5).exponential_(), tg.rand(4).multinomial(2)]
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(before, after))
    assert tg_random.get_rng_state is tg.get_rng_state and tg_random.set_rng_state is tg.set_rng_state


def test_generator_states_round_trip_and_move_between_generators():
    a, b = gen(1), gen(2)
    tg.rand(1, generator=a)
    state = a.get_state()
    expected = tg.randn(6, generator=a).numpy()
    assert b.set_state(state) is b and np.array_equal(tg.randn(6, generator=b).numpy(), expected)
    assert a.set_state(state) is a and np.array_equal(tg.randn(6, generator=a).numpy(), expected)
    assert not np.array_equal(state.numpy(), gen(1).get_state().numpy())  # the draw moved it on


def test_fork_rng_restores_the_global_stream_unless_disabled():
    tg.manual_seed(0)
    with tg_random.fork_rng():
        tg.randn(10)
    inside = tg.rand(3).numpy()
    tg.manual_seed(0)
    assert np.array_equal(tg.rand(3).numpy(), inside)
    tg.manual_seed(0)
    with tg_random.fork_rng(enabled=False):
        tg.randn(10)
    assert not np.array_equal(tg.rand(3).numpy(), inside)


def test_bad_states_are_refused_as_torch():
    for lib in (tg, torch):
        with pytest.raises(TypeError):
            lib.set_rng_state(lib.zeros(lib.get_rng_state().shape[0]))
        with pytest.raises(TypeError):
            lib.set_rng_state([1, 2])
        with pytest.raises(RuntimeError):
            lib.set_rng_state(lib.zeros(10, dtype=lib.uint8))
        with pytest.raises(RuntimeError):
            lib.Generator().set_state(lib.zeros(3, dtype=lib.uint8))


# ---------------------------------------------------------------- refusals and in-place rules
BAD_CALLS = [
    lambda L: L.zeros(4).bernoulli_(1.5), lambda L: L.zeros(4).bernoulli_(-0.1),
    lambda L: L.zeros(4).bernoulli_(L.tensor([0.1, 0.2, 0.3, 2.0])),
    lambda L: L.zeros(4).bernoulli_(L.tensor([0.1, 0.9])),
    lambda L: L.zeros(4).bernoulli_(L.tensor([0, 1, 1, 0])), lambda L: L.zeros(4).exponential_(0),
    lambda L: L.zeros(4).exponential_(-1), lambda L: L.zeros(4, dtype=L.int64).exponential_(),
    lambda L: L.zeros(4).geometric_(0), lambda L: L.zeros(4).geometric_(1), lambda L: L.zeros(4).geometric_(1.5),
    lambda L: L.zeros(4, dtype=L.bool).geometric_(0.5), lambda L: L.zeros(4).cauchy_(0, 0),
    lambda L: L.zeros(4, dtype=L.int32).cauchy_(), lambda L: L.zeros(4).log_normal_(0, -1),
    lambda L: L.zeros(4, dtype=L.int64).log_normal_(),
    lambda L: L.zeros(4).random_(5, 3), lambda L: L.zeros(4).random_(0), lambda L: L.zeros(4).random_(3.5),
    lambda L: L.zeros(4).random_(3, **{"from": 1}), lambda L: L.zeros(4).random_(1, 2, 3),
    lambda L: L.zeros(3, dtype=L.uint8).random_(-1, 3), lambda L: L.zeros(3, dtype=L.uint8).random_(0, 300),
    lambda L: L.zeros(3, dtype=L.bool).random_(2, 3), lambda L: L.bernoulli(L.tensor([0.0, 1.5])),
    lambda L: L.bernoulli(L.tensor([0, 1])), lambda L: L.multinomial(L.tensor([0.0, 1.0, 3.0]), 4),
    lambda L: L.multinomial(L.tensor([1.0, 3.0]), 0), lambda L: L.multinomial(L.tensor([-1.0, 2.0]), 1),
    lambda L: L.multinomial(L.tensor([float("nan"), 2.0]), 1), lambda L: L.multinomial(L.tensor([0.0, 0.0]), 1, True),
    lambda L: L.multinomial(L.zeros(2, 2, 2), 1), lambda L: L.multinomial(L.tensor([1, 2]), 1),
    lambda L: L.poisson(L.tensor([-1.0, 2.0])), lambda L: L.poisson(L.tensor([1, 2])),
]


@pytest.mark.parametrize("call", BAD_CALLS)
def test_bad_arguments_are_refused_as_torch_before_anything_is_drawn(call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    state = tg.get_rng_state()
    with pytest.raises(theirs.type):
        call(tg)
    assert np.array_equal(tg.get_rng_state().numpy(), state.numpy())


@pytest.mark.parametrize("fill", [
    lambda t: t.bernoulli_(), lambda t: t.exponential_(), lambda t: t.random_(), lambda t: t.geometric_(0.5),
    lambda t: t.cauchy_(), lambda t: t.log_normal_(),
])
def test_in_place_fills_follow_torchs_rules_for_the_graph(fill):
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            fill(lib.zeros(3, requires_grad=True))
    leaf, twin = tg.zeros(3, requires_grad=True), torch.zeros(3, requires_grad=True)
    ours, theirs = leaf * 2, twin * 2
    version = ours._version
    fill(ours).sum().backward()
    fill(theirs).sum().backward()
    assert ours._version == version + 1 and leaf.grad.tolist() == twin.grad.tolist() == [0.0, 0.0, 0.0]
    assert type(theirs.grad_fn).__name__.rstrip("0123456789") == repr(ours.grad_fn)[1:-1].rstrip("0123456789")


@pytest.mark.parametrize("fill", [lambda t, g: t.uniform_(-1, 1, generator=g), lambda t, g: t.normal_(2, 3, generator=g)])
def test_uniform_and_normal_fills_draw_from_a_given_generator(fill):
    generator = tg.Generator().manual_seed(7)
    first = fill(tg.empty(100), generator).numpy().copy()
    tg.manual_seed(0)
    generator.manual_seed(7)
    again = fill(tg.empty(100), generator).numpy()
    np.testing.assert_array_equal(first, again)
    with pytest.raises(TypeError, match="generator must be a tinygrad_cnn.Generator"):
        fill(tg.empty(2), 3)
