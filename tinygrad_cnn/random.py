"""The one source of randomness (initialisation, dropout, shuffling), seeded by ``manual_seed``.

A thread may be given its own generator (``set_thread_generator``): the DataLoader's worker
threads each draw from one seeded per worker, so random transforms run in workers are
reproducible whatever the threads' timing.
"""

from __future__ import annotations

import threading

import numpy as np

_generator = np.random.default_rng()
_thread = threading.local()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed every random draw the package makes (init, dropout, randn, shuffling); returns the generator."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def generator() -> np.random.Generator:
    """The package's current random generator (the calling thread's own, when it was given one)."""
    own = getattr(_thread, "generator", None)
    return _generator if own is None else own


def set_thread_generator(rng: np.random.Generator | None) -> None:
    """Make ``generator()`` return ``rng`` in the calling thread (None: the shared one again)."""
    _thread.generator = rng
