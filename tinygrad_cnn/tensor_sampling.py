"""Tensor's random samplers, as torch's: the in-place fills ``bernoulli_``, ``exponential_``,
``random_``, ``geometric_``, ``cauchy_`` and ``log_normal_``, and ``bernoulli``/``multinomial``
(a mixin of Tensor); ``poisson``, torch.poisson (a function: torch has no such method).

Every sampler takes ``generator=`` (a ``tinygrad_cnn.Generator``; the global generator,
seeded by ``manual_seed``, when None). Arguments are checked before anything is drawn, so a
refused call leaves the generator where it was. The float-only fills go through
``InplaceMixin._random_`` as ``uniform_``/``normal_`` do; the ones torch also allows on
integer tensors (bernoulli_, random_, geometric_) write those directly.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np

from tinygrad_cnn import random
from tinygrad_cnn.dtypes import scalar_type_name
from tinygrad_cnn.ops import sampling as SA


def _number(value: Any, name: str, op: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{op}(): argument '{name}' must be a number, not {type(value).__name__}")
    return float(value)


def _draw_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype NumPy draws floats in for a tensor of ``dtype`` (float16 via float32)."""
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


def _integer_bounds(dtype: np.dtype) -> tuple[int, int]:
    """The smallest and largest integer a tensor of ``dtype`` holds exactly (floats: ±2^digits)."""
    if dtype.kind == "b":
        return 0, 1
    if dtype.kind == "f":
        digits = np.finfo(dtype).nmant + 1
        return -(2 ** digits), 2 ** digits
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def _probabilities(p: np.ndarray, op: str) -> np.ndarray:
    if not np.all((p >= 0) & (p <= 1)):
        raise RuntimeError(f"{op}: expected every probability p to be in [0, 1] (p_in >= 0 && p_in <= 1), got "
                           f"values from {np.nanmin(p)} to {np.nanmax(p)}{' and NaN' if np.isnan(p).any() else ''}")
    return p


class SamplingMixin:
    """Random fills in place and torch's bernoulli/multinomial samplers."""

    _array: np.ndarray

    def _fill_(self, op: str, function: type, draw: Callable[[np.random.Generator], np.ndarray], generator: Any,
               integers: bool = False) -> "SamplingMixin":
        """Fill self with ``draw(rng)``: through ``_random_`` for floating tensors; directly
        for integer and bool ones when the distribution allows them (``integers``)."""
        rng = random.resolve(generator, op)

        def draw_in_dtype(g: np.random.Generator) -> np.ndarray:
            with np.errstate(over="ignore"):  # a far tail draw is inf in float16, as torch's
                return draw(g).astype(self.dtype)

        if self.dtype.kind == "f" or not integers:
            return self._random_(op, function, draw_in_dtype, rng)
        self._check_inplace(op, False)  # integer tensors never require grad: nothing to record
        return self._copy_like_(op, function, draw_in_dtype(rng))

    def bernoulli_(self, p: Any = 0.5, *, generator: Any = None) -> "SamplingMixin":
        """Fill with 1 where a uniform draw falls below ``p`` (a number or a floating tensor
        broadcast to self's shape), else 0; any dtype; returns self."""
        if hasattr(p, "numpy"):
            if p.dtype.kind != "f":
                raise NotImplementedError(f"bernoulli_: p must be a floating tensor, got dtype {p.dtype}")
            try:
                probabilities = np.broadcast_to(p.numpy(), self.shape)
            except ValueError:
                raise RuntimeError(f"bernoulli_: p of shape {list(p.shape)} cannot be expanded to this tensor's "
                                   f"shape {list(self.shape)}") from None
            _probabilities(probabilities, "bernoulli_")
        else:
            probabilities = _number(p, "p", "bernoulli_")
            if not 0 <= probabilities <= 1:
                raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        return self._fill_("bernoulli_", SA.BernoulliFill, lambda g: g.random(self.shape) < probabilities,
                           generator, integers=True)

    def exponential_(self, lambd: float = 1.0, *, generator: Any = None) -> "SamplingMixin":
        """Fill with draws from the exponential distribution of rate ``lambd`` (> 0); returns self."""
        if not _number(lambd, "lambd", "exponential_") > 0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
        dt = _draw_dtype(self.dtype)
        return self._fill_("exponential_", SA.ExponentialFill,
                           lambda g: g.standard_exponential(self.shape, dtype=dt) / dt.type(lambd), generator)

    def random_(self, *bounds: Any, generator: Any = None, **named: Any) -> "SamplingMixin":
        """Fill with integers drawn uniformly from [from, to): ``random_(to)``,
        ``random_(from, to)`` (``to=None``: up to the dtype's largest value) or ``random_()``
        (from 0 up to the largest value; for floats, 2^digits, so every value is exact); returns self."""
        given = dict(zip(("to",) if len(bounds) == 1 and "to" not in named else ("from", "to"), bounds))
        if len(bounds) > 2 or set(named) - {"from", "to"} or set(given) & set(named) or "from" in named and bounds:
            raise TypeError(f"random_(): expected random_(to), random_(from, to) or random_(), got {bounds} "
                            f"{named or ''}")
        given.update(named)
        low, high = given.get("from", 0), given.get("to")
        for name, value in (("from", low), ("to", high)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))):
                raise TypeError(f"random_(): argument '{name}' must be int, not {type(value).__name__}")
        smallest, largest = _integer_bounds(self.dtype)
        low, high = int(low), largest + 1 if high is None else int(high)
        if low >= high:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
        if self.dtype.kind == "f":
            if not smallest <= low <= largest or not smallest <= high - 1 <= largest:
                warnings.warn(f"random_: from={low}, to - 1={high - 1} is out of bounds [-(2^digits), 2^digits] of "
                              f"{self.dtype}: not every integer there is representable", UserWarning, stacklevel=2)
        elif not smallest <= low <= largest:
            raise RuntimeError(f"random_: from ({low}) is out of bounds for {scalar_type_name(self.dtype)}")
        elif not smallest <= high - 1 <= largest:
            raise RuntimeError(f"random_: to - 1 ({high - 1}) is out of bounds for {scalar_type_name(self.dtype)}")
        return self._fill_("random_", SA.RandomFill,
                           lambda g: g.integers(low, high - 1, self.shape, dtype=np.int64, endpoint=True),
                           generator, integers=True)

    def geometric_(self, p: float, *, generator: Any = None) -> "SamplingMixin":
        """Fill with the number of Bernoulli(p) trials up to the first success (1, 2, ...),
        p in (0, 1); floating or integer tensors; returns self."""
        if not 0 < _number(p, "p", "geometric_") < 1:
            raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
        if self.dtype.kind == "b":
            raise NotImplementedError("geometric_: \"geometric_cpu\" not implemented for 'Bool'")
        return self._fill_("geometric_", SA.GeometricFill, lambda g: g.geometric(p, self.shape), generator,
                           integers=True)

    def cauchy_(self, median: float = 0.0, sigma: float = 1.0, *, generator: Any = None) -> "SamplingMixin":
        """Fill with draws from the Cauchy distribution median + sigma * tan(pi (U - 1/2)), sigma > 0."""
        if not _number(sigma, "sigma", "cauchy_") > 0:
            raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
        _number(median, "median", "cauchy_")
        return self._fill_("cauchy_", SA.CauchyFill, lambda g: median + sigma * g.standard_cauchy(self.shape),
                           generator)

    def log_normal_(self, mean: float = 1.0, std: float = 2.0, *, generator: Any = None) -> "SamplingMixin":
        """Fill with exp of draws from N(mean, std²) (std > 0); returns self."""
        if not _number(std, "std", "log_normal_") > 0:
            raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
        _number(mean, "mean", "log_normal_")
        if self.dtype.kind != "f":
            raise NotImplementedError(f"log_normal_: \"log_normal_cpu\" not implemented for "
                                      f"'{scalar_type_name(self.dtype)}'")
        return self._fill_("log_normal_", SA.LogNormalFill, lambda g: g.lognormal(mean, std, self.shape), generator)

    def bernoulli(self, p: float | None = None, *, generator: Any = None) -> "SamplingMixin":
        """A tensor of self's shape and dtype: 1 with probability self (each element a
        probability in [0, 1]; floating tensors only) or ``p`` when given, else 0, as
        torch.bernoulli; the gradient to self is 0."""
        if p is not None:
            probability = _number(p, "p", "bernoulli")
            if not 0 <= probability <= 1:
                raise RuntimeError(f"bernoulli expects p to be in [0, 1], but got p={p}")
        elif self.dtype.kind != "f":
            raise NotImplementedError(f"bernoulli: the probabilities must be a floating tensor, got dtype "
                                      f"{self.dtype}")
        else:
            probability = _probabilities(self._array, "bernoulli")
        rng = random.resolve(generator, "bernoulli")
        sample = (rng.random(self.shape) < probability).astype(self.dtype)
        return SA.Bernoulli.apply(self, sample=sample)

    def multinomial(self, num_samples: int, replacement: bool = False, *, generator: Any = None) -> "SamplingMixin":
        """``num_samples`` category indices (int64) drawn from each row of weights (a 1-D
        tensor, or 2-D: one row per distribution; non-negative, not all zero), with or
        without ``replacement`` (then zero-weight categories come once the others are drawn),
        as torch.multinomial: shape (num_samples,) or (rows, num_samples)."""
        if self.dtype.kind != "f":
            raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                               f"{scalar_type_name(self.dtype)}")
        if self.ndim not in (1, 2):
            raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {list(self.shape)}")
        if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)):
            raise TypeError(f"multinomial(): argument 'num_samples' must be int, not {type(num_samples).__name__}")
        if num_samples <= 0:
            raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples (num_samples={num_samples})")
        weights = self._array.reshape(-1, self.shape[-1]).astype(np.float64)
        if not replacement and num_samples > weights.shape[1]:
            raise RuntimeError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without "
                               f"replacement ({num_samples} > {weights.shape[1]})")
        if not np.all(np.isfinite(weights) & (weights >= 0)):
            raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
        if np.any(weights.sum(axis=1) <= 0):
            raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
        rng = random.resolve(generator, "multinomial")
        if replacement:
            cdf = np.cumsum(weights, axis=1)
            cdf /= cdf[:, -1:]
            u = rng.random((weights.shape[0], num_samples))
            picks = np.stack([np.searchsorted(c, row, side="right") for c, row in zip(cdf, u)]) \
                if weights.shape[0] else np.zeros((0, num_samples), np.int64)
        else:  # the exponential race: the k smallest E_i / w_i are a draw without replacement; as torch's,
            # zero weights come last, by index, once the others are drawn
            with np.errstate(divide="ignore"):
                keys = rng.standard_exponential(weights.shape) / weights
            picks = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
        return self.from_op(picks.astype(np.int64).reshape(self.shape[:-1] + (num_samples,)), None)


def poisson(input: Any, generator: Any = None) -> Any:
    """Draws from Poisson(rate) for each element of the floating tensor ``input`` (rates >= 0,
    finite), in input's dtype, as torch.poisson; the gradient to the rates is 0."""
    if input.dtype.kind != "f":
        raise NotImplementedError(f"poisson: \"poisson_cpu\" not implemented for '{scalar_type_name(input.dtype)}'")
    rates = input.numpy()
    if not np.all(rates >= 0):
        raise RuntimeError("poisson: invalid Poisson rate, expected rate to be non-negative")
    if not np.all(np.isfinite(rates)):
        raise RuntimeError("poisson: invalid Poisson rate, expected a finite rate")
    sample = random.resolve(generator, "poisson").poisson(rates).astype(input.dtype)
    return SA.Poisson.apply(input, sample=sample)
