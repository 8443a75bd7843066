"""The one source of randomness (initialisation, dropout, shuffling), seeded by ``manual_seed``,
and ``Generator``, torch's independent random stream for ``generator=`` arguments.

A thread may be given its own generator (``set_thread_generator``): the DataLoader's worker
threads each draw from one seeded per worker, so random transforms run in workers are
reproducible whatever the threads' timing.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

_initial_seed = int(np.random.SeedSequence().entropy) % 2**63
_generator = np.random.default_rng(_initial_seed)
_thread = threading.local()


def _checked_seed(seed: Any, op: str) -> int:
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"{op}: seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed every random draw the package makes (init, dropout, randn, shuffling); returns the generator."""
    global _generator, _initial_seed
    _initial_seed = _checked_seed(seed, "manual_seed")
    _generator = np.random.default_rng(_initial_seed)
    return _generator


def seed() -> int:
    """Reseed the package's generator from the operating system's entropy; returns the seed."""
    manual_seed(int(np.random.SeedSequence().entropy) % 2**63)
    return _initial_seed


def initial_seed() -> int:
    """The seed the package's generator started from (the last ``manual_seed``)."""
    return _initial_seed


def generator() -> np.random.Generator:
    """The package's current random generator (the calling thread's own, when it was given one)."""
    own = getattr(_thread, "generator", None)
    return _generator if own is None else own


def set_thread_generator(rng: np.random.Generator | None) -> None:
    """Make ``generator()`` return ``rng`` in the calling thread (None: the shared one again)."""
    _thread.generator = rng


class Generator:
    """An independent random stream, as torch.Generator: ``g = Generator().manual_seed(0)``,
    then ``torch.randn(3, generator=g)`` draws from it and not from the global generator."""

    def __init__(self, device: Any = "cpu") -> None:
        from tinygrad_cnn.devices import device_arg

        self.device = device_arg(device, "Generator")
        self._seed = int(np.random.SeedSequence().entropy) % 2**63
        self._rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> "Generator":
        """Restart the stream from ``seed``; returns self."""
        self._seed = _checked_seed(seed, "Generator.manual_seed")
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Restart the stream from fresh entropy; returns the new seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy) % 2**63)
        return self._seed

    def initial_seed(self) -> int:
        """The seed the stream started from."""
        return self._seed

    def get_state(self) -> dict:
        """The stream's state (NumPy's bit-generator state dict), for ``set_state``."""
        return self._rng.bit_generator.state

    def set_state(self, state: dict) -> "Generator":
        """Resume the stream from a state returned by ``get_state``; returns self."""
        self._rng.bit_generator.state = state
        return self

    def numpy(self) -> np.random.Generator:
        """The NumPy generator drawing this stream."""
        return self._rng


def resolve(generator_arg: Any, op: str) -> np.random.Generator:
    """A ``generator=`` argument as a NumPy generator: None gives the package's own, a
    ``Generator`` its stream; a NumPy Generator is used as it is."""
    if generator_arg is None:
        return generator()
    if isinstance(generator_arg, Generator):
        return generator_arg.numpy()
    if isinstance(generator_arg, np.random.Generator):
        return generator_arg
    raise TypeError(f"{op}: generator must be a tinygrad_cnn.Generator, got {type(generator_arg).__name__}")
