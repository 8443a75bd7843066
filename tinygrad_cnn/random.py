"""The one source of randomness (initialisation, dropout, shuffling), seeded by ``manual_seed``,
and ``Generator``, torch's independent random stream for ``generator=`` arguments; their
states as uint8 tensors (``get_rng_state``/``set_rng_state``, ``fork_rng``), as torch.random's.

A thread may be given its own generator (``set_thread_generator``): the DataLoader's worker
threads each draw from one seeded per worker, so random transforms run in workers are
reproducible whatever the threads' timing.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator

import numpy as np

from tinygrad_cnn.function import variable_type

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

    def get_state(self) -> Any:
        """The stream's state as a uint8 tensor (as torch's; its bytes are not torch's), for ``set_state``."""
        return _state_tensor(self._rng)

    def set_state(self, new_state: Any) -> "Generator":
        """Resume the stream from a state that ``get_state`` returned; returns self."""
        _restore(self._rng, new_state, "Generator.set_state")
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


_WORDS = (("state", 16), ("inc", 16), ("has_uint32", 1), ("uinteger", 4))  # PCG64's state, little-endian bytes
STATE_SIZE = sum(n for _, n in _WORDS)


def _state_tensor(rng: np.random.Generator) -> Any:
    """``rng``'s PCG64 state packed into a uint8 tensor of STATE_SIZE bytes."""
    state = rng.bit_generator.state
    words = {**state["state"], "has_uint32": state["has_uint32"], "uinteger": state["uinteger"]}
    packed = b"".join(int(words[name]).to_bytes(n, "little") for name, n in _WORDS)
    return variable_type().from_op(np.frombuffer(packed, dtype=np.uint8).copy(), None)


def _restore(rng: np.random.Generator, new_state: Any, op: str) -> None:
    """Set ``rng``'s state from a tensor made by ``_state_tensor``."""
    if not hasattr(new_state, "numpy"):
        raise TypeError(f"{op}: expected a torch.ByteTensor, but got {type(new_state).__name__}")
    data = new_state.numpy()
    if data.dtype != np.uint8:
        raise TypeError(f"{op}: RNG state must be a torch.ByteTensor (uint8), got dtype {data.dtype}")
    if data.size != STATE_SIZE:
        raise RuntimeError(f"{op}: expected a generator state of size {STATE_SIZE} but found the input RNG state "
                           f"size to be {data.size}")
    raw, words, start = data.reshape(-1).tobytes(), {}, 0
    for name, n in _WORDS:
        words[name], start = int.from_bytes(raw[start:start + n], "little"), start + n
    rng.bit_generator.state = {"bit_generator": "PCG64", "state": {"state": words["state"], "inc": words["inc"]},
                               "has_uint32": words["has_uint32"], "uinteger": words["uinteger"]}


def get_rng_state() -> Any:
    """The global generator's state as a uint8 tensor (torch.get_rng_state): ``set_rng_state``
    of it later makes the same draws come again."""
    return _state_tensor(_generator)


def set_rng_state(new_state: Any) -> None:
    """Resume the global generator from a state that ``get_rng_state`` returned."""
    _restore(_generator, new_state, "set_rng_state")


@contextlib.contextmanager
def fork_rng(devices: Any = None, enabled: bool = True, _caller: str = "fork_rng", _devices_kw: str = "devices",
             device_type: str | None = None) -> Iterator[None]:
    """A context in which the global generator may be used freely: its state is restored on
    exit, as torch.random.fork_rng (the CPU's only: there are no other devices)."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
