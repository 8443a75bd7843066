"""The one source of randomness (initialisation, dropout, shuffling), seeded by ``manual_seed``."""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed every random draw the package makes (init, dropout, randn, shuffling); returns the generator."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def generator() -> np.random.Generator:
    """The package's current random generator."""
    return _generator
