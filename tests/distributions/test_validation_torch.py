"""Argument validation and constraints as torch.distributions': invalid parameters raise
ValueError naming the parameter, values outside the support (or of the wrong shape, or not
tensors) raise ValueError in log_prob when validating, validate_args=False and
set_default_validate_args turn it off; each constraint's check, event_dim and repr against torch's."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.distributions as D
from tinygrad_cnn.distributions import constraints as C

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")

pytestmark = pytest.mark.oracle

TC = torch.distributions.constraints

# (distribution, kwargs with one invalid parameter, the parameter named in the error)
INVALID = [
    ("Normal", {"loc": [0.0, 1.0], "scale": [1.0, -1.0]}, "scale"),
    ("Normal", {"loc": [0.0, float("nan")], "scale": [1.0, 1.0]}, "loc"),
    ("Laplace", {"loc": [0.0], "scale": [0.0]}, "scale"),
    ("Exponential", {"rate": [-2.0]}, "rate"),
    ("Uniform", {"low": [1.0], "high": [0.0]}, "low"),
    ("Bernoulli", {"probs": [1.5]}, "probs"),
    ("Categorical", {"probs": [0.5, -0.1]}, "probs"),
    ("Categorical", {"logits": [0.5, float("nan")]}, "logits"),
    ("OneHotCategorical", {"probs": [0.5, -0.1]}, "probs"),
    ("Binomial", {"total_count": [2.5], "probs": [0.5]}, "total_count"),
    ("Binomial", {"total_count": [2.0], "probs": [-0.5]}, "probs"),
    ("Poisson", {"rate": [-1.0]}, "rate"),
    ("Gamma", {"concentration": [0.0], "rate": [1.0]}, "concentration"),
    ("Gamma", {"concentration": [1.0], "rate": [-1.0]}, "rate"),
    ("Dirichlet", {"concentration": [1.0, -1.0]}, "concentration"),
    ("Beta", {"concentration1": [1.0], "concentration0": [-1.0]}, "concentration"),
]


@pytest.mark.parametrize("name, kwargs, param", INVALID)
def test_invalid_parameters_raise_value_error_naming_them(name, kwargs, param):
    with pytest.raises(ValueError, match=f"parameter {param}"):
        getattr(torch.distributions, name)(**{k: torch.tensor(v) for k, v in kwargs.items()})
    with pytest.raises(ValueError, match=f"parameter {param}"):
        getattr(D, name)(**{k: tg.tensor(v) for k, v in kwargs.items()})
    if name == "OneHotCategorical":  # as torch's, its inner Categorical validates regardless
        with pytest.raises(ValueError, match=f"parameter {param}"):
            torch.distributions.OneHotCategorical(**{k: torch.tensor(v) for k, v in kwargs.items()},
                                                  validate_args=False)
        with pytest.raises(ValueError, match=f"parameter {param}"):
            D.OneHotCategorical(**{k: tg.tensor(v) for k, v in kwargs.items()}, validate_args=False)
    else:
        getattr(D, name)(**{k: tg.tensor(v) for k, v in kwargs.items()}, validate_args=False)


# (distribution, valid kwargs, a value outside the support)
OUTSIDE = [
    ("Normal", {"loc": [0.0], "scale": [1.0]}, [float("nan")]),
    ("Exponential", {"rate": [1.0]}, [-1.0]),
    ("Uniform", {"low": [0.0], "high": [1.0]}, [1.5]),
    ("Bernoulli", {"probs": [0.3]}, [0.5]),
    ("Categorical", {"probs": [0.3, 0.7]}, [2]),
    ("Categorical", {"probs": [0.3, 0.7]}, [-1]),
    ("OneHotCategorical", {"probs": [0.3, 0.7]}, [1.0, 1.0]),
    ("Binomial", {"total_count": [3.0], "probs": [0.5]}, [4.0]),
    ("Poisson", {"rate": [1.0]}, [0.5]),
    ("Gamma", {"concentration": [1.0], "rate": [1.0]}, [-0.5]),
    ("Beta", {"concentration1": [1.0], "concentration0": [2.0]}, [1.5]),
    ("Dirichlet", {"concentration": [1.0, 2.0]}, [0.5, 0.6]),
]


@pytest.mark.parametrize("name, kwargs, value", OUTSIDE)
def test_log_prob_outside_the_support(name, kwargs, value):
    theirs = getattr(torch.distributions, name)(**{k: torch.tensor(v) for k, v in kwargs.items()})
    ours = getattr(D, name)(**{k: tg.tensor(v) for k, v in kwargs.items()})
    with pytest.raises(ValueError, match="support"):
        theirs.log_prob(torch.tensor(value))
    with pytest.raises(ValueError, match="support"):
        ours.log_prob(tg.tensor(value))
    unchecked = getattr(D, name)(**{k: tg.tensor(v) for k, v in kwargs.items()}, validate_args=False)
    if name != "Categorical":  # an index out of range fails in gather, as torch's
        unchecked.log_prob(tg.tensor(value))


def test_value_shape_and_type_errors():
    d = D.Normal(tg.zeros(3), tg.ones(3))
    with pytest.raises(ValueError, match="must be a Tensor"):
        d.log_prob(0.5)
    with pytest.raises(ValueError, match="broadcastable"):
        d.log_prob(tg.zeros(2))
    with pytest.raises(ValueError, match="event_shape"):
        D.OneHotCategorical(tg.tensor([0.5, 0.5])).log_prob(tg.tensor([1.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match="Input arguments"):
        D.Normal("a", 1.0)
    for name in ("Bernoulli", "Categorical", "OneHotCategorical"):
        with pytest.raises(ValueError, match="not both"):
            getattr(D, name)(tg.tensor([0.5, 0.5]), logits=tg.tensor([0.0, 0.0]))
        with pytest.raises(ValueError, match="not both"):
            getattr(D, name)()
    with pytest.raises(ValueError, match="at least one-dimensional"):
        D.Categorical(tg.tensor(0.5))


def test_set_default_validate_args():
    try:
        D.Distribution.set_default_validate_args(False)
        d = D.Bernoulli(tg.tensor([1.5]))
        assert not d._validate_args
        D.Normal(0.0, 1.0).log_prob(tg.tensor(float("nan")))
        assert D.Normal(0.0, 1.0, validate_args=True)._validate_args
        with pytest.raises(ValueError):
            D.Normal(0.0, -1.0, validate_args=True)
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Bernoulli(tg.tensor([1.5]))
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")
    # expand keeps the flag and does not re-validate
    assert not D.Normal(0.0, 1.0, validate_args=False).expand((2,))._validate_args


VALUES = [
    np.array([[0.0, 1.0], [-1.0, np.nan]]),
    np.array([[0.2, 0.8], [0.5, 0.6]]),
    np.array([[0.0, 1.0], [1.0, 0.0]]),
    np.array([[2.0, 3.0], [1.5, 0.0]]),
]
CONSTRAINTS = ["real", "positive", "nonnegative", "unit_interval", "boolean", "nonnegative_integer",
               "positive_integer", "simplex", "one_hot", "real_vector"]


@pytest.mark.parametrize("name", CONSTRAINTS)
def test_constraint_checks_as_torch(name):
    ours, theirs = getattr(C, name), getattr(TC, name)
    assert repr(ours) == repr(theirs) and ours.event_dim == theirs.event_dim
    assert ours.is_discrete == theirs.is_discrete
    for value in VALUES:
        got, expected = ours.check(tg.tensor(value)), theirs.check(torch.tensor(value))
        assert got.dtype == np.bool_ and np.array_equal(got.numpy(), expected.numpy())


def test_parameterised_constraints_as_torch():
    value = np.array([[-1.0, 0.0, 0.5, 1.0, 2.0, 2.5]])
    pairs = [(C.interval(0.0, 2.0), TC.interval(0.0, 2.0)), (C.half_open_interval(0.0, 2.0),
             TC.half_open_interval(0.0, 2.0)), (C.greater_than(0.5), TC.greater_than(0.5)),
             (C.greater_than_eq(0.5), TC.greater_than_eq(0.5)), (C.less_than(1.0), TC.less_than(1.0)),
             (C.integer_interval(0, 2), TC.integer_interval(0, 2)),
             (C.independent(C.positive, 1), TC.independent(TC.positive, 1))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs) and ours.event_dim == theirs.event_dim
        assert np.array_equal(ours.check(tg.tensor(value)).numpy(), theirs.check(torch.tensor(value)).numpy())


def test_matrix_constraints_as_torch():
    mats = np.array([[[2.0, 0.5], [0.5, 1.0]], [[1.0, 2.0], [2.0, 1.0]], [[1.0, 0.0], [0.3, 2.0]],
                     [[1.0, 0.0], [0.3, -2.0]], [[0.0, 0.0], [0.0, 0.0]]])
    for name in ["positive_definite", "positive_semidefinite", "symmetric", "square", "lower_triangular",
                 "lower_cholesky"]:
        ours, theirs = getattr(C, name), getattr(TC, name)
        assert repr(ours) == repr(theirs) and ours.event_dim == theirs.event_dim == 2
        assert np.array_equal(ours.check(tg.tensor(mats)).numpy(), theirs.check(torch.tensor(mats)).numpy()), name


def test_dependent_constraints_and_supports():
    assert C.is_dependent(C.dependent) and not C.is_dependent(C.real)
    assert C.is_dependent(D.Uniform.support) and C.is_dependent(D.Categorical.support)
    assert repr(D.Uniform.support) == repr(torch.distributions.Uniform.support)
    assert D.Categorical.support.is_discrete and D.Categorical.support.event_dim == 0
    with pytest.raises(NotImplementedError):
        C.dependent.event_dim
    assert C.dependent(event_dim=1).event_dim == 1
    with pytest.raises(ValueError):
        C.dependent.check(tg.zeros(1))
    u = D.Uniform(tg.tensor([0.0]), tg.tensor([2.0]))
    assert repr(u.support).startswith("Interval(") and bool(u.support.check(tg.tensor([1.0])).all())
    for name in ["Normal", "Laplace", "Exponential", "Bernoulli", "OneHotCategorical", "MultivariateNormal", "Poisson",
                 "Gamma", "Beta", "Dirichlet", "Binomial", "Categorical", "Uniform"]:
        assert repr(getattr(D, name).support) == repr(getattr(torch.distributions, name).support)
        assert getattr(D, name).has_rsample == getattr(torch.distributions, name).has_rsample
        assert getattr(D, name).has_enumerate_support == getattr(torch.distributions, name).has_enumerate_support
    for name in ["Normal", "Laplace", "Exponential", "Bernoulli", "Categorical", "MultivariateNormal", "Poisson", "Gamma",
                 "Beta", "Dirichlet", "Binomial", "OneHotCategorical"]:
        ours, theirs = getattr(D, name).arg_constraints, getattr(torch.distributions, name).arg_constraints
        assert {k: repr(v) for k, v in ours.items()} == {k: repr(v) for k, v in theirs.items()}


def test_base_class_interface():
    d = D.Distribution(validate_args=False)
    for method in ("log_prob", "cdf", "icdf"):
        with pytest.raises(NotImplementedError):
            getattr(d, method)(tg.zeros(1))
    for prop in ("mean", "variance", "mode", "support", "arg_constraints"):
        with pytest.raises(NotImplementedError):
            getattr(d, prop)
    with pytest.raises(NotImplementedError):
        d.sample()
    with pytest.warns(FutureWarning):
        assert D.Normal(0.0, 1.0).sample_n(3).shape == (3,)
    assert isinstance(D.Normal(0.0, 1.0), D.ExponentialFamily)

    class Shifted(D.Normal):
        def __init__(self, loc: float) -> None:
            super().__init__(loc, 1.0)

    with pytest.raises(NotImplementedError, match="custom .expand"):
        Shifted(0.0).expand((2,))
    assert isinstance(D.Normal(0.0, 1.0).batch_shape, tg.Size)
