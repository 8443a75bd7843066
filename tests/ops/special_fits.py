"""How the fitted tables of ``tinygrad_cnn.ops.special`` were made: Chebyshev interpolants
computed with mpmath at 50 digits (tests/ops/test_special_kernels.py recomputes them and checks the
shipped tables). Run ``python tests/ops/special_fits.py`` to print them.

- ``ERFCX_CHEB``: (z + 4) erfcx(z) for z in [0, inf), in t = (z - 4) / (z + 4) in [-1, 1];
- ``LGAMMA_CHEB``: lgamma(x) / ((x - 1)(x - 2)) for x in [1, 2], in u = 2x - 3;
- ``DIGAMMA_CHEB``: digamma(x) / (x - x0) for x in [1, 2], x0 digamma's positive root, in u = 2x - 3.
"""

from __future__ import annotations

import mpmath as mp

ERFCX_K = 4


def chebyshev(f, nodes: int = 64, tail: float = 2.0 ** -60) -> list[float]:
    """The Chebyshev coefficients (c_0 first, numpy's convention) of ``f`` on [-1, 1] from its values
    at ``nodes`` Chebyshev points, cut after the last one above ``tail`` times the largest."""
    with mp.workdps(50):
        half = mp.mpf(1) / 2
        angles = [mp.pi * (j + half) / nodes for j in range(nodes)]
        values = [f(mp.cos(a)) for a in angles]
        coefficients = [2 * mp.fsum(v * mp.cos(k * a) for v, a in zip(values, angles)) / nodes for k in range(nodes)]
        coefficients[0] /= 2
        biggest = max(abs(c) for c in coefficients)
        keep = max(k for k, c in enumerate(coefficients) if abs(c) > tail * biggest) + 1
        return [float(c) for c in coefficients[:keep]]


def _erfcx_scaled(t):
    if t == 1:
        return 1 / mp.sqrt(mp.pi)
    z = ERFCX_K * (1 + t) / (1 - t)
    return (z + ERFCX_K) * mp.exp(z * z) * mp.erfc(z)


def digamma_root() -> tuple[float, float]:
    """digamma's positive root x0 as a pair of floats (hi, lo) with hi + lo = x0 to 106 bits."""
    with mp.workdps(50):
        root = mp.findroot(mp.digamma, 1.46)
        hi = float(root)
        return hi, float(root - hi)


def tables() -> dict[str, list[float]]:
    """Every fitted table, by its name in tinygrad_cnn.ops.special."""
    with mp.workdps(50):
        root = mp.findroot(mp.digamma, 1.46)
        return {
            "ERFCX_CHEB": chebyshev(_erfcx_scaled),
            "LGAMMA_CHEB": chebyshev(lambda u: mp.loggamma((u + 3) / 2) / (((u + 3) / 2 - 1) * ((u + 3) / 2 - 2))),
            "DIGAMMA_CHEB": chebyshev(lambda u: mp.digamma((u + 3) / 2) / ((u + 3) / 2 - root)),
        }


if __name__ == "__main__":
    for name, table in tables().items():
        print(f"{name} = (  # {len(table)} terms")
        for i in range(0, len(table), 3):
            print("    " + " ".join(f"{c!r}," for c in table[i:i + 3]))
        print(")")
    print("DIGAMMA_ROOT =", digamma_root())
