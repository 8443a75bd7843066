"""Probability distributions, as torch.distributions (served as ``torch.distributions``):
parameterised distributions with torch's arguments, shapes and methods (sample, rsample,
log_prob, entropy, mean, variance, cdf, ...), built from Tensor ops so gradients flow to the
parameters; ``kl_divergence`` between them, and the ``constraints`` their parameters and
supports obey. Samples come from the package's generator (``torch.manual_seed``)."""

import importlib

from tinygrad_cnn.distributions import constraints
from tinygrad_cnn.distributions.bernoulli import Bernoulli
from tinygrad_cnn.distributions.binomial import Binomial
from tinygrad_cnn.distributions.categorical import Categorical
from tinygrad_cnn.distributions.dirichlet import Beta, Dirichlet
from tinygrad_cnn.distributions.distribution import Distribution, ExponentialFamily
from tinygrad_cnn.distributions.exponential import Exponential
from tinygrad_cnn.distributions.gamma import Gamma
from tinygrad_cnn.distributions.independent import Independent
from tinygrad_cnn.distributions.kl import kl_divergence, register_kl
from tinygrad_cnn.distributions.laplace import Laplace
from tinygrad_cnn.distributions.multivariate_normal import MultivariateNormal
from tinygrad_cnn.distributions.normal import Normal
from tinygrad_cnn.distributions.one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from tinygrad_cnn.distributions.poisson import Poisson
from tinygrad_cnn.distributions.uniform import Uniform

__all__ = [
    "Bernoulli", "Beta", "Binomial", "Categorical", "Dirichlet", "Distribution", "Exponential", "ExponentialFamily",
    "Gamma", "Independent", "Laplace", "MultivariateNormal", "Normal", "OneHotCategorical",
    "OneHotCategoricalStraightThrough", "Poisson", "Uniform", "constraints", "kl_divergence", "register_kl",
]

for _pairs in ("_kl_same", "_kl_cross"):  # importing them registers the closed-form KLs
    importlib.import_module(f"{__name__}.{_pairs}")
