"""Special functions NumPy lacks, vectorised and accurate to a few float64 ulps: erf, erfc,
erfcx, erfinv, ndtr, ndtri, log_ndtr, lgamma, digamma, trigamma, i0 and i1 (the kernels, on
arrays; the differentiable ops are in ``ops/special_ops.py``).

Each kernel computes in float64 (an input of a narrower float dtype uses fewer terms) and
returns float64; IEEE special values (nan, +-inf, poles) come out as torch's. Where a fit is
used it is a Chebyshev interpolant made with mpmath (``tests/ops/special_fits.py`` shows how
and the tests check the tables); everything else is a series with closed-form terms:

- erfc(z) = exp(-z^2) erfcx(z) for z >= 0, erfcx fitted over all of [0, inf) in t = (z-4)/(z+4),
  exp(-z^2) taken in two exact parts so that it keeps full precision for large z; erf by its
  Maclaurin series below 0.5;
- erfinv/ndtri: a closed-form first guess refined by Halley/Newton steps on erf, or on
  log(erfc) in the tails (so that ndtri(1e-300) is exact too);
- lgamma = (x-1)(x-2) g(x) on [1, 2] (so that it keeps relative precision at its roots 1 and 2),
  the recurrence Gamma(x+1) = x Gamma(x) below 1 and up to 10, Stirling's series above, the
  reflection formula for x < 0; digamma alike around its root 1.4616...;
- i0, i1: the power series up to 20, the Hankel asymptotic series above.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import numpy as np

ERFCX_CHEB = (  # (z + 4) erfcx(z), z in [0, inf), in t = (z - 4) / (z + 4)
    1.6320978781965259, -1.5054329427054698, 0.5903214182888945,
    -0.19828527172011035, 0.0569084302284687, -0.013773973050870096,
    0.002729016733135232, -0.00041361807903024755, 3.89141838079606e-05,
    4.795485503364818e-07, -8.699107081379825e-07, 1.2116707094396558e-07,
    3.79196702608182e-09, -3.4533646779963824e-09, 2.748862570381361e-10,
    6.813959375318511e-11, -1.3568522747316355e-11, -1.0463235067416098e-12,
    4.851070321243456e-13, 8.458758172979236e-15, -1.6469363733616713e-14,
    2.5314850886802834e-16, 5.757244393379938e-16, -1.8245979193136522e-17,
    -2.135637703191254e-17,
)
LGAMMA_CHEB = (  # lgamma(x) / ((x - 1)(x - 2)), x in [1, 2], in u = 2x - 3
    0.49141539302938714, -0.07611416167043585, 0.008432324965932778,
    -0.001079493726328608, 0.00014900748003692963, -2.1512399888556784e-05,
    3.1979329860862186e-06, -4.851693012139927e-07, 7.47148782116316e-08,
    -1.1638296700170518e-08, 1.829400437118668e-09, -2.8969180607129607e-10,
    4.61570140620909e-11, -7.392810230497983e-12, 1.1894280008333085e-12,
    -1.9212068676522805e-13, 3.113975526387164e-14, -5.0628432984486114e-15,
    8.254150281631144e-16, -1.3490578987574844e-16, 2.209876116782623e-17,
    -3.6274129549239766e-18, 5.965430068821522e-19,
)
DIGAMMA_CHEB = (  # digamma(x) / (x - x0), x in [1, 2], in u = 2x - 3
    0.983570260441567, -0.2270640863346444, 0.03336889902393011,
    -0.005320077271596548, 0.0008788656937820505, -0.00014773492650606044,
    2.5060543468359146e-05, -4.2721034029993324e-06, 7.302769272465923e-07,
    -1.2502886813559594e-07, 2.1425009322359472e-08, -3.673295918565179e-09,
    6.299717236108931e-10, -1.080593028883266e-10, 1.853735192053638e-11,
    -3.18023536582553e-12, 5.456147570322795e-13, -9.360993131036438e-14,
    1.606064636295075e-14, -2.7555431377438815e-15, 4.727736178601912e-16,
    -8.11148420346509e-17, 1.391707769474154e-17, -2.3877901082188625e-18,
)
DIGAMMA_ROOT = (1.4616321449683622, 9.549995429965697e-17)  # x0 = hi + lo
ERFCX_K = 4.0

_F64 = np.dtype(np.float64)
_SQRT_PI = math.sqrt(math.pi)
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _bernoulli(n: int) -> list[Fraction]:
    """B_0 .. B_n (B_1 = +1/2; only the even ones are used), by the Akiyama-Tanigawa algorithm."""
    out, row = [], []
    for m in range(n + 1):
        row.append(Fraction(1, m + 1))
        for j in range(m, 0, -1):
            row[j - 1] = j * (row[j - 1] - row[j])
        out.append(row[0])
    return out


_B = _bernoulli(20)
# Stirling: lgamma(x) = (x - 1/2) log x - x + log sqrt(2 pi) + sum_k B_2k / (2k (2k-1) x^(2k-1))
_STIRLING = tuple(float(_B[2 * k] / (2 * k * (2 * k - 1))) for k in range(9, 0, -1))
# digamma(x) = log x - 1/(2x) - sum_k B_2k / (2k x^2k)
_DIGAMMA_ASYMPTOTIC = tuple(float(_B[2 * k] / (2 * k)) for k in range(8, 0, -1))
# trigamma(x) = 1/x + 1/(2x^2) + sum_k B_2k / x^(2k+1)
_TRIGAMMA_ASYMPTOTIC = tuple(float(_B[2 * k]) for k in range(10, 0, -1))
# erf(x) = 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1)), for |x| < 0.5
_ERF_SERIES = tuple(2 / _SQRT_PI * (-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(14, -1, -1))


def _horner(x: np.ndarray, coefficients: tuple[float, ...]) -> np.ndarray:
    """The polynomial with ``coefficients`` (highest power first) at ``x``."""
    out = np.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        out *= x
        out += c
    return out


@functools.cache
def _polynomial(fit: tuple[float, ...], eps: float) -> tuple[float, ...]:
    """The Chebyshev series ``fit`` cut where its terms fall below ``eps`` (for narrower dtypes), as
    power-basis coefficients, highest first."""
    from numpy.polynomial import chebyshev

    series = np.asarray(fit)
    keep = int(np.flatnonzero(np.abs(series) > eps / 16 * np.abs(series).max())[-1]) + 1
    return tuple(chebyshev.cheb2poly(series[:keep])[::-1].tolist())


def _float64(x: np.ndarray) -> tuple[np.ndarray, float]:
    """x as float64 and the precision its own dtype asks for."""
    x = np.asarray(x)
    eps = float(np.finfo(x.dtype).eps) if x.dtype.kind == "f" else float(np.finfo(_F64).eps)
    return x.astype(_F64, copy=False), eps


def _quiet(kernel):
    """``kernel`` without NumPy's warnings for nan/inf inputs and poles (torch warns of none)."""
    @functools.wraps(kernel)
    def run(*args):
        with np.errstate(all="ignore"):
            return kernel(*args)
    return run


def _exp_neg_square(z: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """exp(-scale z^2) for z >= 0 (scale 1 or 1/2), without the error that rounding z^2 would give:
    z is split into a 20-bit head (whose square is exact) and the rest."""
    z = np.minimum(z, 64.0)
    head = np.round(z * 4096.0) / 4096.0
    return np.exp(-scale * head * head) * np.exp(-scale * (z - head) * (z + head))


def _erfcx_pos(z: np.ndarray, eps: float) -> np.ndarray:
    """exp(z^2) erfc(z) for z >= 0 (float64)."""
    t = 1.0 - 2.0 * ERFCX_K / (z + ERFCX_K)
    return _horner(t, _polynomial(ERFCX_CHEB, eps)) / (z + ERFCX_K)



@_quiet
def erfc(x: np.ndarray) -> np.ndarray:
    """1 - erf(x), with relative precision in the upper tail (to 1e-308)."""
    x, eps = _float64(x)
    z = np.abs(x)
    r = _exp_neg_square(z) * _erfcx_pos(z, eps)
    return np.where(x < 0, 2.0 - r, r)


@_quiet
def erf(x: np.ndarray) -> np.ndarray:
    """The error function 2/sqrt(pi) int_0^x exp(-t^2) dt."""
    x, eps = _float64(x)
    z = np.abs(x)
    out = np.copysign(1.0 - _exp_neg_square(z) * _erfcx_pos(z, eps), x)
    small = z < 0.5  # where 1 - erfc(x) would lose x's leading digits
    xs = x[small]
    out[small] = xs * _horner(xs * xs, _ERF_SERIES)
    return out


@_quiet
def erfcx(x: np.ndarray) -> np.ndarray:
    """exp(x^2) erfc(x), the scaled complementary error function (inf below about -26.6)."""
    x, eps = _float64(x)
    z = np.abs(x)
    r = _erfcx_pos(z, eps)
    return np.where(x < 0, 2.0 / _exp_neg_square(z) - r, r)


def _lower_tail(x: np.ndarray, eps: float) -> np.ndarray:
    """Phi(-|x|) = erfc(|x| / sqrt 2) / 2, exp(-x^2/2) taken from x itself."""
    z = np.abs(x)
    return 0.5 * _exp_neg_square(z, 0.5) * _erfcx_pos(z * math.sqrt(0.5), eps)


@_quiet
def ndtr(x: np.ndarray) -> np.ndarray:
    """Phi(x), the standard normal CDF, with relative precision in the lower tail."""
    x, eps = _float64(x)
    r = _lower_tail(x, eps)
    return np.where(x < 0, r, 1.0 - r)


@_quiet
def log_ndtr(x: np.ndarray) -> np.ndarray:
    """log(Phi(x)), finite far into the lower tail (-x^2/2 + log(erfcx(-x/sqrt 2)/2) there)."""
    x, eps = _float64(x)
    z = np.abs(x)
    low = -0.5 * x * x + np.log(0.5 * _erfcx_pos(z * math.sqrt(0.5), eps))
    return np.where(x < 0, low, np.log1p(-_lower_tail(x, eps)))


def _erfcinv_small(q: np.ndarray, eps: float) -> np.ndarray:
    """The x >= 0 with erfc(x) = q for 0 < q <= 1: a closed-form guess (Winitzki's, relative
    error ~2e-3) and Newton steps on log(erfc(x)) - log(q), which has no underflow."""
    a = 0.147
    w = np.log(q) + np.log(2.0 - q)
    b = 2.0 / (math.pi * a) + 0.5 * w
    x = np.sqrt(np.sqrt(b * b - w / a) - b)
    log_q = np.log(q)
    for _ in range(4):
        e = _erfcx_pos(x, eps)
        x = x + (np.log(e) - x * x - log_q) * (0.5 * _SQRT_PI) * e
    return x


def _erfinv_central(y: np.ndarray, eps: float) -> np.ndarray:
    """erfinv(y) for |y| <= 1/2: its Taylor start and two Halley steps on erf(x) - y."""
    x = 0.5 * _SQRT_PI * y * (1.0 + y * y * (math.pi / 12 + y * y * 7 * math.pi ** 2 / 480))
    for _ in range(2):
        step = (erf(x) - y) * (0.5 * _SQRT_PI) * np.exp(x * x)
        x = x - step / (1.0 + x * step)
    return x


@_quiet
def erfinv(y: np.ndarray) -> np.ndarray:
    """The inverse of erf on [-1, 1] (+-inf at +-1, nan outside)."""
    y, eps = _float64(y)
    a = np.abs(y)
    out = np.full_like(y, np.nan)
    central = a <= 0.5
    out[central] = _erfinv_central(y[central], eps)
    tail = (a > 0.5) & (a < 1)
    out[tail] = np.copysign(_erfcinv_small(1.0 - a[tail], eps), y[tail])
    out[a == 1] = np.copysign(np.inf, y[a == 1])
    return out


@_quiet
def ndtri(p: np.ndarray) -> np.ndarray:
    """The inverse of Phi on [0, 1] (-inf at 0, inf at 1, nan outside); 2p - 1, 2p and 2(1 - p)
    are exact where each is used."""
    p, eps = _float64(p)
    out = np.full_like(p, np.nan)
    central = (p >= 0.25) & (p <= 0.75)
    out[central] = math.sqrt(2) * _erfinv_central(2.0 * p[central] - 1.0, eps)
    low = (p > 0) & (p < 0.25)
    out[low] = -math.sqrt(2) * _erfcinv_small(2.0 * p[low], eps)
    high = (p > 0.75) & (p < 1)
    out[high] = math.sqrt(2) * _erfcinv_small(2.0 * (1.0 - p[high]), eps)
    out[p == 0] = -np.inf
    out[p == 1] = np.inf
    return out


def _log_abs_sinpi(x: np.ndarray) -> np.ndarray:
    """log|sin(pi x)|, exact near the integers (x is first reduced to [-1/2, 1/2] exactly)."""
    return np.log(np.abs(np.sin(math.pi * (x - np.round(x)))))


def _lgamma_pos(x: np.ndarray, eps: float) -> np.ndarray:
    """lgamma(x) for finite x > 0."""
    g = _polynomial(LGAMMA_CHEB, eps)
    out = np.empty_like(x)
    below = x < 1  # lgamma(x) = lgamma(x + 1) - log x, with x + 1 - 1 = x kept exact
    xb = x[below]
    out[below] = xb * (xb - 1) * _horner(2 * xb - 1, g) - np.log(xb)
    unit = (x >= 1) & (x <= 2)
    xu = x[unit]
    out[unit] = (xu - 1) * (xu - 2) * _horner(2 * xu - 3, g) + 0.0  # +0, not -0, at 1
    mid = (x > 2) & (x < 10)  # down to y in [2, 3): lgamma(x) = lgamma(y) + log((x-1)...(x-n))
    xm = x[mid]
    n = np.floor(xm) - 2
    y = xm - n
    product = y - 1
    for j in range(1, 8):
        product *= np.where(j <= n, xm - j, 1.0)
    out[mid] = np.log(product) + (y - 2) * (y - 3) * _horner(2 * y - 5, g)
    big = x >= 10
    xl = x[big]
    s = 1 / xl
    out[big] = (xl - 0.5) * np.log(xl) - xl + _LOG_SQRT_2PI + s * _horner(s * s, _STIRLING)
    return out


@_quiet
def lgamma(x: np.ndarray) -> np.ndarray:
    """log|Gamma(x)| (inf at 0, the negative integers and +-inf)."""
    x, eps = _float64(x)
    out = np.full_like(x, np.inf)
    out[np.isnan(x)] = np.nan
    positive = (x > 0) & (x < np.inf)
    out[positive] = _lgamma_pos(x[positive], eps)
    negative = (x < 0) & (x > -np.inf) & (x != np.round(x))  # log(pi / |x sin(pi x)|) - lgamma(-x)
    xn = x[negative]
    out[negative] = math.log(math.pi) - np.log(-xn) - _log_abs_sinpi(xn) - _lgamma_pos(-xn, eps)
    return out


def _digamma_pos(x: np.ndarray, eps: float) -> np.ndarray:
    """digamma(x) for finite x > 0."""
    h = _polynomial(DIGAMMA_CHEB, eps)
    hi, lo = DIGAMMA_ROOT
    out = np.empty_like(x)
    below = x < 1  # digamma(x + 1) - 1/x
    xb = x[below]
    out[below] = ((xb - (hi - 1)) - lo) * _horner(2 * xb - 1, h) - 1 / xb
    unit = (x >= 1) & (x <= 2)
    xu = x[unit]
    out[unit] = ((xu - hi) - lo) * _horner(2 * xu - 3, h)
    mid = (x > 2) & (x < 10)  # digamma(y) + sum 1/(x - j), y = x - n in [2, 3)
    xm = x[mid]
    n = np.floor(xm) - 2
    y = xm - n
    total = ((y - 1 - hi) - lo) * _horner(2 * y - 5, h) + 1 / (y - 1)
    for j in range(1, 8):
        total += np.where(j <= n, 1 / (xm - j), 0.0)
    out[mid] = total
    big = x >= 10
    xl = x[big]
    s = 1 / (xl * xl)
    out[big] = np.log(xl) - 0.5 / xl - s * _horner(s, _DIGAMMA_ASYMPTOTIC)
    return out


@_quiet
def digamma(x: np.ndarray) -> np.ndarray:
    """d/dx lgamma(x) (-inf at +0, inf at -0, nan at the negative integers and -inf)."""
    x, eps = _float64(x)
    out = np.full_like(x, np.nan)
    out[x == np.inf] = np.inf
    zero = x == 0
    out[zero] = np.copysign(np.inf, -x[zero])
    positive = (x > 0) & (x < np.inf)
    out[positive] = _digamma_pos(x[positive], eps)
    negative = (x < 0) & (x > -np.inf) & (x != np.round(x))  # digamma(1 - x) - pi / tan(pi x)
    xn = x[negative]
    r = xn - np.round(xn)  # cot(pi r), as tan(pi (1/2 - |r|)) near the half-integers (exactly 0 there)
    cot = np.where(np.abs(r) < 0.25, 1 / np.tan(math.pi * r), np.copysign(np.tan(math.pi * (0.5 - np.abs(r))), r))
    out[negative] = _digamma_pos(1 - xn, eps) - math.pi * cot
    return out


def _trigamma_pos(x: np.ndarray) -> np.ndarray:
    """polygamma(1, x) for finite x > 0: shifted up past 10, then the asymptotic series."""
    total = np.zeros_like(x)
    for _ in range(10):
        low = x < 10
        total += np.where(low, 1 / (x * x), 0.0)
        x = np.where(low, x + 1, x)
    s = 1 / (x * x)
    return total + (1 + 0.5 / x + s * _horner(s, _TRIGAMMA_ASYMPTOTIC)) / x


@_quiet
def trigamma(x: np.ndarray) -> np.ndarray:
    """polygamma(1, x) = d/dx digamma(x) (inf at the poles, 0 at inf)."""
    x, _ = _float64(x)
    out = np.full_like(x, np.inf)
    out[np.isnan(x) | (x == -np.inf)] = np.nan
    out[x == np.inf] = 0.0
    positive = (x > 0) & (x < np.inf)
    out[positive] = _trigamma_pos(x[positive])
    negative = (x < 0) & (x > -np.inf) & (x != np.round(x))  # pi^2 / sin^2(pi x) - trigamma(1 - x)
    xn = x[negative]
    out[negative] = (math.pi / np.sin(math.pi * (xn - np.round(xn)))) ** 2 - _trigamma_pos(1 - xn)
    return out


def _bessel_i(x: np.ndarray, order: int) -> np.ndarray:
    """I_order(x) for order 0 or 1 (even or odd in x)."""
    x, _ = _float64(x)
    z = np.abs(x)
    out = np.full_like(z, np.inf)
    out[np.isnan(z)] = np.nan
    small = z <= 20  # sum_k (z^2/4)^k / (k! (k + order)!) (z/2)^order: positive terms
    zs = z[small]
    q = zs * zs / 4
    term, total, k = np.ones_like(zs), np.ones_like(zs), 1
    while term.size and (term > 2 ** -54 * total).any():
        term *= q / (k * (k + order))
        total += term
        k += 1
    out[small] = total * (zs / 2) ** order
    large = (z > 20) & (z < np.inf)  # e^z / sqrt(2 pi z) sum_k (-1)^k a_k(order) / z^k
    zl = z[large]
    term, total, k = np.ones_like(zl), np.ones_like(zl), 1
    while term.size and (np.abs(term) > 2 ** -54).any() and k < 60:
        term *= -(4 * order * order - (2 * k - 1) ** 2) / (8 * k * zl)
        total += term
        k += 1
    half = np.exp(zl / 2)
    out[large] = half * (half / np.sqrt(2 * math.pi * zl) * total)
    return np.copysign(out, x) if order else out


@_quiet
def i0(x: np.ndarray) -> np.ndarray:
    """The modified Bessel function of the first kind, order 0."""
    return _bessel_i(x, 0)


@_quiet
def i1(x: np.ndarray) -> np.ndarray:
    """The modified Bessel function of the first kind, order 1 (i0's derivative)."""
    return _bessel_i(x, 1)
